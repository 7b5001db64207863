//! The hostile-input catalogue (issue 5): every way a server's bytes can attack the client,
//! one test each, asserting the exact stream error the client sends (or that it sends none)
//! and the exact reason the session ends with (or that it goes on). Then the memory bound:
//! 100 MB of hostile input, fed in chunks, never makes the core hold more than its limits.
//!
//! Where an item is already pinned by another suite, the test here restates the outcome in
//! the catalogue's terms and names the other test.

use herald_core::jid::Jid;
use herald_core::{
    Client, Config, DisconnectReason, Event, Limit, Limits, Mechanism, ScramError, SeededEntropy,
    SessionState, Transport,
};
use herald_testkit::{Driver, Pair, ScramTamper, ServerProfile, Tamper, config_for};

const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
     xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='h1' \
     version='1.0' xml:lang='en'>";
const ABORT: &str = "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
const CLOSE: &str = "</stream:stream>";
const MB: usize = 1024 * 1024;

/// The stream error the client sends for `condition`, then its stream close.
fn stream_error(condition: &str) -> String {
    format!(
        "<stream:error><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error></stream:stream>"
    )
}

fn malformed(condition: &'static str, detail: &str) -> DisconnectReason {
    DisconnectReason::MalformedXml {
        condition: condition.into(),
        detail: detail.to_string(),
    }
}

fn online() -> Pair {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair
}

/// Online, the server sends `bytes`: what the client sent in answer, and how it ended.
fn online_then(bytes: &[u8]) -> (String, DisconnectReason, Pair) {
    let mut pair = online();
    let mark = pair.mark();
    pair.server.send_raw(bytes);
    pair.drive();
    let reason = pair.ended();
    let stanzas = pair
        .events
        .iter()
        .filter(|e| matches!(e, Event::Stanza(_)))
        .count();
    assert_eq!(
        stanzas, 0,
        "nothing from broken input reaches the application"
    );
    (pair.client_sent_since(mark), reason, pair)
}

/// A fresh client that sent its header; the server's first bytes are `bytes`.
fn first_bytes(bytes: &[u8]) -> (String, DisconnectReason) {
    let profile = ServerProfile::prosody_like();
    let mut client = Driver::connected(config_for(&profile), 42, Transport::Plain);
    let header = client.wire.len();
    client.input(bytes);
    let sent = String::from_utf8_lossy(&client.wire[header..]).into_owned();
    (sent, client.ended())
}

/// Replaces `from` with `to` in every server batch.
fn replace_in_batches(from: &'static str, to: String) -> Tamper {
    Box::new(move |batch: Vec<u8>| {
        let text = String::from_utf8(batch).expect("the scripted server speaks UTF-8");
        text.replace(from, &to).into_bytes()
    })
}

fn sent_all(pair: &Pair) -> String {
    pair.client_sent_since(0)
}

// ===== XML the client refuses =====

#[test]
fn doctype_before_the_stream_header_is_restricted_xml() {
    let dtd = "<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY lol 'lol'>]>";
    let (sent, reason) = first_bytes(format!("{dtd}{}", &SERVER_HEADER[21..]).as_bytes());
    assert_eq!(sent, stream_error("restricted-xml"));
    let detail = "restricted XML: document type declaration \
                  (invalid syntax: malformed cdata or comment section start)";
    assert_eq!(reason, malformed("restricted-xml", detail));
}

#[test]
fn doctype_mid_stream_is_restricted_xml() {
    let (sent, reason, _) = online_then(b"<!DOCTYPE message>");
    assert_eq!(sent, stream_error("restricted-xml"));
    let detail = "restricted XML: document type declaration \
                  (invalid syntax: malformed cdata or comment section start)";
    assert_eq!(reason, malformed("restricted-xml", detail));
}

#[test]
fn undeclared_entity_is_restricted_xml() {
    let (sent, reason, _) =
        online_then(b"<message from='bob@localhost/x'><body>&lol;</body></message>");
    assert_eq!(sent, stream_error("restricted-xml"));
    let detail = "restricted XML: entity reference (use of undeclared entity)";
    assert_eq!(reason, malformed("restricted-xml", detail));
}

