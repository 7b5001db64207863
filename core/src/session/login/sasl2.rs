//! SASL2 (XEP-0388) around the same mechanisms: the `<authenticate/>` request, with the
//! user agent, Bind2 (XEP-0386) and FAST (XEP-0484) inline, and what its `<success/>` leads
//! to: no stream restart, the session bound already (or bound at once with RFC 6120), the
//! roster request and the initial presence in the next write.

use minidom::Element;

use crate::event::Event;
use crate::sasl::{FastToken, HT_SHA_256_NONE, Mechanism};
use crate::session::context::{Context, Failure};
use crate::session::online::{Online, ServerFeatures};
use crate::session::state::State;
use crate::stanza::features::{NS_BIND2, NS_FAST, NS_SASL2, Sasl2Offer};
use crate::xml::{escape_attr, escape_text};

use super::bind;

/// What went into `<authenticate/>` beyond the mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inline {
    /// Bind2 was asked for.
    pub(crate) bind2: bool,
    /// The FAST token was used (the mechanism is HT).
    pub(crate) fast: bool,
}

/// `<authenticate/>` for `mechanism` with `initial` (base64) as the initial response.
pub(crate) fn authenticate(
    mechanism: Mechanism,
    initial: &str,
    offer: &Sasl2Offer,
    cx: &Context,
) -> (Vec<u8>, Inline) {
    let mut xml = Vec::with_capacity(256 + initial.len());
    xml.extend_from_slice(b"<authenticate xmlns='urn:xmpp:sasl:2' mechanism='");
    xml.extend_from_slice(mechanism.as_str().as_bytes());
    xml.extend_from_slice(b"'><initial-response>");
    xml.extend_from_slice(initial.as_bytes());
    xml.extend_from_slice(b"</initial-response>");
    let fast = mechanism == Mechanism::HtSha256None;
    if let Some(agent) = &cx.config.user_agent {
        xml.extend_from_slice(b"<user-agent id='");
        escape_attr(&agent.id, &mut xml);
        xml.extend_from_slice(b"'><software>");
        escape_text(&agent.software, &mut xml);
        xml.extend_from_slice(b"</software>");
        if let Some(device) = &agent.device {
            xml.extend_from_slice(b"<device>");
            escape_text(device, &mut xml);
            xml.extend_from_slice(b"</device>");
        }
        xml.extend_from_slice(b"</user-agent>");
        let offers_fast = offer.fast.iter().any(|m| m == HT_SHA_256_NONE);
        if fast {
            xml.extend_from_slice(b"<fast xmlns='urn:xmpp:fast:0'/>");
        } else if offers_fast && cx.fast_token.is_none() {
            xml.extend_from_slice(
                b"<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>",
            );
        }
    }
    if offer.bind2 {
        let tag = cx.config.jid.resource().map_or("herald", |r| r.as_str());
        xml.extend_from_slice(b"<bind xmlns='urn:xmpp:bind:0'><tag>");
        escape_text(tag, &mut xml);
        xml.extend_from_slice(b"</tag></bind>");
    }
    xml.extend_from_slice(b"</authenticate>");
    let inline = Inline {
        bind2: offer.bind2,
        fast,
    };
    (xml, inline)
}

/// The base64 `<additional-data/>` of a SASL2 `<success/>` or `<continue/>`, if any.
pub(crate) fn additional_data(el: &Element) -> Option<String> {
    el.get_child("additional-data", NS_SASL2).map(Element::text)
}

/// After `<success/>`: keep a FAST token the server issued, then go on without a stream
/// restart. Bound by Bind2: the roster request and the initial presence go out, online.
/// Not bound: RFC 6120 binding on this stream, pipelined as after an RFC 6120 success.
pub(crate) fn after_success(
    success: &Element,
    inline: Inline,
    cx: &mut Context,
) -> Result<State, Failure> {
    if let Some(token) = success.get_child("token", NS_FAST)
        && let Some(secret) = token.attr("token")
    {
        let expiry = token.attr("expiry").map(str::to_string);
        cx.fast_token = Some(FastToken::new(HT_SHA_256_NONE, secret, expiry));
        cx.out.push_event(Event::FastTokenUpdated);
    }
    let server = ServerFeatures::default();
    let bound = inline.bind2 && success.has_child("bound", NS_BIND2);
    if bound {
        let identifier = success
            .get_child("authorization-identifier", NS_SASL2)
            .map(Element::text)
            .unwrap_or_default();
        let jid = bind::check_bound(&identifier, cx)?;
        let (roster_id, initial) = bind::roster_and_presence(cx);
        return Ok(State::Online(Online {
            jid,
            data: bind::early_data(server, roster_id),
            initial,
        }));
    }
    Ok(bind::early_bind(cx).confirm(server, false))
}
