//! The subscription answer window through herald-tokio on real Prosody and ejabberd: a
//! request nobody answers is denied when the window closes, and at `close` when that comes
//! first; with `SubscriptionPolicy::Ask` nothing is sent and the next login delivers the
//! request again, still answerable. Never skips.

use std::time::Duration;

use herald_core::jid::BareJid;
use herald_core::{Config, Event as CoreEvent, SubscriptionPolicy};
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use herald_tokio::{ConnectOptions, Event, Events, Handle};

mod tokio_common;

const ACCOUNTS: &[(&str, &str)] = &[
    ("dave", "dave-pw"),
    ("erin", "erin-pw"),
    ("frank", "frank-pw"),
    ("grace", "grace-pw"),
    ("heidi", "heidi-pw"),
    ("ivan", "ivan-pw"),
];
const WAIT: Duration = Duration::from_secs(30);

fn bare(s: &str) -> BareJid {
    BareJid::new(s).expect("valid JID")
}

/// One account's session, with every event it received so far.
struct Account {
    who: &'static str,
    handle: Handle,
    events: Events,
    seen: Vec<Event>,
}

impl Account {
    async fn online(
        server: &dyn RealServer,
        who: &'static str,
        change: impl FnOnce(&mut Config),
    ) -> Account {
        let mut config = Config::new(&format!("{who}@localhost/r"), format!("{who}-pw")).unwrap();
        change(&mut config);
        let mut options = ConnectOptions::default();
        options.server = Some(("127.0.0.1".into(), server.port()));
        options.ca_file = Some(server.ca_pem_path().to_path_buf());
        let (handle, events) = herald_tokio::connect(config, options).expect("connect");
        let mut account = Account {
            who,
            handle,
            events,
            seen: Vec::new(),
        };
        account
            .until("online", |e| matches!(e, CoreEvent::Online { .. }))
            .await;
        account
    }

    /// Reads events until one matches `want`.
    async fn until(&mut self, what: &str, want: impl Fn(&CoreEvent) -> bool) {
        let what = format!("{}: {what}", self.who);
        let seen =
            tokio_common::until(&mut self.events, &what, WAIT, tokio_common::core(want)).await;
        self.seen.extend(seen);
    }

    /// Reads what arrives within a short while.
    async fn settle(&mut self) {
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(300), self.events.recv()).await
        {
            self.seen.push(event);
        }
    }

    fn saw(&self, want: impl Fn(&CoreEvent) -> bool) -> bool {
        self.seen
            .iter()
            .any(|e| matches!(e, Event::Core(c) if want(c)))
    }

    /// Closes and reads the events up to the end.
    async fn close(&mut self) {
        self.handle.close().await.unwrap();
        let what = format!("{}: the end", self.who);
        let seen = tokio_common::until(&mut self.events, &what, WAIT, |e| {
            matches!(e, Event::Ended { .. })
        })
        .await;
        self.seen.extend(seen);
    }
}

fn request_from(jid: &'static str) -> impl Fn(&CoreEvent) -> bool {
    move |e| matches!(e, CoreEvent::SubscriptionRequest { from } if from.as_str() == jid)
}

fn refused_by(jid: &'static str) -> impl Fn(&CoreEvent) -> bool {
    move |e| matches!(e, CoreEvent::Unsubscribed { from } if from.as_str() == jid)
}

fn policy_answered(jid: &'static str, approved: bool) -> impl Fn(&CoreEvent) -> bool {
    move |e| {
        matches!(e, CoreEvent::SubscriptionAnswered { from, approved: a }
            if from.as_str() == jid && *a == approved)
    }
}

fn any_refusal(e: &CoreEvent) -> bool {
    matches!(e, CoreEvent::Unsubscribed { .. })
}

async fn denied_when_the_window_closes(server: &dyn RealServer) {
    let mut dave = Account::online(server, "dave", |c| {
        c.timeouts.subscription_window = Duration::from_secs(2)
    })
    .await;
    let mut erin = Account::online(server, "erin", |_| {}).await;
    erin.handle.subscribe(bare("dave@localhost")).await.unwrap();
    dave.until("erin's request", request_from("erin@localhost"))
        .await;
    dave.until(
        "the policy's answer",
        policy_answered("erin@localhost", false),
    )
    .await;
    erin.until("dave's refusal", refused_by("dave@localhost"))
        .await;
    dave.close().await;
    erin.close().await;
}

async fn denied_at_close(server: &dyn RealServer) {
    let mut grace = Account::online(server, "grace", |_| {}).await;
    let mut frank = Account::online(server, "frank", |_| {}).await;
    frank
        .handle
        .subscribe(bare("grace@localhost"))
        .await
        .unwrap();
    grace
        .until("frank's request", request_from("frank@localhost"))
        .await;
    frank.settle().await;
    assert!(!frank.saw(any_refusal), "{}: refused early", server.name());
    grace.close().await;
    assert!(
        grace.saw(policy_answered("frank@localhost", false)),
        "{}: {:?}",
        server.name(),
        grace.seen
    );
    frank
        .until("grace's refusal", refused_by("grace@localhost"))
        .await;
    frank.close().await;
}

async fn ask_leaves_it_for_the_next_login(server: &dyn RealServer) {
    let ask = |c: &mut Config| {
        c.subscription_policy = SubscriptionPolicy::Ask;
        c.timeouts.subscription_window = Duration::from_secs(1);
    };
    let mut heidi = Account::online(server, "heidi", ask).await;
    let mut ivan = Account::online(server, "ivan", |_| {}).await;
    ivan.handle
        .subscribe(bare("heidi@localhost"))
        .await
        .unwrap();
    heidi
        .until("ivan's request", request_from("ivan@localhost"))
        .await;
    heidi
        .until("left pending", |e| {
            matches!(e, CoreEvent::SubscriptionLeftPending { from } if from.as_str() == "ivan@localhost")
        })
        .await;
    heidi.close().await;
    assert!(
        !heidi.saw(|e| matches!(e, CoreEvent::SubscriptionAnswered { .. })),
        "{}: {:?}",
        server.name(),
        heidi.seen
    );

    let mut heidi = Account::online(server, "heidi", ask).await;
    // Already delivered with the login's events, or just after.
    if !heidi.saw(request_from("ivan@localhost")) {
        heidi
            .until("ivan's request again", request_from("ivan@localhost"))
            .await;
    }
    heidi.handle.approve(bare("ivan@localhost")).await.unwrap();
    ivan.until(
        "heidi's approval",
        |e| matches!(e, CoreEvent::Subscribed { from } if from.as_str() == "heidi@localhost"),
    )
    .await;
    assert!(!ivan.saw(any_refusal), "{}: {:?}", server.name(), ivan.seen);
    heidi.close().await;
    ivan.close().await;
}

async fn windows(server: &dyn RealServer) {
    denied_when_the_window_closes(server).await;
    denied_at_close(server).await;
    ask_leaves_it_for_the_next_login(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_subscription_windows_through_tokio() {
    let server =
        Prosody::start_with(ACCOUNTS, false).unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    windows(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_subscription_windows_through_tokio() {
    let server = Ejabberd::start_with(ACCOUNTS, false)
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"));
    windows(&server).await;
}
