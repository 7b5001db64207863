//! SASL mechanism names, channel-binding data and mechanism selection.

use core::fmt;

/// SASL mechanism, in Herald's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// SCRAM-SHA-256 with channel binding (RFC 7677, RFC 5802).
    ScramSha256Plus,
    /// SCRAM-SHA-1 with channel binding (RFC 5802).
    ScramSha1Plus,
    /// SCRAM-SHA-256 without channel binding (RFC 7677).
    ScramSha256,
    /// SCRAM-SHA-1 without channel binding (RFC 5802).
    ScramSha1,
    /// PLAIN (RFC 4616): the password in clear, only over TLS.
    Plain,
    /// HT-SHA-256-NONE (draft-schmaus-kitten-sasl-ht): a FAST token (XEP-0484), never
    /// chosen from an RFC 6120 mechanism list.
    HtSha256None,
}

impl Mechanism {
    /// All mechanisms, most preferred first.
    const PREFERENCE: [Mechanism; 5] = [
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::Plain,
    ];

    /// The registered SASL name, e.g. `"SCRAM-SHA-256-PLUS"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::Plain => "PLAIN",
            Mechanism::HtSha256None => "HT-SHA-256-NONE",
        }
    }

    /// Whether this is a `-PLUS` variant, which binds the TLS channel.
    pub fn uses_channel_binding(&self) -> bool {
        matches!(self, Mechanism::ScramSha256Plus | Mechanism::ScramSha1Plus)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Channel-binding types (RFC 5929, RFC 9266).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelBindingType {
    /// `tls-exporter` (RFC 9266), the one to use with TLS 1.3.
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929): a hash of the server certificate.
    TlsServerEndPoint,
    /// `tls-unique` (RFC 5929), TLS 1.2 and earlier only.
    TlsUnique,
}

impl ChannelBindingType {
    /// Herald's preference among the types, most preferred first.
    const PREFERENCE: [ChannelBindingType; 3] = [
        ChannelBindingType::TlsExporter,
        ChannelBindingType::TlsServerEndPoint,
        ChannelBindingType::TlsUnique,
    ];

    /// The registered name, e.g. `"tls-exporter"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChannelBindingType::TlsExporter => "tls-exporter",
            ChannelBindingType::TlsServerEndPoint => "tls-server-end-point",
            ChannelBindingType::TlsUnique => "tls-unique",
        }
    }

    /// Parses a registered name (exact, lower-case); `None` for unknown types.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::PREFERENCE.into_iter().find(|t| t.as_str() == name)
    }
}

/// Channel-binding data the adapter hands in after the TLS handshake. Any subset may be present.
///
/// An empty byte string counts as absent.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ChannelBinding {
    /// `tls-exporter` data (RFC 9266): 32 bytes exported with the label
    /// "EXPORTER-Channel-Binding" and an empty context.
    pub tls_exporter: Option<Vec<u8>>,
    /// `tls-server-end-point` data (RFC 5929): the hash of the server's certificate.
    pub tls_server_end_point: Option<Vec<u8>>,
    /// `tls-unique` data (RFC 5929): the first Finished message of the handshake.
    pub tls_unique: Option<Vec<u8>>,
}

impl ChannelBinding {
    /// Only `tls-exporter` data.
    pub fn tls_exporter(data: Vec<u8>) -> Self {
        ChannelBinding {
            tls_exporter: Some(data),
            ..Self::default()
        }
    }

    /// Only `tls-server-end-point` data.
    pub fn tls_server_end_point(data: Vec<u8>) -> Self {
        ChannelBinding {
            tls_server_end_point: Some(data),
            ..Self::default()
        }
    }

    /// Only `tls-unique` data.
    pub fn tls_unique(data: Vec<u8>) -> Self {
        ChannelBinding {
            tls_unique: Some(data),
            ..Self::default()
        }
    }

    /// The data for `kind`, if present and non-empty.
    pub fn get(&self, kind: ChannelBindingType) -> Option<&[u8]> {
        let data = match kind {
            ChannelBindingType::TlsExporter => &self.tls_exporter,
            ChannelBindingType::TlsServerEndPoint => &self.tls_server_end_point,
            ChannelBindingType::TlsUnique => &self.tls_unique,
        };
        data.as_deref().filter(|d| !d.is_empty())
    }

    /// True when no type has (non-empty) data.
    pub fn is_empty(&self) -> bool {
        ChannelBindingType::PREFERENCE
            .iter()
            .all(|&t| self.get(t).is_none())
    }
}

