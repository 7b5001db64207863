//! What a scripted server offers and how it behaves, with presets modelled on the Debian
//! packages of Prosody 0.12 and ejabberd 23.01 (DESIGN section 10), and one with SASL2
//! (XEP-0388), Bind 2 (XEP-0386) and FAST (XEP-0484), which those packages cannot offer.

use std::collections::BTreeMap;

use crate::sm_store::SmStore;

/// Whether and how the RFC 3921 session feature is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFeature {
    /// Not offered.
    Absent,
    /// Offered with `<optional/>` (Prosody, ejabberd).
    Optional,
    /// Offered without `<optional/>`: old servers that require it.
    Required,
}

/// Ways the server's SCRAM can be made to lie, to test the client's checks. The two about
/// the server's proof apply to FAST's responder-msg (draft-schmaus-kitten-sasl-ht section
/// 3.3) as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramTamper {
    /// Honest.
    None,
    /// The server nonce does not extend the client's.
    ForeignNonce,
    /// The server signature `v=` is wrong.
    WrongSignature,
    /// `<success/>` carries no `v=` at all.
    OmitServerFinal,
}

/// When a server replaces a FAST token that was just used (XEP-0484 section 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastRotation {
    /// Never: a token lives until it expires or is invalidated (Prosody's 2023 module).
    Never,
    /// After every login with a token.
    EveryLogin,
    /// When the token used is at least this many seconds old (on [`ServerProfile::clock`]).
    OlderThan(u64),
}

/// A FAST token the server issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastToken {
    /// The secret, as sent in `<token token='...'/>`.
    pub secret: String,
    /// The mechanism the client asked for with `<request-token mechanism='...'/>`: the token
    /// is refused with any other.
    pub mechanism: String,
    /// When it was issued ([`ServerProfile::clock`] seconds).
    pub issued_at: u64,
    /// When it expires ([`ServerProfile::clock`] seconds).
    pub expires_at: u64,
}

/// The tokens of one client (one SASL2 `<user-agent id='...'>`), in the two slots of
/// XEP-0484 section 6.1: a token the client has not used yet waits in `new`; the first use
/// moves it to `current`, replacing the older one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FastSlots {
    /// The token last used successfully.
    pub current: Option<FastToken>,
    /// The token last issued, not used yet.
    pub new: Option<FastToken>,
}

/// How the server answers a request that calls for an answer: an XEP-0198 `<r/>`, an
/// XEP-0199 ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// At once, as the XEP asks.
    Prompt,
    /// Held until the test calls
    /// [`ScriptedServer::release_held`](crate::ScriptedServer::release_held) (a slow
    /// server: the test moves the client's clock in between).
    Held,
    /// Never (a server that hangs, or a link that went dead one way).
    Never,
}

/// Channel-binding bytes the simulated TLS layer shares with both ends.
pub const EXPORTER: &[u8] = b"simulated tls-exporter keying material, 32B";
/// Simulated `tls-server-end-point` hash.
pub const END_POINT: &[u8] = b"simulated certificate hash";

