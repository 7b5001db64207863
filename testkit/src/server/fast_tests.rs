//! FAST against the server alone, the client's messages written from XEP-0484's examples
//! and its HMACs computed here, with `hmac` and `sha2`, from draft-schmaus-kitten-sasl-ht.

use super::ScriptedServer;
use super::fast::datetime;
use super::test_client::{UA, after_tls, attr_of, b64, header, hmac256, plain, text_of, write};
use crate::profile::{CLOCK_START, END_POINT, FastRotation, ScramTamper, ServerProfile};

const USER_AGENT: &str = "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'>\
    <software>AwesomeXMPP</software><device>Kiva's Phone</device></user-agent>";
const BIND2: &str = "<bind xmlns='urn:xmpp:bind:0'><tag>AwesomeXMPP</tag></bind>";
const NONE: &str = "HT-SHA-256-NONE";
const DAY: u64 = 86_400;

/// A new connection, past TLS, its header naming the account.
fn connect(profile: ServerProfile) -> ScriptedServer {
    let mut server = after_tls(profile);
    write(&mut server, &header(Some("alice@localhost")));
    server
}

fn request_token(mechanism: &str) -> String {
    format!("<request-token xmlns='urn:xmpp:fast:0' mechanism='{mechanism}'/>")
}

/// XEP-0484 section 4.2: a password login asking for a token. The server and the token.
fn first_login(profile: ServerProfile) -> (ScriptedServer, String) {
    let mut server = connect(profile);
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>{}\
             </initial-response>{USER_AGENT}{BIND2}{}</authenticate>",
            plain(),
            request_token(NONE)
        ),
    );
    let token = attr_of(&out, "token").expect(&out);
    (server, token)
}

/// `authcid NUL HMAC-SHA-256(token, "Initiator" || cb-data)`, base64.
fn initiator(token: &str, cb_data: &[u8]) -> String {
    let mut msg = b"alice\0".to_vec();
    msg.extend(hmac256(token.as_bytes(), &[b"Initiator", cb_data]));
    b64(msg)
}

/// XEP-0484 section 4.3: a login with a token, on a new connection to a server that
/// remembers `profile`'s tokens. `fast` is the `<fast/>` element.
fn fast_login(
    profile: ServerProfile,
    mechanism: &str,
    initial: &str,
    fast: &str,
) -> (ScriptedServer, String) {
    let mut server = connect(profile);
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='{mechanism}'><initial-response>\
             {initial}</initial-response>{USER_AGENT}{BIND2}{fast}</authenticate>"
        ),
    );
    (server, out)
}

fn fast() -> &'static str {
    "<fast xmlns='urn:xmpp:fast:0'/>"
}

fn failure(condition: &str) -> String {
    format!(
        "<failure xmlns='urn:xmpp:sasl:2'><{condition} \
         xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>"
    )
}

#[test]
fn a_password_login_that_asks_gets_a_token_for_the_mechanism_it_named() {
    let (server, token) = first_login(ServerProfile::fast_login());
    let success = &server.sasl2_outcomes[0];
    assert!(
        success.ends_with(&format!(
            "<bound xmlns='urn:xmpp:bind:0'/><token xmlns='urn:xmpp:fast:0' \
             expiry='2026-01-22T00:00:00Z' token='{token}'/></success>"
        )),
        "{success}"
    );
    assert!(
        token.starts_with("secret-token:fast-") && token.len() > 30,
        "{token}"
    );
    let slots = &server.profile.fast_tokens[UA];
    let issued = slots.new.as_ref().unwrap();
    assert_eq!(
        (issued.secret.as_str(), issued.mechanism.as_str()),
        (token.as_str(), NONE)
    );
    assert_eq!(slots.current, None, "not used yet");
}

/// The one-round-trip login: `HT-SHA-256-NONE` with the token, the responder's HMAC in
/// `<additional-data/>`, bound at once. The token moves to the `current` slot.
#[test]
fn a_token_logs_in_in_one_round_trip_and_the_server_proves_it_knows_it_too() {
    let (first, token) = first_login(ServerProfile::fast_login());
    let (server, out) = fast_login(first.profile, NONE, &initiator(&token, b""), fast());
    let responder = b64(hmac256(token.as_bytes(), &[b"Responder"]));
    assert!(
        out.starts_with(&format!(
            "<success xmlns='urn:xmpp:sasl:2'><additional-data>{responder}</additional-data>\
             <authorization-identifier>alice@localhost/AwesomeXMPP/"
        )),
        "{out}"
    );
    assert!(out.contains("<bound xmlns='urn:xmpp:bind:0'/></success><stream:features>"));
    assert!(!out.contains("<token"), "no rotation by default");
    let slots = &server.profile.fast_tokens[UA];
    assert_eq!(slots.current.as_ref().unwrap().secret, token);
    assert_eq!(slots.new, None);
    assert_eq!(server.auth_log, [(NONE.to_string(), String::new())]);
    assert!(server.violations.is_empty(), "{:?}", server.violations);
}