#[test]
fn processing_instruction_is_restricted_xml() {
    let (sent, reason, _) = online_then(b"<?php system('id'); ?>");
    assert_eq!(sent, stream_error("restricted-xml"));
    let detail = "restricted XML: restricted xml: processing instructions";
    assert_eq!(reason, malformed("restricted-xml", detail));
}

#[test]
fn comment_is_restricted_xml() {
    let (sent, reason, _) = online_then(b"<message><!-- hi --></message>");
    assert_eq!(sent, stream_error("restricted-xml"));
    let detail = "restricted XML: restricted xml: comments";
    assert_eq!(reason, malformed("restricted-xml", detail));
}

/// RFC 6120 section 4.9.3.22: "improperly encoded the stream (e.g., by violating the rules
/// of the UTF-8 encoding)" is `unsupported-encoding`.
#[test]
fn bad_utf8_is_unsupported_encoding() {
    let (sent, reason, _) = online_then(b"<message><body>\xc3\x28</body></message>");
    assert_eq!(sent, stream_error("unsupported-encoding"));
    let detail = "not UTF-8: invalid utf-8 byte: \\xc3";
    assert_eq!(reason, malformed("unsupported-encoding", detail));
}

/// RFC 6120 section 11.6: XMPP is UTF-8 only; a declaration naming another encoding is
/// refused before anything else is read.
#[test]
fn non_utf8_declaration_is_unsupported_encoding() {
    let header = SERVER_HEADER.replace("version='1.0'?>", "version='1.0' encoding='ISO-8859-1'?>");
    let (sent, reason) = first_bytes(header.as_bytes());
    assert_eq!(sent, stream_error("unsupported-encoding"));
    let detail = "not UTF-8: restricted xml: only utf-8 encoding is allowed";
    assert_eq!(reason, malformed("unsupported-encoding", detail));
}

#[test]
fn ten_thousand_deep_nesting_is_a_policy_violation() {
    let deep = "<a>".repeat(10_000);
    let (sent, reason, pair) = online_then(deep.as_bytes());
    assert_eq!(sent, stream_error("policy-violation"));
    assert_eq!(reason, DisconnectReason::LimitExceeded(Limit::Depth));
    assert_eq!(
        pair.client().buffered_bytes(),
        0,
        "the partial tree is freed"
    );
}

#[test]
fn a_ten_megabyte_stanza_is_a_policy_violation() {
    let mut stanza = b"<message from='bob@localhost/x'><body>".to_vec();
    stanza.resize(10 * MB, b'a');
    let (sent, reason, _) = online_then(&stanza);
    assert_eq!(sent, stream_error("policy-violation"));
    assert_eq!(reason, DisconnectReason::LimitExceeded(Limit::StanzaSize));
}

#[test]
fn ten_megabytes_of_whitespace_is_a_policy_violation() {
    let (sent, reason, _) = online_then(&vec![b' '; 10 * MB]);
    assert_eq!(sent, stream_error("policy-violation"));
    assert_eq!(
        reason,
        DisconnectReason::LimitExceeded(Limit::WhitespaceRun)
    );
}

#[test]
fn an_attribute_flood_is_a_policy_violation() {
    let attrs: String = (0..10_000).map(|i| format!(" a{i}='v'")).collect();
    let (sent, reason, _) = online_then(format!("<message{attrs}/>").as_bytes());
    assert_eq!(sent, stream_error("policy-violation"));
    assert_eq!(reason, DisconnectReason::LimitExceeded(Limit::Attributes));
}

#[test]
fn duplicate_attributes_are_not_well_formed() {
    let (sent, reason, _) = online_then(b"<message to='a@localhost' to='b@localhost'/>");
    assert_eq!(sent, stream_error("not-well-formed"));
    let detail = "not well-formed XML: duplicate attribute";
    assert_eq!(reason, malformed("not-well-formed", detail));
}

#[test]
fn text_at_stream_level_is_bad_format() {
    let (sent, reason, _) = online_then(b"<presence/>hello<presence/>");
    assert_eq!(sent, stream_error("bad-format"));
    let detail = "bad format: text between top-level elements";
    assert_eq!(reason, malformed("bad-format", detail));
}

