//! The ways a login can go against the scripted server, each as a server, a client
//! configuration and a transport, with the mechanisms the server must see authenticate (so
//! that a test over all of them knows each went the way its name says).

use herald_core::{Config, FastToken, Transport, UserAgent};
use herald_testkit::fuzz::modes::fast_login_features;
use herald_testkit::profile::{CLOCK_START, FastRotation, FastSlots, FastToken as IssuedToken};
use herald_testkit::{ServerProfile, config_for};

/// This installation, as the server knows it.
pub(crate) const AGENT: &str = "d4565fa7-4d72-4749-b3d3-740edbf87770";
/// The token the server issued to [`AGENT`] before the test began.
pub(crate) const TOKEN: &str = "secret-token:issued-before";
const HT: &str = "HT-SHA-256-NONE";

/// A way to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginPath {
    /// Prosody 0.12-like: STARTTLS, RFC 6120 SCRAM-SHA-1, bind with the header after success.
    Prosody,
    /// ejabberd 23.01-like: SCRAM-SHA-1-PLUS, session feature.
    Ejabberd,
    /// STARTTLS, then SASL2 with SCRAM-SHA-256 and Bind2 inline, asking for a FAST token.
    Sasl2Bind2,
    /// Direct TLS, no feature cache: the token after the features (HT-SHA-256-NONE); the
    /// server rotates it, so the success carries a new one.
    FastToken,
    /// Direct TLS with the features cached: the token with the first header.
    FastTokenEarly,
    /// Direct TLS, a token the server never issued: refused, then SCRAM from the features.
    RefusedToken,
    /// STARTTLS, a cached SASL2 offer of SCRAM-SHA-256 the server no longer makes: the early
    /// `<authenticate/>` is refused, then SCRAM-SHA-1 from the features.
    StaleCache,
    /// Direct TLS, the token and a cached offer of FAST, which the server no longer makes:
    /// the early token is refused unjudged (and kept), then SCRAM-SHA-256.
    FastWithdrawn,
    /// Prosody-like with pipelining off: every step waits for the server.
    PipeliningOff,
    /// SASL2, a token and the features cached, pipelining off: the token after the features.
    FastPipeliningOff,
}

impl LoginPath {
    /// Every path.
    pub(crate) const ALL: [LoginPath; 10] = [
        LoginPath::Prosody,
        LoginPath::Ejabberd,
        LoginPath::Sasl2Bind2,
        LoginPath::FastToken,
        LoginPath::FastTokenEarly,
        LoginPath::RefusedToken,
        LoginPath::StaleCache,
        LoginPath::FastWithdrawn,
        LoginPath::PipeliningOff,
        LoginPath::FastPipeliningOff,
    ];

    /// The server, the client's configuration and the transport. SCRAM takes 4096
    /// iterations, the least the client accepts, to keep property tests quick.
    pub(crate) fn setup(self) -> (ServerProfile, Config, Transport) {
        let direct = Transport::DirectTls(None);
        let (profile, transport) = match self {
            LoginPath::Prosody | LoginPath::PipeliningOff => {
                (ServerProfile::prosody_like(), Transport::Plain)
            }
            LoginPath::Ejabberd => (ServerProfile::ejabberd_like(), Transport::Plain),
            LoginPath::Sasl2Bind2 => (ServerProfile::fast_login(), Transport::Plain),
            LoginPath::StaleCache => (
                ServerProfile {
                    mechanisms: vec!["SCRAM-SHA-1", "PLAIN"],
                    ..ServerProfile::fast_login()
                },
                Transport::Plain,
            ),
            LoginPath::FastToken => (
                ServerProfile {
                    fast_rotation: FastRotation::EveryLogin,
                    ..token_server()
                },
                direct,
            ),
            LoginPath::FastWithdrawn => (
                ServerProfile {
                    fast: false,
                    ..token_server()
                },
                direct,
            ),
            LoginPath::FastTokenEarly | LoginPath::RefusedToken | LoginPath::FastPipeliningOff => {
                (token_server(), direct)
            }
        };
        let profile = ServerProfile {
            iterations: 4096,
            ..profile
        };
        let mut config = config_for(&profile);
        if profile.sasl2 {
            config.user_agent = Some(UserAgent::new(AGENT));
        }
        let token = |secret: &str| Some(FastToken::new(HT, secret, None));
        match self {
            LoginPath::FastToken => config.fast_token = token(TOKEN),
            LoginPath::FastTokenEarly | LoginPath::FastWithdrawn => {
                config.fast_token = token(TOKEN);
                config.feature_cache = Some(fast_login_features());
            }
            LoginPath::RefusedToken => config.fast_token = token("secret-token:forged"),
            LoginPath::StaleCache => config.feature_cache = Some(fast_login_features()),
            LoginPath::PipeliningOff => config.pipelining = false,
            LoginPath::FastPipeliningOff => {
                config.fast_token = token(TOKEN);
                config.feature_cache = Some(fast_login_features());
                config.pipelining = false;
            }
            _ => {}
        }
        (profile, config, transport)
    }

    /// The mechanisms the server must see authenticate, in order (one refused first when
    /// there are two).
    pub(crate) fn mechanisms(self) -> &'static [&'static str] {
        match self {
            LoginPath::Prosody | LoginPath::PipeliningOff | LoginPath::StaleCache => {
                &["SCRAM-SHA-1"]
            }
            LoginPath::Ejabberd => &["SCRAM-SHA-1-PLUS"],
            LoginPath::Sasl2Bind2 | LoginPath::FastWithdrawn => &["SCRAM-SHA-256"],
            LoginPath::FastToken | LoginPath::FastTokenEarly | LoginPath::FastPipeliningOff => {
                &[HT]
            }
            LoginPath::RefusedToken => &[HT, "SCRAM-SHA-256"],
        }
    }
}

/// [`ServerProfile::fast_login`] on direct TLS, holding [`TOKEN`] for [`AGENT`].
fn token_server() -> ServerProfile {
    let mut profile = ServerProfile {
        starttls: false,
        ..ServerProfile::fast_login()
    };
    let issued = IssuedToken {
        secret: TOKEN.into(),
        mechanism: HT.into(),
        issued_at: CLOCK_START,
        expires_at: CLOCK_START + profile.fast_token_ttl,
    };
    let slots = FastSlots {
        current: Some(issued),
        new: None,
    };
    profile.fast_tokens.insert(AGENT.into(), slots);
    profile
}
