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

/// Resuming (XEP-0198) over STARTTLS after a cut, the last session's features known
/// (Prosody 0.12 `mod_smacks`), counted to `<resumed/>` back
/// ([`FlightProxy::answered_at`](super::FlightProxy::answered_at)): header and
/// `<starttls/>`, TLS, header with the SCRAM first message, SCRAM final, then header and
/// `<resume/>` in one write, answered. A full login is [`STARTTLS_FIRST_LOGIN`]'s 5 to the
/// presence on the wire plus bind, roster and an offline blip; SCRAM's two messages keep a
/// resumption from doing better.
pub const STARTTLS_RESUME: Expected = Expected {
    path: "STARTTLS, resume",
    today: 5,
    target: 5,
};

/// Resuming over direct TLS, RFC 6120 SASL or SASL2 without inline resumption (Prosody
/// 0.12, ejabberd 23.01): TLS, header with the SCRAM first message, SCRAM final, then
/// `<resume/>` (with the header after an RFC 6120 success), answered.
pub const DIRECT_TLS_RESUME: Expected = Expected {
    path: "direct TLS, resume",
    today: 4,
    target: 4,
};

/// Resuming inline in SASL2 with a FAST token, direct TLS (the scripted server, since no
/// Debian server has both): TLS, then the header with `<authenticate/>` carrying the token
/// and `<resume/>`, answered by `<success/>` with `<resumed/>`: one round trip plus TLS.
pub const FAST_INLINE_RESUME: Expected = Expected {
    path: "direct TLS, FAST + inline resume (scripted server)",
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
