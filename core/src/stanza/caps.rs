//! Service discovery information (XEP-0030 disco#info, with XEP-0128 extended forms) and
//! entity capabilities (XEP-0115 version 1.6): the verification string, reading and writing
//! `<query xmlns='http://jabber.org/protocol/disco#info'/>` and the `<c/>` of a presence.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use minidom::rxml::XMLNS_XML;
use sha1::{Digest, Sha1};

use crate::stanza::iq::Request;
use crate::xml::tree::{ElementRef, Stanza};
use crate::xml::{escape_text, invalid_char, push_attr};

/// Service discovery information (XEP-0030).
pub(crate) const NS_DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// Service discovery items (XEP-0030).
pub(crate) const NS_DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
/// Entity capabilities (XEP-0115).
pub(crate) const NS_CAPS: &str = "http://jabber.org/protocol/caps";
/// Data forms (XEP-0004).
pub(crate) const NS_DATA: &str = "jabber:x:data";
/// The hash this crate computes and verifies (the XEP's mandatory one).
pub(crate) const HASH_SHA1: &str = "sha-1";

/// Most identities [`DiscoInfo::from_query`] accepts.
pub(crate) const MAX_IDENTITIES: usize = 256;
/// Most features [`DiscoInfo::from_query`] accepts.
pub(crate) const MAX_FEATURES: usize = 1024;
/// Most data forms (`<x xmlns='jabber:x:data'/>`, ignored ones included) in a response.
pub(crate) const MAX_FORMS: usize = 64;
/// Most fields in one data form.
pub(crate) const MAX_FIELDS: usize = 256;
/// Most values in one field.
pub(crate) const MAX_VALUES: usize = 64;

/// One identity of an entity (XEP-0030): what it is, e.g. `client/pc`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The category (`client`, `server`, `conference`...).
    pub category: String,
    /// The type within the category (`pc`, `phone`, `bot`...): the `type` attribute.
    pub kind: String,
    /// The language of `name` (`xml:lang`), if given.
    pub lang: Option<String>,
    /// A human-readable name, if given.
    pub name: Option<String>,
}

impl Identity {
    /// An identity without language or name.
    pub fn new(category: impl Into<String>, kind: impl Into<String>) -> Identity {
        Identity {
            category: category.into(),
            kind: kind.into(),
            lang: None,
            name: None,
        }
    }

    /// The same identity with a name.
    pub fn with_name(mut self, name: impl Into<String>) -> Identity {
        self.name = Some(name.into());
        self
    }

    /// The same identity with the name's language (`xml:lang`).
    pub fn with_lang(mut self, lang: impl Into<String>) -> Identity {
        self.lang = Some(lang.into());
        self
    }

    /// The XEP-0115 sort key: category, type, language, name (absent ones empty).
    fn key(&self) -> [&str; 4] {
        let (lang, name) = (self.lang.as_deref(), self.name.as_deref());
        [
            &self.category,
            &self.kind,
            lang.unwrap_or(""),
            name.unwrap_or(""),
        ]
    }
}

/// An extended information form (XEP-0128): a `jabber:x:data` result form whose hidden
/// `FORM_TYPE` field names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataForm {
    /// The value of the hidden `FORM_TYPE` field, e.g. `urn:xmpp:dataforms:softwareinfo`.
    pub form_type: String,
    /// The other fields as `(var, values)`, in document order.
    pub fields: Vec<(String, Vec<String>)>,
}

impl DataForm {
    /// A form of type `form_type` with `fields` as `(var, values)`.
    pub fn new(form_type: impl Into<String>, fields: Vec<(String, Vec<String>)>) -> DataForm {
        DataForm {
            form_type: form_type.into(),
            fields,
        }
    }
}

/// What an entity says it is and supports: a disco#info result (XEP-0030).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DiscoInfo {
    /// Identities, in document order.
    pub identities: Vec<Identity>,
    /// Feature namespaces (`var`), in document order.
    pub features: Vec<String>,
    /// Extended information forms, in document order.
    pub forms: Vec<DataForm>,
}

