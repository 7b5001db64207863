//! Session configuration: who logs in, how strictly, and the limits on peer input.

use std::time::Duration;

use jid::{BareJid, FullJid, Jid};

use crate::error::ConfigError;
use crate::sasl::{Credentials, FastToken, ScramCache, Secret};
use crate::stanza::caps::{Caps, DiscoInfo, Identity};
use crate::stanza::caps_cache::{CapsCache, CapsPolicy};
use crate::stanza::features::FeatureCache;
use crate::stanza::presence::Presence;
use crate::stanza::roster::Roster;
use crate::stanza::sm::Resumption;
use crate::xml::Limits;

/// Who this client is (XEP-0388 `<user-agent/>`), told to servers that speak SASL2. A
/// FAST token belongs to one user agent: keep [`id`](Self::id) stable per installation
/// (generate it once and store it next to the token).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserAgent {
    /// A stable identifier of this installation, e.g. a UUID.
    pub id: String,
    /// The software's name. Default `Herald`.
    pub software: String,
    /// A name for the device, if the user gave one.
    pub device: Option<String>,
}

impl UserAgent {
    /// A user agent with this `id`, software `Herald` and no device name.
    pub fn new(id: impl Into<String>) -> Self {
        UserAgent {
            id: id.into(),
            software: "Herald".into(),
            device: None,
        }
    }
}

/// The software name and version a client answers XEP-0092 requests with. No operating
/// system: that would tell anyone who asks what to attack.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SoftwareVersion {
    /// The software's name.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl SoftwareVersion {
    /// A name and a version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        SoftwareVersion {
            name: name.into(),
            version: version.into(),
        }
    }
}

/// The features every Herald client has: service discovery, capabilities, and answering
/// pings (XEP-0199).
const BASE_FEATURES: [&str; 4] = [
    crate::stanza::caps::NS_CAPS,
    crate::stanza::caps::NS_DISCO_INFO,
    crate::stanza::caps::NS_DISCO_ITEMS,
    "urn:xmpp:ping",
];

/// How the transport is protected, as told to the core by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsPolicy {
    /// TLS is mandatory (the default): STARTTLS must be offered unless the transport is
    /// already TLS, and no credential is sent before it is in place.
    #[default]
    Required,
    /// No TLS at all, credentials in the clear. For loopback tests only; the name is meant
    /// to be loud in code review.
    InsecurePlaintext,
}

/// What happens to an IQ `get`/`set` the core does not answer itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IqPolicy {
    /// The core replies `service-unavailable` (RFC 6120 section 8.4) and still reports the
    /// request as [`Event::Stanza`](crate::Event::Stanza) for information.
    #[default]
    ServiceUnavailable,
    /// The core only reports the request; the application must answer it with
    /// [`Client::send`](crate::Client::send).
    Application,
}

/// Who answers an incoming subscription request the application did not answer.
///
/// Each request is open for [`Timeouts::subscription_window`] (30 s by default): within it
/// the application answers with [`Client::approve`](crate::Client::approve) or
/// [`Client::deny`](crate::Client::deny). When the window closes, or at
/// [`Client::close`](crate::Client::close) if that comes first, the policy answers.
/// Exactly one answer goes out per request. A window of zero gives the IPWorks behaviour:
/// the application answers while it handles
/// [`Event::SubscriptionRequest`](crate::Event::SubscriptionRequest), or the policy does
/// right after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SubscriptionPolicy {
    /// Refuse (`unsubscribed`), reported as
    /// [`Event::SubscriptionAnswered`](crate::Event::SubscriptionAnswered): the IPWorks
    /// default.
    #[default]
    Deny,
    /// Accept (`subscribed`), reported the same way.
    Accept,
    /// Send nothing: the request stays pending at the server, which delivers it again at
    /// the next login (RFC 6121 section 3.1.3). Reported as
    /// [`Event::SubscriptionLeftPending`](crate::Event::SubscriptionLeftPending).
    Ask,
}