#[test]
fn wrong_stream_namespace_is_invalid_namespace() {
    let header = SERVER_HEADER.replace("http://etherx.jabber.org/streams", "urn:not-streams");
    let (sent, reason) = first_bytes(header.as_bytes());
    assert_eq!(sent, stream_error("invalid-namespace"));
    let detail = "the stream root is not {http://etherx.jabber.org/streams}stream";
    assert_eq!(reason, malformed("invalid-namespace", detail));
}

/// After the server's `</stream:stream>` nothing it sends is read: the client closes its
/// own stream (no error: the server ended cleanly) and reports `ServerClosed`.
#[test]
fn bytes_after_the_stream_close_are_ignored() {
    let (sent, reason, pair) = online_then(
        b"</stream:stream><message from='bob@localhost/x'><body>late</body></message>\xff<!--",
    );
    assert_eq!(sent, CLOSE);
    assert_eq!(reason, DisconnectReason::ServerClosed);
    assert!(pair.client().poll_timeout().is_none());
}

/// A self-closing stream header is a stream that opened and closed at once; what follows
/// is after the close, in the same read or not (the reader once reported the trailing
/// text as `bad-format` only when it came in the same chunk; found by fuzzing).
#[test]
fn a_self_closing_stream_header_then_junk_is_a_server_close_in_any_chunking() {
    let bytes = format!(
        "{}junk<a/>",
        SERVER_HEADER.replace("xml:lang='en'>", "xml:lang='en'/>")
    );
    let (sent, reason) = first_bytes(bytes.as_bytes());
    assert_eq!(
        (sent.as_str(), reason),
        (CLOSE, DisconnectReason::ServerClosed)
    );
    let profile = ServerProfile::prosody_like();
    let mut client = Driver::connected(config_for(&profile), 42, Transport::Plain);
    for byte in bytes.as_bytes() {
        client.input(std::slice::from_ref(byte));
    }
    let closed = SessionState::Closed {
        reason: DisconnectReason::ServerClosed,
    };
    assert_eq!(client.client().state(), closed);
}

/// Also in `login_failures.rs` (`starttls_injection_*`): a byte after `<proceed/>` in the
/// same read is plaintext an attacker injected; the session ends silently (TLS not yet up).
#[test]
fn plaintext_after_proceed_is_a_tls_injection() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    let proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    pair.tamper = Some(replace_in_batches(
        proceed,
        format!("{proceed}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"),
    ));
    pair.connect();
    assert_eq!(pair.ended(), DisconnectReason::TlsInjection);
    assert!(sent_all(&pair).ends_with("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
}

// ===== SCRAM =====

fn scram_pair(profile: ServerProfile) -> Pair {
    let mut pair = Pair::with_profile(profile);
    pair.connect();
    pair
}

fn scram(error: ScramError) -> DisconnectReason {
    DisconnectReason::Scram {
        mechanism: Mechanism::ScramSha1,
        error,
    }
}

/// Also in `scram_checks.rs`. The client aborts before computing a proof.
#[test]
fn scram_nonce_not_extending_ours_is_a_nonce_mismatch() {
    let profile = ServerProfile {
        scram_tamper: ScramTamper::ForeignNonce,
        ..ServerProfile::prosody_like()
    };
    let pair = scram_pair(profile);
    assert_eq!(pair.ended(), scram(ScramError::NonceMismatch));
    let sent = sent_all(&pair);
    assert!(sent.ends_with(&format!("{ABORT}{CLOSE}")), "{sent}");
    assert!(!sent.contains("<response"));
}

/// Also in `scram_checks.rs`. `v=` arrives in `<success/>`: the exchange is over, so there
/// is nothing to abort; the client only closes.
#[test]
fn wrong_server_signature_is_a_signature_mismatch() {
    let profile = ServerProfile {
        scram_tamper: ScramTamper::WrongSignature,
        ..ServerProfile::prosody_like()
    };
    let pair = scram_pair(profile);
    assert_eq!(pair.ended(), scram(ScramError::SignatureMismatch));
    let sent = sent_all(&pair);
    assert!(sent.ends_with(&format!("</response>{CLOSE}")), "{sent}");
    assert_eq!(
        pair.server.headers, 2,
        "no stream restart after the bad success"
    );
}

#[test]
fn four_billion_iterations_are_refused_before_any_work() {
    let profile = ServerProfile {
        iterations: 4_000_000_000,
        ..ServerProfile::prosody_like()
    };
    let pair = scram_pair(profile);
    let count = ScramError::IterationCount {
        count: 4_000_000_000,
        min: 4096,
        max: 100_000,
    };
    assert_eq!(pair.ended(), scram(count));
    let sent = sent_all(&pair);
    assert!(sent.ends_with(&format!("{ABORT}{CLOSE}")), "{sent}");
    assert!(!sent.contains("<response"));
}

/// `<success/>` where the server-first challenge should be: the server skipped the
/// exchange. Without `v=` it has not proved it knows the password.
#[test]
fn success_before_the_exchange_is_refused() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    let success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>".to_string();
    pair.tamper = Some(Box::new(move |batch: Vec<u8>| {
        let text = String::from_utf8(batch).expect("UTF-8");
        match text.find("<challenge") {
            Some(at) => format!("{}{success}", &text[..at]).into_bytes(),
            None => text.into_bytes(),
        }
    }));
    pair.connect();
    let error = ScramError::Malformed("success without server signature");
    assert_eq!(pair.ended(), scram(error));
    assert!(sent_all(&pair).ends_with(&format!("</auth>{CLOSE}")));
    assert_eq!(pair.server.headers, 2, "no stream restart");
}

