//! Resuming after a SASL2 login whose server offers resumption only outside SASL2 (no
//! inline `<resume/>`), like Prosody 0.12 with `mod_sasl2` and `mod_smacks`: the client's
//! `<resume/>` follows the `<success/>` on the same stream, and the server's
//! `<stream:features>`, sent right after the success (XEP-0388 section 2.6.1), must not
//! break it.

use herald_core::{Event, SessionState};
use herald_testkit::{Pair, ServerProfile, config_for};

fn profile() -> ServerProfile {
    let profile = ServerProfile {
        sm: true,
        sm_resume: true,
        sm_max: Some(300),
        ..ServerProfile::fast_login()
    };
    assert!(profile.features_after_sasl2_success, "the case under test");
    assert!(!profile.sm_inline_resume && !profile.sm_inline_bind2);
    profile
}

#[test]
fn features_after_the_sasl2_success_do_not_break_a_resumption() {
    let profile = profile();
    let mut first = Pair::with_profile(profile.clone());
    first.connect();
    assert_eq!(first.client().state(), SessionState::Online);
    assert!(
        first.server.sm_id().is_some(),
        "SM enabled after the features that follow the success"
    );
    first.cut().drive();
    let resumption = first.client().resumption().cloned();
    assert!(resumption.is_some(), "a resumption left by the cut");
    let mut config = config_for(&profile);
    config.resumption = resumption;
    config.feature_cache = first.client().feature_cache().cloned();
    let mut next = first.reconnect_with(config);
    next.connect();
    assert!(
        next.events
            .iter()
            .any(|e| matches!(e, Event::Resumed { .. })),
        "{:#?}",
        next.events
    );
    assert!(
        !next
            .events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. } | Event::StanzasLost { .. })),
        "{:#?}",
        next.events
    );
    assert_eq!(next.client().state(), SessionState::Online);
    assert!(
        next.server.violations.is_empty(),
        "{:?}",
        next.server.violations
    );
    let sent = next.client_sent_since(0);
    assert!(
        !sent.contains("urn:ietf:params:xml:ns:xmpp-bind") && !sent.contains("urn:xmpp:bind:0"),
        "no new bind: {sent}"
    );
    assert!(sent.contains("<resume "), "{sent}");
}