/// Timeouts for each login step and for the idle stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// How long each login step (stream header and features, STARTTLS, TLS handshake,
    /// authentication, binding, session) may take. Default 30 s.
    pub step: Duration,
    /// After this long without sending anything while online, a whitespace keepalive goes
    /// out. `None` disables keepalives. Default 60 s.
    pub keepalive: Option<Duration>,
    /// How long each incoming subscription request stays open for the application's
    /// answer before the [`SubscriptionPolicy`] answers it. Default 30 s: time for a
    /// person, a script reading the CLI's events, or an async application. Zero: the
    /// policy answers right after the application drained the request's event, as an
    /// IPWorks event handler would.
    pub subscription_window: Duration,
    /// How long `close` waits for the server's `</stream:stream>`. Default 5 s.
    pub close: Duration,
    /// After this long without a byte from the server while online, the client checks the
    /// link: an ack request (XEP-0198) or a ping (XEP-0199). `None` never checks. Default
    /// 60 s.
    pub link_check: Option<Duration>,
    /// How long a link check may go unanswered before the link counts as dead
    /// ([`DisconnectReason::LinkDead`](crate::DisconnectReason::LinkDead)). Default 20 s.
    pub link_answer: Duration,
    /// How long sent stanzas wait before the client asks the server to acknowledge them
    /// (XEP-0198 `<r/>`), so that a burst costs one request. Default 1 s.
    pub ack_delay: Duration,
}

impl Timeouts {
    /// The longest accepted timeout: a year.
    pub const MAX: Duration = Duration::from_secs(365 * 24 * 60 * 60);

    /// The first timeout longer than [`Timeouts::MAX`], by name.
    pub(crate) fn too_long(&self) -> Option<&'static str> {
        [
            ("step", Some(self.step)),
            ("keepalive", self.keepalive),
            ("subscription_window", Some(self.subscription_window)),
            ("close", Some(self.close)),
            ("link_check", self.link_check),
            ("link_answer", Some(self.link_answer)),
            ("ack_delay", Some(self.ack_delay)),
        ]
        .into_iter()
        .find(|(_, t)| t.is_some_and(|t| t > Timeouts::MAX))
        .map(|(name, _)| name)
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            step: Duration::from_secs(30),
            keepalive: Some(Duration::from_secs(60)),
            close: Duration::from_secs(5),
            link_check: Some(Duration::from_secs(60)),
            link_answer: Duration::from_secs(20),
            ack_delay: Duration::from_secs(1),
            subscription_window: Duration::from_secs(30),
        }
    }
}

/// Bounds on the SCRAM iteration count a server may ask for.
///
/// Too low weakens the stored key; too high lets a server burn our CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IterationBounds {
    /// Smallest accepted count. Default 4096 (RFC 5802 and RFC 7677 recommend at least 4096).
    pub min: u32,
    /// Largest accepted count. Default 100,000: ten times what Prosody uses (10,000;
    /// ejabberd 4,096), so a server cannot make a login burn seconds of CPU.
    pub max: u32,
}

impl Default for IterationBounds {
    fn default() -> Self {
        IterationBounds {
            min: 4096,
            max: 100_000,
        }
    }
}

