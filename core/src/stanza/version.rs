//! XEP-0092 software version: the answer, when the application allows one.

use crate::stanza::iq::Request;
use crate::xml::tree::Stanza;
use crate::xml::{escape_attr, escape_text};

/// Software version (XEP-0092).
pub(crate) const NS_VERSION: &str = "jabber:iq:version";

/// Whether `el` is an IQ `get` asking for the software version.
pub(crate) fn is_version_request(el: &Stanza) -> bool {
    el.is("iq", crate::stanza::NS_CLIENT)
        && el.attr("type") == Some("get")
        && el.has_child("query", NS_VERSION)
}

/// Appends the answer to `request` with `name` and `version` (checked text), no `<os/>`.
pub(crate) fn write_version_result(
    request: &impl Request,
    name: &str,
    version: &str,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"<iq id='");
    escape_attr(request.request_attr("id").unwrap_or_default(), out);
    out.push(b'\'');
    if let Some(from) = request.request_attr("from") {
        out.extend_from_slice(b" to='");
        escape_attr(from, out);
        out.push(b'\'');
    }
    out.extend_from_slice(b" type='result'><query xmlns='jabber:iq:version'><name>");
    escape_text(name, out);
    out.extend_from_slice(b"</name><version>");
    escape_text(version, out);
    out.extend_from_slice(b"</version></query></iq>");
}