/// A disco#info response XEP-0115 calls ill-formed (its section 5.4), one beyond this
/// crate's bounds, or one whose verification string would be ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapsError {
    /// The element is not `<query xmlns='http://jabber.org/protocol/disco#info'/>`.
    #[error("not a disco#info query")]
    NotDiscoInfo,
    /// An `<identity/>` without category or type, or a `<feature/>` without var.
    #[error("<{element}/> without {attribute}")]
    MissingAttribute {
        /// `identity` or `feature`.
        element: &'static str,
        /// The missing (or empty) attribute.
        attribute: &'static str,
    },
    /// More identities, features, forms, fields or values than the `MAX_` bounds allow.
    #[error("more than {max} {what}")]
    TooMany {
        /// What there were too many of.
        what: &'static str,
        /// The bound.
        max: usize,
    },
    /// Two identities with the same category, type, language and name.
    #[error("identity {0:?} appears twice")]
    DuplicateIdentity(String),
    /// Two features with the same var.
    #[error("feature {0:?} appears twice")]
    DuplicateFeature(String),
    /// Two forms with the same `FORM_TYPE`.
    #[error("two forms have FORM_TYPE {0:?}")]
    DuplicateForm(String),
    /// A `FORM_TYPE` field with different values.
    #[error("a FORM_TYPE field has different values")]
    ConflictingFormType,
    /// Two fields with the same var in one form.
    #[error("field {var:?} appears twice in form {form_type:?}")]
    DuplicateField {
        /// The form's `FORM_TYPE`.
        form_type: String,
        /// The repeated var.
        var: String,
    },
    /// A `<` in a part of the verification string: `<` separates those parts, so the
    /// string would also describe other information (XEP-0115's warning in section 5.1).
    #[error("'<' in {0:?}")]
    LessThan(String),
    /// A char XML 1.0 cannot carry (only in information built by hand).
    #[error("U+{:04X} cannot appear in XML", u32::from(*.0))]
    InvalidChar(char),
}

impl DiscoInfo {
    /// Information with these identities, features and forms.
    pub fn new(identities: Vec<Identity>, features: Vec<String>, forms: Vec<DataForm>) -> Self {
        DiscoInfo {
            identities,
            features,
            forms,
        }
    }

    /// Reads a disco#info `<query/>`, applying XEP-0115 section 5.4: duplicate identities,
    /// features, form types or fields and a `FORM_TYPE` with different values are errors;
    /// a form without a `FORM_TYPE` field, with one not of type `hidden`, or with no value
    /// in it is ignored. Fields without var are left out; other elements are ignored.
    /// Everything [`validate`](Self::validate) checks is checked too.
    pub fn from_query(query: ElementRef<'_>) -> Result<DiscoInfo, CapsError> {
        if !query.is("query", NS_DISCO_INFO) {
            return Err(CapsError::NotDiscoInfo);
        }
        let mut info = DiscoInfo::default();
        let mut forms = 0;
        for child in query.children() {
            if child.is("identity", NS_DISCO_INFO) {
                bound(info.identities.len() + 1, MAX_IDENTITIES, "identities")?;
                info.identities.push(Identity {
                    category: required(child, "identity", "category")?,
                    kind: required(child, "identity", "type")?,
                    lang: child.attr_ns(XMLNS_XML, "lang").map(str::to_owned),
                    name: child.attr("name").map(str::to_owned),
                });
            } else if child.is("feature", NS_DISCO_INFO) {
                bound(info.features.len() + 1, MAX_FEATURES, "features")?;
                info.features.push(required(child, "feature", "var")?);
            } else if child.is("x", NS_DATA) {
                forms += 1;
                bound(forms, MAX_FORMS, "forms")?;
                if let Some(form) = read_form(child)? {
                    info.forms.push(form);
                }
            }
        }
        info.validate()?;
        Ok(info)
    }

