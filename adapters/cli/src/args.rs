//! Command-line options (the interface scripts rely on: keep it stable).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use herald_core::{Presence, SubscriptionPolicy};

/// Herald: log in to an XMPP account and keep its presence and status as you set them.
///
/// The password comes from the environment variable HERALD_PASSWORD or from
/// --password-file, never from the command line.
///
/// Commands on standard input, one per line:
///   presence VALUE [STATUS TEXT...]   set availability (and status, when given) in one stanza
///   status [TEXT...]                  set the status text (no text clears it)
///   roster                            print the roster (a "roster" event)
///   add JID [NAME] [GROUP,...]        add a contact (roster item) and ask for its presence
///   remove JID                        remove a contact (subscriptions end both ways)
///   subscribe JID / unsubscribe JID   ask to see / stop seeing a contact's presence
///   approve JID / deny JID            answer a subscription request
///   message JID TEXT...               send a chat message (a "message_sent" event gives its id)
///   active / inactive                 tell the server whether you are using the client (XEP-0352)
///   blocklist                         print the block list (a "blocklist" event)
///   block JID / unblock [JID]         block / unblock a JID (unblock alone: everyone)
///   quit                              close the session and exit (so does end of input)
/// A NAME or GROUP with spaces goes in double quotes: add bob@example.org "Bob B" "Old friends",Work
///
/// Incoming subscription requests: answer with approve JID or deny JID within
/// --subscription-window seconds (30); after it, or at quit, --subscriptions answers.
///
/// Standard output: one JSON object per line per event, each with an "event" key:
///   state, online, presence_sent, presence, presence_error, reconnecting, error,
///   disconnected; roster (at login and for the roster command), roster_push,
///   roster_unavailable, roster_edit_failed; subscription_request, subscription_answered,
///   subscription_left_pending, subscribed, unsubscribed, contact_unsubscribed; resumed
///   (a lost connection's session resumed, with "resent": stanzas sent again),
///   stanzas_lost ("ids": stanzas that may not have arrived); message (from, type, body,
///   id, thread, delay, carbon), message_sent (to, id), message_error, receipt (from, id),
///   caps_verified, caps_invalid; blocklist, blocked, unblocked (jids), blocking_failed.
/// Exit status: 0 clean quit, 1 authentication failed, 2 bad usage, 3 TLS or certificate
/// failure, 4 any other failure.
// This comment is the `--help` text: its brackets are usage syntax, not doc links.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Parser)]
#[command(name = "herald", version, verbatim_doc_comment)]
pub(crate) struct Args {
    /// The account (a full JID requests that resource).
    #[arg(long, value_name = "JID")]
    pub(crate) jid: String,

    /// Read the password from the first line of this file (instead of HERALD_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,

    /// Connect to this host (and port) instead of looking up the domain's SRV records.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub(crate) server: Option<String>,

    /// STARTTLS (port 5222) or TLS from the first byte (port 5223). Default: what the SRV
    /// records say, else starttls.
    #[arg(long, value_enum)]
    pub(crate) tls: Option<TlsArg>,

    /// Trust the CA certificates in this PEM file (in addition to --roots).
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_file: Option<PathBuf>,

    /// Which roots to trust besides --ca-file: the web PKI roots built in, the platform's
    /// (SSL_CERT_FILE / SSL_CERT_DIR, else the system store), or none (only --ca-file).
    #[arg(long, value_enum, value_name = "ROOTS", default_value = "webpki")]
    pub(crate) roots: RootsArg,

    /// The initial availability: chat, away, xa, dnd, offline (or 0-4).
    #[arg(long, value_name = "VALUE", default_value = "chat", value_parser = parse_presence)]
    pub(crate) presence: Presence,

    /// The initial status text.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub(crate) status: String,

    /// The priority sent with available presence (-128 to 127).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub(crate) priority: i8,

    /// Who answers a subscription request that `approve JID` / `deny JID` did not answer
    /// in time: deny it, accept it, or ask (send nothing: the server asks again at the
    /// next login).
    #[arg(long, value_enum, value_name = "POLICY", default_value = "deny")]
    pub(crate) subscriptions: SubscriptionsArg,

    /// How long a subscription request waits for `approve JID` / `deny JID` before
    /// --subscriptions answers it (0: at once).
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    pub(crate) subscription_window: Duration,

    /// After this long with nothing from the server, check that the link is alive (an ack
    /// request with stream management, else a ping); no answer within this long again (at
    /// most 20 s) and the connection counts as lost: the session is resumed or logged in
    /// again. 0: never check.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub(crate) link_check: Duration,

    /// Keep this installation's id and its FAST token (XEP-0484) in FILE (mode 0600): with a
    /// server that offers SASL2 and FAST, the next login takes one round trip and no
    /// password hashing.
    #[arg(long, value_name = "FILE")]
    pub(crate) fast_token_file: Option<PathBuf>,

    /// Log the XML both ways on standard error (SASL payloads redacted).
    #[arg(long)]
    pub(crate) trace: bool,

