//! The `herald` binary against the testkit's loopback server: usage errors, the JSON event
//! lines, stdin commands and exit statuses.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use herald_testkit::loopback::{ALICE_PLAIN, Conn, LoopbackServer, attr, temp_file};
use serde_json::Value;

mod running;

use running::{Running, herald, run};

#[test]
fn bad_usage_exits_with_2() {
    let (code, _, err) = run(herald().args(["--presence", "away"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(herald()
        .args(["--jid", "alice@localhost", "--presence", "busy"])
        .env("HERALD_PASSWORD", "x"));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(herald().args(["--jid", "alice@localhost"]));
    assert_eq!(code, 2);
    assert!(err.contains("HERALD_PASSWORD"), "{err}");
    let (code, _, _) = run(herald()
        .args(["--jid", "not a jid@@", "--server", "127.0.0.1:1"])
        .env("HERALD_PASSWORD", "x"));
    assert_eq!(code, 2);
    let (code, _, err) = run(herald()
        .args(["--jid", "alice@localhost", "--roots", "none"])
        .env("HERALD_PASSWORD", "x"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--ca-file"), "{err}");
}

#[test]
fn there_is_no_way_to_give_the_password_in_argv() {
    for flag in ["--password", "--pass", "-p"] {
        let (code, _, err) = run(herald().args(["--jid", "alice@localhost", flag, "secret"]));
        assert_eq!(code, 2, "{flag}: {err}");
    }
    let (_, help, _) = run(herald().arg("--help"));
    assert!(help.contains("HERALD_PASSWORD") && help.contains("--password-file"));
    assert!(!help.contains("--password "), "{help}");
}

/// Sends every presence the client writes to `tx` until its unavailable one, then answers
/// the client's close.
fn report_presences_then_close(conn: &mut Conn, tx: &mpsc::Sender<String>) {
    while let Ok(p) = conn.expect_presence() {
        let closing = p.contains("unavailable");
        tx.send(p).unwrap();
        if closing {
            break;
        }
    }
    let _ = conn.answer_close();
}

/// A STARTTLS server that logs alice in, shows her bob's presence and reports every
/// presence she sends; with the path of a CA file that trusts it.
fn server() -> (LoopbackServer, Receiver<String>, String) {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |_, conn| {
        let Ok(initial) = conn.login() else {
            return;
        };
        tx.send(initial).unwrap();
        conn.send(
            "<presence from='bob@localhost/phone'><show>away</show>\
             <status>out</status><priority>5</priority></presence>",
        )
        .unwrap();
        report_presences_then_close(conn, &tx);
    });
    let ca = server.ca_file().to_str().unwrap().to_string();
    (server, rx, ca)
}

#[test]
fn events_commands_and_a_clean_quit() {
    let (server, presences, ca) = server();
    let password = temp_file("password", "secret\n");
    let mut cli = Running::start(herald().args([
        "--jid",
        "alice@localhost/desk",
        "--server",
        &format!("127.0.0.1:{}", server.port),
        "--ca-file",
        &ca,
        "--presence",
        "away",
        "--status",
        "lunch",
        "--password-file",
        password.to_str().unwrap(),
    ]));
    assert_eq!(cli.expect("state")["state"], "connecting");
    assert_eq!(cli.expect("online")["jid"], "alice@localhost/desk");
    let sent = cli.expect("presence_sent");
    assert_eq!(
        (&sent["presence"], &sent["status"]),
        (&"away".into(), &"lunch".into())
    );
    let initial = presences.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(initial.contains("<show>away</show>") && initial.contains("<status>lunch</status>"));

    let bob = cli.expect("presence");
    assert_eq!(bob["from"], "bob@localhost/phone");
    assert_eq!(bob["user"], "bob");
    assert_eq!(bob["domain"], "localhost");
    assert_eq!(bob["resource"], "phone");
    assert_eq!(bob["availability"], "away");
    assert_eq!(bob["show"], "away");
    assert_eq!(bob["status"], "out");
    assert_eq!(bob["priority"], 5);

    cli.say("frobnicate now");
    assert!(
        cli.expect("error")["message"]
            .as_str()
            .unwrap()
            .contains("frobnicate")
    );
    cli.say("presence dnd in a meeting");
    let sent = cli.expect("presence_sent");
    assert_eq!(
        (&sent["presence"], &sent["status"]),
        (&"dnd".into(), &"in a meeting".into())
    );
    cli.say("status");
    let sent = cli.expect("presence_sent");
    assert_eq!(
        (&sent["presence"], &sent["status"]),
        (&"dnd".into(), &"".into())
    );
    cli.say("presence 3");
    assert_eq!(cli.expect("presence_sent")["presence"], "xa");
    for expected in ["<show>dnd</show>", "</presence>", "<show>xa</show>"] {
        let p = presences.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(p.contains(expected), "{p} lacks {expected}");
    }

    cli.say("quit");
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    assert_eq!(cli.wait(), 0);
}

#[test]
fn end_of_input_means_quit() {
    let (server, _presences, ca) = server();
    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--ca-file", &ca])
            .args(["--server", &format!("127.0.0.1:{}", server.port)])
            .env("HERALD_PASSWORD", "secret"),
    );
    // Online first: a quit in the middle of STARTTLS can end as malformed_xml (the TLS
    // alert the server answers our plaintext `</stream:stream>` with), which is the core's
    // business, not this test's.
    cli.expect("online");
    cli.stdin = None; // end of input
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    assert_eq!(cli.wait(), 0);
}

#[test]
fn insecure_plaintext_warns_and_still_never_sends_plain_in_the_clear() {
    let server = LoopbackServer::start(|_, conn| {
        let _ = conn.authenticate_and_bind();
    });
    // Standard input stays open, so the session ends by itself, not by a quit.
    let mut child = herald()
        .args(["--jid", "alice@localhost", "--insecure-plaintext"])
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .env("HERALD_PASSWORD", "secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let output = child.wait_with_output().unwrap();
    let code = output.status.code().unwrap_or(-1);
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("WARNING") && err.contains("--insecure-plaintext"),
        "{err}"
    );
    // The server offers only PLAIN, which the core never sends without TLS.
    assert!(out.contains("no_acceptable_mechanism"), "{out}");
    assert_eq!(code, 4);
    assert!(!server.transcript(0).contains(ALICE_PLAIN));
}

#[test]
fn a_wrong_password_exits_with_1_and_an_unknown_ca_with_3() {
    let server = LoopbackServer::start(move |_, conn| {
        let _ = conn.login();
        let _ = conn.expect("</stream:stream>");
    });
    let address = format!("127.0.0.1:{}", server.port);
    let ca = server.ca_file();

    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--server", &address])
            .args(["--ca-file", ca.to_str().unwrap()])
            .env("HERALD_PASSWORD", "wrong"),
    );
    assert_eq!(cli.expect("disconnected")["code"], "auth_failed");
    cli.stdin = None; // keep stdin open until the failure is seen, then let go
    assert_eq!(cli.wait(), 1);

    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--server", &address])
            .env("HERALD_PASSWORD", "secret"),
    );
    assert_eq!(cli.expect("disconnected")["code"], "tls_failed");
    assert_eq!(cli.wait(), 3);
    assert!(!server.transcript(1).contains("<auth"));
    assert_eq!(server.accepted(), 2, "no retries");
}

#[test]
fn trace_shows_the_xml_without_the_password() {
    let (server, _presences, ca) = server();
    let mut child = herald()
        .args(["--jid", "alice@localhost/desk", "--ca-file", &ca, "--trace"])
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .env("HERALD_PASSWORD", "secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("\"online\"") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "no online event");
    }
    drop(stdin); // end of input: quit
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let trace = String::from_utf8_lossy(&output.stderr);
    // <starttls/> leaves in the same write as the first header (pipelining).
    assert!(
        trace.contains("version='1.0'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        "{trace}"
    );
    assert!(
        trace.contains("mechanism='PLAIN'>[redacted]</auth>"),
        "{trace}"
    );
    assert!(
        trace
            .lines()
            .any(|l| l.starts_with("S: ") && l.contains("<iq type='result'")),
        "{trace}"
    );
    assert!(!trace.contains(ALICE_PLAIN), "{trace}");
}