    /// Checks what [`from_query`](Self::from_query) checks on information built by hand:
    /// the `MAX_` bounds, no duplicate identity, feature, form type or field (a field
    /// named `FORM_TYPE` counts as a duplicate of the form's own), no `<` in any part of
    /// the verification string, no char XML cannot carry, category and type not empty.
    pub fn validate(&self) -> Result<(), CapsError> {
        bound(self.identities.len(), MAX_IDENTITIES, "identities")?;
        bound(self.features.len(), MAX_FEATURES, "features")?;
        bound(self.forms.len(), MAX_FORMS, "forms")?;
        let mut identities = HashSet::new();
        for identity in &self.identities {
            let [category, kind, lang, name] = identity.key();
            if let Some((attribute, _)) = [("category", category), ("type", kind)]
                .into_iter()
                .find(|(_, value)| value.is_empty())
            {
                let element = "identity";
                return Err(CapsError::MissingAttribute { element, attribute });
            }
            if !identities.insert(identity.key()) {
                let key = format!("{category}/{kind}/{lang}/{name}");
                return Err(CapsError::DuplicateIdentity(key));
            }
            identity.key().into_iter().try_for_each(part)?;
        }
        let mut features = HashSet::new();
        for feature in &self.features {
            if !features.insert(feature.as_str()) {
                return Err(CapsError::DuplicateFeature(feature.clone()));
            }
            part(feature)?;
        }
        let mut forms = HashSet::new();
        for form in &self.forms {
            if !forms.insert(form.form_type.as_str()) {
                return Err(CapsError::DuplicateForm(form.form_type.clone()));
            }
            part(&form.form_type)?;
            bound(form.fields.len(), MAX_FIELDS, "fields in a form")?;
            let mut vars = HashSet::from(["FORM_TYPE"]);
            for (var, values) in &form.fields {
                if !vars.insert(var.as_str()) {
                    let form_type = form.form_type.clone();
                    let var = var.clone();
                    return Err(CapsError::DuplicateField { form_type, var });
                }
                bound(values.len(), MAX_VALUES, "values in a field")?;
                part(var)?;
                values.iter().map(String::as_str).try_for_each(part)?;
            }
        }
        Ok(())
    }

    /// The string S of XEP-0115 section 5.1, the hash input: each identity as
    /// `category/type/lang/name<` (sorted by category, type, language, then name), each
    /// feature followed by `<` (sorted), then for each form (sorted by `FORM_TYPE`) its
    /// `FORM_TYPE<`, then for each field (sorted by var, `FORM_TYPE` left out) `var<` and
    /// its values (sorted), each followed by `<`. Sorting is by bytes ("i;octet"); the
    /// parts are character data, not escaped. A part containing `<` would read as several
    /// (and several as one): [`validate`](Self::validate) rejects such information.
    pub fn verification_string(&self) -> String {
        let mut s = String::new();
        let mut push = |part: &str| {
            s.push_str(part);
            s.push('<');
        };
        let mut identities: Vec<[&str; 4]> = self.identities.iter().map(Identity::key).collect();
        identities.sort_unstable();
        for key in identities {
            push(&key.join("/"));
        }
        let mut features: Vec<&str> = self.features.iter().map(String::as_str).collect();
        features.sort_unstable();
        features.into_iter().for_each(&mut push);
        let mut forms: Vec<&DataForm> = self.forms.iter().collect();
        forms.sort_by(|a, b| a.form_type.cmp(&b.form_type));
        for form in forms {
            push(&form.form_type);
            let mut fields: Vec<&(String, Vec<String>)> = form
                .fields
                .iter()
                .filter(|(var, _)| var != "FORM_TYPE")
                .collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            for (var, values) in fields {
                push(var);
                let mut values: Vec<&str> = values.iter().map(String::as_str).collect();
                values.sort_unstable();
                values.into_iter().for_each(&mut push);
            }
        }
        s
    }

    /// The XEP-0115 `ver` with hash `sha-1`: base64 of the SHA-1 of the
    /// [`verification_string`](Self::verification_string).
    pub fn ver_sha1(&self) -> String {
        BASE64.encode(Sha1::digest(self.verification_string().as_bytes()))
    }
}

/// `Err(TooMany)` when there are more than `max` items (`len`).
fn bound(len: usize, max: usize, what: &'static str) -> Result<(), CapsError> {
    (len <= max)
        .then_some(())
        .ok_or(CapsError::TooMany { what, max })
}

/// The attribute `attribute` of `el` (an `element`), not empty.
fn required(
    el: ElementRef<'_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<String, CapsError> {
    let value = el.attr(attribute).filter(|v| !v.is_empty());
    let error = CapsError::MissingAttribute { element, attribute };
    value.map(str::to_owned).ok_or(error)
}