/// Everything a [`Client`](crate::Client) needs to log in.
///
/// Build it with [`Config::new`] and adjust the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The account. A full JID requests that resource at bind time.
    pub jid: Jid,
    /// The account's password.
    pub password: Secret,
    /// TLS policy. Default [`TlsPolicy::Required`].
    pub tls: TlsPolicy,
    /// Initial availability. Default [`Presence::Chat`].
    pub presence: Presence,
    /// Initial status text. Default empty (no `<status/>` is sent).
    pub status: String,
    /// The initial client state (XEP-0352 client state indication): `false` tells a
    /// server that offers CSI, once online, that the user is not looking, so that it may
    /// hold back or drop what is not urgent. Changed later with
    /// [`Client::set_client_active`](crate::Client::set_client_active); carry
    /// [`Client::client_active`](crate::Client::client_active) over reconnects as the
    /// presence is. Default true (active, what a server assumes of a new session).
    pub client_active: bool,
    /// Priority sent with every available presence (omitted when 0). Default 0.
    pub priority: i8,
    /// What to do with IQ requests the core does not answer. Default: `service-unavailable`.
    pub iq_policy: IqPolicy,
    /// Per-step timeouts and keepalive.
    pub timeouts: Timeouts,
    /// Accepted SCRAM iteration counts.
    pub scram_iterations: IterationBounds,
    /// Limits on what the server may send.
    pub limits: Limits,
    /// Fetch the roster after binding, before the initial presence (RFC 6121 section 2.2).
    /// Default true.
    pub fetch_roster: bool,
    /// A roster cached from an earlier session: with XEP-0237 versioning the server sends
    /// only what changed, or nothing when it is current.
    pub roster_cache: Option<Roster>,
    /// The answer to a subscription request the application did not answer within
    /// [`Timeouts::subscription_window`]. Default [`SubscriptionPolicy::Deny`], as IPWorks.
    pub subscription_policy: SubscriptionPolicy,
    /// How many subscription requests may be open at once (a hostile server could send
    /// any number). Past it the oldest gets the policy's answer early. Default 1,000.
    pub max_open_subscription_requests: usize,
    /// How many contacts' full-JID presences the core remembers (a hostile server could
    /// otherwise grow the table without bound). Default 10,000.
    pub max_tracked_presences: usize,
    /// How many JIDs of the block list (XEP-0191) the core keeps (a hostile server could
    /// push any number). Past it, further blocked JIDs are still reported but not kept.
    /// Default 10,000.
    pub max_blocklist: usize,
    /// Allow SASL PLAIN. It is only ever used over TLS, even with
    /// [`TlsPolicy::InsecurePlaintext`], and never while a usable SCRAM is offered.
    /// Default true: some servers offer nothing else.
    pub allow_plain: bool,
    /// SCRAM keys from earlier connections, so that a reconnect skips PBKDF2: pass the
    /// previous client's [`Client::scram_cache`](crate::Client::scram_cache). Default empty.
    pub scram_cache: ScramCache,
    /// Send what the server is sure to ask for without waiting for its features (default
    /// true): `<starttls/>` with the first stream header, the SASL initial response with the
    /// header after TLS (with a [`feature_cache`](Self::feature_cache)), and after
    /// authentication the bind request, the roster request and the initial presence with
    /// the header. Each saves a round trip; each falls back to the slow way when the server
    /// answers otherwise. `false` waits at every step, as most clients do.
    pub pipelining: bool,
    /// What the server offered last time: pass the previous client's
    /// [`Client::feature_cache`](crate::Client::feature_cache). Default none.
    pub feature_cache: Option<FeatureCache>,
    /// Use stream management (XEP-0198) when the server offers it: stanzas are counted and
    /// acknowledged, unacknowledged ones kept for resending, and after a cut the next
    /// session resumes this one ([`Client::resumption`](crate::Client::resumption) into
    /// [`resumption`](Self::resumption)) with no new bind, no initial presence and no
    /// offline blip for contacts. Default true.
    pub stream_management: bool,
    /// A session to resume (XEP-0198), from the previous client's
    /// [`Client::resumption`](crate::Client::resumption). Refused or expired, the login
    /// starts a fresh session and reports what may be lost. Default none.
    pub resumption: Option<Resumption>,
    /// Authenticate with SASL2 (XEP-0388) when the server offers it, binding inline with
    /// Bind2 (XEP-0386): the resource is then the server's choice, built from the JID's
    /// resource as a tag (Prosody: `tag~suffix`). Default true.
    pub sasl2: bool,
    /// Who this client is, for SASL2; needed for FAST tokens. Default none.
    pub user_agent: Option<UserAgent>,
    /// A FAST token (XEP-0484) from an earlier session: with SASL2 and FAST offered, the
    /// login uses it instead of SCRAM, one round trip and no PBKDF2; refused, the login
    /// falls back to SCRAM. With a [`user_agent`](Self::user_agent) and none here, the
    /// client asks for one. Pass the previous client's
    /// [`Client::fast_token`](crate::Client::fast_token). Default none.
    pub fast_token: Option<FastToken>,
    /// What this client is, for service discovery (XEP-0030) and capabilities
    /// (XEP-0115): category `client`, a type (`pc`, `phone`, `web`, `bot`, `console`...)
    /// and a name. Default `client/pc` named `Herald`.
    pub identity: Identity,
    /// The software's URI in capabilities (the `node` of `<c/>`). Default
    /// `https://example.invalid/herald`.
    pub caps_node: String,
    /// Features the application handles itself, added to those the core derives from
    /// what is enabled (see [`Config::disco_info`]). Default none.
    pub extra_features: Vec<String>,
    /// Answer XEP-0092 software-version requests with this. Default none: the request gets
    /// `service-unavailable` and nobody learns what runs here.
    pub software_version: Option<SoftwareVersion>,
    /// Message receipts (XEP-0184): answer requests, and ask for one with each message to
    /// a contact whose capabilities say it answers. Default true.
    pub receipts: bool,
    /// Ask the server for carbon copies (XEP-0280) once online, so that messages other
    /// resources of the account send and receive arrive here too, as
    /// [`Event::Message`](crate::Event::Message) with a
    /// [`carbon`](crate::IncomingMessage::carbon) direction. Default false (opt-in).
    pub carbons: bool,
    /// When to ask contacts what their capabilities stand for. Default
    /// [`CapsPolicy::Automatic`].
    pub caps_policy: CapsPolicy,
    /// Capabilities verified earlier: pass the previous client's
    /// [`Client::caps_cache`](crate::Client::caps_cache). Default empty.
    pub caps_cache: CapsCache,
}