/// The roster alice's fake server hands out: bob (both ways, named, in a group) and carol
/// (we asked to see her presence; no answer yet).
const ROSTER: &str = "<item jid='bob@localhost' name='Bob' subscription='both'>\
     <group>Friends</group></item>\
     <item jid='carol@localhost' subscription='none' ask='subscribe'/>";

/// A fake server for the roster commands: logs alice in with [`ROSTER`], then plays its
/// side of `roster_commands_and_events` in order, reporting each stanza alice sends.
fn roster_server() -> (LoopbackServer, Receiver<String>, String) {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |_, conn| {
        conn.roster_items = ROSTER.into();
        let Ok(initial) = conn.login() else {
            return;
        };
        tx.send(initial).unwrap();
        let mut script = || -> std::io::Result<()> {
            // `add dave@localhost "Dave D" Friends,Work`: the roster set, then subscribe.
            let set = conn.expect("</iq>")?;
            let id = attr(&set[set.find("<iq").unwrap()..], "id").unwrap();
            tx.send(set).unwrap();
            conn.send(&format!("<iq type='result' id='{id}'/>"))?;
            conn.send(
                "<iq type='set' id='push1'><query xmlns='jabber:iq:roster' ver='v2'>\
                 <item jid='dave@localhost' name='Dave D' subscription='none' ask='subscribe'>\
                 <group>Friends</group><group>Work</group></item></query></iq>",
            )?;
            tx.send(conn.expect_presence()?).unwrap();
            let answer = conn.expect("push1")? + &conn.expect(">")?;
            tx.send(answer).unwrap();
            // Erin asks; alice approves a second later, within the window.
            conn.send("<presence from='erin@localhost/x' type='subscribe'/>")?;
            tx.send(conn.expect_presence()?).unwrap();
            // Dave approves.
            conn.send("<presence from='dave@localhost' type='subscribed'/>")?;
            conn.send(
                "<iq type='set' id='push2'><query xmlns='jabber:iq:roster' ver='v3'>\
                 <item jid='dave@localhost' name='Dave D' subscription='to'>\
                 <group>Friends</group><group>Work</group></item></query></iq>",
            )?;
            // subscribe bob, unsubscribe carol, deny gina, remove carol (refused).
            for _ in 0..3 {
                tx.send(conn.expect_presence()?).unwrap();
            }
            let remove = conn.expect("</iq>")?;
            let id = attr(&remove[remove.find("<iq").unwrap()..], "id").unwrap();
            tx.send(remove).unwrap();
            conn.send(&format!(
                "<iq type='error' id='{id}'><error type='cancel'>\
                 <not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            ))?;
            // Bob stops seeing us and stops letting us see him; carol goes away.
            conn.send("<presence from='bob@localhost' type='unsubscribe'/>")?;
            conn.send("<presence from='bob@localhost' type='unsubscribed'/>")?;
            conn.send(
                "<iq type='set' id='push3'><query xmlns='jabber:iq:roster' ver='v4'>\
                 <item jid='carol@localhost' subscription='remove'/></query></iq>",
            )?;
            // Until the unavailable presence of the quit.
            while !conn.expect_presence()?.contains("unavailable") {}
            conn.answer_close()
        };
        if let Err(e) = script() {
            let _ = tx.send(format!("server script failed: {e}"));
        }
    });
    let ca = server.ca_file().to_str().unwrap().to_string();
    (server, rx, ca)
}

/// The next stanza the fake server reports.
fn sent(stanzas: &Receiver<String>) -> String {
    stanzas.recv_timeout(Duration::from_secs(15)).unwrap()
}

fn items(roster: &Value) -> Vec<(String, String)> {
    roster["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["jid"].as_str().unwrap().to_string(),
                i["subscription"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn roster_commands_and_events() {
    let (server, stanzas, ca) = roster_server();
    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost/desk", "--ca-file", &ca])
            .args(["--server", &format!("127.0.0.1:{}", server.port)])
            .env("HERALD_PASSWORD", "secret"),
    );
    // The roster comes at login (requested with the bind request and the initial
    // presence: it arrives when it arrives, here just after online).
    let roster = cli.expect("roster");
    assert_eq!(
        roster,
        serde_json::json!({
            "event": "roster",
            "items": [
                { "jid": "bob@localhost", "name": "Bob", "groups": ["Friends"],
                  "subscription": "both", "pending_out": false, "approved": false },
                { "jid": "carol@localhost", "name": null, "groups": [],
                  "subscription": "none", "pending_out": true, "approved": false },
            ],
            "version": null,
        })
    );
    cli.expect("online");
    assert!(sent(&stanzas).contains("<presence"));

    // Bad lines are errors; the session goes on.
    for (line, says) in [
        ("add", "usage: add JID"),
        ("add not@@a@jid", "not a bare JID"),
        ("add bob@localhost/phone", "not a bare JID"),
        ("add dave@localhost \"Dave", "quotes"),
        ("remove", "usage: remove JID"),
        ("subscribe a@b c@d", "usage: subscribe JID"),
        ("unsubscribe", "usage: unsubscribe JID"),
        ("approve @", "not a bare JID"),
        ("deny", "usage: deny JID"),
        ("roster please", "unknown command"),
    ] {
        cli.say(line);
        let error = cli.expect("error");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(says), "{line}: {message}");
    }
    cli.say("roster");
    assert_eq!(cli.expect("roster"), roster);

    cli.say("add dave@localhost \"Dave D\" Friends,Work");
    let set = sent(&stanzas);
    assert!(
        set.contains("<item jid='dave@localhost' name='Dave D'>")
            && set.contains("<group>Friends</group><group>Work</group>"),
        "{set}"
    );
    let subscribe = sent(&stanzas);
    assert!(
        subscribe.contains("to='dave@localhost'") && subscribe.contains("type='subscribe'"),
        "{subscribe}"
    );
    let answer = sent(&stanzas);
    assert!(answer.contains("type='result'"), "{answer}");
    let push = cli.expect("roster_push");
    assert_eq!(
        push,
        serde_json::json!({
            "event": "roster_push", "change": "added", "jid": "dave@localhost",
            "name": "Dave D", "groups": ["Friends", "Work"], "subscription": "none",
            "pending_out": true, "approved": false, "version": "v2",
        })
    );

    // The request stays open for the answer a second later; the policy never answers it.
    assert_eq!(cli.expect("subscription_request")["from"], "erin@localhost");
    std::thread::sleep(Duration::from_secs(1));
    cli.say("approve erin@localhost");
    let approval = sent(&stanzas);
    assert!(
        approval.contains("to='erin@localhost'") && approval.contains("type='subscribed'"),
        "{approval}"
    );

    assert_eq!(cli.expect("subscribed")["from"], "dave@localhost");
    let push = cli.expect("roster_push");
    assert_eq!(
        (&push["change"], &push["jid"], &push["subscription"]),
        (&"updated".into(), &"dave@localhost".into(), &"to".into())
    );
    cli.say("roster");
    let roster = cli.expect("roster");
    assert_eq!(
        items(&roster),
        pairs(&[
            ("bob@localhost", "both"),
            ("carol@localhost", "none"),
            ("dave@localhost", "to")
        ])
    );
    assert_eq!(roster["version"], "v3");

    // Nobody asked to be approved, and the server offers no pre-approval.
    cli.say("approve frank@localhost");
    assert!(!cli.expect("error")["message"].as_str().unwrap().is_empty());

    cli.say("subscribe bob@localhost");
    cli.say("unsubscribe carol@localhost");
    cli.say("deny gina@localhost");
    cli.say("remove carol@localhost");
    for (to, kind) in [
        ("bob@localhost", "subscribe"),
        ("carol@localhost", "unsubscribe"),
        ("gina@localhost", "unsubscribed"),
    ] {
        let p = sent(&stanzas);
        assert!(
            p.contains(&format!("to='{to}'")) && p.contains(&format!("type='{kind}'")),
            "{p} is not {kind} to {to}"
        );
    }
    let remove = sent(&stanzas);
    assert!(
        remove.contains("<item jid='carol@localhost' subscription='remove'/>"),
        "{remove}"
    );
    let failed = cli.expect("roster_edit_failed");
    assert_eq!(
        (&failed["jid"], &failed["condition"]),
        (&"carol@localhost".into(), &"not-allowed".into())
    );
    assert_eq!(cli.expect("contact_unsubscribed")["from"], "bob@localhost");
    assert_eq!(cli.expect("unsubscribed")["from"], "bob@localhost");
    // A removal push has the shape of every other: the whole item, `remove`.
    let push = cli.expect("roster_push");
    assert_eq!(
        push,
        serde_json::json!({
            "event": "roster_push", "change": "removed", "jid": "carol@localhost",
            "name": null, "groups": [], "subscription": "remove",
            "pending_out": false, "approved": false, "version": "v4",
        })
    );
    cli.say("roster");
    assert_eq!(
        items(&cli.expect("roster")),
        pairs(&[("bob@localhost", "both"), ("dave@localhost", "to")])
    );

    cli.say("quit");
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    assert!(
        cli.skipped
            .iter()
            .all(|v| v["event"] != "subscription_answered"),
        "{:?}",
        cli.skipped
    );
    assert_eq!(cli.wait(), 0);
    if let Ok(extra) = stanzas.try_recv() {
        panic!("unexpected: {extra}");
    }
}

/// A server that sends subscription requests from erin and frank after the login and
/// reports the next two presences alice sends.
fn requests_server() -> (LoopbackServer, Receiver<String>, String) {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |_, conn| {
        if conn.login().is_err() {
            return;
        }
        let _ = conn.send(
            "<presence from='erin@localhost/x' type='subscribe'/>\
             <presence from='frank@localhost' type='subscribe'/>",
        );
        report_presences_then_close(conn, &tx);
    });
    let ca = server.ca_file().to_str().unwrap().to_string();
    (server, rx, ca)
}

#[test]
fn subscriptions_ask_waits_for_approve_and_deny() {
    let (server, stanzas, ca) = requests_server();
    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--ca-file", &ca])
            .args(["--server", &format!("127.0.0.1:{}", server.port)])
            .args(["--subscriptions", "ask"])
            .env("HERALD_PASSWORD", "secret"),
    );
    for from in ["erin@localhost", "frank@localhost"] {
        cli.expect_where("subscription_request", |v| v["from"] == from);
    }
    // Nothing answered them: the first stanzas after these commands are the answers.
    std::thread::sleep(Duration::from_millis(300));
    cli.say("approve erin@localhost");
    cli.say("deny frank@localhost");
    for (to, kind) in [
        ("erin@localhost", "subscribed"),
        ("frank@localhost", "unsubscribed"),
    ] {
        let p = sent(&stanzas);
        assert!(
            p.contains(&format!("to='{to}'")) && p.contains(&format!("type='{kind}'")),
            "{p} is not {kind} to {to}"
        );
    }
    cli.say("quit");
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    assert!(
        cli.skipped
            .iter()
            .all(|v| v["event"] != "subscription_answered")
    );
    assert_eq!(cli.wait(), 0);
}