/// A scripted server's behaviour.
#[derive(Debug, Clone)]
pub struct ServerProfile {
    /// The XMPP domain.
    pub domain: String,
    /// The account's local part.
    pub username: String,
    /// The account's password.
    pub password: String,
    /// `version` in the stream header.
    pub stream_version: String,
    /// STARTTLS offered (and required) before TLS.
    pub starttls: bool,
    /// Answer `<starttls/>` with `<failure/>`.
    pub refuse_starttls: bool,
    /// SASL mechanisms offered after TLS.
    pub mechanisms: Vec<&'static str>,
    /// XEP-0440 channel-binding types advertised, `None` for no advertisement.
    pub cb_advertised: Option<Vec<&'static str>>,
    /// Channel-binding types the server accepts.
    pub cb_accepted: Vec<&'static str>,
    /// SCRAM iteration count.
    pub iterations: u32,
    /// SCRAM salt.
    pub salt: Vec<u8>,
    /// Appended to the client nonce.
    pub server_nonce_suffix: String,
    /// SCRAM misbehaviour.
    pub scram_tamper: ScramTamper,
    /// Session feature.
    pub session: SessionFeature,
    /// Answer bind with this stanza error condition instead of a JID.
    pub bind_error: Option<String>,
    /// Echo the client's unavailable presence back (Prosody does, ejabberd does not).
    pub echo_unavailable: bool,
    /// Answer the client's `</stream:stream>` with ours.
    pub answer_close: bool,
    /// The account's roster: (bare JID, name, subscription).
    pub roster: Vec<(String, Option<String>, String)>,
    /// Offer XEP-0237 roster versioning, at this version.
    pub roster_version: Option<String>,
    /// Offer subscription pre-approval.
    pub pre_approval: bool,
    /// Send the roster push before the IQ result of a roster set (ejabberd), else after
    /// (Prosody).
    pub push_before_result: bool,
    /// Answer the roster get with this stanza error condition.
    pub roster_error: Option<String>,
    /// Offer RFC 6120 SASL (`<mechanisms/>`) after TLS. Without it, an `<auth/>` ends the
    /// stream with `unsupported-stanza-type`, as an unknown top-level element does.
    pub legacy_sasl: bool,
    /// Offer SASL2 (XEP-0388, `<authentication xmlns='urn:xmpp:sasl:2'>`) with the same
    /// [`mechanisms`](Self::mechanisms).
    pub sasl2: bool,
    /// Offer Bind 2 (XEP-0386) inline in SASL2.
    pub bind2: bool,
    /// Offer FAST (XEP-0484) inline in SASL2, with [`fast_mechanisms`](Self::fast_mechanisms).
    /// Like Prosody's module, only on a stream whose header names the account in `from`.
    pub fast: bool,
    /// The FAST mechanisms offered (draft-schmaus-kitten-sasl-ht: `HT-SHA-256-NONE`,
    /// `-ENDP`, `-EXPR`).
    pub fast_mechanisms: Vec<&'static str>,
    /// After SASL2 `<success/>`, send `<stream:features>` at once on the same stream, as
    /// XEP-0388 1.0 (section 2.6.1) and Prosody's 2023 mod_sasl2 do. Off: nothing follows the
    /// success until the client speaks.
    pub features_after_sasl2_success: bool,
    /// Write a SASL2 failure's condition as Prosody's 2023 mod_sasl2 does, in the SASL2
    /// namespace (`<failure xmlns='urn:xmpp:sasl:2'><not-authorized/></failure>`), instead of
    /// in RFC 6120's as XEP-0388's example does.
    pub sasl2_failure_like_prosody: bool,
    /// How long a FAST token is valid, in seconds (Prosody's default: 21 days).
    pub fast_token_ttl: u64,
    /// When a used FAST token is replaced by a new one.
    pub fast_rotation: FastRotation,
    /// The FAST tokens issued, by user-agent id. Tests carry them from one session to the
    /// next by moving the profile (`pair.server.profile.clone()`).
    pub fast_tokens: BTreeMap<String, FastSlots>,
    /// How many FAST tokens were issued so far (each secret is derived from this count).
    pub fast_tokens_issued: u64,
    /// The server's wall clock, in seconds since 1970 (FAST expiry and rotation, the stream
    /// management window); tests move it by hand.
    pub clock: u64,
    /// How the server answers an XEP-0199 ping addressed to it.
    pub ping_reply: Reply,
    /// Offer XEP-0198 stream management (`<sm xmlns='urn:xmpp:sm:3'/>`) after
    /// authentication, and serve `<enable/>`, `<r/>`, `<a/>` and `<resume/>`.
    pub sm: bool,
    /// Allow resumption: `<enable resume='true'/>` gets an SM-ID and `resume='true'`.
    /// Without it `<resume/>` fails with `feature-not-implemented`.
    pub sm_resume: bool,
    /// `max` on `<enabled/>`, in seconds: how long a cut session waits for a resume (the
    /// lower of this and the client's `max`, if it asks). `None`: no `max` is sent, and the
    /// window is [`SM_DEFAULT_WINDOW`] (or the client's `max`, if lower).
    pub sm_max: Option<u32>,
    /// `location` on `<enabled/>` (XEP-0198 section 5), e.g. `[2001:41D0:1:A49b::1]:9222`.
    pub sm_location: Option<String>,
    /// Offer `<enable/>` inside Bind 2's `<bind/>` (XEP-0198 section 9.1: `<feature
    /// var='urn:xmpp:sm:3'/>` in Bind 2's `<inline/>`), answered inside `<bound/>`.
    pub sm_inline_bind2: bool,
    /// Offer `<resume/>` inside SASL2's `<authenticate/>` (XEP-0198 section 9.2: `<sm
    /// xmlns='urn:xmpp:sm:3'/>` in SASL2's `<inline/>`), answered inside `<success/>`.
    pub sm_inline_resume: bool,
    /// Send `<r/>` after every this many stanzas to the client.
    pub sm_ack_every: Option<u32>,
    /// How the server answers the client's `<r/>`.
    pub sm_r_reply: Reply,
    /// Add this to the `h` of every `<a/>` and `<resumed/>` the server sends: a server that
    /// claims stanzas the client never sent.
    pub sm_h_too_high: Option<u32>,
    /// Answer `<enable/>` with `<failed/>` of this stanza error condition (e.g.
    /// `internal-server-error`).
    pub sm_enable_error: Option<String>,
    /// Refuse every resumption as if the session had timed out: `<failed h='...'>` with
    /// `item-not-found`, and the session is dropped.
    pub sm_refuse_resume: bool,
    /// Where both counters of a new session start, instead of 0 (to test the wrap at 2^32
    /// without sending four billion stanzas; a real client starts at 0, so only the server's
    /// own tests set it).
    pub sm_counter_start: u32,
    /// The stream management sessions, live and cut. Tests carry them from one connection
    /// to the next by moving the profile, like [`fast_tokens`](Self::fast_tokens).
    pub sm_store: SmStore,
    /// Offer XEP-0352 client state indication (`<csi xmlns='urn:xmpp:csi:0'/>`) after
    /// authentication, and take `<active/>` and `<inactive/>` from a bound client. Without
    /// it they end the stream with `unsupported-stanza-type`, as an unknown top-level
    /// element does (Prosody without mod_csi).
    pub csi: bool,
    /// XEP-0191 blocking: the account's block list, served and edited as Prosody's
    /// mod_blocklist does (a change is answered, then pushed if the client asked for the
    /// list on this stream). `None`: not supported, requests get `service-unavailable`.
    pub blocklist: Option<Vec<String>>,
}