    /// No TLS at all: the password crosses the network in the clear. Loopback tests only.
    #[arg(long)]
    pub(crate) insecure_plaintext: bool,

    /// What kind of client this is, as service discovery tells contacts (XEP-0030
    /// identity type of category `client`): pc, phone, web, bot, console, tablet...
    #[arg(long, value_name = "TYPE", default_value = "pc", value_parser = parse_token)]
    pub(crate) client_type: String,

    /// The client's name, as service discovery tells contacts.
    #[arg(long, value_name = "NAME", default_value = "Herald")]
    pub(crate) client_name: String,
}

/// How TLS starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TlsArg {
    /// Plain TCP, then STARTTLS.
    Starttls,
    /// TLS from the first byte (XEP-0368).
    Direct,
}

/// The certificate authorities trusted besides --ca-file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RootsArg {
    /// The Mozilla roots built in.
    Webpki,
    /// The platform's certificate store.
    Platform,
    /// None: only --ca-file.
    None,
}

/// The answer to subscription requests nobody answered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SubscriptionsArg {
    /// Refuse them (the IPWorks default).
    Deny,
    /// Approve them.
    Accept,
    /// Leave them pending at the server, which delivers them again at the next login.
    Ask,
}

impl From<SubscriptionsArg> for SubscriptionPolicy {
    fn from(arg: SubscriptionsArg) -> Self {
        match arg {
            SubscriptionsArg::Deny => SubscriptionPolicy::Deny,
            SubscriptionsArg::Accept => SubscriptionPolicy::Accept,
            SubscriptionsArg::Ask => SubscriptionPolicy::Ask,
        }
    }
}

/// A number of seconds, fractions allowed: `30`, `0.5`, `0`; at most a year.
pub(crate) fn parse_seconds(value: &str) -> Result<Duration, String> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| *d <= herald_core::Timeouts::MAX)
        .ok_or_else(|| format!("not a number of seconds up to a year: {value:?}"))
}

/// One word of letters, digits and `-` (an identity type).
pub(crate) fn parse_token(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "not a client type: {value:?} (one word: pc, phone, web, bot...)"
        ))
    }
}

/// The presence values of the interface: the five names and the numbers 0 to 4.
pub(crate) fn parse_presence(value: &str) -> Result<Presence, String> {
    let lower = value.trim().to_ascii_lowercase();
    match lower.as_str() {
        "chat" | "away" | "xa" | "dnd" | "offline" | "0" | "1" | "2" | "3" | "4" => lower
            .parse()
            .map_err(|e: herald_core::InvalidPresence| e.to_string()),
        _ => Err(format!(
            "not a presence value: {value:?} (expected chat, away, xa, dnd, offline or 0-4)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_values() {
        assert_eq!(parse_presence("dnd"), Ok(Presence::DoNotDisturb));
        assert_eq!(parse_presence("XA"), Ok(Presence::ExtendedAway));
        assert_eq!(parse_presence("0"), Ok(Presence::Offline));
        assert_eq!(parse_presence("4"), Ok(Presence::DoNotDisturb));
        assert!(parse_presence("5").is_err());
        assert!(parse_presence("busy").is_err());
    }

    #[test]
    fn the_interface_parses() {
        let args = Args::try_parse_from([
            "herald",
            "--jid",
            "a@b/c",
            "--presence",
            "away",
            "--status",
            "lunch",
            "--priority",
            "-5",
            "--tls",
            "direct",
            "--server",
            "h:1",
        ])
        .unwrap();
        assert_eq!(args.presence, Presence::Away);
        assert_eq!(args.priority, -5);
        assert_eq!(args.tls, Some(TlsArg::Direct));
        assert_eq!(args.subscriptions, SubscriptionsArg::Deny);
        for (value, policy) in [
            ("deny", SubscriptionPolicy::Deny),
            ("accept", SubscriptionPolicy::Accept),
            ("ask", SubscriptionPolicy::Ask),
        ] {
            let args =
                Args::try_parse_from(["herald", "--jid", "a@b", "--subscriptions", value]).unwrap();
            assert_eq!(SubscriptionPolicy::from(args.subscriptions), policy);
        }
        assert!(Args::try_parse_from(["herald", "--jid", "a@b", "--subscriptions", "x"]).is_err());
        assert_eq!(args.subscription_window, Duration::from_secs(30));
        for (value, window) in [("0", 0), ("2", 2000), ("0.25", 250), (" 90 ", 90_000)] {
            let args =
                Args::try_parse_from(["herald", "--jid", "a@b", "--subscription-window", value])
                    .unwrap();
            assert_eq!(args.subscription_window, Duration::from_millis(window));
        }
        for bad in ["-1", "x", "", "inf", "NaN", "1e10"] {
            assert!(
                Args::try_parse_from(["herald", "--jid", "a@b", "--subscription-window", bad])
                    .is_err(),
                "{bad}"
            );
        }
        assert!(Args::try_parse_from(["herald", "--jid", "a@b", "--password", "x"]).is_err());
        assert!(Args::try_parse_from(["herald"]).is_err());
    }
}
