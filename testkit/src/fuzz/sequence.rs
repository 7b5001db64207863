//! The `command_sequence` target: an `arbitrary`-derived sequence of steps. The committed
//! seeds (`fuzz/corpus-seeds/command_sequence/`) are `arbitrary`'s encoding of these enums:
//! adding, removing or reordering a variant changes what every seed decodes to.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use herald_core::minidom::{self, Element};
use herald_core::{ChannelBinding, Presence, SessionState, TlsPolicy, Transport};

use super::{
    FEATURES_BIND, FEATURES_PLAIN, FEATURES_SCRAM, FEATURES_STARTTLS, HEADER, JID, NS_BIND,
    NS_ROSTER, PROCEED, SEED, SUCCESS, bind_result, config, input, last_iq_id_with,
};
use crate::Driver;

/// How the fuzzed client connects.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Connect {
    Plain,
    DirectTls,
    DirectTlsWithBinding,
}

/// Server messages the fuzzer would take long to find byte by byte.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Canned {
    Header,
    FeaturesStartTls,
    Proceed,
    StartTlsFailure,
    FeaturesPlain,
    FeaturesScram,
    FeaturesEmpty,
    Success,
    SaslFailure,
    FeaturesBind,
    BindResult,
    BindResultForAnotherAccount,
    BindError,
    IqResult,
    RosterPush,
    PresenceError,
    ContactPresence,
    OwnPresenceEcho,
    Message,
    Ping,
    StreamError,
    StreamClose,
    Whitespace,
}

/// One step of [`command_sequence`].
#[derive(Debug, Clone, Arbitrary)]
enum Op {
    Connect(Connect),
    Input(Vec<u8>),
    Say(Canned),
    Eof,
    /// Advance the clock by this many tenths of a second, then `handle_timeout`.
    Advance(u16),
    /// Jump to `poll_timeout` and fire it.
    FireTimeout,
    TlsEstablished(bool),
    TlsFailed,
    SetPresence(u8),
    SetStatus(String),
    ChangePresence(u8, String),
    Close,
    SendMessage(String),
    SendPresence,
}

fn presence_of(n: u8) -> Presence {
    match n % 5 {
        0 => Presence::Offline,
        1 => Presence::Chat,
        2 => Presence::Away,
        3 => Presence::ExtendedAway,
        _ => Presence::DoNotDisturb,
    }
}

/// An `arbitrary` sequence of inputs, canned server messages, timeouts, TLS events and
/// commands, with the client contract checked after each step (no panic; `Disconnected`
/// once and last, after `CloseTransport`; nothing written after `CloseTransport` or during
/// the TLS handshake; no timer due right after `handle_timeout`; `Closed` sticky, with
/// every later command failing with the same reason; a refused command changes nothing),
/// and: a successful presence command leaves the values it set.
pub fn command_sequence(data: &[u8]) {
    let _ = command_sequence_trace(data);
}

/// [`command_sequence`], returning each step it ran and the state after it (to check what a
/// seed does).
pub fn command_sequence_trace(data: &[u8]) -> Vec<String> {
    let mut trace = Vec::new();
    let mut u = Unstructured::new(data);
    let insecure = bool::arbitrary(&mut u).unwrap_or(false);
    let fetch_roster = bool::arbitrary(&mut u).unwrap_or(true);
    let mut config = config(if insecure {
        TlsPolicy::InsecurePlaintext
    } else {
        TlsPolicy::Required
    });
    config.fetch_roster = fetch_roster;
    let mut d = Driver::new(config, SEED);
    let Ok(ops) = u.arbitrary_iter::<Op>() else {
        return trace;
    };
    for op in ops.take(256) {
        let Ok(op) = op else { break };
        let shown = format!("{op:?}");
        step(&mut d, op);
        trace.push(format!("{shown} -> {}", d.client().state().name()));
    }
    trace
}

