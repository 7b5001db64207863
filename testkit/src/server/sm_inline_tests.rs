//! Stream management inline with SASL2 and Bind 2 (XEP-0198 section 9, XEP-0386 section
//! 3), against the server alone: `<enable/>` inside `<bind/>`, `<resume/>` inside
//! `<authenticate/>`.

use super::ScriptedServer;
use super::sm_tests::{R, a, message, server_a};
use super::test_client::{after_tls, header, plain, write};
use crate::profile::ServerProfile;

const USER_AGENT: &str = "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'>\
    <software>AwesomeXMPP</software></user-agent>";

/// Past TLS, the header naming the account answered; the features.
fn connect(profile: ServerProfile) -> (ScriptedServer, String) {
    let mut server = after_tls(profile);
    let out = write(&mut server, &header(Some("alice@localhost")));
    (server, out)
}

/// A SASL2 PLAIN `<authenticate/>` with `extra` inline.
fn authenticate(extra: &str) -> String {
    format!(
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>{}\
         </initial-response>{USER_AGENT}{extra}</authenticate>",
        plain()
    )
}

fn bind_enabling() -> &'static str {
    "<bind xmlns='urn:xmpp:bind:0'><tag>AwesomeXMPP</tag>\
     <enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>"
}

/// A first SASL2 login that enables SM inline, the client's `m1`, two stanzas to the client
/// of which it acknowledged one, then a cut: the SM-ID and the profile.
fn first_login() -> (String, ServerProfile) {
    let (mut server, _) = connect(ServerProfile::fast_login_with_sm());
    write(&mut server, &authenticate(bind_enabling()));
    let id = server.sm_id().expect("enabled inline").to_string();
    write(&mut server, &message("m1"));
    server.send_stanza("<message id='s1'/>");
    server.send_stanza("<message id='s2'/>");
    write(&mut server, &a(1));
    server.connection_lost();
    (id, server.profile)
}

#[test]
fn sasl2_offers_sm_inline_in_bind2_and_resumption_inline() {
    let (_, out) = connect(ServerProfile::fast_login_with_sm());
    assert!(
        out.contains(
            "<inline><bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:sm:3'/>\
             </inline></bind><sm xmlns='urn:xmpp:sm:3'/><fast xmlns='urn:xmpp:fast:0'>"
        ),
        "{out}"
    );
    let without = ServerProfile {
        sm: false,
        ..ServerProfile::fast_login_with_sm()
    };
    let (_, out) = connect(without);
    assert!(!out.contains("urn:xmpp:sm:3"), "{out}");
}

/// XEP-0386 section 3.2: `<enabled/>` comes inside `<bound/>`; the features that follow
/// no longer offer `<sm/>`, and the stanzas after the success count.
#[test]
fn enable_inside_bind_is_answered_inside_bound() {
    let (mut server, _) = connect(ServerProfile::fast_login_with_sm());
    let out = write(&mut server, &authenticate(bind_enabling()));
    let id = server.sm_id().expect("enabled").to_string();
    let jid = server.bound.clone().unwrap();
    assert_eq!(
        out,
        format!(
            "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>{jid}\
             </authorization-identifier><bound xmlns='urn:xmpp:bind:0'><enabled \
             xmlns='urn:xmpp:sm:3' id='{id}' resume='true' max='300'/></bound></success>\
             <stream:features><ver xmlns='urn:xmpp:features:rosterver'/></stream:features>"
        )
    );
    assert_eq!(
        write(&mut server, &[message("m1").as_str(), R].concat()),
        server_a(1)
    );
    assert!(server.violations.is_empty(), "{:?}", server.violations);
}

/// XEP-0198 section 9.1: bound, but SM refused, `<failed/>` inside `<bound/>`.
#[test]
fn an_inline_enable_that_fails_is_failed_inside_bound() {
    let profile = ServerProfile {
        sm_enable_error: Some("internal-server-error".into()),
        ..ServerProfile::fast_login_with_sm()
    };
    let (mut server, _) = connect(profile);
    let out = write(&mut server, &authenticate(bind_enabling()));
    assert!(
        out.contains(
            "<bound xmlns='urn:xmpp:bind:0'><failed xmlns='urn:xmpp:sm:3'>\
             <internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>\
             </bound>"
        ),
        "{out}"
    );
    assert!(
        out.contains("<stream:features><sm xmlns='urn:xmpp:sm:3'/>"),
        "{out}"
    );
}

/// An `<enable/>` inside `<bind/>` that Bind 2 did not offer is not answered (a server
/// that does not know it ignores it), and noted.
#[test]
fn an_inline_enable_not_offered_is_ignored_and_noted() {
    let profile = ServerProfile {
        sm_inline_bind2: false,
        ..ServerProfile::fast_login_with_sm()
    };
    let (mut server, _) = connect(profile);
    let out = write(&mut server, &authenticate(bind_enabling()));
    assert!(out.contains("<bound xmlns='urn:xmpp:bind:0'/>"), "{out}");
    assert_eq!(server.sm_id(), None);
    assert_eq!(server.violations.len(), 1);
}

/// XEP-0198 section 9.2: `<resumed/>` inside `<success/>`, the bind ignored, no
/// features; then what the client had not acknowledged.
#[test]
fn resume_inside_authenticate_is_answered_inside_success_then_the_resend() {
    let (id, profile) = first_login();
    let (mut server, _) = connect(profile);
    let resume = format!("<resume xmlns='urn:xmpp:sm:3' h='1' previd='{id}'/>");
    let out = write(
        &mut server,
        &authenticate(&[resume.as_str(), bind_enabling()].concat()),
    );
    let jid = server.bound.clone().unwrap();
    assert_eq!(
        out,
        format!(
            "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>{jid}\
             </authorization-identifier><resumed xmlns='urn:xmpp:sm:3' h='1' \
             previd='{id}'/></success><message id='s2'/>"
        )
    );
    assert_eq!(server.sm_id(), Some(id.as_str()));
    assert_eq!(server.sm_resent, ["<message id='s2'/>"]);
    assert_eq!(server.profile.sm_store.sessions.len(), 1, "no new session");
    assert_eq!(
        write(&mut server, &[message("m2").as_str(), R].concat()),
        server_a(2)
    );
}

/// A failed inline resume says so inside `<success/>` (with the server's `h`), and the
/// bind goes on: a new session, enabled inside `<bound/>`.
#[test]
fn a_failed_inline_resume_is_failed_inside_success_and_the_bind_goes_on() {
    let (id, mut profile) = first_login();
    profile.clock += 300;
    let (mut server, _) = connect(profile);
    let resume = format!("<resume xmlns='urn:xmpp:sm:3' h='1' previd='{id}'/>");
    let out = write(
        &mut server,
        &authenticate(&[resume.as_str(), bind_enabling()].concat()),
    );
    let new_id = server.sm_id().unwrap().to_string();
    assert_ne!(new_id, id);
    assert!(
        out.contains(&format!(
            "</authorization-identifier><failed xmlns='urn:xmpp:sm:3' h='1'><item-not-found \
             xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed><bound \
             xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='{new_id}'"
        )),
        "{out}"
    );
    assert!(out.ends_with("</stream:features>"), "{out}");
}
