//! The Blocking Command (XEP-0191) against the scripted server (which serves it as
//! Prosody's mod_blocklist does): the list asked for and kept, blocks and unblocks sent
//! and applied by the pushes that follow, pushes taken only from the server or the
//! account (RFC 6121 section 2.1.6, as for the roster), refusals reported, the list
//! bounded, kept across a resumption, and the commands refused outside an online session.

mod sm_common;

use herald_core::jid::Jid;
use herald_core::{Event, SessionState, UsageError};
use herald_testkit::{Pair, ServerProfile, config_for};
use sm_common::{next_config, resumed};

const SPAM: &str = "spam@evil.example";
const EVIL: &str = "evil.example";

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

fn jids(list: &[&str]) -> Vec<Jid> {
    list.iter().map(|s| jid(s)).collect()
}

/// A Prosody-like server with blocking and `list` blocked.
fn server(list: &[&str]) -> ServerProfile {
    ServerProfile {
        blocklist: Some(list.iter().map(|s| s.to_string()).collect()),
        ..ServerProfile::prosody_like()
    }
}

/// The client's blocklist, as strings.
fn kept(pair: &Pair) -> Option<Vec<String>> {
    pair.client()
        .blocklist()
        .map(|l| l.iter().map(|j| j.to_string()).collect())
}

/// The id of the last IQ the client sent since `mark`.
fn last_iq_id(pair: &Pair, mark: usize) -> String {
    let sent = pair.client_sent_raw(mark);
    let at = sent.rfind("<iq ").unwrap();
    let id_at = at + sent[at..].find("id='").unwrap() + 4;
    sent[id_at..id_at + sent[id_at..].find('\'').unwrap()].to_string()
}

/// Online with the list asked for and received.
fn online_with_list(list: &[&str]) -> Pair {
    let mut pair = Pair::online_with(server(list), |_| {});
    pair.command(|c, now| c.request_blocklist(now)).unwrap();
    pair.drive();
    pair.take_events();
    pair
}

#[test]
fn the_list_is_asked_for_reported_and_kept() {
    let mut pair = Pair::online_with(server(&[SPAM, EVIL]), |_| {});
    assert_eq!(kept(&pair), None, "unknown until asked for");
    let mark = pair.mark();
    pair.command(|c, now| c.request_blocklist(now)).unwrap();
    let id = last_iq_id(&pair, mark);
    assert_eq!(
        pair.client_sent_raw(mark),
        format!("<iq id='{id}' type='get'><blocklist xmlns='urn:xmpp:blocking'/></iq>")
    );
    pair.drive();
    let events = pair.take_events();
    // Sorted, as the list is kept.
    assert_eq!(
        events,
        [Event::Blocklist {
            jids: jids(&[EVIL, SPAM])
        }]
    );
    assert_eq!(kept(&pair), Some(vec![EVIL.into(), SPAM.into()]));
    assert!(
        pair.client()
            .blocklist()
            .is_some_and(|l| l.contains(&jid(SPAM)))
    );
}

#[test]
fn a_block_goes_out_with_its_items_and_the_push_applies_it() {
    let mut pair = online_with_list(&[SPAM]);
    let mark = pair.mark();
    let new = jids(&["troll@example.org", "bot@example.org/x"]);
    pair.command(|c, now| c.block(now, &new)).unwrap();
    let id = last_iq_id(&pair, mark);
    assert_eq!(
        pair.client_sent_raw(mark),
        format!(
            "<iq id='{id}' type='set'><block xmlns='urn:xmpp:blocking'>\
             <item jid='troll@example.org'/><item jid='bot@example.org/x'/></block></iq>"
        )
    );
    let mark = pair.mark();
    pair.drive();
    // Our result is no event; the push is, and the client answered it.
    assert_eq!(pair.take_events(), [Event::Blocked { jids: new.clone() }]);
    assert_eq!(pair.client_sent_raw(mark), "<iq id='push1' type='result'/>");
    assert_eq!(
        kept(&pair),
        Some(vec![
            "bot@example.org/x".into(),
            SPAM.into(),
            "troll@example.org".into()
        ])
    );
    assert_eq!(
        pair.server.profile.blocklist.as_deref(),
        Some(
            &[
                SPAM.to_string(),
                "troll@example.org".into(),
                "bot@example.org/x".into()
            ][..]
        )
    );
}

#[test]
fn unblocks_and_unblocking_everything() {
    let mut pair = online_with_list(&[SPAM, EVIL, "x@example.org"]);
    pair.command(|c, now| c.unblock(now, &[jid(SPAM)])).unwrap();
    pair.drive();
    assert_eq!(
        pair.take_events(),
        [Event::Unblocked {
            jids: jids(&[SPAM])
        }]
    );
    assert_eq!(kept(&pair), Some(vec![EVIL.into(), "x@example.org".into()]));
    let mark = pair.mark();
    pair.command(|c, now| c.unblock(now, &[])).unwrap();
    let id = last_iq_id(&pair, mark);
    assert_eq!(
        pair.client_sent_raw(mark),
        format!("<iq id='{id}' type='set'><unblock xmlns='urn:xmpp:blocking'/></iq>")
    );
    pair.drive();
    assert_eq!(pair.take_events(), [Event::Unblocked { jids: Vec::new() }]);
    assert_eq!(kept(&pair), Some(Vec::new()));
    assert_eq!(pair.server.profile.blocklist, Some(Vec::new()));
}

