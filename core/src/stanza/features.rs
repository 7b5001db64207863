//! `<stream:features/>` (RFC 6120 section 4.3), read into [`Features`], and the
//! [`FeatureCache`]: what the last session's server offered, so that the next login can send
//! its SASL initial response and its bind request without waiting for the features again.

use minidom::Element;

use crate::stanza::csi::NS_CSI;
use crate::stanza::iq::{NS_BIND, NS_SESSION};
use crate::stanza::roster::{NS_PRE_APPROVAL, NS_ROSTER_VER};
use crate::stanza::sm::NS_SM;

/// The streams namespace (`stream:` prefix).
pub(crate) const NS_STREAM: &str = "http://etherx.jabber.org/streams";
/// STARTTLS.
pub(crate) const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// SASL.
pub(crate) const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// XEP-0440 channel-binding type advertisement.
const NS_SASL_CB: &str = "urn:xmpp:sasl-cb:0";
/// SASL2 (XEP-0388).
pub(crate) const NS_SASL2: &str = "urn:xmpp:sasl:2";
/// Bind2 (XEP-0386).
pub(crate) const NS_BIND2: &str = "urn:xmpp:bind:0";
/// FAST (XEP-0484).
pub(crate) const NS_FAST: &str = "urn:xmpp:fast:0";

/// What the server offered in one `<stream:features/>`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Features {
    pub(crate) starttls: bool,
    pub(crate) mechanisms: Option<Vec<String>>,
    /// XEP-0440 types, `None` when not advertised.
    pub(crate) channel_bindings: Option<Vec<String>>,
    /// SASL2, when offered.
    pub(crate) sasl2: Option<Sasl2Offer>,
    pub(crate) bind: bool,
    /// RFC 3921 session offered without `<optional/>`.
    pub(crate) session_required: bool,
    /// XEP-0237 roster versioning.
    pub(crate) roster_versioning: bool,
    /// RFC 6121 subscription pre-approval.
    pub(crate) pre_approval: bool,
    /// XEP-0198 stream management.
    pub(crate) stream_management: bool,
    /// XEP-0352 client state indication.
    pub(crate) csi: bool,
}

/// What a server offers with SASL2 (XEP-0388).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sasl2Offer {
    /// The SASL mechanisms of `<authentication/>`.
    pub mechanisms: Vec<String>,
    /// Bind2 (XEP-0386) can bind inline.
    pub bind2: bool,
    /// The FAST (XEP-0484) token mechanisms offered inline, e.g. `HT-SHA-256-NONE`.
    pub fast: Vec<String>,
    /// A stream management session (XEP-0198) can be resumed inline.
    pub resume: bool,
    /// Bind2 can enable stream management inline.
    pub bind2_sm: bool,
}

impl Features {
    pub(crate) fn read(el: &Element) -> Features {
        let mut f = Features::default();
        for child in el.children() {
            if child.is("starttls", NS_TLS) {
                f.starttls = true;
            } else if child.is("mechanisms", NS_SASL) {
                f.mechanisms = Some(mechanism_texts(child, NS_SASL));
            } else if child.is("authentication", NS_SASL2) {
                f.sasl2 = Some(read_sasl2(child));
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
            } else if child.is("sm", NS_SM) {
                f.stream_management = true;
            } else if child.is("csi", NS_CSI) {
                f.csi = true;
            } else if child.is("session", NS_SESSION) {
                f.session_required = !child.children().any(|c| c.name() == "optional");
            }
        }
        f
    }
}

fn mechanism_texts(el: &Element, ns: &str) -> Vec<String> {
    el.children()
        .filter(|m| m.is("mechanism", ns))
        .map(|m| m.text().trim().to_string())
        .collect()
}

fn read_sasl2(authentication: &Element) -> Sasl2Offer {
    let mut offer = Sasl2Offer {
        mechanisms: mechanism_texts(authentication, NS_SASL2),
        ..Sasl2Offer::default()
    };
    if let Some(inline) = authentication.get_child("inline", NS_SASL2) {
        if let Some(bind) = inline.get_child("bind", NS_BIND2) {
            offer.bind2 = true;
            offer.bind2_sm = bind.get_child("inline", NS_BIND2).is_some_and(|i| {
                i.children()
                    .any(|f| f.is("feature", NS_BIND2) && f.attr("var") == Some(NS_SM))
            });
        }
        offer.resume = inline.has_child("sm", NS_SM);
        if let Some(fast) = inline.get_child("fast", NS_FAST) {
            offer.fast = mechanism_texts(fast, NS_FAST);
        }
    }
    offer
}

/// What the server offered in the last session, for the next login: with it, the SASL
/// initial response goes out with the stream header after TLS, one round trip earlier.
///
/// Carry [`Client::feature_cache`](crate::Client::feature_cache) into the next client's
/// [`Config::feature_cache`](crate::Config::feature_cache), as the adapters do across
/// reconnects. It holds no secret. A stale cache costs a round trip, never the login: when
/// the server no longer offers the mechanism the client sent early, the client reads the
/// features and starts again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FeatureCache {
    /// The SASL (RFC 6120) mechanisms offered on the secure stream.
    pub mechanisms: Vec<String>,
    /// The XEP-0440 channel-binding types advertised, if any were.
    pub channel_bindings: Option<Vec<String>>,
    /// What SASL2 offered, if it was.
    pub sasl2: Option<Sasl2Offer>,
    /// After authentication, the server offered roster versioning (XEP-0237): the early
    /// roster request may carry `ver`.
    pub roster_versioning: bool,
    /// After authentication, the server offered stream management (XEP-0198): `<enable/>`
    /// or `<resume/>` may go out before the features.
    pub stream_management: bool,
}

impl FeatureCache {
    /// The cache of what `features` offer for authentication.
    pub(crate) fn from_features(features: &Features) -> FeatureCache {
        FeatureCache {
            mechanisms: features.mechanisms.clone().unwrap_or_default(),
            channel_bindings: features.channel_bindings.clone(),
            sasl2: features.sasl2.clone(),
            roster_versioning: false,
            stream_management: false,
        }
    }

    /// The features the cache stands for, to choose a mechanism from.
    pub(crate) fn to_features(&self) -> Features {
        Features {
            mechanisms: Some(self.mechanisms.clone()),
            channel_bindings: self.channel_bindings.clone(),
            sasl2: self.sasl2.clone(),
            ..Features::default()
        }
    }
}
