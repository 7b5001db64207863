//! IQ stanzas the core sends and answers itself: bind, session, ping, error replies.

use minidom::Element;

use crate::stanza::{NS_CLIENT, NS_STANZAS, attr_name};
use crate::xml::tree::Stanza;

/// Resource binding (RFC 6120 section 7).
pub(crate) const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// Legacy session establishment (RFC 3921 section 3).
pub(crate) const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// XMPP Ping (XEP-0199).
pub(crate) const NS_PING: &str = "urn:xmpp:ping";

fn iq(kind: &'static str, id: &str) -> Element {
    Element::builder("iq", NS_CLIENT)
        .attr(attr_name("type"), kind)
        .attr(attr_name("id"), id)
        .build()
}

/// `<iq type='set'><bind><resource/></bind></iq>`, the resource omitted when the server
/// should pick one.
pub(crate) fn bind_request(id: &str, resource: Option<&str>) -> Element {
    let mut bind = Element::builder("bind", NS_BIND).build();
    if let Some(resource) = resource {
        bind.append_child(
            Element::builder("resource", NS_BIND)
                .append(resource)
                .build(),
        );
    }
    let mut el = iq("set", id);
    el.append_child(bind);
    el
}

/// `<iq type='get' to='domain'><ping/></iq>` (XEP-0199), to check the link.
pub(crate) fn ping_request(id: &str, to: &str) -> Element {
    let mut el = iq("get", id);
    el.set_attr(minidom::rxml::Namespace::NONE, attr_name("to"), to);
    el.append_child(Element::builder("ping", NS_PING).build());
    el
}

/// `<iq type='set'><session/></iq>`.
pub(crate) fn session_request(id: &str) -> Element {
    let mut el = iq("set", id);
    el.append_child(Element::builder("session", NS_SESSION).build());
    el
}

/// A request the core answers: read as a parsed [`Stanza`] or as a minidom element.
pub(crate) trait Request {
    /// The top-level attribute `name` (without namespace).
    fn request_attr<'a>(&'a self, name: &'a str) -> Option<&'a str>;
}

impl Request for Element {
    fn request_attr<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.attr(name)
    }
}

impl Request for Stanza {
    fn request_attr<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.attr(name)
    }
}

/// The reply skeleton for a request: same id, addressed back to the sender.
fn reply(request: &impl Request, kind: &'static str) -> Element {
    let mut el = iq(kind, request.request_attr("id").unwrap_or_default());
    if let Some(from) = request.request_attr("from") {
        el.set_attr(minidom::rxml::Namespace::NONE, attr_name("to"), from);
    }
    el
}

/// An empty `result` for `request` (used for pings).
pub(crate) fn result_for(request: &impl Request) -> Element {
    reply(request, "result")
}

/// An error reply to `request` with `condition` (RFC 6120 section 8.3).
pub(crate) fn error_for(
    request: &impl Request,
    error_type: &'static str,
    condition: &str,
) -> Element {
    let mut el = reply(request, "error");
    let error = Element::builder("error", NS_CLIENT)
        .attr(attr_name("type"), error_type)
        .append(Element::builder(condition, NS_STANZAS).build())
        .build();
    el.append_child(error);
    el
}

/// `service-unavailable` for a request nobody handles (RFC 6120 section 8.4).
pub(crate) fn service_unavailable_for(request: &impl Request) -> Element {
    error_for(request, "cancel", "service-unavailable")
}

/// Whether `el` is an IQ `get` carrying an XEP-0199 ping.
pub(crate) fn is_ping(el: &Stanza) -> bool {
    el.attr("type") == Some("get") && el.children().any(|c| c.is("ping", NS_PING))
}
