//! Round trips per login path, from TCP connect to the initial presence on the wire: what
//! herald takes today (the tests assert it exactly) and what issue 12 ("Fast login") aims
//! for. When the core gets faster, lower `today` here, towards `target`.

use super::Login;

/// The round trips of one login path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// The path, for messages.
    pub path: &'static str,
    /// What the client takes today; the tests assert exactly this.
    pub today: usize,
    /// What issue 12 aims for.
    pub target: usize,
}

/// STARTTLS, first login, on Prosody 0.12 and ejabberd 23.01: header and `<starttls/>`
/// with features and proceed, the TLS handshake, header/features, SCRAM first, SCRAM final,
/// then header, bind, roster and presence in one write (9 before pipelining: header/
/// features, starttls/proceed, TLS, header/features, SCRAM first, SCRAM final,
/// header/features, bind, roster, presence).
pub const STARTTLS_FIRST_LOGIN: Expected = Expected {
    path: "STARTTLS, first login",
    today: 5,
    target: 5,
};

/// Direct TLS (XEP-0368), first login: the TLS handshake, header/features, SCRAM first,
/// SCRAM final, then header, bind, roster and presence in one write (7 before pipelining).
pub const DIRECT_TLS_FIRST_LOGIN: Expected = Expected {
    path: "direct TLS, first login",
    today: 4,
    target: 4,
};

/// Direct TLS, a reconnect of a session that was online (the features of the last session
/// known): the TLS handshake, header with the SASL initial response, SCRAM final, then
/// header, bind, roster and presence (7 before pipelining).
pub const DIRECT_TLS_RECONNECT: Expected = Expected {
    path: "direct TLS, reconnect",
    today: 3,
    target: 3,
};

/// Direct TLS with a stale feature cache (a mechanism the server no longer offers): the
/// early `<auth/>` is refused, the login goes on from the features: one more than
/// [`DIRECT_TLS_RECONNECT`], still online.
pub const DIRECT_TLS_STALE_CACHE: Expected = Expected {
    path: "direct TLS, stale feature cache",
    today: 4,
    target: 4,
};

/// STARTTLS, first login, on a Prosody with SASL2 and Bind2 (`Prosody::start_with_sasl2`):
/// header and `<starttls/>`, TLS, header/features, `<authenticate/>` (SCRAM first, Bind2
/// inline), SCRAM final, then roster and presence at once (no stream restart, no bind).
pub const SASL2_STARTTLS_FIRST_LOGIN: Expected = Expected {
    path: "STARTTLS, first login, SASL2 + Bind2 offered",
    today: 5,
    target: 5,
};

/// Direct TLS against the scripted server (`loopback`), where a FAST token (XEP-0484) is
/// proven since Prosody 0.12 cannot offer it: the TLS handshake, then the header with the
/// token's `<authenticate/>` (cached features), then the roster request and the presence.
pub const FAST_DIRECT_TLS: Expected = Expected {
    path: "direct TLS, FAST token (scripted server)",
    today: 2,
    target: 2,
};

impl Expected {
    /// Prints what `login` took next to this path's numbers, then asserts it is `today`.
    pub fn assert_today(&self, what: &str, login: &Login) {
        eprintln!(
            "{what}: {login} [{}: today {}, target {}]",
            self.path, self.today, self.target
        );
        assert_eq!(
            login.round_trips, self.today,
            "{what}: {} round trips where {} takes {} today (target {}). If the client got \
             faster, lower `today` in herald_testkit::flights::expected. Client flights: {:#?}",
            login.round_trips, self.path, self.today, self.target, login.client_flights
        );
    }
}
