//! Resuming a stream management session (XEP-0198) instead of binding: `<resume/>` after
//! authentication (pipelined with the stream header when the server offered stream
//! management last time, or inline in SASL2's `<authenticate/>`), then `<resumed/>`: the
//! server's `h` says which stanzas to send again, and the session is online as it was,
//! with no bind and no initial presence. `<failed/>`: a fresh session, and the stanzas
//! that may not have arrived are reported.

use jid::FullJid;

use crate::event::Event;
use crate::session::context::{Context, Failure};
use crate::session::online::sm::{self, report_lost};
use crate::session::online::{Initial, Online, ServerFeatures, SessionData};
use crate::session::state::State;
use crate::stanza::features::{Features, NS_STREAM};
use crate::stanza::sm::{self as elements, NS_SM, Resumption};
use crate::xml::tree::Stanza;

use super::bind;

/// Our `<resume/>` is out; `<resumed/>` or `<failed/>` is awaited.
#[derive(Debug)]
pub(crate) struct ExpectResumed {
    /// What the features after authentication offered, to bind afresh when refused.
    server: ServerFeatures,
    session_required: bool,
}

pub(crate) fn expect_resumed(server: ServerFeatures, session_required: bool) -> State {
    State::ExpectResumed(ExpectResumed {
        server,
        session_required,
    })
}

/// Writes `<resume/>` for the session this client was given, if any.
pub(crate) fn send(cx: &mut Context) -> bool {
    let Some(resumption) = &cx.resumption else {
        return false;
    };
    let xml = elements::resume(resumption.handled, &resumption.id);
    cx.out.write_raw(&xml);
    true
}

impl ExpectResumed {
    pub(crate) fn handle(mut self, stanza: &Stanza, cx: &mut Context) -> Result<State, Failure> {
        if stanza.is("features", NS_STREAM) {
            // After a SASL2 success the stream is not restarted, and a server may send its
            // features there (Prosody does) while our `<resume/>` is on its way: they
            // say what to bind with if the resumption is refused.
            let features = Features::read(&stanza.to_element());
            self.server = ServerFeatures {
                roster_versioning: features.roster_versioning,
                pre_approval: features.pre_approval,
                stream_management: features.stream_management,
                csi: features.csi,
            };
            self.session_required = features.session_required;
            return Ok(State::ExpectResumed(self));
        }
        let resumption = cx.resumption.take();
        match (stanza.name(), stanza.ns(), resumption) {
            ("resumed", NS_SM, Some(resumption)) => {
                let Some(h) = elements::parse_h(stanza.attr("h")) else {
                    return Err(Failure::unexpected("<resumed/> with a count", "resumed"));
                };
                resumed(resumption, h, cx)
            }
            ("failed", NS_SM, resumption) => {
                if let Some(resumption) = resumption {
                    report_lost(resumption.acks, elements::parse_h(stanza.attr("h")), cx);
                }
                Ok(bind::start(self.server, self.session_required, cx))
            }
            (name, _, resumption) => {
                cx.resumption = resumption;
                Err(Failure::unexpected("<resumed/> or <failed/>", name))
            }
        }
    }
}

/// `<resumed h=.../>`: the stanzas beyond the server's `h` go out again, and the session is
/// online with what it knew; a presence changed meanwhile goes out once.
pub(crate) fn resumed(
    mut resumption: Box<Resumption>,
    h: u32,
    cx: &mut Context,
) -> Result<State, Failure> {
    let data = SessionData::resumed(&mut resumption);
    let Resumption {
        acks,
        jid,
        presence: (presence, status),
        ..
    } = *resumption;
    let resent = sm::resend(acks, h, cx)?;
    cx.out.push_event(Event::Resumed { resent });
    Ok(online(jid, data, presence, status))
}

fn online(jid: FullJid, data: SessionData, presence: crate::Presence, status: String) -> State {
    State::Online(Online {
        jid,
        data: Box::new(data),
        initial: Initial::Resumed { presence, status },
    })
}

/// Resumption is refused or impossible (the server no longer offers it): whatever was
/// unacknowledged is reported, and the login binds afresh.
pub(crate) fn refused(h: Option<u32>, cx: &mut Context) {
    if let Some(resumption) = cx.resumption.take() {
        report_lost(resumption.acks, h, cx);
    }
}