fn step(d: &mut Driver, op: Op) {
    // Results are ignored: the contract checks what a refused call may do.
    match op {
        Op::Connect(kind) => {
            let transport = match kind {
                Connect::Plain => Transport::Plain,
                Connect::DirectTls => Transport::DirectTls(None),
                Connect::DirectTlsWithBinding => Transport::DirectTls(Some(binding())),
            };
            let _ = d.connect(transport);
        }
        Op::Input(bytes) => input(d, &bytes),
        Op::Say(canned) => {
            let text = canned_text(d, canned);
            input(d, text.as_bytes());
        }
        Op::Eof => d.eof(),
        Op::Advance(tenths) => d.advance(Duration::from_millis(u64::from(tenths) * 100)),
        Op::FireTimeout => {
            d.fire_next_timeout();
        }
        Op::TlsEstablished(with_binding) => {
            let _ = d.tls_established(with_binding.then(binding));
        }
        Op::TlsFailed => {
            let _ = d.tls_failed("fuzz");
        }
        Op::SetPresence(p) => {
            let p = presence_of(p);
            let _ = d.command(|c, now| c.set_presence(now, p));
            check_values(d, Some(p), None);
        }
        Op::SetStatus(s) => {
            let _ = d.command(|c, now| c.set_status(now, &s));
            check_values(d, None, Some(&s));
        }
        Op::ChangePresence(p, s) => {
            let p = presence_of(p);
            let _ = d.command(|c, now| c.change_presence(now, p, &s));
            check_values(d, Some(p), Some(&s));
        }
        Op::Close => {
            let _ = d.command(|c, now| c.close(now));
        }
        Op::SendMessage(body) => {
            let mut message = Element::builder("message", "jabber:client").build();
            message.set_attr(
                minidom::rxml::Namespace::NONE,
                minidom::rxml::NcName::try_from("to").expect("a literal NCName"),
                "bob@localhost",
            );
            message.append_child(Element::builder("body", "jabber:client").build());
            if let Some(b) = message.children_mut().next() {
                b.append_text(body);
            }
            let _ = d.command(|c, now| c.send(now, &message));
        }
        Op::SendPresence => {
            let presence = Element::builder("presence", "jabber:client").build();
            let _ = d.command(|c, now| c.send(now, &presence));
        }
    }
}

/// After a presence command: if it was accepted, the getters show what was set.
fn check_values(d: &Driver, presence: Option<Presence>, status: Option<&str>) {
    let client = d.client();
    if client.is_closed() || matches!(client.state(), SessionState::Closing) {
        return;
    }
    let valid = status.is_none_or(|s| herald_core::check_text(s).is_ok());
    if valid {
        if let Some(p) = presence {
            assert_eq!(client.presence(), p);
        }
        if let Some(s) = status {
            assert_eq!(client.status(), s);
        }
    }
}

fn binding() -> ChannelBinding {
    ChannelBinding {
        tls_exporter: Some(b"fuzz exporter".to_vec()),
        tls_server_end_point: Some(b"fuzz end point".to_vec()),
        ..ChannelBinding::default()
    }
}

fn canned_text(d: &Driver, canned: Canned) -> String {
    let stanza_error = "<error type='cancel'><not-allowed \
        xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>";
    match canned {
        Canned::Header => HEADER.into(),
        Canned::FeaturesStartTls => FEATURES_STARTTLS.into(),
        Canned::Proceed => PROCEED.into(),
        Canned::StartTlsFailure => "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>".into(),
        Canned::FeaturesPlain => FEATURES_PLAIN.into(),
        Canned::FeaturesScram => FEATURES_SCRAM.into(),
        Canned::FeaturesEmpty => "<stream:features/>".into(),
        Canned::Success => SUCCESS.into(),
        Canned::SaslFailure => "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
            <not-authorized/></failure>"
            .into(),
        Canned::FeaturesBind => FEATURES_BIND.into(),
        Canned::BindResult => bind_result(&last_iq_id_with(d, NS_BIND), JID),
        Canned::BindResultForAnotherAccount => {
            bind_result(&last_iq_id_with(d, NS_BIND), "mallory@localhost/fuzz")
        }
        Canned::BindError => format!(
            "<iq type='error' id='{}'>{stanza_error}</iq>",
            last_iq_id_with(d, NS_BIND)
        ),
        Canned::IqResult => format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'/></iq>",
            last_iq_id_with(d, NS_ROSTER)
        ),
        Canned::RosterPush => "<iq type='set' id='push1'><query xmlns='jabber:iq:roster'>\
            <item jid='bob@localhost' subscription='both'/></query></iq>"
            .into(),
        Canned::PresenceError => {
            format!("<presence type='error' from='localhost'>{stanza_error}</presence>")
        }
        Canned::ContactPresence => "<presence from='bob@localhost/phone'><show>away</show>\
            <status>out</status><priority>5</priority></presence>"
            .into(),
        Canned::OwnPresenceEcho => format!("<presence from='{JID}' type='unavailable'/>"),
        Canned::Message => {
            "<message from='bob@localhost/phone' type='chat'><body>hi</body></message>".into()
        }
        Canned::Ping => "<iq type='get' id='ping1' from='localhost'>\
            <ping xmlns='urn:xmpp:ping'/></iq>"
            .into(),
        Canned::StreamError => "<stream:error><system-shutdown \
            xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
            .into(),
        Canned::StreamClose => "</stream:stream>".into(),
        Canned::Whitespace => "\n  \n".into(),
    }
}
