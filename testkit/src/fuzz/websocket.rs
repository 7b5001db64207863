//! The scripted login of `online_bytes` over a secure WebSocket (RFC 7395): the server's
//! `<open/>`, then one element per message, the same features and answers as over TCP
//! (stream-level elements declare the `stream` prefix themselves, since no stream element
//! encloses them).

use herald_core::{Config, SessionState, Transport};

use super::{
    ENABLED, FEATURES_BIND, FEATURES_BIND_SM, FEATURES_PLAIN, NS_BIND, SEED, SUCCESS, bind_result,
    input, last_iq_id_with,
};
use crate::driver::Driver;

const OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' \
    id='fuzz' version='1.0' xml:lang='en'/>";

/// A TCP stream-level element as a WebSocket message: `stream:` declared on it.
fn message(element: &str) -> String {
    element.replacen(
        "<stream:features>",
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>",
        1,
    )
}

/// Online over a secure WebSocket: PLAIN, RFC 6120 binding, stream management enabled
/// when `stream_management` (the roster request, if any, unanswered).
pub(super) fn online(config: Config, stream_management: bool) -> Driver {
    let mut d = Driver::new(config, SEED);
    let _ = d.connect(Transport::WebSocket { secure: true });
    for m in [
        OPEN.to_string(),
        message(FEATURES_PLAIN),
        SUCCESS.to_string(),
    ] {
        input(&mut d, m.as_bytes());
    }
    let features = if stream_management {
        FEATURES_BIND_SM
    } else {
        FEATURES_BIND
    };
    for m in [OPEN.to_string(), message(features)] {
        input(&mut d, m.as_bytes());
    }
    let id = last_iq_id_with(&d, NS_BIND);
    input(&mut d, bind_result(&id, super::JID).as_bytes());
    if stream_management {
        input(&mut d, ENABLED.as_bytes());
    }
    assert_eq!(
        d.client().state(),
        SessionState::Online,
        "the scripted WebSocket login"
    );
    d
}
