//! The `command_sequence` target: an `arbitrary`-derived sequence of steps. The committed
//! seeds (`fuzz/corpus-seeds/command_sequence/`) are `arbitrary`'s encoding of these enums,
//! written by `sequence_seeds`: adding, removing or reordering a variant changes what every
//! seed decodes to, so update its counts and indices and re-record the seeds.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use herald_core::jid::Jid;
use herald_core::minidom::{self, Element};
use herald_core::{
    ChannelBinding, Event, MessageType, Presence, SessionState, TlsPolicy, Transport,
};

use super::{
    FEATURES_BIND, FEATURES_PLAIN, FEATURES_SCRAM, FEATURES_STARTTLS, HEADER, JID, NS_BIND,
    NS_ROSTER, PROCEED, SEED, SUCCESS, bind_result, config, input, last_iq_id_with,
};
use crate::Driver;

/// How the fuzzed client connects.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub(super) enum Connect {
    Plain,
    DirectTls,
    DirectTlsWithBinding,
}

/// Server messages the fuzzer would take long to find byte by byte.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub(super) enum Canned {
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
    /// Bind features with client state indication offered.
    FeaturesBindCsi,
    /// Bob's presence with the caps of XEP-0115 section 5.2.
    CapsPresence,
    /// The answer to the last disco#info query: XEP-0115 section 5.2's, matching.
    DiscoInfoAnswer,
    /// Bob asks for our disco#info.
    DiscoInfoQuery,
    /// A chat message asking for a receipt.
    ReceiptRequest,
    /// A receipt for `m1`.
    Receipt,
    /// A carbon copy of a message sent from another resource, from the own bare JID.
    Carbon,
    /// The answer to the last blocking request: a list of one.
    BlocklistResult,
    /// A block push from the account.
    BlockPush,
    /// An unblock-everything push from the account.
    UnblockPush,
}

/// One step of [`command_sequence`].
#[derive(Debug, Clone, Arbitrary)]
pub(super) enum Op {
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
    /// `send_message` to bob with one of a few bodies (see `chat_body`).
    SendChat(u8),
    SetClientActive(bool),
    RequestBlocklist,
    /// Block bob (true) or a whole domain.
    Block(bool),
    /// Unblock bob (true) or everyone.
    Unblock(bool),
    QueryCaps,
    /// `set_extra_features` with this many (mod 4) features.
    SetExtraFeatures(u8),
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
    command_sequence_events(data).0
}

/// [`command_sequence_trace`], and every event the client gave.
pub fn command_sequence_events(data: &[u8]) -> (Vec<String>, Vec<Event>) {
    let (trace, d) = run(data);
    (trace, d.events)
}

fn run(data: &[u8]) -> (Vec<String>, Driver) {
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
        return (trace, d);
    };
    for op in ops.take(256) {
        let Ok(op) = op else { break };
        let shown = format!("{op:?}");
        step(&mut d, op);
        trace.push(format!("{shown} -> {}", d.client().state().name()));
    }
    (trace, d)
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
        Op::SendChat(n) => {
            let body = chat_body(n);
            let _ = d.command(|c, now| {
                c.send_message(now, &jid(BOB), body, MessageType::Chat)
                    .map(drop)
            });
        }
        Op::SetClientActive(active) => {
            let _ = d.command(|c, now| c.set_client_active(now, active));
            if d.client().state() == SessionState::Online {
                assert_eq!(d.client().client_active(), active);
            }
        }
        Op::RequestBlocklist => {
            let _ = d.command(|c, now| c.request_blocklist(now));
        }
        Op::Block(contact) => {
            let who = jid(if contact { BOB } else { "evil.example" });
            let _ = d.command(|c, now| c.block(now, &[who]));
        }
        Op::Unblock(contact) => {
            let who: Vec<Jid> = contact.then(|| jid(BOB)).into_iter().collect();
            let _ = d.command(|c, now| c.unblock(now, &who));
        }
        Op::QueryCaps => {
            let _ = d.command(|c, now| c.query_caps(now, &jid(BOB_PHONE)));
        }
        Op::SetExtraFeatures(n) => {
            let features = (0..n % 4).map(|i| format!("urn:fuzz:{i}")).collect();
            let _ = d.command(|c, now| c.set_extra_features(now, features));
        }
    }
}