impl fmt::Debug for ChannelBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only presence and length: the bytes are session secrets.
        let len = |d: &Option<Vec<u8>>| d.as_ref().map(Vec::len);
        f.debug_struct("ChannelBinding")
            .field("tls_exporter_len", &len(&self.tls_exporter))
            .field("tls_server_end_point_len", &len(&self.tls_server_end_point))
            .field("tls_unique_len", &len(&self.tls_unique))
            .finish()
    }
}

/// Hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    /// SCRAM-SHA-1 (RFC 5802).
    Sha1,
    /// SCRAM-SHA-256 (RFC 7677).
    Sha256,
}

/// The GS2 channel-binding flag of a SCRAM exchange.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum CbindFlag {
    /// GS2 `n`: the client does not support channel binding.
    NotSupported,
    /// GS2 `y`: the client supports channel binding but thinks the server does not.
    SupportedNotUsed,
    /// GS2 `p=<type>`: channel binding with this type and data (a -PLUS mechanism).
    Used {
        /// The channel-binding type.
        kind: ChannelBindingType,
        /// The channel-binding data from the TLS layer.
        data: Vec<u8>,
    },
}

impl CbindFlag {
    /// The GS2 header without authzid, e.g. `"n,,"` or `"p=tls-exporter,,"`.
    pub(super) fn gs2_header(&self) -> String {
        match self {
            CbindFlag::NotSupported => "n,,".to_owned(),
            CbindFlag::SupportedNotUsed => "y,,".to_owned(),
            CbindFlag::Used { kind, .. } => format!("p={},,", kind.as_str()),
        }
    }
}

impl fmt::Debug for CbindFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CbindFlag::NotSupported => f.write_str("NotSupported"),
            CbindFlag::SupportedNotUsed => f.write_str("SupportedNotUsed"),
            CbindFlag::Used { kind, data } => f
                .debug_struct("Used")
                .field("kind", kind)
                .field("data_len", &data.len())
                .finish(),
        }
    }
}