/// Same, with a `v=` the client cannot check yet: it has no server-first, so the message
/// is out of order.
#[test]
fn success_with_a_signature_before_the_exchange_is_refused() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    // base64("v=AAAA")
    let success = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1BQUFB</success>";
    pair.tamper = Some(Box::new(move |batch: Vec<u8>| {
        let text = String::from_utf8(batch).expect("UTF-8");
        match text.find("<challenge") {
            Some(at) => format!("{}{success}", &text[..at]).into_bytes(),
            None => text.into_bytes(),
        }
    }));
    pair.connect();
    assert_eq!(pair.ended(), scram(ScramError::UnexpectedMessage));
    assert!(sent_all(&pair).ends_with(&format!("</auth>{CLOSE}")));
}

// ===== addresses =====

/// A bind result naming another account: going online as someone else would misreport
/// who we are. The client closes its stream and reports a protocol violation.
#[test]
fn a_bind_result_for_another_account_ends_the_session() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_in_batches(
        "<jid>alice@localhost/desk</jid>",
        "<jid>mallory@localhost/desk</jid>".into(),
    ));
    pair.connect();
    let reason = DisconnectReason::PeerMisbehaved(herald_core::PeerMisbehaved::BoundOtherAccount {
        jid: "mallory@localhost/desk".parse().unwrap(),
    });
    assert_eq!(pair.ended(), reason);
    // The initial presence left with the bind request (pipelined); after the bind result,
    // only our close.
    assert!(sent_all(&pair).ends_with(&format!("<presence/>{CLOSE}")));
    assert!(
        !pair
            .events
            .iter()
            .any(|e| matches!(e, Event::Online { .. }))
    );
    assert_eq!(pair.server.received_named("presence").len(), 1);
}

/// The same account in another case is still ours (servers normalise the local part).
#[test]
fn a_bind_result_differing_only_in_case_is_accepted() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_in_batches(
        "<jid>alice@localhost/desk</jid>",
        "<jid>Alice@LocalHost/desk</jid>".into(),
    ));
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
}

