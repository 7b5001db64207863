//! What a server can do wrong: [`PeerMisbehaved`] for protocol violations Herald detects,
//! [`StreamErrorCondition`] for the RFC 6120 stream error conditions (received or sent).

use std::fmt;

use jid::FullJid;

/// One way the server broke the protocol (the session ends with
/// [`DisconnectReason::PeerMisbehaved`](crate::DisconnectReason::PeerMisbehaved)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// An element arrived before the server's stream header.
    #[error("element before the stream header")]
    ElementBeforeHeader,
    /// The server's stream is not XMPP 1.0 (or later).
    #[error("the server's stream version is {version:?}, XMPP 1.0 is required")]
    UnsupportedVersion {
        /// The `version` attribute of the server's header, if any.
        version: Option<String>,
    },
    /// The server sent an element the protocol does not allow at this point.
    #[error("expected {expected}, got <{got}/>")]
    UnexpectedElement {
        /// What the protocol expects here.
        expected: &'static str,
        /// The name of the element received.
        got: String,
    },
    /// After authentication the server offered no resource binding.
    #[error("the server offers no resource binding")]
    NoResourceBinding,
    /// The bind result carries no valid full JID.
    #[error("the bind result carries no valid full JID")]
    InvalidBindResult,
    /// The server acknowledged more stanzas than were sent (XEP-0198).
    #[error("the server acknowledged {h} stanzas where {sent} were sent")]
    HandledCountTooHigh {
        /// The count the server gave.
        h: u32,
        /// The count sent.
        sent: u32,
    },
    /// The server bound a JID of another account: going online as someone else would
    /// misreport who we are.
    #[error("the server bound {jid}, which is not this account")]
    BoundOtherAccount {
        /// The JID the server bound.
        jid: FullJid,
    },
}

macro_rules! conditions {
    ($($variant:ident => $name:literal,)*) => {
        /// A stream error condition (RFC 6120 section 4.9.3), received from the server or sent
        /// to it. Compares equal to its name: `condition == "conflict"`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum StreamErrorCondition {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
            /// A condition RFC 6120 does not define (kept as the server named it).
            Other(String),
        }

        impl StreamErrorCondition {
            /// The condition's element name, e.g. `system-shutdown`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(StreamErrorCondition::$variant => $name,)*
                    StreamErrorCondition::Other(name) => name,
                }
            }

            /// The condition named `name` (an unknown name becomes [`Self::Other`]).
            pub fn from_name(name: &str) -> Self {
                match name {
                    $($name => StreamErrorCondition::$variant,)*
                    other => StreamErrorCondition::Other(other.to_string()),
                }
            }
        }
    };
}

conditions! {
    BadFormat => "bad-format",
    BadNamespacePrefix => "bad-namespace-prefix",
    Conflict => "conflict",
    ConnectionTimeout => "connection-timeout",
    HostGone => "host-gone",
    HostUnknown => "host-unknown",
    ImproperAddressing => "improper-addressing",
    InternalServerError => "internal-server-error",
    InvalidFrom => "invalid-from",
    InvalidNamespace => "invalid-namespace",
    InvalidXml => "invalid-xml",
    NotAuthorized => "not-authorized",
    NotWellFormed => "not-well-formed",
    PolicyViolation => "policy-violation",
    RemoteConnectionFailed => "remote-connection-failed",
    Reset => "reset",
    ResourceConstraint => "resource-constraint",
    RestrictedXml => "restricted-xml",
    SeeOtherHost => "see-other-host",
    SystemShutdown => "system-shutdown",
    UndefinedCondition => "undefined-condition",
    UnsupportedEncoding => "unsupported-encoding",
    UnsupportedFeature => "unsupported-feature",
    UnsupportedStanzaType => "unsupported-stanza-type",
    UnsupportedVersion => "unsupported-version",
}

impl StreamErrorCondition {
    /// Whether a new connection would likely meet the same error (a configuration or
    /// account problem, not the server's passing state).
    pub fn repeats(&self) -> bool {
        matches!(
            self,
            StreamErrorCondition::Conflict
                | StreamErrorCondition::NotAuthorized
                | StreamErrorCondition::HostUnknown
                | StreamErrorCondition::ImproperAddressing
                | StreamErrorCondition::InvalidFrom
                | StreamErrorCondition::InvalidNamespace
                | StreamErrorCondition::UnsupportedVersion
                | StreamErrorCondition::UnsupportedEncoding
                | StreamErrorCondition::UnsupportedFeature
                | StreamErrorCondition::PolicyViolation
        )
    }
}

impl fmt::Display for StreamErrorCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for StreamErrorCondition {
    fn from(name: &str) -> Self {
        StreamErrorCondition::from_name(name)
    }
}

impl From<String> for StreamErrorCondition {
    fn from(name: String) -> Self {
        StreamErrorCondition::from_name(&name)
    }
}

impl PartialEq<&str> for StreamErrorCondition {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for StreamErrorCondition {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_kept() {
        for name in [
            "conflict",
            "system-shutdown",
            "unsupported-stanza-type",
            "reset",
        ] {
            let condition = StreamErrorCondition::from_name(name);
            assert!(
                !matches!(condition, StreamErrorCondition::Other(_)),
                "{name}"
            );
            assert_eq!(condition.as_str(), name);
            assert_eq!(condition, name);
        }
        let odd = StreamErrorCondition::from("x-vendor-thing");
        assert_eq!(odd, StreamErrorCondition::Other("x-vendor-thing".into()));
        assert_eq!(odd.to_string(), "x-vendor-thing");
        assert!(StreamErrorCondition::Conflict.repeats());
        assert!(!StreamErrorCondition::SystemShutdown.repeats());
        assert!(!odd.repeats());
    }
}
