//! SASL2 and Bind 2 against the server alone, the client's messages written from
//! XEP-0388's and XEP-0386's examples.

use sha2::{Digest, Sha256};

use super::test_client::{UA, after_tls, b64, header, hmac256, plain, text_of, write};
use super::{ScriptedServer, ServerPhase, bind2_resource};
use crate::profile::ServerProfile;

const ROSTER_GET: &str = "<iq id='r1' type='get'><query xmlns='jabber:iq:roster'/></iq>";
const PRESENCE: &str = "<presence/>";
const USER_AGENT: &str = "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'>\
    <software>AwesomeXMPP</software><device>Kiva's Phone</device></user-agent>";
const BIND2: &str = "<bind xmlns='urn:xmpp:bind:0'><tag>AwesomeXMPP</tag></bind>";

fn authenticate(mechanism: &str, initial: &str, extra: &str) -> String {
    format!(
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='{mechanism}'>\
         <initial-response>{initial}</initial-response>{extra}</authenticate>"
    )
}

/// Past TLS, the header (naming the account) answered.
fn sasl2_server(profile: ServerProfile) -> (ScriptedServer, String) {
    let mut server = after_tls(profile);
    let out = write(&mut server, &header(Some("alice@localhost")));
    (server, out)
}

fn features_of(out: &str) -> &str {
    let start = out.find("<stream:features>").unwrap();
    &out[start..]
}

#[test]
fn sasl2_is_offered_with_bind2_and_fast_inline_next_to_rfc6120_sasl() {
    let (_, out) = sasl2_server(ServerProfile::fast_login());
    assert_eq!(
        features_of(&out),
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism>\
         <mechanism>PLAIN</mechanism></mechanisms>\
         <authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism>\
         <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism><inline>\
         <bind xmlns='urn:xmpp:bind:0'/><fast xmlns='urn:xmpp:fast:0'>\
         <mechanism>HT-SHA-256-NONE</mechanism></fast></inline></authentication>\
         </stream:features>"
    );
}

#[test]
fn fast_is_not_offered_to_a_stream_that_does_not_name_the_account() {
    let mut server = after_tls(ServerProfile::fast_login());
    let out = write(&mut server, &header(None));
    assert!(!out.contains("urn:xmpp:fast:0"), "{out}");
    assert!(out.contains("<inline><bind xmlns='urn:xmpp:bind:0'/></inline>"));
}

/// XEP-0388's request with Bind 2 inline: one round trip to a bound session, no restart;
/// the features follow the success, and stanzas are accepted at once.
#[test]
fn plain_with_bind2_binds_in_the_success_and_takes_stanzas_at_once() {
    let (mut server, _) = sasl2_server(ServerProfile::fast_login());
    let extra = format!("{USER_AGENT}{BIND2}");
    let out = write(&mut server, &authenticate("PLAIN", &plain(), &extra));
    let resource = bind2_resource(Some("AwesomeXMPP"), Some(UA));
    assert!(resource.starts_with("AwesomeXMPP/") && resource.len() == "AwesomeXMPP/".len() + 8);
    assert_eq!(
        out,
        format!(
            "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>alice@localhost/\
             {resource}</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>\
             <stream:features><ver xmlns='urn:xmpp:features:rosterver'/></stream:features>"
        )
    );
    assert_eq!(server.phase, ServerPhase::Authenticated);
    let out = write(&mut server, &[ROSTER_GET, PRESENCE].concat());
    assert!(out.starts_with("<iq type='result' id='r1'><query"), "{out}");
    assert_eq!(server.headers, 1, "no stream restart");
    assert!(server.violations.is_empty(), "{:?}", server.violations);
    assert_eq!(server.auth_log, [("PLAIN".to_string(), String::new())]);
}

/// The same, with the roster get and presence in the same write as `<authenticate/>`:
/// served in order, after the success.
#[test]
fn stanzas_pipelined_behind_a_successful_authenticate_are_served_after_it() {
    let (mut server, _) = sasl2_server(ServerProfile::fast_login());
    let extra = format!("{USER_AGENT}{BIND2}");
    let all = [
        authenticate("PLAIN", &plain(), &extra).as_str(),
        ROSTER_GET,
        PRESENCE,
    ]
    .concat();
    let out = write(&mut server, &all);
    assert!(out.contains("</success><stream:features>"));
    assert!(out.ends_with("subscription='both'/></query></iq>"), "{out}");
    assert!(server.violations.is_empty());
}