/// `jid` 0.12.3 reads `user@example.com./x` as resource `"/x"`; the core strips the
/// trailing dot first (RFC 7622 section 3.2), in the bind result and in stanzas alike.
#[test]
fn a_trailing_dot_domain_is_stripped_not_misparsed() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_in_batches(
        "<jid>alice@localhost/desk</jid>",
        "<jid>alice@localhost./desk</jid>".into(),
    ));
    pair.connect();
    let bound: Jid = "alice@localhost/desk".parse().expect("jid");
    assert_eq!(
        pair.client().bound_jid().map(|j| j.to_string()),
        Some(bound.to_string())
    );
    let mark = pair.mark();
    pair.take_events();
    pair.server_says("<presence from='bob@localhost./phone'><show>dnd</show></presence>");
    let from = pair.events.iter().find_map(|e| match e {
        Event::Presence(p) => Some(p.from.clone()),
        _ => None,
    });
    let from = from.expect("a presence event");
    assert_eq!(from.domain().as_str(), "localhost");
    assert_eq!(from.resource().map(|r| r.as_str()), Some("phone"));
    assert_eq!(pair.client_sent_since(mark), "", "no stream error");
    assert_eq!(pair.client().state(), SessionState::Online);
}

/// Also in `roster.rs` (`spoofed_pushes_are_ignored`): RFC 6121 section 2.1.6, a push not
/// from our own bare JID (or the server) is ignored: no answer, no change, no event.
#[test]
fn a_roster_push_from_a_stranger_is_ignored() {
    let mut pair = online();
    let roster_before = pair.client().roster().clone();
    let mark = pair.mark();
    pair.take_events();
    pair.server_says(
        "<iq type='set' id='evil1' from='mallory@localhost/x'>\
         <query xmlns='jabber:iq:roster'><item jid='mallory@localhost' subscription='both'/>\
         </query></iq>",
    );
    assert_eq!(pair.client_sent_since(mark), "");
    assert!(pair.events.is_empty(), "{:?}", pair.events);
    assert_eq!(pair.client().roster(), &roster_before);
    assert_eq!(pair.client().state(), SessionState::Online);
}

// ===== bounded memory =====

/// Limits small enough that 100 MB exercises each of them many times.
fn tight_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_stanza_bytes = 64 * 1024;
    limits.max_whitespace_run = 4 * 1024;
    limits.max_depth = 16;
    limits.max_attributes = 16;
    limits
}

