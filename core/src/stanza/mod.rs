//! Stanzas the core reads and writes itself.

pub(crate) mod blocking;
#[cfg(test)]
mod blocking_tests;
pub(crate) mod caps;
pub(crate) mod caps_cache;
#[cfg(test)]
mod caps_tests;
pub(crate) mod csi;
pub(crate) mod features;
pub(crate) mod iq;
pub(crate) mod message;
#[cfg(test)]
mod message_tests;
pub(crate) mod presence;
pub(crate) mod roster;
pub(crate) mod sm;
#[cfg(test)]
mod sm_tests;
pub(crate) mod version;

/// The client stream's default namespace.
pub(crate) const NS_CLIENT: &str = "jabber:client";
/// Stanza error conditions (RFC 6120 section 8.3).
pub(crate) const NS_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// An attribute name known at compile time.
pub(crate) fn attr_name(name: &'static str) -> minidom::rxml::NcName {
    // The callers pass literal names such as "type" and "id", all valid NCNames.
    minidom::rxml::NcName::try_from(name).expect("literal attribute names are NCNames")
}

/// The defined condition (first child in `ns` other than `<text/>`) and the text of an
/// RFC 6120 error element (stream or stanza error).
pub(crate) fn condition_and_text<'a>(
    error: &'a minidom::Element,
    ns: &str,
) -> (Option<&'a minidom::Element>, Option<String>) {
    let mut condition = None;
    let mut text = None;
    for child in error.children().filter(|c| c.has_ns(ns)) {
        if child.name() == "text" {
            text = Some(child.text());
        } else if condition.is_none() {
            condition = Some(child);
        }
    }
    (condition, text)
}