impl Config {
    /// A configuration with the defaults for `jid` and `password`.
    ///
    /// Fails when the JID has no local part (an account needs one).
    pub fn new(jid: &str, password: impl Into<Secret>) -> Result<Self, ConfigError> {
        let jid =
            crate::jid_util::parse_jid(jid).map_err(|e| ConfigError::InvalidJid(e.to_string()))?;
        if jid.node().is_none() {
            return Err(ConfigError::JidWithoutLocalPart);
        }
        let config = Config {
            jid,
            password: password.into(),
            tls: TlsPolicy::Required,
            presence: Presence::Chat,
            status: String::new(),
            client_active: true,
            priority: 0,
            iq_policy: IqPolicy::ServiceUnavailable,
            timeouts: Timeouts::default(),
            scram_iterations: IterationBounds::default(),
            limits: Limits::default(),
            allow_plain: true,
            scram_cache: ScramCache::new(),
            pipelining: true,
            feature_cache: None,
            sasl2: true,
            stream_management: true,
            resumption: None,
            user_agent: None,
            fast_token: None,
            fetch_roster: true,
            roster_cache: None,
            subscription_policy: SubscriptionPolicy::Deny,
            max_open_subscription_requests: 1_000,
            max_tracked_presences: 10_000,
            max_blocklist: 10_000,
            identity: Identity::new("client", "pc").with_name("Herald"),
            caps_node: "https://example.invalid/herald".into(),
            extra_features: Vec::new(),
            software_version: None,
            receipts: true,
            carbons: false,
            caps_policy: CapsPolicy::Automatic,
            caps_cache: CapsCache::new(),
        };
        config.credentials()?;
        Ok(config)
    }