/// Checks one part of the verification string.
fn part(s: &str) -> Result<(), CapsError> {
    if let Some(ch) = invalid_char(s) {
        return Err(CapsError::InvalidChar(ch));
    }
    if s.contains('<') {
        return Err(CapsError::LessThan(s.to_owned()));
    }
    Ok(())
}

/// Reads one `<x xmlns='jabber:x:data'/>`; `None` when XEP-0115 says to ignore it.
fn read_form(x: ElementRef<'_>) -> Result<Option<DataForm>, CapsError> {
    // Whether the FORM_TYPE field is hidden, and its value.
    let mut form_type: Option<(bool, Option<String>)> = None;
    let mut fields = Vec::new();
    let mut count = 0;
    for field in x.children().filter(|c| c.is("field", NS_DATA)) {
        count += 1;
        bound(count, MAX_FIELDS, "fields in a form")?;
        let mut values = Vec::new();
        for value in field.children().filter(|c| c.is("value", NS_DATA)) {
            bound(values.len() + 1, MAX_VALUES, "values in a field")?;
            values.push(value.text());
        }
        match field.attr("var") {
            Some("FORM_TYPE") => {
                if let Some((_, first)) = form_type {
                    let form_type = first.unwrap_or_default();
                    let var = "FORM_TYPE".to_owned();
                    return Err(CapsError::DuplicateField { form_type, var });
                }
                if values.iter().any(|v| *v != values[0]) {
                    return Err(CapsError::ConflictingFormType);
                }
                let hidden = field.attr("type") == Some("hidden");
                form_type = Some((hidden, values.into_iter().next()));
            }
            Some(var) => fields.push((var.to_owned(), values)),
            None => {}
        }
    }
    Ok(match form_type {
        Some((true, Some(form_type))) => Some(DataForm::new(form_type, fields)),
        _ => None,
    })
}

/// Appends `<query xmlns='http://jabber.org/protocol/disco#info' node='…'>` with `info`'s
/// identities, features and forms. `info` and `node` were checked
/// ([`DiscoInfo::validate`], [`check_text`](crate::check_text)).
pub(crate) fn write_query_result(info: &DiscoInfo, node: Option<&str>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<query xmlns='http://jabber.org/protocol/disco#info'");
    if let Some(node) = node {
        push_attr("node", node, out);
    }
    out.push(b'>');
    for identity in &info.identities {
        out.extend_from_slice(b"<identity");
        push_attr("category", &identity.category, out);
        push_attr("type", &identity.kind, out);
        if let Some(lang) = &identity.lang {
            push_attr("xml:lang", lang, out);
        }
        if let Some(name) = &identity.name {
            push_attr("name", name, out);
        }
        out.extend_from_slice(b"/>");
    }
    for feature in &info.features {
        out.extend_from_slice(b"<feature");
        push_attr("var", feature, out);
        out.extend_from_slice(b"/>");
    }
    for form in &info.forms {
        out.extend_from_slice(b"<x xmlns='jabber:x:data' type='result'>");
        out.extend_from_slice(b"<field var='FORM_TYPE' type='hidden'>");
        write_values(std::slice::from_ref(&form.form_type), out);
        for (var, values) in &form.fields {
            out.extend_from_slice(b"<field");
            push_attr("var", var, out);
            out.push(b'>');
            write_values(values, out);
        }
        out.extend_from_slice(b"</x>");
    }
    out.extend_from_slice(b"</query>");
}

/// Appends `<value>…</value>` for each value, then `</field>`.
fn write_values(values: &[String], out: &mut Vec<u8>) {
    for value in values {
        out.extend_from_slice(b"<value>");
        escape_text(value, out);
        out.extend_from_slice(b"</value>");
    }
    out.extend_from_slice(b"</field>");
}

/// Appends the answer to a disco#info `request`: `<iq id='…' to='…' type='result'>` (its id,
/// addressed back to its sender, as [`result_for`](crate::stanza::iq::result_for)) around
/// [`write_query_result`]. The answer to a query with `node='node#ver'` carries that node.
pub(crate) fn write_info_result(
    request: &impl Request,
    info: &DiscoInfo,
    node: Option<&str>,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"<iq");
    push_attr("id", request.request_attr("id").unwrap_or_default(), out);
    if let Some(from) = request.request_attr("from") {
        push_attr("to", from, out);
    }
    out.extend_from_slice(b" type='result'>");
    write_query_result(info, node, out);
    out.extend_from_slice(b"</iq>");
}

