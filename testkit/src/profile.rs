//! What a scripted server offers and how it behaves, with presets modelled on the Debian
//! packages of Prosody 0.12 and ejabberd 23.01 (DESIGN section 10).

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

/// Ways the server's SCRAM can be made to lie, to test the client's checks.
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
}

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