/// Without `<bind/>` in the request: authenticated as the bare JID, and RFC 6120 binding
/// follows on the same stream.
#[test]
fn without_bind2_the_client_binds_on_the_same_stream() {
    let (mut server, _) = sasl2_server(ServerProfile::fast_login());
    let out = write(&mut server, &authenticate("PLAIN", &plain(), USER_AGENT));
    assert!(out.starts_with(
        "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>alice@localhost\
         </authorization-identifier></success><stream:features>\
         <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    ));
    let bind = "<iq id='b1' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
        <resource>desk</resource></bind></iq>";
    let out = write(&mut server, &[bind, ROSTER_GET].concat());
    assert!(out.starts_with("<iq type='result' id='b1'>"), "{out}");
    assert!(out.contains("<iq type='result' id='r1'>"));
    assert_eq!(server.bound.as_deref(), Some("alice@localhost/desk"));
    assert_eq!(server.headers, 1);
}

#[test]
fn without_features_after_success_nothing_follows_it() {
    let profile = ServerProfile {
        features_after_sasl2_success: false,
        ..ServerProfile::fast_login()
    };
    let (mut server, _) = sasl2_server(profile);
    let out = write(&mut server, &authenticate("PLAIN", &plain(), BIND2));
    assert!(
        out.ends_with("<bound xmlns='urn:xmpp:bind:0'/></success>"),
        "{out}"
    );
}

/// A new stream header after a SASL2 success is a restart there is not: the stream breaks.
#[test]
fn there_is_no_stream_restart_after_sasl2() {
    let (mut server, _) = sasl2_server(ServerProfile::fast_login());
    write(&mut server, &authenticate("PLAIN", &plain(), BIND2));
    let out = write(&mut server, &header(Some("alice@localhost")));
    assert!(out.starts_with("<stream:error><not-well-formed"), "{out}");
    assert!(server.parse_error.is_some());
}

#[test]
fn a_failure_names_the_condition_and_leaves_the_stream_as_it_was() {
    let (mut server, _) = sasl2_server(ServerProfile::fast_login());
    let wrong = b64("\0alice\0queen of hearts");
    let out = write(&mut server, &authenticate("PLAIN", &wrong, BIND2));
    assert_eq!(
        out,
        "<failure xmlns='urn:xmpp:sasl:2'><not-authorized \
         xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>"
    );
    assert_eq!(server.bound, None, "inline requests die with the exchange");
    assert_eq!(server.phase, ServerPhase::Tls);
    let out = write(&mut server, &authenticate("X-UNKNOWN", "", ""));
    assert!(out.contains("<invalid-mechanism xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
    let out = write(&mut server, &authenticate("PLAIN", &plain(), BIND2));
    assert!(
        out.starts_with("<success xmlns='urn:xmpp:sasl:2'>"),
        "a retry is fine"
    );
}

#[test]
fn a_prosody_like_failure_has_its_condition_in_the_sasl2_namespace() {
    let profile = ServerProfile {
        sasl2_failure_like_prosody: true,
        ..ServerProfile::fast_login()
    };
    let (mut server, _) = sasl2_server(profile);
    let out = write(&mut server, &authenticate("PLAIN", &b64("\0alice\0no"), ""));
    assert_eq!(
        out,
        "<failure xmlns='urn:xmpp:sasl:2'><not-authorized/></failure>"
    );
}

#[test]
fn an_authenticate_to_a_server_without_sasl2_is_an_unsupported_stanza_type() {
    let (mut server, _) = sasl2_server(ServerProfile::prosody_like());
    let out = write(&mut server, &authenticate("PLAIN", &plain(), ""));
    assert!(
        out.starts_with("<stream:error><unsupported-stanza-type"),
        "{out}"
    );
}

// ----- SCRAM in SASL2, with an independent client computation -----

fn hi(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut u = hmac256(password, &[salt, &1u32.to_be_bytes()]);
    let mut out = u.clone();
    for _ in 1..iterations {
        u = hmac256(password, &[&u]);
        out.iter_mut().zip(&u).for_each(|(o, b)| *o ^= b);
    }
    out
}

/// XEP-0388's SCRAM exchange over `<challenge/>` and `<response/>`: the server checks the
/// proof and proves itself with `v=` in `<additional-data/>`.
#[test]
fn scram_sha_256_over_sasl2_ends_with_v_in_additional_data() {
    let profile = ServerProfile {
        iterations: 4096,
        ..ServerProfile::fast_login()
    };
    let salt = profile.salt.clone();
    let (mut server, _) = sasl2_server(profile);
    let first_bare = "n=alice,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6";
    let out = write(
        &mut server,
        &authenticate("SCRAM-SHA-256", &b64(format!("n,,{first_bare}")), BIND2),
    );
    let challenge = text_of(&out, "challenge").expect(&out);
    assert!(out.starts_with("<challenge xmlns='urn:xmpp:sasl:2'>"));
    let server_first = String::from_utf8(base64_decode(&challenge)).unwrap();
    let nonce = server_first[2..server_first.find(',').unwrap()].to_string();
    assert!(nonce.starts_with("12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6"));

    let final_bare = format!("c=biws,r={nonce}");
    let auth_message = format!("{first_bare},{server_first},{final_bare}");
    let salted = hi(b"wonderland", &salt, 4096);
    let client_key = hmac256(&salted, &[b"Client Key"]);
    let stored_key = Sha256::digest(&client_key).to_vec();
    let signature = hmac256(&stored_key, &[auth_message.as_bytes()]);
    let proof: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(k, s)| k ^ s)
        .collect();
    let response = b64(format!("{final_bare},p={}", b64(&proof)));
    let out = write(
        &mut server,
        &format!("<response xmlns='urn:xmpp:sasl:2'>{response}</response>"),
    );
    let server_key = hmac256(&salted, &[b"Server Key"]);
    let v = b64(hmac256(&server_key, &[auth_message.as_bytes()]));
    assert!(
        out.starts_with(&format!(
            "<success xmlns='urn:xmpp:sasl:2'><additional-data>{}</additional-data>\
             <authorization-identifier>alice@localhost/AwesomeXMPP/",
            b64(format!("v={v}"))
        )),
        "{out}"
    );
    assert_eq!(
        server.auth_log,
        [("SCRAM-SHA-256".to_string(), "n,,".to_string())]
    );
}

#[test]
fn a_stanza_during_a_sasl2_exchange_ends_the_stream() {
    let (mut server, _) = sasl2_server(ServerProfile::fast_login());
    let first = b64("n,,n=alice,r=abc");
    write(&mut server, &authenticate("SCRAM-SHA-1", &first, BIND2));
    let out = write(&mut server, PRESENCE);
    assert!(out.starts_with("<stream:error><not-authorized"), "{out}");
    assert_eq!(server.violations.len(), 1);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap()
}