#[test]
fn a_wrong_or_unknown_token_is_not_authorized() {
    let (first, token) = first_login(ServerProfile::fast_login());
    let profile = first.profile;
    let (_, out) = fast_login(profile.clone(), NONE, &initiator("guessed", b""), fast());
    assert_eq!(out, failure("not-authorized"));
    // The right token from another installation.
    let mut server = connect(profile.clone());
    let other = "<user-agent id='00000000-0000-4000-8000-000000000000'/>";
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='{NONE}'><initial-response>{}\
             </initial-response>{other}{}</authenticate>",
            initiator(&token, b""),
            fast()
        ),
    );
    assert_eq!(out, failure("not-authorized"));
    // The right token for another account.
    let mut msg = b"bob\0".to_vec();
    msg.extend(hmac256(token.as_bytes(), &[b"Initiator"]));
    let (_, out) = fast_login(profile.clone(), NONE, &b64(msg), fast());
    assert_eq!(out, failure("not-authorized"));
    // No NUL at all.
    let (_, out) = fast_login(profile, NONE, &b64("alice"), fast());
    assert_eq!(out, failure("malformed-request"));
}

/// Section 4.3: a token is bound to the mechanism it was requested for.
#[test]
fn a_token_is_refused_with_another_mechanism() {
    let profile = ServerProfile {
        fast_mechanisms: vec!["HT-SHA-256-ENDP", NONE],
        ..ServerProfile::fast_login()
    };
    let (first, token) = first_login(profile);
    let (_, out) = fast_login(
        first.profile,
        "HT-SHA-256-ENDP",
        &initiator(&token, END_POINT),
        fast(),
    );
    assert_eq!(out, failure("not-authorized"));
}

/// `-ENDP` binds the HMACs to the `tls-server-end-point` data.
#[test]
fn an_endp_token_hashes_the_channel_binding_data() {
    let profile = ServerProfile {
        fast_mechanisms: vec!["HT-SHA-256-ENDP"],
        cb_accepted: vec!["tls-server-end-point"],
        ..ServerProfile::fast_login()
    };
    let mut server = connect(profile);
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>{}\
             </initial-response>{USER_AGENT}{}</authenticate>",
            plain(),
            request_token("HT-SHA-256-ENDP")
        ),
    );
    let token = attr_of(&out, "token").unwrap();
    let (_, out) = fast_login(
        server.profile.clone(),
        "HT-SHA-256-ENDP",
        &initiator(&token, b""),
        fast(),
    );
    assert_eq!(
        out,
        failure("not-authorized"),
        "the HMAC without the binding data"
    );
    let (_, out) = fast_login(
        server.profile,
        "HT-SHA-256-ENDP",
        &initiator(&token, END_POINT),
        fast(),
    );
    let responder = b64(hmac256(token.as_bytes(), &[b"Responder", END_POINT]));
    assert_eq!(text_of(&out, "additional-data"), Some(responder));
}

/// Section 5.2: a token the server no longer trusts fails with `credentials-expired`; it
/// is gone, and a password login on the same stream still works.
#[test]
fn an_expired_token_is_credentials_expired_and_a_password_still_works() {
    let (first, token) = first_login(ServerProfile::fast_login());
    let mut profile = first.profile;
    profile.clock += 21 * DAY;
    let (mut server, out) = fast_login(profile, NONE, &initiator(&token, b""), fast());
    assert_eq!(out, failure("credentials-expired"));
    assert_eq!(server.profile.fast_tokens[UA].new, None);
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>{}\
             </initial-response>{USER_AGENT}{BIND2}</authenticate>",
            plain()
        ),
    );
    assert!(
        out.starts_with("<success xmlns='urn:xmpp:sasl:2'>"),
        "{out}"
    );
}

/// Section 4.4 with rotation at every login: a new token comes with the success; the old
/// one stays good until the new one is used, then only the new one is.
#[test]
fn rotation_hands_a_new_token_and_keeps_the_old_until_the_new_is_used() {
    let profile = ServerProfile {
        fast_rotation: FastRotation::EveryLogin,
        ..ServerProfile::fast_login()
    };
    let (first, old) = first_login(profile);
    let (second, out) = fast_login(first.profile, NONE, &initiator(&old, b""), fast());
    let new = attr_of(&out, "token").expect(&out);
    assert_ne!(new, old);
    // The client lost that success: the old token still works (and rotates again).
    let (third, _) = fast_login(second.profile.clone(), NONE, &initiator(&old, b""), fast());
    assert_eq!(third.sasl2_outcomes.len(), 1);
    assert!(third.sasl2_outcomes[0].starts_with("<success"));
    // Using the newest token retires the older ones.
    let newest = attr_of(&third.sasl2_outcomes[0], "token").unwrap();
    let (fourth, out) = fast_login(third.profile, NONE, &initiator(&newest, b""), fast());
    assert!(out.starts_with("<success"), "{out}");
    let (_, out) = fast_login(fourth.profile, NONE, &initiator(&old, b""), fast());
    assert_eq!(out, failure("not-authorized"));
}