const BOB: &str = "bob@localhost";
const BOB_PHONE: &str = "bob@localhost/phone";

fn jid(s: &str) -> Jid {
    s.parse().expect("a literal JID")
}

/// A plain body, an empty one, one with a character XML forbids, a long one.
fn chat_body(n: u8) -> &'static str {
    const LONG: &str = "a long message body that goes on and on and on and on and on";
    match n % 4 {
        0 => "hi",
        1 => "",
        2 => "bad \u{1} char",
        _ => LONG,
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
        Canned::FeaturesBindCsi => "<stream:features>\
            <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><csi xmlns='urn:xmpp:csi:0'/>\
            </stream:features>"
            .into(),
        Canned::CapsPresence => format!(
            "<presence from='{BOB_PHONE}'><c xmlns='http://jabber.org/protocol/caps' \
             hash='sha-1' node='http://code.google.com/p/exodus' ver='{EXODUS_VER}'/>\
             </presence>"
        ),
        Canned::DiscoInfoAnswer => format!(
            "<iq type='result' id='{}' from='{BOB_PHONE}'>{EXODUS_INFO}</iq>",
            last_iq_id_with(d, NS_DISCO_INFO)
        ),
        Canned::DiscoInfoQuery => format!(
            "<iq type='get' id='disco1' from='{BOB_PHONE}'>\
             <query xmlns='{NS_DISCO_INFO}'/></iq>"
        ),
        Canned::ReceiptRequest => format!(
            "<message from='{BOB_PHONE}' type='chat' id='m2'><body>ack?</body>\
             <request xmlns='urn:xmpp:receipts'/></message>"
        ),
        Canned::Receipt => format!(
            "<message from='{BOB_PHONE}' id='r1'><received xmlns='urn:xmpp:receipts' id='m1'/>\
             </message>"
        ),
        Canned::Carbon => "<message from='alice@localhost' type='chat'>\
            <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
            <message xmlns='jabber:client' from='alice@localhost/phone' to='bob@localhost' \
            type='chat' id='c1'><body>from my phone</body></message></forwarded></sent>\
            </message>"
            .into(),
        Canned::BlocklistResult => format!(
            "<iq type='result' id='{}'><blocklist xmlns='{NS_BLOCKING}'>\
             <item jid='spam@evil.example'/></blocklist></iq>",
            last_iq_id_with(d, NS_BLOCKING)
        ),
        Canned::BlockPush => format!(
            "<iq type='set' id='block1'><block xmlns='{NS_BLOCKING}'><item jid='{BOB}'/>\
             </block></iq>"
        ),
        Canned::UnblockPush => {
            format!("<iq type='set' id='unblock1'><unblock xmlns='{NS_BLOCKING}'/></iq>")
        }
    }
}

const NS_DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
const NS_BLOCKING: &str = "urn:xmpp:blocking";
/// XEP-0115 section 5.2's example: its disco#info and the `ver` it hashes to.
const EXODUS_VER: &str = "QgayPKawpkPSDYmwT/WM94uAlu0=";
const EXODUS_INFO: &str = "<query xmlns='http://jabber.org/protocol/disco#info' \
    node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>\
    <identity category='client' name='Exodus 0.9.1' type='pc'/>\
    <feature var='http://jabber.org/protocol/caps'/>\
    <feature var='http://jabber.org/protocol/disco#info'/>\
    <feature var='http://jabber.org/protocol/disco#items'/>\
    <feature var='http://jabber.org/protocol/muc'/></query>";