/// Appends `<iq id='…' to='…' type='get'><query xmlns='…disco#info' node='…'/></iq>`, the
/// request that fetches an entity's information (`node`: the caps' `node#ver`).
pub(crate) fn write_info_request(id: &str, to: &str, node: Option<&str>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<iq");
    push_attr("id", id, out);
    push_attr("to", to, out);
    out.extend_from_slice(b" type='get'><query xmlns='http://jabber.org/protocol/disco#info'");
    if let Some(node) = node {
        push_attr("node", node, out);
    }
    out.extend_from_slice(b"/></iq>");
}

/// Appends the answer to a disco#items `request`: no items (a client has none to offer),
/// with the request's `node` if it named one.
pub(crate) fn write_items_result(request: &impl Request, node: Option<&str>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<iq");
    push_attr("id", request.request_attr("id").unwrap_or_default(), out);
    if let Some(from) = request.request_attr("from") {
        push_attr("to", from, out);
    }
    out.extend_from_slice(b" type='result'><query xmlns='http://jabber.org/protocol/disco#items'");
    if let Some(node) = node {
        push_attr("node", node, out);
    }
    out.extend_from_slice(b"/></iq>");
}

/// The `<query/>` of a disco#items request (`<iq type='get'>`), to answer.
pub(crate) fn items_request(el: &Stanza) -> Option<ElementRef<'_>> {
    if !el.is("iq", crate::stanza::NS_CLIENT) || el.attr("type") != Some("get") {
        return None;
    }
    el.get_child("query", NS_DISCO_ITEMS)
}

/// The `<query/>` of a disco#info request (`<iq type='get'>`), to answer.
pub(crate) fn info_request(el: &Stanza) -> Option<ElementRef<'_>> {
    if !el.is("iq", crate::stanza::NS_CLIENT) || el.attr("type") != Some("get") {
        return None;
    }
    el.get_child("query", NS_DISCO_INFO)
}

/// An entity's capabilities as its presence announces them (XEP-0115 `<c/>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caps {
    /// The hash function (`sha-1`, from the IANA registry's names).
    pub hash: String,
    /// The software's URI, e.g. `https://example.org/client`.
    pub node: String,
    /// The verification string: base64 of the hash of the information's S string.
    pub ver: String,
}

impl Caps {
    /// The `sha-1` caps of `info` announced under `node`.
    pub fn new(node: impl Into<String>, info: &DiscoInfo) -> Caps {
        Caps {
            hash: HASH_SHA1.to_owned(),
            node: node.into(),
            ver: info.ver_sha1(),
        }
    }

    /// Reads the `<c/>` of a presence; `None` without one, or when it lacks `node` or
    /// `ver`, or `hash` (the legacy format before XEP-0115 1.4, ignored).
    pub fn from_presence(presence: ElementRef<'_>) -> Option<Caps> {
        let c = presence.get_child("c", NS_CAPS)?;
        Some(Caps {
            hash: c.attr("hash")?.to_owned(),
            node: c.attr("node")?.to_owned(),
            ver: c.attr("ver")?.to_owned(),
        })
    }

    /// The node of the disco#info request that fetches this information: `node#ver`.
    pub fn disco_node(&self) -> String {
        format!("{}#{}", self.node, self.ver)
    }

    /// Whether `info` hashes to `ver`; `None` when the hash is not `sha-1` (the only one
    /// supported: the information then belongs to the sender alone, XEP-0115 section 5.4).
    /// `info` should come from [`DiscoInfo::from_query`].
    pub fn verify(&self, info: &DiscoInfo) -> Option<bool> {
        (self.hash == HASH_SHA1).then(|| info.ver_sha1() == self.ver)
    }

    /// Appends `<c xmlns='http://jabber.org/protocol/caps' hash='…' node='…' ver='…'/>`
    /// (the strings checked with [`check_text`](crate::check_text)).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<c xmlns='http://jabber.org/protocol/caps'");
        push_attr("hash", &self.hash, out);
        push_attr("node", &self.node, out);
        push_attr("ver", &self.ver, out);
        out.extend_from_slice(b"/>");
    }
}
