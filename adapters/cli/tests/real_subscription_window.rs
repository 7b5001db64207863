//! The subscription answer window through `herald` processes on real Prosody and ejabberd:
//! a request nobody answers is denied when the window closes, and at quit when that comes
//! first; with `--subscriptions ask` nothing is sent and the next login delivers the request
//! again, still answerable. Never skips: a missing server fails the test.

mod real_cli;

use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use real_cli::{Herald, from};

const ACCOUNTS: &[(&str, &str)] = &[
    ("dave", "dave-pw"),
    ("erin", "erin-pw"),
    ("frank", "frank-pw"),
    ("grace", "grace-pw"),
    ("heidi", "heidi-pw"),
    ("ivan", "ivan-pw"),
];

fn online(server: &dyn RealServer, who: &'static str, extra: &[&str]) -> Herald {
    let mut herald = Herald::start_with(server, who, extra);
    herald.expect(server, "online", |_| true);
    herald
}

/// No `unsubscribed` reached `herald` so far.
fn never_refused(server: &dyn RealServer, herald: &mut Herald) {
    herald.read_available();
    assert!(
        herald.seen.iter().all(|v| v["event"] != "unsubscribed"),
        "{}: {} was refused: {:?}",
        server.name(),
        herald.who,
        herald.seen
    );
}

/// dave leaves erin's request unanswered: the default policy denies it when the 2 s window
/// closes, and erin hears the refusal.
fn denied_when_the_window_closes(server: &dyn RealServer) {
    let mut dave = online(server, "dave", &["--subscription-window", "2"]);
    let mut erin = online(server, "erin", &[]);
    erin.say("subscribe dave@localhost");
    dave.expect(server, "subscription_request", from("erin@localhost"));
    let answered = dave.expect(server, "subscription_answered", from("erin@localhost"));
    assert_eq!(answered["approved"], false, "{}", server.name());
    erin.expect(server, "unsubscribed", from("dave@localhost"));
    assert_eq!(dave.quit(server), 0);
    assert_eq!(erin.quit(server), 0);
}

/// grace quits long before her 30 s window closes: the policy answers at quit.
fn denied_at_quit(server: &dyn RealServer) {
    let mut grace = online(server, "grace", &[]);
    let mut frank = online(server, "frank", &[]);
    frank.say("subscribe grace@localhost");
    grace.expect(server, "subscription_request", from("frank@localhost"));
    never_refused(server, &mut frank);
    assert_eq!(grace.quit(server), 0);
    let answered = grace
        .seen
        .iter()
        .find(|v| v["event"] == "subscription_answered")
        .cloned()
        .unwrap_or_else(|| grace.fail(server, "no subscription_answered before the end"));
    assert_eq!(answered["approved"], false, "{}", server.name());
    frank.expect(server, "unsubscribed", from("grace@localhost"));
    assert_eq!(frank.quit(server), 0);
}

/// heidi asks: her window closes without an answer going out, and her quit sends none
/// either; the next login delivers ivan's request again, and then heidi approves it.
fn ask_leaves_it_for_the_next_login(server: &dyn RealServer) {
    let ask = ["--subscriptions", "ask", "--subscription-window", "1"];
    let mut heidi = online(server, "heidi", &ask);
    let mut ivan = online(server, "ivan", &[]);
    ivan.say("subscribe heidi@localhost");
    heidi.expect(server, "subscription_request", from("ivan@localhost"));
    heidi.expect(server, "subscription_left_pending", from("ivan@localhost"));
    assert_eq!(heidi.quit(server), 0);
    assert!(
        heidi
            .seen
            .iter()
            .all(|v| v["event"] != "subscription_answered"),
        "{}: {:?}",
        server.name(),
        heidi.seen
    );

    let mut heidi = online(server, "heidi", &ask);
    heidi.expect(server, "subscription_request", from("ivan@localhost"));
    never_refused(server, &mut ivan);
    heidi.say("approve ivan@localhost");
    ivan.expect(server, "subscribed", from("heidi@localhost"));
    never_refused(server, &mut ivan);
    assert_eq!(heidi.quit(server), 0);
    assert_eq!(ivan.quit(server), 0);
}

fn windows(server: &dyn RealServer) {
    denied_when_the_window_closes(server);
    denied_at_quit(server);
    ask_leaves_it_for_the_next_login(server);
}

#[test]
fn prosody_subscription_windows_through_the_cli() {
    let server =
        Prosody::start_with(ACCOUNTS, false).unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    windows(&server);
}

#[test]
fn ejabberd_subscription_windows_through_the_cli() {
    let server = Ejabberd::start_with(ACCOUNTS, false)
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"));
    windows(&server);
}