/// Both requests of [`requests_server`] answered `kind` by the policy, each reported.
fn policy_answered_both(cli: &mut Running, stanzas: &Receiver<String>, approved: bool) {
    let kind = if approved {
        "subscribed"
    } else {
        "unsubscribed"
    };
    for from in ["erin@localhost", "frank@localhost"] {
        let answered = cli.expect_where("subscription_answered", |v| v["from"] == from);
        assert_eq!(answered["approved"], approved);
        let p = sent(stanzas);
        assert!(
            p.contains(&format!("to='{from}'")) && p.contains(&format!("type='{kind}'")),
            "{p}"
        );
    }
}

#[test]
fn the_policy_answers_when_the_window_closes() {
    for (policy, approved) in [("deny", false), ("accept", true)] {
        let (server, stanzas, ca) = requests_server();
        let mut cli = Running::start(
            herald()
                .args(["--jid", "alice@localhost", "--ca-file", &ca])
                .args(["--server", &format!("127.0.0.1:{}", server.port)])
                .args(["--subscriptions", policy, "--subscription-window", "1.5"])
                .env("HERALD_PASSWORD", "secret"),
        );
        for from in ["erin@localhost", "frank@localhost"] {
            cli.expect_where("subscription_request", |v| v["from"] == from);
        }
        // Not before the window closes.
        std::thread::sleep(Duration::from_millis(700));
        assert!(stanzas.try_recv().is_err(), "{policy}: answered early");
        policy_answered_both(&mut cli, &stanzas, approved);
        cli.say("quit");
        assert_eq!(cli.wait(), 0);
    }
}

