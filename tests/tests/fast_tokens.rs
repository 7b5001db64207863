//! FAST tokens (XEP-0484) across logins, the client against the scripted server: a token
//! the server rotates comes with the success of the login that used the old one, is
//! reported (`Event::FastTokenUpdated`) and kept (`Client::fast_token`), and logs in next
//! time; the old one stays good exactly as long as the server's rules say. Each login is a
//! new connection over direct TLS to a server that remembers the tokens it issued (the
//! profile moves from one pair to the next, as a real server's store outlives a connection).

use herald_core::{Event, FastToken, Mechanism, SessionState, Transport, UserAgent};
use herald_testkit::profile::FastRotation;
use herald_testkit::{Pair, ServerProfile, config_for};

const DAY: u64 = 86_400;
/// This installation, as the server knows it.
const AGENT: &str = "d4565fa7-4d72-4749-b3d3-740edbf87770";

/// A server with SASL2, Bind2 and FAST on direct TLS, rotating as `rotation` says.
fn server(rotation: FastRotation) -> ServerProfile {
    ServerProfile {
        starttls: false,
        fast_rotation: rotation,
        ..ServerProfile::fast_login()
    }
}

/// One login on a new connection to a server that remembers `profile`'s tokens, with
/// `token` (none: SCRAM, asking for one).
fn login(profile: ServerProfile, token: Option<&FastToken>) -> Pair {
    let mut config = config_for(&profile);
    config.user_agent = Some(UserAgent::new(AGENT));
    config.fast_token = token.cloned();
    let mut pair = Pair::new(profile, config);
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online, "{pair:#?}");
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
    pair
}

fn updates(pair: &Pair) -> usize {
    let updated = |e: &&Event| **e == Event::FastTokenUpdated;
    pair.events.iter().filter(updated).count()
}

fn token_of(pair: &Pair) -> FastToken {
    pair.client().fast_token().cloned().expect("a token")
}

/// The mechanisms the client authenticated with on this connection, in order.
fn mechanisms(pair: &Pair) -> Vec<&str> {
    pair.server
        .auth_log
        .iter()
        .map(|(m, _)| m.as_str())
        .collect()
}

fn secret(token: &FastToken) -> &str {
    token.token.expose()
}

/// Rotation at every login (XEP-0484 section 4.4): the token login's success carries a new
/// token, reported once; the old one stays valid at the server until the new one is used
/// (its two slots), and is refused from then on.
#[test]
fn a_token_rotated_at_every_login_is_replaced_in_the_success_and_the_new_one_logs_in() {
    let first = login(server(FastRotation::EveryLogin), None);
    assert_eq!(mechanisms(&first), ["SCRAM-SHA-256"]);
    assert_eq!(updates(&first), 1);
    let old = token_of(&first);

    let second = login(first.server.profile.clone(), Some(&old));
    assert_eq!(mechanisms(&second), ["HT-SHA-256-NONE"]);
    assert!(
        second
            .events
            .contains(&Event::StateChanged(SessionState::Authenticating {
                mechanism: Mechanism::HtSha256None
            }))
    );
    let success = &second.server.sasl2_outcomes[0];
    assert!(
        success.contains("<token xmlns='urn:xmpp:fast:0'"),
        "{success}"
    );
    assert_eq!(updates(&second), 1, "{:#?}", second.events);
    let new = token_of(&second);
    assert_ne!(secret(&new), secret(&old));
    assert_eq!(new.mechanism, "HT-SHA-256-NONE");
    assert_eq!(new.expiry.as_deref(), Some("2026-01-22T00:00:00Z"));
    // The update comes before Online: an application that saves it on the event has the
    // token that the next login needs, even if this session ends right after.
    let at = |want: fn(&Event) -> bool| second.events.iter().position(want).unwrap();
    assert!(at(|e| *e == Event::FastTokenUpdated) < at(|e| matches!(e, Event::Online { .. })));
    // Until the new token is used, the server keeps the old one too.
    let slots = &second.server.profile.fast_tokens[AGENT];
    let current = slots.current.as_ref().map(|t| t.secret.as_str());
    let waiting = slots.new.as_ref().map(|t| t.secret.as_str());
    assert_eq!((current, waiting), (Some(secret(&old)), Some(secret(&new))));

    let third = login(second.server.profile.clone(), Some(&new));
    assert_eq!(mechanisms(&third), ["HT-SHA-256-NONE"]);
    assert_eq!(updates(&third), 1, "rotated again");
    assert_ne!(secret(&token_of(&third)), secret(&new));

    // The old one is retired now: refused, dropped, and the login falls back to SCRAM,
    // which asks for a token again.
    let fourth = login(third.server.profile.clone(), Some(&old));
    assert_eq!(mechanisms(&fourth), ["HT-SHA-256-NONE", "SCRAM-SHA-256"]);
    assert_eq!(updates(&fourth), 2, "dropped, then a new one");
    assert!(fourth.server.sasl2_outcomes[0].contains("<not-authorized"));
}

