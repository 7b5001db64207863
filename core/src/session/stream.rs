//! Stream headers, stream features (RFC 6120 sections 4.2, 4.3) and stream errors.

use std::time::Instant;

use minidom::Element;

use crate::client::{Client, Farewell};
use crate::config::TlsPolicy;
use crate::error::{DisconnectReason, PeerMisbehaved, StreamErrorCondition};
use crate::session::{Phase, State};
use crate::stanza::condition_and_text;
use crate::stanza::iq::{NS_BIND, NS_SESSION};
use crate::stanza::roster::{NS_PRE_APPROVAL, NS_ROSTER_VER};
use crate::xml::StreamHeader;

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

impl Client {
    pub(super) fn on_header(&mut self, now: Instant, header: StreamHeader) {
        let State::ExpectHeader(phase) = self.state else {
            // The reader yields one header per stream; a second one cannot happen.
            return;
        };
        let major = header
            .version
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.trim().parse::<u32>().ok());
        if major.is_none_or(|m| m < 1) {
            self.fail(
                now,
                DisconnectReason::PeerMisbehaved(PeerMisbehaved::UnsupportedVersion {
                    version: header.version,
                }),
                Farewell::StreamError(StreamErrorCondition::UnsupportedVersion),
            );
            return;
        }
        self.enter(now, State::ExpectFeatures(phase));
    }

    pub(super) fn on_features(&mut self, now: Instant, phase: Phase, el: &Element) {
        if !el.is("features", NS_STREAM) {
            return self.fail_unexpected(now, "stream features", el);
        }
        let features = Features::read(el);
        match phase {
            Phase::Initial if !self.transport_tls => {
                if self.config.tls == TlsPolicy::InsecurePlaintext {
                    self.start_auth(now, &features);
                } else if features.starttls {
                    self.start_tls(now);
                } else {
                    self.fail(now, DisconnectReason::TlsNotOffered, Farewell::CloseStream);
                }
            }
            Phase::Initial | Phase::AfterTls => self.start_auth(now, &features),
            Phase::AfterAuth => {
                self.server = crate::client::ServerFeatures {
                    roster_versioning: features.roster_versioning,
                    pre_approval: features.pre_approval,
                };
                if features.bind {
                    self.start_bind(now, features.session_required);
                } else {
                    self.fail(
                        now,
                        DisconnectReason::PeerMisbehaved(PeerMisbehaved::NoResourceBinding),
                        Farewell::CloseStream,
                    );
                }
            }
        }
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