    /// Whether [`Client::new`](crate::Client::new) would accept this configuration (the
    /// same checks, nothing built): for an adapter that starts the client later and wants
    /// to report a bad setting at once.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.validate()?;
        self.credentials().map(drop)
    }

    /// What the client answers to disco#info (XEP-0030) and announces as capabilities:
    /// the [`identity`](Self::identity) and the features of what is enabled (disco,
    /// caps, ping; receipts; software version) plus the
    /// [`extra_features`](Self::extra_features).
    pub fn disco_info(&self) -> DiscoInfo {
        let mut features: Vec<String> = BASE_FEATURES.iter().map(|f| f.to_string()).collect();
        if self.receipts {
            features.push(crate::stanza::message::NS_RECEIPTS.into());
        }
        if self.software_version.is_some() {
            features.push(crate::stanza::version::NS_VERSION.into());
        }
        for extra in &self.extra_features {
            if !features.contains(extra) {
                features.push(extra.clone());
            }
        }
        features.sort();
        DiscoInfo::new(vec![self.identity.clone()], features, Vec::new())
    }

    /// The capabilities every available presence carries: [`disco_info`](Self::disco_info)
    /// hashed under [`caps_node`](Self::caps_node).
    pub fn caps(&self) -> Caps {
        Caps::new(self.caps_node.clone(), &self.disco_info())
    }

    /// Whether the service discovery information can be announced.
    pub(crate) fn check_disco(&self) -> Result<(), ConfigError> {
        self.disco_info()
            .validate()
            .map_err(|e| ConfigError::InvalidDiscoInfo(e.to_string()))
    }

    /// What [`Client::new`](crate::Client::new) refuses, credentials aside.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.disco_info()
            .validate()
            .map_err(|e| ConfigError::InvalidDiscoInfo(e.to_string()))?;
        let version = self
            .software_version
            .iter()
            .flat_map(|v| [&v.name, &v.version]);
        if let Some(ch) = std::iter::once(&self.caps_node)
            .chain(version)
            .find_map(|t| crate::xml::invalid_char(t))
        {
            return Err(ConfigError::InvalidDiscoInfo(format!(
                "U+{:04X} cannot appear in XML",
                u32::from(ch)
            )));
        }
        if self.limits.max_stanza_bytes > Limits::MAX_STANZA_BYTES {
            return Err(ConfigError::StanzaLimitTooLarge(
                self.limits.max_stanza_bytes,
            ));
        }
        if let Some(name) = self.timeouts.too_long() {
            return Err(ConfigError::TimeoutTooLong(name));
        }
        if let Some(ch) = crate::xml::invalid_char(&self.status) {
            return Err(ConfigError::InvalidStatus { ch });
        }
        if let Some(agent) = &self.user_agent {
            let texts = [
                Some(&agent.id),
                Some(&agent.software),
                agent.device.as_ref(),
            ];
            if let Some(ch) = texts
                .into_iter()
                .flatten()
                .find_map(|t| crate::xml::invalid_char(t))
            {
                return Err(ConfigError::InvalidUserAgent { ch });
            }
        }
        if let Some(resumption) = &self.resumption {
            let bare = |j: String| j.to_lowercase();
            if bare(resumption.jid.to_bare().to_string()) != bare(self.jid.to_bare().to_string()) {
                return Err(ConfigError::ResumptionOfOtherAccount {
                    jid: resumption.jid.clone(),
                });
            }
        }
        Ok(())
    }

    /// The credentials as SASL sends them.
    pub(crate) fn credentials(&self) -> Result<Credentials, ConfigError> {
        let node = self.jid.node().ok_or(ConfigError::JidWithoutLocalPart)?;
        Credentials::prepare(node.as_str(), self.password.expose())
            .ok_or(ConfigError::InvalidCredentials)
    }

    /// The account's bare JID.
    pub fn bare_jid(&self) -> BareJid {
        self.jid.to_bare()
    }

    /// The requested full JID, when the configured JID has a resource.
    pub fn requested_full_jid(&self) -> Option<FullJid> {
        self.jid.clone().try_into_full().ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_password_is_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<crate::sasl::Secret>();
    }
}
