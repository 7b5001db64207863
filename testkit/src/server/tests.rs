//! The server alone, fed by hand: a pipelining client is served exactly as a waiting one,
//! and what a real server would refuse is refused the same way.

use super::ScriptedServer;
use super::test_client::{after_tls, header, plain, said, server_header, write};
use crate::profile::{ServerProfile, SessionFeature};

const STARTTLS: &str = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const BIND: &str = "<iq id='b1' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
    <resource>desk</resource></bind></iq>";
const ROSTER_GET: &str = "<iq id='r1' type='get'><query xmlns='jabber:iq:roster'/></iq>";
const PRESENCE: &str = "<presence><show>away</show></presence>";

fn auth_plain() -> String {
    format!(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{}</auth>",
        plain()
    )
}

/// A whole PLAIN login written as `writes`, each one write of the client; everything the
/// server said, in order.
fn login(writes: &[&[&str]]) -> (ScriptedServer, String) {
    let mut server = ScriptedServer::new(ServerProfile::prosody_like());
    let mut out = String::new();
    for write in writes {
        server.handle_input(write.concat().as_bytes());
        out.push_str(&said(&mut server));
        if server.phase == super::ServerPhase::TlsPending {
            server.tls_done();
        }
    }
    (server, out)
}

#[test]
fn a_pipelining_client_is_served_exactly_as_a_waiting_one() {
    let (h, a, b, r, p) = (header(None), auth_plain(), BIND, ROSTER_GET, PRESENCE);
    let (waited, waited_out) = login(&[&[&h], &[STARTTLS], &[&h], &[&a], &[&h], &[b], &[r], &[p]]);
    // Header and <starttls/> in one write; <auth/> with the header after TLS; header,
    // bind, roster get and presence in one write after <success/>.
    let (piped, piped_out) = login(&[&[&h, STARTTLS], &[&h, &a], &[&h, b, r, p]]);
    assert_eq!(piped_out, waited_out);
    assert_eq!(piped.received, waited.received);
    assert_eq!(piped.bound.as_deref(), Some("alice@localhost/desk"));
    assert_eq!(piped.roster_gets, [None]);
    assert_eq!(piped.headers, 3);
    assert!(piped.violations.is_empty(), "{:?}", piped.violations);
    assert!(
        piped_out.ends_with("subscription='both'/></query></iq>"),
        "{piped_out}"
    );
}

/// `<auth/>` pipelined before STARTTLS (credentials in the clear) is refused.
#[test]
fn authentication_before_the_required_starttls_is_encryption_required() {
    let (server, out) = login(&[&[&header(None), &auth_plain()]]);
    assert!(out.ends_with(
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><encryption-required/></failure>"
    ));
    assert_eq!(server.phase, super::ServerPhase::Plain);
    assert_eq!(server.violations.len(), 1);
}