/// Picks the mechanism to authenticate with, and the GS2 channel-binding flag for SCRAM.
///
/// * `offered`: the `<mechanism>` texts from the stream features.
/// * `advertised_cb`: the XEP-0440 `<sasl-channel-binding>` types; `None` when the server sent
///   no such element.
/// * `cb`: the channel-binding data; `None` when the transport is not TLS or the adapter gave
///   none.
/// * `tls`: the transport is encrypted.
/// * `allow_plain`: the configuration permits PLAIN (it is still used only over TLS).
///
/// Returns `None` when nothing acceptable is offered.
pub(crate) fn select_mechanism(
    offered: &[String],
    advertised_cb: Option<&[String]>,
    cb: Option<&ChannelBinding>,
    tls: bool,
    allow_plain: bool,
) -> Option<(Mechanism, CbindFlag)> {
    // Names are case-sensitive (RFC 4422 section 3.1): compare exactly.
    let is_offered = |m: Mechanism| offered.iter().any(|o| o == m.as_str());
    let plus_offered = Mechanism::PREFERENCE
        .iter()
        .any(|&m| m.uses_channel_binding() && is_offered(m));

    // -PLUS needs data for a type the server advertised. Without XEP-0440 we cannot know
    // which type the server accepts (ejabberd rejects tls-exporter), so we do not guess.
    let binding = match (cb, advertised_cb) {
        (Some(cb), Some(advertised)) => ChannelBindingType::PREFERENCE.iter().find_map(|&kind| {
            let advertised = advertised
                .iter()
                .any(|a| ChannelBindingType::from_name(a) == Some(kind));
            if advertised {
                cb.get(kind).map(|data| (kind, data))
            } else {
                None
            }
        }),
        _ => None,
    };
    // 'y' tells the server we could bind but it offered no -PLUS. Sending 'y' while the
    // server does offer -PLUS makes it fail us as a downgrade, so that case gets 'n'.
    let holds_data = cb.is_some_and(|c| !c.is_empty());
    let plain_flag = if holds_data && !plus_offered {
        CbindFlag::SupportedNotUsed
    } else {
        CbindFlag::NotSupported
    };

    for mech in Mechanism::PREFERENCE {
        if !is_offered(mech) {
            continue;
        }
        match mech {
            Mechanism::ScramSha256Plus | Mechanism::ScramSha1Plus => {
                if let Some((kind, data)) = binding {
                    let flag = CbindFlag::Used {
                        kind,
                        data: data.to_vec(),
                    };
                    return Some((mech, flag));
                }
            }
            Mechanism::ScramSha256 | Mechanism::ScramSha1 => {
                return Some((mech, plain_flag));
            }
            Mechanism::Plain => {
                if tls && allow_plain {
                    return Some((mech, CbindFlag::NotSupported));
                }
            }
            // Never in PREFERENCE: a token mechanism is chosen by FAST, not from a list.
            Mechanism::HtSha256None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const ALL: &[&str] = &[
        "PLAIN",
        "SCRAM-SHA-1",
        "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-256",
        "SCRAM-SHA-256-PLUS",
    ];

    fn exporter() -> ChannelBinding {
        ChannelBinding::tls_exporter(vec![1; 32])
    }

    fn both() -> ChannelBinding {
        ChannelBinding {
            tls_exporter: Some(vec![1; 32]),
            tls_server_end_point: Some(vec![2; 32]),
            tls_unique: None,
        }
    }

    #[test]
    fn names_and_display() {
        assert_eq!(Mechanism::ScramSha256Plus.as_str(), "SCRAM-SHA-256-PLUS");
        assert_eq!(Mechanism::ScramSha1Plus.to_string(), "SCRAM-SHA-1-PLUS");
        assert_eq!(Mechanism::ScramSha256.as_str(), "SCRAM-SHA-256");
        assert_eq!(Mechanism::ScramSha1.as_str(), "SCRAM-SHA-1");
        assert_eq!(Mechanism::Plain.to_string(), "PLAIN");
        assert!(Mechanism::ScramSha1Plus.uses_channel_binding());
        assert!(!Mechanism::ScramSha256.uses_channel_binding());
        assert!(!Mechanism::Plain.uses_channel_binding());
        for t in ChannelBindingType::PREFERENCE {
            assert_eq!(ChannelBindingType::from_name(t.as_str()), Some(t));
        }
        assert_eq!(
            ChannelBindingType::TlsServerEndPoint.as_str(),
            "tls-server-end-point"
        );
        assert_eq!(ChannelBindingType::from_name("TLS-EXPORTER"), None);
        assert_eq!(ChannelBindingType::from_name("tls-foo"), None);
    }

    #[test]
    fn channel_binding_accessors_and_debug() {
        let cb = ChannelBinding::tls_server_end_point(vec![0xAB; 4]);
        assert_eq!(
            cb.get(ChannelBindingType::TlsServerEndPoint),
            Some(&[0xAB; 4][..])
        );
        assert_eq!(cb.get(ChannelBindingType::TlsExporter), None);
        assert!(!cb.is_empty());
        assert!(ChannelBinding::default().is_empty());
        assert!(ChannelBinding::tls_unique(Vec::new()).is_empty());
        let dbg = format!("{cb:?}");
        assert!(dbg.contains("tls_server_end_point_len: Some(4)"), "{dbg}");
        assert!(
            !dbg.contains("171") && !dbg.to_lowercase().contains("ab,"),
            "{dbg}"
        );
    }

    #[test]
    fn plus_with_advertised_exporter() {
        let adv = names(&["tls-exporter"]);
        let cb = exporter();
        let (m, flag) = select_mechanism(&names(ALL), Some(&adv), Some(&cb), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256Plus);
        assert_eq!(
            flag,
            CbindFlag::Used {
                kind: ChannelBindingType::TlsExporter,
                data: vec![1; 32]
            }
        );
    }

    #[test]
    fn plus_needs_advertisement() {
        let cb = exporter();
        // No XEP-0440 element: never -PLUS, and 'n' because the server offers -PLUS.
        let (m, flag) = select_mechanism(&names(ALL), None, Some(&cb), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256);
        assert_eq!(flag, CbindFlag::NotSupported);
        // Advertised, but not a type we hold data for.
        let adv = names(&["tls-server-end-point", "tls-unique"]);
        let (m, flag) = select_mechanism(&names(ALL), Some(&adv), Some(&cb), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256);
        assert_eq!(flag, CbindFlag::NotSupported);
    }

    #[test]
    fn plus_needs_binding_data() {
        let adv = names(&["tls-exporter"]);
        let (m, flag) = select_mechanism(&names(ALL), Some(&adv), None, true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256);
        assert_eq!(flag, CbindFlag::NotSupported);
        let empty = ChannelBinding::tls_exporter(Vec::new());
        let (m, _) = select_mechanism(&names(ALL), Some(&adv), Some(&empty), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256);
    }

    #[test]
    fn exporter_preferred_over_end_point() {
        let cb = both();
        let adv = names(&["tls-server-end-point", "tls-exporter"]);
        let (_, flag) = select_mechanism(&names(ALL), Some(&adv), Some(&cb), true, false).unwrap();
        assert_eq!(
            flag,
            CbindFlag::Used {
                kind: ChannelBindingType::TlsExporter,
                data: vec![1; 32]
            }
        );
        // Only end-point advertised: use it.
        let adv = names(&["tls-server-end-point"]);
        let (m, flag) = select_mechanism(&names(ALL), Some(&adv), Some(&cb), true, false).unwrap();
        assert_eq!(m, Mechanism::ScramSha256Plus);
        assert_eq!(
            flag,
            CbindFlag::Used {
                kind: ChannelBindingType::TlsServerEndPoint,
                data: vec![2; 32]
            }
        );
    }

    #[test]
    fn sha256_preferred_over_sha1() {
        let adv = names(&["tls-exporter"]);
        let cb = exporter();
        let offered = names(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"]);
        let (m, _) = select_mechanism(&offered, Some(&adv), Some(&cb), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256Plus);
        let offered = names(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"]);
        let (m, _) = select_mechanism(&offered, Some(&adv), Some(&cb), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha1Plus);
        let offered = names(&["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"]);
        let (m, _) = select_mechanism(&offered, None, None, true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256);
        let offered = names(&["PLAIN", "SCRAM-SHA-1"]);
        let (m, _) = select_mechanism(&offered, None, None, true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha1);
    }

    #[test]
    fn y_only_without_plus_offered() {
        let cb = exporter();
        let offered = names(&["SCRAM-SHA-1", "SCRAM-SHA-256"]);
        let (m, flag) = select_mechanism(&offered, None, Some(&cb), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256);
        assert_eq!(flag, CbindFlag::SupportedNotUsed);
        // A -PLUS we cannot use is still offered: 'n', or the server sees a downgrade.
        let offered = names(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256"]);
        let (m, flag) = select_mechanism(&offered, None, Some(&cb), true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha256);
        assert_eq!(flag, CbindFlag::NotSupported);
        // No data held: 'n'.
        let offered = names(&["SCRAM-SHA-256"]);
        let (_, flag) = select_mechanism(&offered, None, None, true, true).unwrap();
        assert_eq!(flag, CbindFlag::NotSupported);
        let empty = ChannelBinding::default();
        let (_, flag) = select_mechanism(&offered, None, Some(&empty), true, true).unwrap();
        assert_eq!(flag, CbindFlag::NotSupported);
    }

    #[test]
    fn plain_only_over_tls_and_when_allowed() {
        let offered = names(&["PLAIN"]);
        let (m, flag) = select_mechanism(&offered, None, None, true, true).unwrap();
        assert_eq!(m, Mechanism::Plain);
        assert_eq!(flag, CbindFlag::NotSupported);
        assert!(select_mechanism(&offered, None, None, false, true).is_none());
        assert!(select_mechanism(&offered, None, None, true, false).is_none());
    }

    #[test]
    fn plain_never_while_usable_scram_offered() {
        let offered = names(&["PLAIN", "SCRAM-SHA-1"]);
        let (m, _) = select_mechanism(&offered, None, None, true, true).unwrap();
        assert_eq!(m, Mechanism::ScramSha1);
        // A -PLUS we cannot use does not count: PLAIN is the fallback.
        let offered = names(&["PLAIN", "SCRAM-SHA-256-PLUS"]);
        let (m, _) = select_mechanism(&offered, None, Some(&exporter()), true, true).unwrap();
        assert_eq!(m, Mechanism::Plain);
    }

    #[test]
    fn nothing_acceptable() {
        assert!(select_mechanism(&[], None, None, true, true).is_none());
        let offered = names(&[
            "DIGEST-MD5",
            "EXTERNAL",
            "scram-sha-1",
            "plain",
            "SCRAM-SHA-1 ",
        ]);
        assert!(select_mechanism(&offered, None, None, true, true).is_none());
        let offered = names(&["SCRAM-SHA-256-PLUS", "PLAIN"]);
        assert!(select_mechanism(&offered, None, None, false, true).is_none());
    }

    #[test]
    fn unknown_mechanisms_ignored() {
        let offered = names(&["X-OAUTH2", "SCRAM-SHA-512", "SCRAM-SHA-1", "ANONYMOUS"]);
        let (m, _) = select_mechanism(&offered, None, None, false, false).unwrap();
        assert_eq!(m, Mechanism::ScramSha1);
    }
}