/// The old token still logs in while the new one has not been used: a client that lost
/// the success that carried the new token is not locked out.
#[test]
fn until_the_new_token_is_used_the_old_one_still_logs_in() {
    let first = login(server(FastRotation::EveryLogin), None);
    let old = token_of(&first);
    let second = login(first.server.profile.clone(), Some(&old));
    let lost = token_of(&second);

    let again = login(second.server.profile.clone(), Some(&old));
    assert_eq!(mechanisms(&again), ["HT-SHA-256-NONE"]);
    assert_eq!(updates(&again), 1);
    // The token never used was replaced by this newer one.
    let newest = token_of(&again);
    assert_ne!(secret(&newest), secret(&lost));
    let refused = login(again.server.profile.clone(), Some(&lost));
    assert_eq!(mechanisms(&refused), ["HT-SHA-256-NONE", "SCRAM-SHA-256"]);
}

/// Without rotation the token login's success carries no token: nothing is reported, and
/// the client keeps the token it used.
#[test]
fn without_rotation_the_token_used_is_kept_and_nothing_is_reported() {
    let first = login(server(FastRotation::Never), None);
    let token = token_of(&first);
    let second = login(first.server.profile.clone(), Some(&token));
    assert_eq!(mechanisms(&second), ["HT-SHA-256-NONE"]);
    assert_eq!(updates(&second), 0);
    assert_eq!(second.client().fast_token(), Some(&token));
    let third = login(second.server.profile.clone(), Some(&token));
    assert_eq!(mechanisms(&third), ["HT-SHA-256-NONE"]);
}

/// Rotation by age: a young token is kept; once it is old enough the success replaces it.
#[test]
fn a_token_rotated_by_age_is_replaced_once_it_is_old_enough() {
    let first = login(server(FastRotation::OlderThan(7 * DAY)), None);
    let token = token_of(&first);
    let mut profile = first.server.profile.clone();
    profile.clock += 7 * DAY - 1;
    let young = login(profile, Some(&token));
    assert_eq!(updates(&young), 0);
    assert_eq!(young.client().fast_token(), Some(&token));

    let mut profile = young.server.profile.clone();
    profile.clock += 1;
    let old = login(profile, Some(&token));
    assert_eq!(mechanisms(&old), ["HT-SHA-256-NONE"]);
    assert_eq!(updates(&old), 1);
    assert_ne!(secret(&token_of(&old)), secret(&token));
}

/// An expired token (`credentials-expired`, XEP-0484 section 5.2) costs one refusal: the
/// login goes on with SCRAM and gets a new token.
#[test]
fn an_expired_token_falls_back_to_scram_and_gets_a_new_one() {
    let first = login(server(FastRotation::Never), None);
    let token = token_of(&first);
    let mut profile = first.server.profile.clone();
    profile.clock += 21 * DAY;
    let pair = login(profile, Some(&token));
    assert_eq!(mechanisms(&pair), ["HT-SHA-256-NONE", "SCRAM-SHA-256"]);
    assert!(pair.server.sasl2_outcomes[0].contains("<credentials-expired"));
    assert_eq!(updates(&pair), 2);
    let fresh = token_of(&pair);
    assert_ne!(secret(&fresh), secret(&token));
    let next = login(pair.server.profile.clone(), Some(&fresh));
    assert_eq!(mechanisms(&next), ["HT-SHA-256-NONE"]);
}

/// The features cached from a server that offered FAST, which no longer does: the token
/// that left early with the header is refused as a mechanism never offered, not judged as
/// a token. The login goes on with SCRAM, and the token is kept for when FAST is back.
#[test]
fn a_token_sent_early_to_a_server_that_stopped_offering_fast_is_kept() {
    let first = login(server(FastRotation::Never), None);
    let token = token_of(&first);
    let cache = first.client().feature_cache().cloned();
    let mut without_fast = first.server.profile.clone();
    without_fast.fast = false;

    let mut config = config_for(&without_fast);
    config.user_agent = Some(UserAgent::new(AGENT));
    config.fast_token = Some(token.clone());
    config.feature_cache = cache;
    let mut pair = Pair::new(without_fast, config);
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    let early = pair.client_sent_since(0);
    assert!(early.contains("mechanism='HT-SHA-256-NONE'"), "{early}");
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(mechanisms(&pair), ["SCRAM-SHA-256"]);
    assert!(pair.server.sasl2_outcomes[0].contains("<invalid-mechanism"));
    assert_eq!(updates(&pair), 0, "{:#?}", pair.events);
    assert_eq!(pair.client().fast_token(), Some(&token));

    let mut back = pair.server.profile.clone();
    back.fast = true;
    let again = login(back, Some(&token));
    assert_eq!(mechanisms(&again), ["HT-SHA-256-NONE"]);
}