#[test]
fn quit_answers_open_requests_before_going_offline() {
    let (server, stanzas, ca) = requests_server();
    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--ca-file", &ca])
            .args(["--server", &format!("127.0.0.1:{}", server.port)])
            .env("HERALD_PASSWORD", "secret"),
    );
    for from in ["erin@localhost", "frank@localhost"] {
        cli.expect_where("subscription_request", |v| v["from"] == from);
    }
    cli.say("quit");
    policy_answered_both(&mut cli, &stanzas, false);
    assert!(sent(&stanzas).contains("type='unavailable'"));
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    assert_eq!(cli.wait(), 0);
}

#[test]
fn subscriptions_ask_leaves_unanswered_requests_pending() {
    let (server, stanzas, ca) = requests_server();
    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--ca-file", &ca])
            .args(["--server", &format!("127.0.0.1:{}", server.port)])
            .args(["--subscriptions", "ask", "--subscription-window", "0.5"])
            .env("HERALD_PASSWORD", "secret"),
    );
    for from in ["erin@localhost", "frank@localhost"] {
        cli.expect_where("subscription_request", |v| v["from"] == from);
        cli.expect_where("subscription_left_pending", |v| v["from"] == from);
    }
    // Still answerable after the window; frank is left for the next login.
    cli.say("approve erin@localhost");
    let p = sent(&stanzas);
    assert!(
        p.contains("to='erin@localhost'") && p.contains("type='subscribed'"),
        "{p}"
    );
    cli.say("quit");
    assert!(sent(&stanzas).contains("type='unavailable'"));
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    assert!(
        cli.skipped
            .iter()
            .all(|v| v["event"] != "subscription_answered")
    );
    assert_eq!(cli.wait(), 0);
}

#[test]
fn help_tells_of_the_answer_window() {
    let (code, help, _) = run(herald().arg("--help"));
    assert_eq!(code, 0);
    for word in [
        "--subscriptions",
        "--subscription-window",
        "roster",
        "add JID [NAME] [GROUP,...]",
        "approve JID",
        "deny JID",
        "subscription_left_pending",
    ] {
        assert!(help.contains(word), "{word} not in {help}");
    }
}