/// One hostile-but-legal block: a stanza just under the size limit, nesting at the depth
/// limit, attributes at the attribute limit, whitespace at the whitespace limit, and a
/// presence from a new full JID (the presence table is bounded too).
fn legal_flood_block(limits: Limits, n: usize) -> Vec<u8> {
    let mut block = Vec::new();
    let big_head = format!("<message from='bob@localhost/{n}'><body>");
    let big_tail = "</body></message>";
    let text = limits.max_stanza_bytes - big_head.len() - big_tail.len();
    block.extend_from_slice(big_head.as_bytes());
    block.resize(block.len() + text, b'x');
    block.extend_from_slice(big_tail.as_bytes());
    block.resize(block.len() + limits.max_whitespace_run, b'\n');
    let depth = limits.max_depth - 2;
    let nested = format!(
        "<message>{}{}</message>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    block.extend_from_slice(nested.as_bytes());
    let attrs: String = (0..limits.max_attributes)
        .map(|i| format!(" x{i}='1'"))
        .collect();
    block.extend_from_slice(format!("<message{attrs}/>").as_bytes());
    let presence = format!("<presence from='c{n}@localhost/r'><status>s</status></presence>");
    block.extend_from_slice(presence.as_bytes());
    block
}

/// A client online over the scripted login, with `limits`, fed directly from now on.
fn online_client(limits: Limits) -> Pair {
    let profile = ServerProfile::prosody_like();
    let mut config: Config = config_for(&profile);
    config.limits = limits;
    config.max_tracked_presences = 100;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair
}

/// 100 MB of hostile input in 64 KiB chunks: first as much legal-but-maximal traffic as fits
/// (every limit reached, none passed), then an endless stanza. After every chunk, and with
/// the output drained as the run loop does, the core holds no more than one stanza's worth.
#[test]
fn a_hundred_megabytes_of_hostile_input_stays_within_the_limits() {
    let limits = tight_limits();
    let mut pair = online_client(limits);
    let total = 100 * MB;
    let chunk = 64 * 1024;
    let mut fed = 0;
    let mut peak = 0;
    let mut stanzas = 0usize;
    let mut block_no = 0;
    // Part 1: 90 MB that breaks no limit.
    while fed < 90 * MB {
        block_no += 1;
        let block = legal_flood_block(limits, block_no);
        for piece in block.chunks(chunk) {
            pair.feed(piece);
            peak = peak.max(pair.client().buffered_bytes());
            for event in pair.take_events() {
                stanzas += usize::from(matches!(event, Event::Stanza(_) | Event::Message(_)));
            }
            fed += piece.len();
        }
    }
    assert_eq!(
        pair.client().state(),
        SessionState::Online,
        "legal floods are legal"
    );
    assert_eq!(stanzas, 3 * block_no, "every stanza delivered");
    let bob = "bob@localhost".parse().expect("jid");
    assert!(pair.client().contact_presences(&bob).is_empty());
    // Part 2: the rest is one endless stanza.
    let mut first = true;
    while fed < total {
        let piece: Vec<u8> = if first {
            first = false;
            let mut p = b"<message><body>".to_vec();
            p.resize(chunk, b'y');
            p
        } else {
            vec![b'y'; chunk]
        };
        pair.feed(&piece);
        peak = peak.max(pair.client().buffered_bytes());
        pair.take_events();
        fed += piece.len();
    }
    assert!(
        peak <= limits.max_stanza_bytes + 1,
        "held {peak} bytes, limit {}",
        limits.max_stanza_bytes
    );
    assert!(
        peak >= limits.max_stanza_bytes / 2,
        "the test reached the limit: {peak}"
    );
    assert_eq!(pair.client().buffered_bytes(), 0);
    let closed = SessionState::Closed {
        reason: DisconnectReason::LimitExceeded(Limit::StanzaSize),
    };
    assert_eq!(pair.client().state(), closed);
}

/// The same bound with the default limits and the worst shape for them: one 100 MB stanza
/// cut into 1 KiB reads. The reader refuses it after 256 KiB and holds nothing after that.
#[test]
fn a_hundred_megabyte_stanza_in_small_reads_is_cut_off_at_the_limit() {
    let limits = Limits::default();
    let mut pair = online_client(limits);
    let mut peak = 0;
    let mut refused_after = None;
    let mut piece = b"<message><body>".to_vec();
    piece.resize(1024, b'z');
    let mut fed = 0;
    let mark = pair.mark();
    while fed < 100 * MB {
        pair.feed(&piece);
        fed += piece.len();
        peak = peak.max(pair.client().buffered_bytes());
        if refused_after.is_none() && pair.client().is_closed() {
            refused_after = Some(fed);
        }
        piece.iter_mut().for_each(|b| *b = b'z');
    }
    let refused_after = refused_after.expect("refused");
    assert!(
        refused_after <= limits.max_stanza_bytes + 1024,
        "{refused_after}"
    );
    assert!(peak <= limits.max_stanza_bytes + 1, "{peak}");
    let sent = pair.client_sent_since(mark);
    assert!(sent.ends_with(&stream_error("policy-violation")), "{sent}");
}

/// A stanza limit beyond what a received `Stanza` can index is refused up front, not
/// discovered on the first huge stanza.
#[test]
fn a_stanza_limit_above_the_supported_maximum_is_a_config_error() {
    let profile = ServerProfile::prosody_like();
    let mut config: Config = config_for(&profile);
    config.limits.max_stanza_bytes = Limits::MAX_STANZA_BYTES + 1;
    let err = Client::new(config.clone(), SeededEntropy::new(1)).unwrap_err();
    assert_eq!(
        err,
        herald_core::ConfigError::StanzaLimitTooLarge(Limits::MAX_STANZA_BYTES + 1)
    );
    // `Config::check` (what adapters call before they start) says the same.
    assert_eq!(config.check(), Err(err));
    config.limits.max_stanza_bytes = Limits::MAX_STANZA_BYTES;
    assert_eq!(config.check(), Ok(()));
    assert!(Client::new(config, SeededEntropy::new(1)).is_ok());
}