#[test]
fn rotation_by_age_waits_for_the_age() {
    let profile = ServerProfile {
        fast_rotation: FastRotation::OlderThan(7 * DAY),
        ..ServerProfile::fast_login()
    };
    let (first, token) = first_login(profile);
    let mut profile = first.profile;
    profile.clock += 7 * DAY - 1;
    let (server, out) = fast_login(profile, NONE, &initiator(&token, b""), fast());
    assert!(!out.contains("<token"), "{out}");
    let mut profile = server.profile;
    profile.clock += 1;
    let (_, out) = fast_login(profile, NONE, &initiator(&token, b""), fast());
    let expiry = attr_of(&out, "expiry").expect(&out);
    assert_eq!(expiry, datetime(CLOCK_START + 7 * DAY + 21 * DAY));
}

/// Section 4.5: `invalidate='true'` logs in, then the token is gone, and no new one comes
/// unless asked for (even when rotation is due).
#[test]
fn invalidation_logs_in_once_more_and_no_token_follows_unless_asked() {
    let profile = ServerProfile {
        fast_rotation: FastRotation::EveryLogin,
        ..ServerProfile::fast_login()
    };
    let (first, token) = first_login(profile);
    let invalidate = "<fast xmlns='urn:xmpp:fast:0' count='1' invalidate='true'/>";
    let (server, out) = fast_login(first.profile, NONE, &initiator(&token, b""), invalidate);
    assert!(out.starts_with("<success"), "{out}");
    assert!(!out.contains("<token"), "{out}");
    let (again, out) = fast_login(
        server.profile.clone(),
        NONE,
        &initiator(&token, b""),
        fast(),
    );
    assert_eq!(out, failure("not-authorized"));
    assert!(!again.profile.fast_tokens.contains_key(UA));
    // Log out and ask for a fresh token in the same request.
    let (first, token) = first_login(server.profile);
    let both = format!("{invalidate}{}", request_token(NONE));
    let (_, out) = fast_login(first.profile, NONE, &initiator(&token, b""), &both);
    assert!(attr_of(&out, "token").is_some_and(|t| t != token), "{out}");
}

#[test]
fn fast_without_a_user_agent_or_without_fast_is_malformed() {
    let (first, token) = first_login(ServerProfile::fast_login());
    let mut server = connect(first.profile.clone());
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='{NONE}'><initial-response>{}\
             </initial-response>{}</authenticate>",
            initiator(&token, b""),
            fast()
        ),
    );
    assert!(
        out.starts_with(&failure("malformed-request").replace("</failure>", "")),
        "{out}"
    );
    let (_, out) = fast_login(first.profile.clone(), NONE, &initiator(&token, b""), "");
    assert!(out.contains("<malformed-request"), "{out}");
    // <fast/> with a password mechanism.
    let (_, out) = fast_login(first.profile, "PLAIN", &plain(), fast());
    assert_eq!(out, failure("invalid-mechanism"));
}

/// A stream that did not name the account was not offered FAST: a token mechanism there
/// is a mechanism never announced.
#[test]
fn a_token_on_a_stream_without_from_is_an_invalid_mechanism() {
    let (first, token) = first_login(ServerProfile::fast_login());
    let mut server = after_tls(first.profile);
    write(&mut server, &header(None));
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='{NONE}'><initial-response>{}\
             </initial-response>{USER_AGENT}{}</authenticate>",
            initiator(&token, b""),
            fast()
        ),
    );
    assert_eq!(out, failure("invalid-mechanism"));
}

/// The server's proof can be made to lie, to test that the client checks it.
#[test]
fn a_tampered_responder_is_bent() {
    let (first, token) = first_login(ServerProfile::fast_login());
    let mut profile = first.profile;
    profile.scram_tamper = ScramTamper::WrongSignature;
    let (_, out) = fast_login(profile.clone(), NONE, &initiator(&token, b""), fast());
    let honest = b64(hmac256(token.as_bytes(), &[b"Responder"]));
    let sent = text_of(&out, "additional-data").unwrap();
    assert_ne!(sent, honest);
    profile.scram_tamper = ScramTamper::OmitServerFinal;
    let (_, out) = fast_login(profile, NONE, &initiator(&token, b""), fast());
    assert!(!out.contains("<additional-data"), "{out}");
}

#[test]
fn a_token_request_for_a_mechanism_not_offered_gets_nothing() {
    let mut server = connect(ServerProfile::fast_login());
    let out = write(
        &mut server,
        &format!(
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>{}\
             </initial-response>{USER_AGENT}{}</authenticate>",
            plain(),
            request_token("HT-SHA-512-NONE")
        ),
    );
    assert!(!out.contains("<token"), "{out}");
    assert_eq!(server.violations.len(), 1);
}

#[test]
fn expiry_is_an_xep_0082_datetime() {
    assert_eq!(datetime(0), "1970-01-01T00:00:00Z");
    assert_eq!(datetime(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(datetime(CLOCK_START), "2026-01-01T00:00:00Z");
    assert_eq!(
        datetime(CLOCK_START + 21 * DAY + 3723),
        "2026-01-22T01:02:03Z"
    );
    assert_eq!(datetime(4_107_542_399), "2100-02-28T23:59:59Z");
}
