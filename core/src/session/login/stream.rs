//! Stream headers, stream features (RFC 6120 sections 4.2, 4.3) and stream errors: what the
//! server's features lead to next.

use minidom::Element;

use crate::config::TlsPolicy;
use crate::error::{DisconnectReason, PeerMisbehaved, StreamErrorCondition};
use crate::session::context::{Context, Failure, Farewell};
use crate::session::online::ServerFeatures;
use crate::session::state::{Early, Phase, State, Stream};
use crate::stanza::condition_and_text;
use crate::stanza::features::{FeatureCache, Features, NS_STREAM};
use crate::xml::StreamHeader;

use super::{auth, bind, resume};

/// Stream error conditions.
const NS_STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";

/// `ExpectHeader`: the server's header must speak XMPP 1.0 (or a later 1.x).
pub(crate) fn expect_header(stream: Stream, header: StreamHeader) -> Result<State, Failure> {
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
    Ok(State::ExpectFeatures(stream))
}

/// `ExpectFeatures`: STARTTLS on a plain first stream, SASL once the stream is secure (or
/// plaintext is explicitly allowed), binding after authentication; or, when that went out
/// early, a check that the server offers what we sent.
pub(crate) fn expect_features(
    stream: Stream,
    el: &Element,
    cx: &mut Context,
) -> Result<State, Failure> {
    if !el.is("features", NS_STREAM) {
        return Err(Failure::unexpected("stream features", el.name()));
    }
    let features = Features::read(el);
    let Stream { phase, early } = stream;
    match phase {
        Phase::Initial(link) if !link.tls => {
            if cx.config.tls == TlsPolicy::InsecurePlaintext {
                return auth::start(link, &features, cx);
            }
            if !features.starttls {
                return Err(Failure::new(
                    DisconnectReason::TlsNotOffered,
                    Farewell::CloseStream,
                ));
            }
            match early {
                // Our <starttls/> is on its way already.
                Early::StartTls => Ok(State::ExpectProceed),
                _ => Ok(super::tls::start(cx)),
            }
        }
        Phase::Initial(link) | Phase::AfterTls(link) => {
            if features.mechanisms.is_some() || features.sasl2.is_some() {
                let mut learned = FeatureCache::from_features(&features);
                if let Some(known) = &cx.feature_cache {
                    learned.roster_versioning = known.roster_versioning;
                    learned.stream_management = known.stream_management;
                }
                cx.feature_cache = Some(learned);
            }
            match early {
                Early::Auth(auth) => auth.confirm(link, &features, cx),
                _ => auth::start(link, &features, cx),
            }
        }
        Phase::AfterAuth if features.bind => {
            if let Some(cache) = cx.feature_cache.as_mut() {
                cache.roster_versioning = features.roster_versioning;
                cache.stream_management = features.stream_management;
            }
            let server = ServerFeatures {
                roster_versioning: features.roster_versioning,
                pre_approval: features.pre_approval,
                stream_management: features.stream_management,
                csi: features.csi,
            };
            let session_required = features.session_required;
            Ok(match early {
                Early::Bind(early) => (*early).confirm(server, session_required, cx),
                Early::Resume => resume::expect_resumed(server, session_required),
                _ if server.stream_management && resume::send(cx) => {
                    resume::expect_resumed(server, session_required)
                }
                _ => {
                    // A session to resume, and the server no longer offers resumption.
                    resume::refused(None, cx);
                    bind::start(server, session_required, cx)
                }
            })
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
