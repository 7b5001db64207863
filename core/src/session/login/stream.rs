//! Stream headers, stream features (RFC 6120 sections 4.2, 4.3) and stream errors: what the
//! server's features lead to next.

use minidom::Element;

use crate::config::TlsPolicy;
use crate::error::{DisconnectReason, PeerMisbehaved, StreamErrorCondition};
use crate::stanza::condition_and_text;
use crate::stanza::iq::{NS_BIND, NS_SESSION};
use crate::stanza::roster::{NS_PRE_APPROVAL, NS_ROSTER_VER};
use crate::xml::StreamHeader;

use super::{auth, bind};
use crate::session::context::{Context, Failure, Farewell};
use crate::session::online::ServerFeatures;
use crate::session::state::{Phase, State};

/// The streams namespace (`stream:` prefix).
pub(crate) const NS_STREAM: &str = "http://etherx.jabber.org/streams";
/// Stream error conditions.
const NS_STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// STARTTLS.
pub(crate) const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// SASL.
pub(crate) const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// XEP-0440 channel-binding type advertisement.
const NS_SASL_CB: &str = "urn:xmpp:sasl-cb:0";

/// What the server offered in `<stream:features/>`.
#[derive(Debug, Default)]
pub(crate) struct Features {
    pub(crate) starttls: bool,
    pub(crate) mechanisms: Option<Vec<String>>,
    /// XEP-0440 types, `None` when not advertised.
    pub(crate) channel_bindings: Option<Vec<String>>,
    pub(crate) bind: bool,
    /// RFC 3921 session offered without `<optional/>`.
    pub(crate) session_required: bool,
    /// XEP-0237 roster versioning.
    pub(crate) roster_versioning: bool,
    /// RFC 6121 subscription pre-approval.
    pub(crate) pre_approval: bool,
}

impl Features {
    fn read(el: &Element) -> Features {
        let mut f = Features::default();
        for child in el.children() {
            if child.is("starttls", NS_TLS) {
                f.starttls = true;
            } else if child.is("mechanisms", NS_SASL) {
                f.mechanisms = Some(
                    child
                        .children()
                        .filter(|m| m.is("mechanism", NS_SASL))
                        .map(|m| m.text().trim().to_string())
                        .collect(),
                );
            } else if child.is("sasl-channel-binding", NS_SASL_CB) {
                f.channel_bindings = Some(
                    child
                        .children()
                        .filter(|c| c.is("channel-binding", NS_SASL_CB))
                        .filter_map(|c| c.attr("type").map(str::to_string))
                        .collect(),
                );
            } else if child.is("bind", NS_BIND) {
                f.bind = true;
            } else if child.is("ver", NS_ROSTER_VER) {
                f.roster_versioning = true;
            } else if child.is("sub", NS_PRE_APPROVAL) {
                f.pre_approval = true;
            } else if child.is("session", NS_SESSION) {
                f.session_required = !child.children().any(|c| c.name() == "optional");
            }
        }
        f
    }
}

/// `ExpectHeader`: the server's header must speak XMPP 1.0 (or a later 1.x).
pub(crate) fn expect_header(phase: Phase, header: StreamHeader) -> Result<State, Failure> {
    let major = header
        .version
        .as_deref()
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.trim().parse::<u32>().ok());
    if major.is_none_or(|m| m < 1) {
        return Err(Failure::peer(
            PeerMisbehaved::UnsupportedVersion {
                version: header.version,
            },
            Farewell::StreamError(StreamErrorCondition::UnsupportedVersion),
        ));
    }
    Ok(State::ExpectFeatures(phase))
}

/// `ExpectFeatures`: STARTTLS on a plain first stream, SASL once the stream is secure (or
/// plaintext is explicitly allowed), binding after authentication.
pub(crate) fn expect_features(
    phase: Phase,
    el: &Element,
    cx: &mut Context,
) -> Result<State, Failure> {
    if !el.is("features", NS_STREAM) {
        return Err(Failure::unexpected("stream features", el.name()));
    }
    let features = Features::read(el);
    match phase {
        Phase::Initial(link) if !link.tls => {
            if cx.config.tls == TlsPolicy::InsecurePlaintext {
                auth::start(link, &features, cx)
            } else if features.starttls {
                Ok(super::tls::start(cx))
            } else {
                Err(Failure::new(
                    DisconnectReason::TlsNotOffered,
                    Farewell::CloseStream,
                ))
            }
        }
        Phase::Initial(link) | Phase::AfterTls(link) => auth::start(link, &features, cx),
        Phase::AfterAuth if features.bind => {
            let server = ServerFeatures {
                roster_versioning: features.roster_versioning,
                pre_approval: features.pre_approval,
            };
            Ok(bind::start(server, features.session_required, cx))
        }
        Phase::AfterAuth => Err(Failure::peer(
            PeerMisbehaved::NoResourceBinding,
            Farewell::CloseStream,
        )),
    }
}

/// Reads `<stream:error/>` into the disconnect reason.
pub(crate) fn read_stream_error(el: &Element) -> DisconnectReason {
    let (condition, text) = condition_and_text(el, NS_STREAM_ERRORS);
    match condition {
        Some(c) if c.name() == "see-other-host" => DisconnectReason::SeeOtherHost {
            host: c.text().trim().to_string(),
        },
        Some(c) => DisconnectReason::StreamError {
            condition: StreamErrorCondition::from_name(c.name()),
            text,
        },
        None => DisconnectReason::StreamError {
            condition: StreamErrorCondition::UndefinedCondition,
            text,
        },
    }
}