/// How long a cut stream management session waits for a resume when the profile sets no
/// [`sm_max`](ServerProfile::sm_max): Prosody's default hibernation time.
pub const SM_DEFAULT_WINDOW: u64 = 600;

/// 2026-01-01T00:00:00Z, the scripted server's wall clock when a profile is made.
pub const CLOCK_START: u64 = 1_767_225_600;

impl ServerProfile {
    /// Like Prosody 0.12 on TLS 1.3: SCRAM-SHA-1 and PLAIN, 10000 iterations, optional
    /// session, echoes unavailable presence.
    pub fn prosody_like() -> Self {
        ServerProfile {
            domain: "localhost".into(),
            username: "alice".into(),
            password: "wonderland".into(),
            stream_version: "1.0".into(),
            starttls: true,
            refuse_starttls: false,
            mechanisms: vec!["SCRAM-SHA-1", "PLAIN"],
            cb_advertised: None,
            cb_accepted: vec!["tls-unique", "tls-exporter"],
            iterations: 10_000,
            salt: b"prosody-salt-16b".to_vec(),
            server_nonce_suffix: "prosody3rfcNHYJY1ZVvWVs7j".into(),
            scram_tamper: ScramTamper::None,
            session: SessionFeature::Optional,
            bind_error: None,
            echo_unavailable: true,
            answer_close: true,
            roster: vec![("bob@localhost".into(), Some("Bob".into()), "both".into())],
            roster_version: Some("v1".into()),
            pre_approval: false,
            push_before_result: false,
            roster_error: None,
            legacy_sasl: true,
            sasl2: false,
            bind2: false,
            fast: false,
            fast_mechanisms: vec!["HT-SHA-256-NONE"],
            features_after_sasl2_success: true,
            sasl2_failure_like_prosody: false,
            fast_token_ttl: 21 * 86_400,
            fast_rotation: FastRotation::Never,
            fast_tokens: BTreeMap::new(),
            fast_tokens_issued: 0,
            clock: CLOCK_START,
            ping_reply: Reply::Prompt,
            sm: false,
            sm_resume: false,
            sm_max: None,
            sm_location: None,
            sm_inline_bind2: false,
            sm_inline_resume: false,
            sm_ack_every: None,
            sm_r_reply: Reply::Prompt,
            sm_h_too_high: None,
            sm_enable_error: None,
            sm_refuse_resume: false,
            sm_counter_start: 0,
            sm_store: SmStore::default(),
            csi: false,
            blocklist: None,
        }
    }

