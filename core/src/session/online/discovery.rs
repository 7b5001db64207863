//! Service discovery for this client (XEP-0030 disco#info and #items, XEP-0092 version)
//! and contacts' capabilities (XEP-0115): the queries for a `ver` the cache lacks, and
//! the verification of each answer before it enters the cache.

use jid::Jid;

use crate::event::Event;
use crate::stanza::NS_CLIENT;
use crate::stanza::caps::{
    Caps, DiscoInfo, NS_DISCO_INFO, info_request, items_request, write_info_request,
    write_info_result, write_items_result,
};
use crate::stanza::caps_cache::CapsPolicy;
use crate::stanza::iq::error_for;
use crate::stanza::version::{is_version_request, write_version_result};
use crate::xml::tree::Stanza;

use super::super::context::Context;
use super::SessionData;

/// Most capability queries in flight at once (a presence flood with fresh `ver`s cannot
/// make us send more).
pub(crate) const MAX_CAPS_QUERIES: usize = 16;

impl SessionData {
    /// Answers a disco#info, disco#items or version request; false when `el` is none.
    pub(super) fn answer_discovery(
        &mut self,
        el: &Stanza,
        can_reply: bool,
        cx: &mut Context,
    ) -> bool {
        if let Some(query) = info_request(el) {
            if !can_reply {
                return true;
            }
            let node = query.attr("node");
            let ours = cx.own_caps.disco_node();
            match node {
                None => {
                    let info = cx.config.disco_info();
                    cx.out
                        .write_with(|out| write_info_result(el, &info, None, out));
                }
                Some(node) if node == ours => {
                    let info = cx.config.disco_info();
                    cx.out
                        .write_with(|out| write_info_result(el, &info, Some(node), out));
                }
                Some(_) => cx.out.write(&error_for(el, "cancel", "item-not-found")),
            }
            return true;
        }
        if let Some(query) = items_request(el) {
            if can_reply {
                let node = query.attr("node");
                cx.out.write_with(|out| write_items_result(el, node, out));
            }
            return true;
        }
        if is_version_request(el)
            && let Some(version) = &cx.config.software_version
        {
            if can_reply {
                let (name, version) = (&version.name, &version.version);
                cx.out
                    .write_with(|out| write_version_result(el, name, version, out));
            }
            return true;
        }
        false
    }

    /// A presence announced `caps` from `from`: with the automatic policy, ask what an
    /// unknown `ver` stands for (once per `ver`, bounded).
    pub(super) fn on_caps_announced(
        &mut self,
        from: &Jid,
        caps: &Caps,
        can_reply: bool,
        cx: &mut Context,
    ) {
        if cx.config.caps_policy == CapsPolicy::Automatic && can_reply {
            self.query_caps(from, caps, cx);
        }
    }

    /// Sends a disco#info query to `from` for `caps`, unless its `ver` is cached or
    /// already asked, the hash is not one we verify, or too many queries are out.
    pub(crate) fn query_caps(&mut self, from: &Jid, caps: &Caps, cx: &mut Context) {
        if cx.caps_cache.contains(&caps.ver)
            || caps.hash != crate::stanza::caps::HASH_SHA1
            || self.caps_queries.len() >= MAX_CAPS_QUERIES
            || self.caps_queries.values().any(|(_, c)| c.ver == caps.ver)
        {
            return;
        }
        let id = cx.out.next_id();
        let node = caps.disco_node();
        cx.out
            .write_with(|out| write_info_request(&id, from.as_str(), Some(&node), out));
        self.caps_queries.insert(id, (from.clone(), caps.clone()));
    }

    /// The answer to one of our capability queries: verified, then cached; a mismatch or a
    /// malformed answer is reported and not cached. True when `el` was one.
    pub(super) fn on_caps_answer(&mut self, el: &Stanza, cx: &mut Context) -> bool {
        if !el.is("iq", NS_CLIENT) || !matches!(el.attr("type"), Some("result") | Some("error")) {
            return false;
        }
        let Some((from, caps)) = el.attr("id").and_then(|id| self.caps_queries.remove(id)) else {
            return false;
        };
        if el.attr("type") == Some("error") {
            return true; // the contact does not answer: its features stay unknown
        }
        let verdict = match el.get_child("query", NS_DISCO_INFO) {
            None => Err("the answer has no disco#info query".to_string()),
            Some(query) => DiscoInfo::from_query(query)
                .map_err(|e| e.to_string())
                .and_then(|info| match caps.verify(&info) {
                    Some(true) => Ok(info),
                    _ => Err(format!("the answer hashes to {}", info.ver_sha1())),
                }),
        };
        match verdict {
            Ok(info) => {
                cx.caps_cache.insert(caps.ver.clone(), info.features);
                cx.out.push_event(Event::CapsVerified {
                    from,
                    ver: caps.ver,
                });
            }
            Err(reason) => cx.out.push_event(Event::CapsInvalid {
                from,
                ver: caps.ver,
                reason,
            }),
        }
        true
    }
}