/// The server pushes only to resources that asked for the list: a block without it
/// changes the server's list and tells the client nothing.
#[test]
fn without_the_list_no_push_comes() {
    let mut pair = Pair::online_with(server(&[]), |_| {});
    pair.command(|c, now| c.block(now, &[jid(SPAM)])).unwrap();
    pair.drive();
    assert!(pair.take_events().is_empty());
    assert_eq!(kept(&pair), None);
    assert_eq!(pair.server.profile.blocklist, Some(vec![SPAM.to_string()]));
}

/// A push is taken from the server (no `from`) or the account's bare JID, as a roster push
/// (RFC 6121 section 2.1.6). Anything else is no push: not applied, not reported as one,
/// answered as a request nobody handles.
#[test]
fn pushes_come_from_the_server_or_the_account_only() {
    let mut pair = online_with_list(&[]);
    let mark = pair.mark();
    pair.server_says(
        "<iq id='own' type='set' from='alice@localhost'><block xmlns='urn:xmpp:blocking'>\
         <item jid='a@example.org'/></block></iq>",
    );
    assert_eq!(
        pair.take_events(),
        [Event::Blocked {
            jids: jids(&["a@example.org"])
        }]
    );
    assert_eq!(
        pair.client_sent_raw(mark),
        "<iq id='own' to='alice@localhost' type='result'/>"
    );
    for forger in ["mallory@evil.example", "alice@localhost/other", "localhost"] {
        let mark = pair.mark();
        pair.server_says(&format!(
            "<iq id='forged' type='set' from='{forger}'><unblock xmlns='urn:xmpp:blocking'/></iq>"
        ));
        let events = pair.take_events();
        assert!(
            matches!(&events[..], [Event::Stanza(s)] if s.attr("from") == Some(forger)),
            "{forger}: {events:?}"
        );
        assert_eq!(
            pair.client_sent_raw(mark),
            format!(
                "<iq id='forged' to='{forger}' type='error'><error type='cancel'>\
                 <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            )
        );
        assert_eq!(kept(&pair), Some(vec!["a@example.org".into()]), "{forger}");
    }
}

#[test]
fn an_unblock_all_push_clears_the_list_and_an_empty_block_is_refused() {
    let mut pair = online_with_list(&[SPAM, EVIL]);
    let mark = pair.mark();
    pair.server_says("<iq id='p' type='set'><block xmlns='urn:xmpp:blocking'/></iq>");
    assert!(pair.take_events().is_empty());
    assert_eq!(
        pair.client_sent_raw(mark),
        "<iq id='p' type='error'><error type='modify'>\
         <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    assert_eq!(kept(&pair).map(|l| l.len()), Some(2));
    pair.server_says("<iq id='q' type='set'><unblock xmlns='urn:xmpp:blocking'/></iq>");
    assert_eq!(pair.take_events(), [Event::Unblocked { jids: Vec::new() }]);
    assert_eq!(kept(&pair), Some(Vec::new()));
}

/// Prosody refuses each broadcast presence to a blocked contact with `<not-acceptable/>`:
/// an expected consequence of the block, not reported. Any other presence error is, and so
/// is this one while the list is unknown or from a JID that is not blocked.
#[test]
fn bounces_of_our_presence_to_blocked_jids_are_not_errors() {
    let bounce = |from: &str, condition: &str| {
        format!(
            "<presence type='error' from='{from}'><error type='cancel'>\
             <{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>You have blocked this JID</text>\
             </error></presence>"
        )
    };
    let mut pair = online_with_list(&[SPAM, EVIL]);
    for from in [SPAM, "spam@evil.example/phone", "other@evil.example", EVIL] {
        pair.server_says(&bounce(from, "not-acceptable"));
        assert_eq!(pair.take_events(), [], "{from}");
    }
    for (from, condition) in [
        ("bob@localhost", "not-acceptable"),
        (SPAM, "remote-server-not-found"),
    ] {
        pair.server_says(&bounce(from, condition));
        assert_eq!(
            pair.take_events(),
            [Event::PresenceError {
                from: Some(jid(from)),
                condition: condition.into(),
                text: Some("You have blocked this JID".into()),
            }],
            "{from} {condition}"
        );
    }
    let mut unknown = Pair::online_with(server(&[SPAM]), |_| {});
    unknown.server_says(&bounce(SPAM, "not-acceptable"));
    assert!(
        matches!(&unknown.take_events()[..], [Event::PresenceError { .. }]),
        "the list not asked for: reported"
    );
}

/// Pushes before the list is known are reported all the same; the list stays unknown.
#[test]
fn pushes_before_the_list_are_reported() {
    let mut pair = Pair::online_with(server(&[]), |_| {});
    pair.server_says(
        "<iq id='p' type='set'><block xmlns='urn:xmpp:blocking'><item jid='a@b'/></block></iq>",
    );
    assert_eq!(
        pair.take_events(),
        [Event::Blocked {
            jids: jids(&["a@b"])
        }]
    );
    assert_eq!(kept(&pair), None);
}

#[test]
fn refusals_are_reported() {
    let mut pair = Pair::online_with(ServerProfile::prosody_like(), |_| {});
    pair.command(|c, now| c.request_blocklist(now)).unwrap();
    pair.command(|c, now| c.block(now, &[jid(SPAM)])).unwrap();
    pair.command(|c, now| c.unblock(now, &[])).unwrap();
    pair.drive();
    let failed = Event::BlockingFailed {
        condition: "service-unavailable".into(),
    };
    assert_eq!(pair.take_events(), [failed.clone(), failed.clone(), failed]);
    assert_eq!(kept(&pair), None);
    // Any condition, whichever request: the server's answer replaced by a refusal.
    let mut pair = online_with_list(&[]);
    pair.hold = true;
    let mark = pair.mark();
    pair.command(|c, now| c.block(now, &[jid(SPAM)])).unwrap();
    let id = last_iq_id(&pair, mark);
    let _ = pair.server.take_output();
    pair.inject(
        format!(
            "<iq id='{id}' type='error'><error type='modify'><not-acceptable \
             xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        )
        .as_bytes(),
    );
    assert_eq!(
        pair.take_events(),
        [Event::BlockingFailed {
            condition: "not-acceptable".into()
        }]
    );
    assert_eq!(kept(&pair), Some(Vec::new()));
}

#[test]
fn the_list_kept_is_bounded() {
    let mut pair = Pair::online_with(server(&["a@x", "b@x", "c@x"]), |c| c.max_blocklist = 2);
    pair.command(|c, now| c.request_blocklist(now)).unwrap();
    pair.drive();
    assert_eq!(
        pair.take_events(),
        [Event::Blocklist {
            jids: jids(&["a@x", "b@x"])
        }]
    );
    pair.server_says(
        "<iq id='p' type='set'><block xmlns='urn:xmpp:blocking'><item jid='d@x'/></block></iq>",
    );
    // Reported, not kept.
    assert_eq!(
        pair.take_events(),
        [Event::Blocked {
            jids: jids(&["d@x"])
        }]
    );
    assert_eq!(kept(&pair), Some(vec!["a@x".into(), "b@x".into()]));
}

/// A resumed session is the same session: the server still pushes to it, and its list is
/// kept.
#[test]
fn a_resumed_session_keeps_the_list() {
    let profile = ServerProfile {
        blocklist: Some(vec![SPAM.into()]),
        ..ServerProfile::stream_management()
    };
    let mut pair = Pair::online_with(profile, |_| {});
    pair.command(|c, now| c.request_blocklist(now)).unwrap();
    pair.drive();
    pair.cut().drive();
    assert_eq!(kept(&pair), None, "the session ended");
    let mut next = pair.reconnect_with(next_config(&pair));
    next.connect();
    assert_eq!(resumed(&next.events), [0]);
    assert_eq!(kept(&next), Some(vec![SPAM.into()]));
}

#[test]
fn the_commands_need_an_online_session() {
    let profile = server(&[SPAM]);
    let mut pair = Pair::new(profile.clone(), config_for(&profile));
    let block = |c: &mut herald_core::Client, now| c.block(now, &[jid(SPAM)]);
    assert_eq!(pair.command(block), Err(UsageError::NotConnected));
    assert_eq!(
        pair.command(|c, now| c.request_blocklist(now)),
        Err(UsageError::NotConnected)
    );
    pair.start();
    assert!(pair.step_until(|c| c.state() == SessionState::Binding));
    let mark = pair.mark();
    assert_eq!(pair.command(block), Err(UsageError::NotOnline));
    assert_eq!(
        pair.command(|c, now| c.unblock(now, &[])),
        Err(UsageError::NotOnline)
    );
    assert_eq!(pair.client_sent_raw(mark), "");
    pair.drive();
    let mark = pair.mark();
    assert_eq!(
        pair.command(|c, now| c.block(now, &[])),
        Err(UsageError::NothingToBlock)
    );
    assert_eq!(pair.client_sent_raw(mark), "");
    pair.command(|c, now| c.close(now)).unwrap();
    assert_eq!(pair.command(block), Err(UsageError::AlreadyClosing));
    pair.drive();
    assert!(matches!(
        pair.command(|c, now| c.request_blocklist(now)),
        Err(UsageError::SessionEnded(_))
    ));
}