    /// A server with everything issue 12's fast login can use: Prosody-like, plus SASL2 with
    /// Bind 2 and FAST (`HT-SHA-256-NONE`), and SCRAM-SHA-256 first; RFC 6120 SASL is
    /// still offered alongside.
    pub fn fast_login() -> Self {
        ServerProfile {
            mechanisms: vec!["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"],
            sasl2: true,
            bind2: true,
            fast: true,
            ..ServerProfile::prosody_like()
        }
    }

    /// Prosody-like, with XEP-0198 stream management and resumption (a 300 s window,
    /// announced as `max`), as Prosody's mod_smacks offers it.
    pub fn stream_management() -> Self {
        ServerProfile {
            sm: true,
            sm_resume: true,
            sm_max: Some(300),
            ..ServerProfile::prosody_like()
        }
    }

    /// [`fast_login`](Self::fast_login) with stream management, inline in Bind 2 and in
    /// SASL2 as well.
    pub fn fast_login_with_sm() -> Self {
        ServerProfile {
            sm: true,
            sm_resume: true,
            sm_max: Some(300),
            sm_inline_bind2: true,
            sm_inline_resume: true,
            ..ServerProfile::fast_login()
        }
    }

    /// Like ejabberd 23.01: PLAIN, SCRAM-SHA-1-PLUS and SCRAM-SHA-1 even on TLS 1.3,
    /// 4096 iterations, only `tls-server-end-point` accepted, no echo of unavailable.
    pub fn ejabberd_like() -> Self {
        ServerProfile {
            mechanisms: vec!["PLAIN", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"],
            cb_advertised: Some(vec!["tls-server-end-point"]),
            cb_accepted: vec!["tls-server-end-point"],
            iterations: 4096,
            salt: b"ejabberd-salt".to_vec(),
            server_nonce_suffix: "ejabberdQ6sek8bf92".into(),
            echo_unavailable: false,
            roster_version: None,
            pre_approval: true,
            push_before_result: true,
            ..ServerProfile::prosody_like()
        }
    }

    /// The bytes the server binds with `kind`, if it accepts that type.
    pub fn channel_binding_data(&self, kind: &str) -> Option<Vec<u8>> {
        if !self.cb_accepted.contains(&kind) {
            return None;
        }
        match kind {
            "tls-exporter" => Some(EXPORTER.to_vec()),
            "tls-server-end-point" => Some(END_POINT.to_vec()),
            _ => None,
        }
    }
}
