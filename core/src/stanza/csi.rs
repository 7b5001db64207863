//! Client State Indication (XEP-0352): the `<active/>` and `<inactive/>` nonzas. They are
//! top-level elements but not stanzas: stream management does not count them.

/// The CSI namespace, also the stream feature's.
pub(crate) const NS_CSI: &str = "urn:xmpp:csi:0";

/// The nonza telling the server the client is `active` (or inactive).
pub(crate) fn nonza(active: bool) -> &'static [u8] {
    if active {
        b"<active xmlns='urn:xmpp:csi:0'/>"
    } else {
        b"<inactive xmlns='urn:xmpp:csi:0'/>"
    }
}
