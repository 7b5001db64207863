//! SASL2 (XEP-0388) around the same mechanisms: the `<authenticate/>` request, with the
//! user agent, Bind2 (XEP-0386) and FAST (XEP-0484) inline, and what its `<success/>` leads
//! to: no stream restart, the session bound already (or bound at once with RFC 6120), the
//! roster request and the initial presence in the next write.

use minidom::Element;

use crate::event::Event;
use crate::sasl::{FastToken, HT_SHA_256_NONE, Mechanism};
use crate::session::context::{Context, Failure};
use crate::session::online::{Online, ServerFeatures, Sm, sm};
use crate::session::state::State;
use crate::stanza::features::{NS_BIND2, NS_FAST, NS_SASL2, Sasl2Offer};
use crate::stanza::sm::{NS_SM, parse_h};
use crate::xml::{escape_attr, escape_text};

use super::{bind, resume};

/// What went into `<authenticate/>` beyond the mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inline {
    /// Bind2 was asked for.
    pub(crate) bind2: bool,
    /// The FAST token was used (the mechanism is HT).
    pub(crate) fast: bool,
    /// `<resume/>` (XEP-0198) was inline.
    pub(crate) resume: bool,
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
    // A session to resume: inline when the server can; else after the success, which
    // Bind2 must then not have bound.
    let resume = offer.resume && cx.resumption.is_some();
    if resume {
        let resumption = cx.resumption.as_ref().map(|r| (r.handled, r.id.as_str()));
        if let Some((h, id)) = resumption {
            xml.extend_from_slice(&crate::stanza::sm::resume(h, id));
        }
    }
    let bind2 = offer.bind2 && (resume || cx.resumption.is_none());
    if bind2 {
        // Bind2 binds afresh if the resumption is refused.
        let tag = cx.config.jid.resource().map_or("herald", |r| r.as_str());
        xml.extend_from_slice(b"<bind xmlns='urn:xmpp:bind:0'><tag>");
        escape_text(tag, &mut xml);
        xml.extend_from_slice(b"</tag>");
        if offer.bind2_sm && cx.config.stream_management {
            xml.extend_from_slice(crate::stanza::sm::ENABLE);
        }
        xml.extend_from_slice(b"</bind>");
    }
    xml.extend_from_slice(b"</authenticate>");
    let inline = Inline {
        bind2,
        fast,
        resume,
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
    if inline.resume {
        if let Some(resumed) = success.get_child("resumed", NS_SM)
            && let Some(resumption) = cx.resumption.take()
        {
            let Some(h) = parse_h(resumed.attr("h")) else {
                return Err(Failure::unexpected("<resumed/> with a count", "resumed"));
            };
            return resume::resumed(resumption, h, cx);
        }
        let h = success
            .get_child("failed", NS_SM)
            .and_then(|f| parse_h(f.attr("h")));
        resume::refused(h, cx);
    }
    let server = ServerFeatures::default();
    let bound = success
        .get_child("bound", NS_BIND2)
        .filter(|_| inline.bind2);
    if let Some(bound) = bound {
        let identifier = success
            .get_child("authorization-identifier", NS_SASL2)
            .map(Element::text)
            .unwrap_or_default();
        let jid = bind::check_bound(&identifier, cx)?;
        // Stream management enabled inline: counting starts now, both ways.
        let sm = bound.get_child("enabled", NS_SM).map(|enabled| {
            sm::start_counting(cx);
            let mut sm = Sm::default();
            sm.on_enabled(
                enabled.attr("resume"),
                enabled.attr("id"),
                enabled.attr("location"),
            );
            sm
        });
        let (roster_id, initial) = bind::roster_and_presence(cx);
        let mut data = bind::early_data(server, roster_id);
        data.sm = sm;
        return Ok(State::Online(Online { jid, data, initial }));
    }
    if cx.resumption.is_some() && cx.config.stream_management && resume::send(cx) {
        // Resumption offered only without SASL2 inlining: on this stream, unbound.
        let server = ServerFeatures {
            stream_management: true,
            ..server
        };
        return Ok(resume::expect_resumed(server, false));
    }
    Ok(bind::early_bind(cx).confirm(server, false, cx))
}