#[test]
fn bytes_after_starttls_in_the_same_write_never_reach_the_stream() {
    let h = header(None);
    let (server, out) = login(&[&[&h, STARTTLS, &auth_plain()]]);
    assert!(
        out.ends_with("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        "{out}"
    );
    assert_eq!(server.violations.len(), 1, "{:?}", server.violations);
    assert!(server.violations[0].contains("after <starttls/>"));
    assert_eq!(
        server.received_named("auth").len(),
        0,
        "dropped, not parsed"
    );
}

#[test]
fn a_restart_written_before_success_could_be_seen_ends_the_stream() {
    let h = header(None);
    let (server, out) = login(&[&[&h], &[STARTTLS], &[&h], &[&auth_plain(), &h, BIND]]);
    assert!(out.ends_with(
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'></success>\
         <stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error></stream:stream>"
    ));
    assert_eq!(server.stream_error.as_deref(), Some("not-well-formed"));
    assert!(server.violations[0].contains("before it could see <success/>"));
    assert_eq!(server.bound, None);
}

#[test]
fn a_stanza_before_authentication_ends_the_stream_with_not_authorized() {
    let mut server = after_tls(ServerProfile::prosody_like());
    let out = write(
        &mut server,
        &[header(None).as_str(), ROSTER_GET, PRESENCE].concat(),
    );
    assert!(out.ends_with(
        "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error></stream:stream>"
    ));
    assert_eq!(server.phase, super::ServerPhase::Closed);
    assert_eq!(
        server.received_named("presence").len(),
        0,
        "nothing after the error"
    );
    assert!(server.roster_gets.is_empty());
}

/// A server that refuses the bind: the roster get and presence pipelined behind it are
/// refused too, as Prosody refuses stanzas from an unbound client.
#[test]
fn a_refused_bind_refuses_the_stanzas_pipelined_behind_it() {
    let profile = ServerProfile {
        bind_error: Some("not-allowed".into()),
        ..ServerProfile::prosody_like()
    };
    let mut server = after_tls(profile);
    write(&mut server, &[header(None), auth_plain()].concat());
    let out = write(
        &mut server,
        &[header(None).as_str(), BIND, ROSTER_GET, PRESENCE].concat(),
    );
    let features_end = out.find("</stream:features>").unwrap() + "</stream:features>".len();
    assert_eq!(
        &out[features_end..],
        "<iq type='error' id='b1'><error type='cancel'><not-allowed \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>\
         <iq type='error' id='r1'><error type='auth'><not-authorized \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>\
         <presence type='error'><error type='auth'><not-authorized \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
    );
    assert_eq!(server.bound, None);
    assert!(server.violations.is_empty(), "refusals, not violations");
}

/// The client pipelined `<auth/>` with a mechanism it remembered, which the server no
/// longer offers: `invalid-mechanism`, and the stream stays open for another try.
#[test]
fn a_pipelined_mechanism_the_server_does_not_offer_is_an_invalid_mechanism() {
    let mut server = after_tls(ServerProfile::prosody_like());
    let cached = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>\
        biwsbj1hbGljZSxyPWFiYw==</auth>";
    let out = write(&mut server, &[header(None).as_str(), cached].concat());
    assert!(out.ends_with(
        "</stream:features><failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <invalid-mechanism/></failure>"
    ));
    let out = write(&mut server, &auth_plain());
    assert_eq!(
        out,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'></success>"
    );
}

#[test]
fn an_auth_to_a_server_with_only_sasl2_is_an_unsupported_stanza_type() {
    let profile = ServerProfile {
        legacy_sasl: false,
        ..ServerProfile::fast_login()
    };
    let mut server = after_tls(profile);
    let out = write(&mut server, &[header(None), auth_plain()].concat());
    assert!(!out.contains("<mechanisms"), "{out}");
    assert!(out.contains("<authentication xmlns='urn:xmpp:sasl:2'>"));
    assert!(out.ends_with(
        "<stream:error><unsupported-stanza-type xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error></stream:stream>"
    ));
}

/// An old server that requires the RFC 3921 session refuses stanzas pipelined before it.
#[test]
fn a_required_session_refuses_stanzas_before_it() {
    let profile = ServerProfile {
        session: SessionFeature::Required,
        ..ServerProfile::prosody_like()
    };
    let mut server = after_tls(profile);
    write(&mut server, &[header(None), auth_plain()].concat());
    let session =
        "<iq id='s1' type='set'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>";
    let out = write(
        &mut server,
        &[header(None).as_str(), BIND, ROSTER_GET, session, ROSTER_GET].concat(),
    );
    let after_bind = &out[out.find("</bind></iq>").unwrap() + "</bind></iq>".len()..];
    assert!(after_bind.starts_with("<iq type='error' id='r1'><error type='auth'><not-authorized"));
    assert!(after_bind.contains("<iq type='result' id='s1'/><iq type='result' id='r1'>"));
    assert_eq!(
        server.roster_gets.len(),
        1,
        "the refused one never reached the roster"
    );
}

#[test]
fn unparsable_client_bytes_end_the_stream_with_not_well_formed() {
    let mut server = after_tls(ServerProfile::prosody_like());
    let out = write(&mut server, &[header(None).as_str(), "<a></b>"].concat());
    assert!(out.ends_with(
        "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error></stream:stream>"
    ));
    assert!(server.parse_error.is_some());
}

/// The header's `from` is answered with `to` (XEP-0388 section 2.1); without it, none.
#[test]
fn the_server_header_answers_from_with_to() {
    let mut server = after_tls(ServerProfile::prosody_like());
    let out = write(&mut server, &header(Some("alice@localhost")));
    assert!(
        out.starts_with(&server_header(1, Some("alice@localhost"))),
        "{out}"
    );
    let mut server = after_tls(ServerProfile::prosody_like());
    let out = write(&mut server, &header(None));
    assert!(out.starts_with(&server_header(1, None)), "{out}");
}

/// A close that crossed the server's `<success/>` (or `<proceed/>`) on the wire lands on a
/// stream the server already restarted (or handed to TLS): it is a close all the same.
#[test]
fn a_close_crossing_a_restart_is_still_a_close() {
    let h = header(None);
    let (server, out) = login(&[
        &[&h],
        &[STARTTLS],
        &[&h],
        &[&auth_plain()],
        &["</stream:stream>"],
    ]);
    assert!(out.ends_with("</success></stream:stream>"), "{out}");
    assert!(server.client_closed && server.violations.is_empty());

    let mut server = ScriptedServer::new(ServerProfile::prosody_like());
    write(&mut server, &[h.as_str(), STARTTLS].concat());
    let out = write(&mut server, "</stream:stream>");
    assert_eq!(out, "</stream:stream>");
    assert!(server.client_closed && server.violations.is_empty());
}
