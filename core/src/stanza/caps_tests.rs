//! Disco#info and entity capabilities: the XEP-0115 examples, the section 5.4 checks, the
//! bounds, writing and reading back.

use minidom::Element;
use minidom::rxml::{Namespace, NcName};
use proptest::prelude::*;

use super::caps::*;
use crate::xml::tree::Stanza;
use crate::xml::{arb_element, first_element, read_after_header as read};

/// Reads `<query xmlns='…disco#info'>{body}</query>`.
fn parse(body: &str) -> Result<DiscoInfo, CapsError> {
    let stanza = read(&format!("<query xmlns='{NS_DISCO_INFO}'>{body}</query>"));
    DiscoInfo::from_query(stanza.root())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const FEATURES: [&str; 4] = [
    "http://jabber.org/protocol/caps",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "http://jabber.org/protocol/muc",
];

/// XEP-0115 section 5.2.
fn simple() -> DiscoInfo {
    let identity = Identity::new("client", "pc").with_name("Exodus 0.9.1");
    DiscoInfo::new(vec![identity], strings(&FEATURES), vec![])
}

/// XEP-0115 section 5.3.
fn complex() -> DiscoInfo {
    let identities = vec![
        Identity::new("client", "pc")
            .with_lang("en")
            .with_name("Psi 0.11"),
        Identity::new("client", "pc")
            .with_lang("el")
            .with_name("\u{3a8} 0.11"),
    ];
    let fields = [
        ("ip_version", &["ipv4", "ipv6"][..]),
        ("os", &["Mac"]),
        ("os_version", &["10.5.1"]),
        ("software", &["Psi"]),
        ("software_version", &["0.11"]),
    ];
    let fields = fields
        .iter()
        .map(|(var, values)| (var.to_string(), strings(values)));
    let form = DataForm::new("urn:xmpp:dataforms:softwareinfo", fields.collect());
    DiscoInfo::new(identities, strings(&FEATURES), vec![form])
}

/// The section 5.3 query as the XEP shows it.
const COMPLEX_XML: &str = "<iq from='benvolio@capulet.lit/230193' id='disco1' \
    to='juliet@capulet.lit/chamber' type='result'>\
  <query xmlns='http://jabber.org/protocol/disco#info' \
         node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
    <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
    <identity xml:lang='el' category='client' name='&#936; 0.11' type='pc'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
    <x xmlns='jabber:x:data' type='result'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
      <field var='ip_version' type='text-multi' ><value>ipv4</value><value>ipv6</value></field>
      <field var='os'><value>Mac</value></field>
      <field var='os_version'><value>10.5.1</value></field>
      <field var='software'><value>Psi</value></field>
      <field var='software_version'><value>0.11</value></field>
    </x>
  </query>
</iq>";

#[test]
fn simple_generation_example() {
    let s = "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<\
        http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<\
        http://jabber.org/protocol/muc<";
    assert_eq!(simple().verification_string(), s);
    assert_eq!(simple().ver_sha1(), "QgayPKawpkPSDYmwT/WM94uAlu0=");
    let parsed = parse(
        "<identity category='client' type='pc' name='Exodus 0.9.1'/>\
         <feature var='http://jabber.org/protocol/disco#info'/>\
         <feature var='http://jabber.org/protocol/disco#items'/>\
         <feature var='http://jabber.org/protocol/muc'/>\
         <feature var='http://jabber.org/protocol/caps'/>",
    )
    .unwrap();
    assert_eq!(parsed.ver_sha1(), "QgayPKawpkPSDYmwT/WM94uAlu0=");
    assert_eq!(parsed.identities, simple().identities);
}

#[test]
fn complex_generation_example() {
    let s = "client/pc/el/\u{3a8} 0.11<client/pc/en/Psi 0.11<\
        http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<\
        http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<\
        urn:xmpp:dataforms:softwareinfo<\
        ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<";
    assert_eq!(complex().verification_string(), s);
    assert_eq!(complex().ver_sha1(), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
    let iq = read(COMPLEX_XML);
    let query = iq.get_child("query", NS_DISCO_INFO).unwrap();
    let parsed = DiscoInfo::from_query(query).unwrap();
    assert_eq!(parsed, complex());
    assert_eq!(parsed.verification_string(), s);
    let node = query.attr("node").unwrap();
    assert_eq!(node, format!("http://psi-im.org#{}", parsed.ver_sha1()));
}

#[test]
fn order_does_not_matter() {
    let mut shuffled = complex();
    shuffled.identities.reverse();
    shuffled.features.rotate_left(3);
    let form = &mut shuffled.forms[0];
    form.fields.reverse();
    form.fields[4].1.reverse();
    let other = DataForm::new("urn:a", vec![("z".into(), strings(&["2", "1"]))]);
    shuffled.forms.push(other.clone());
    let mut info = complex();
    info.forms.insert(0, other);
    assert_ne!(shuffled, info);
    assert_eq!(shuffled.verification_string(), info.verification_string());
    let s = info.verification_string();
    assert!(
        s.contains("muc<urn:a<z<1<2<urn:xmpp:dataforms:softwareinfo<ip_version<"),
        "{s}"
    );
    // Identities sort by category, type, language, then name (not as joined strings).
    let identities = vec![Identity::new("a-b", "x"), Identity::new("a", "x")];
    let info = DiscoInfo::new(identities, vec![], vec![]);
    assert_eq!(info.verification_string(), "a/x//<a-b/x//<");
}

fn missing(element: &'static str, attribute: &'static str) -> CapsError {
    CapsError::MissingAttribute { element, attribute }
}

fn duplicate_field(form_type: &str, var: &str) -> CapsError {
    let (form_type, var) = (form_type.to_string(), var.to_string());
    CapsError::DuplicateField { form_type, var }
}

#[test]
fn ill_formed_responses() {
    use CapsError::*;
    let check = |body: &str, error| assert_eq!(parse(body), Err(error), "{body}");
    let n = "<identity category='client' type='pc' name='N'/>";
    // XEP-0115 section 5.4 (an empty xml:lang is no language).
    check(&format!("{n}{n}"), DuplicateIdentity("client/pc//N".into()));
    let lang = "<identity category='client' type='pc' name='N' xml:lang=''/>";
    check(
        &format!("{n}{lang}"),
        DuplicateIdentity("client/pc//N".into()),
    );
    let features = "<feature var='a'/><feature var='b'/><feature var='a'/>";
    check(features, DuplicateFeature("a".into()));
    let forms = form("urn:f", "hidden", "") + &form("urn:f", "hidden", "");
    check(&forms, DuplicateForm("urn:f".into()));
    let form_types = "<x xmlns='jabber:x:data'><field var='FORM_TYPE' type='hidden'>\
        <value>urn:a</value><value>urn:b</value></field></x>";
    check(form_types, ConflictingFormType);
    let two_a = "<field var='a'/><field var='a'><value>1</value></field>";
    check(
        &form("urn:f", "hidden", two_a),
        duplicate_field("urn:f", "a"),
    );
    let form_type = "<field var='FORM_TYPE' type='hidden'/>";
    let error = duplicate_field("urn:f", "FORM_TYPE");
    check(&form("urn:f", "hidden", form_type), error);
    // XEP-0030 requires category and type.
    check("<identity type='pc'/>", missing("identity", "category"));
    check(
        "<identity category='c' type=''/>",
        missing("identity", "type"),
    );
    check("<feature/>", missing("feature", "var"));
    // '<' would let one part pass for several (XEP-0115's warning in section 5.1).
    check(
        "<identity category='c' type='t' name='x&lt;a'/>",
        LessThan("x<a".into()),
    );
    check("<feature var='a&lt;b'/>", LessThan("a<b".into()));
    let value = "<field var='a'><value>1&lt;2</value></field>";
    check(&form("urn:f", "hidden", value), LessThan("1<2".into()));
    let other = read("<query xmlns='http://jabber.org/protocol/disco#items'/>");
    assert_eq!(DiscoInfo::from_query(other.root()), Err(NotDiscoInfo));
}

/// `<x/>` with a FORM_TYPE field of `field_type`, then `fields`.
fn form(form_type: &str, field_type: &str, fields: &str) -> String {
    format!(
        "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='{field_type}'>\
         <value>{form_type}</value></field>{fields}</x>"
    )
}

#[test]
fn forms_xep_0115_ignores() {
    let identity = "<identity category='client' type='pc'/>";
    let bare = parse(identity).unwrap();
    for ignored in [
        form("urn:f", "text-single", "<field var='a'/>"),
        form("urn:f", "", ""),
        "<x xmlns='jabber:x:data' type='result'><field var='a'><value>1</value></field></x>".into(),
        "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'/></x>".into(),
        // Not a hidden FORM_TYPE: not counted as a duplicate either.
        form("urn:f", "fixed", "") + &form("urn:f", "hidden", ""),
    ] {
        let info = parse(&format!("{identity}{ignored}")).unwrap();
        assert!(info.forms.len() <= 1, "{ignored}");
        assert_eq!(info.identities, bare.identities);
    }
    // Repeated equal FORM_TYPE values are fine; fields without var, other elements and
    // other namespaces are left out.
    let info = parse(&format!(
        "{identity}<feature xmlns='urn:other' var='x'/><foo/>\
         <x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>\
         <value>urn:f</value><value>urn:f</value></field><field type='fixed'><value>t</value>\
         </field><field var='a'><desc>d</desc><value>1</value><value></value></field></x>"
    ))
    .unwrap();
    let form = DataForm::new("urn:f", vec![("a".into(), strings(&["1", ""]))]);
    assert_eq!(info, DiscoInfo::new(bare.identities, vec![], vec![form]));
    assert_eq!(info.verification_string(), "client/pc//<urn:f<a<<1<");
}

#[test]
fn bounds() {
    let many = |n: usize, item: &dyn Fn(usize) -> String| (0..n).map(item).collect::<String>();
    let check = |body: &dyn Fn(usize) -> String, max: usize, what| {
        assert!(parse(&body(max)).is_ok(), "{what}");
        assert_eq!(parse(&body(max + 1)), Err(CapsError::TooMany { what, max }));
    };
    let identity = |i| format!("<identity category='c' type='t{i}'/>");
    check(&|n| many(n, &identity), MAX_IDENTITIES, "identities");
    let feature = |i| format!("<feature var='urn:{i}'/>");
    check(&|n| many(n, &feature), MAX_FEATURES, "features");
    let x = |i| form(&format!("urn:{i}"), "hidden", "");
    check(&|n| many(n, &x), MAX_FORMS, "forms");
    // The FORM_TYPE field counts.
    let field = |i| format!("<field var='f{i}'/>");
    let fields = |n| form("f", "hidden", &many(n - 1, &field));
    check(&fields, MAX_FIELDS, "fields in a form");
    let value = |i| format!("<value>{i}</value>");
    let values = |n| {
        form(
            "f",
            "hidden",
            &format!("<field var='f'>{}</field>", many(n, &value)),
        )
    };
    check(&values, MAX_VALUES, "values in a field");
    let features = (0..=MAX_FEATURES).map(|i| i.to_string()).collect();
    let info = DiscoInfo::new(vec![], features, vec![]);
    let (what, max) = ("features", MAX_FEATURES);
    assert_eq!(info.validate(), Err(CapsError::TooMany { what, max }));
}

#[test]
fn validate_built_information() {
    assert_eq!(complex().validate(), Ok(()));
    let mut info = simple();
    info.features.push("bell\u{7}".into());
    assert_eq!(info.validate(), Err(CapsError::InvalidChar('\u{7}')));
    let mut info = complex();
    info.forms[0].fields.push(("FORM_TYPE".into(), vec![]));
    let error = duplicate_field("urn:xmpp:dataforms:softwareinfo", "FORM_TYPE");
    assert_eq!(info.validate(), Err(error));
    let info = DiscoInfo::new(vec![Identity::new("", "pc")], vec![], vec![]);
    assert_eq!(info.validate(), Err(missing("identity", "category")));
}

/// Writes the answer to `request` with `info` and reads back the query it carries.
fn answer(request: &Stanza, info: &DiscoInfo, node: Option<&str>) -> (Stanza, DiscoInfo) {
    let mut out = b"<stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        .to_vec();
    write_info_result(request, info, node, &mut out);
    let iq = first_element(&out);
    let read = DiscoInfo::from_query(iq.get_child("query", NS_DISCO_INFO).unwrap()).unwrap();
    (iq, read)
}

#[test]
fn written_answers_read_back() {
    let request = read(
        "<iq from='romeo@montague.lit/orchard' id='d&apos;1' type='get'>\
         <query xmlns='http://jabber.org/protocol/disco#info' node='urn:n#v'/></iq>",
    );
    let query = info_request(&request).unwrap();
    assert_eq!(query.attr("node"), Some("urn:n#v"));
    let mut tricky = complex();
    tricky.identities[0].name = Some("a & 'b' \"c\" > \r\n\t".into());
    tricky.forms[0].fields[1].1[0] = "x & y > z\r\n".into();
    let unnamed = Identity::new("client", "bot").with_name("");
    tricky.identities.push(unnamed);
    for info in [simple(), complex(), tricky, DiscoInfo::default()] {
        let (iq, read) = answer(&request, &info, Some("urn:n#v"));
        assert_eq!(read, info);
        assert_eq!(read.ver_sha1(), info.ver_sha1());
        assert_eq!(iq.attr("id"), Some("d'1"));
        assert_eq!(iq.attr("to"), Some("romeo@montague.lit/orchard"));
        assert_eq!(iq.attr("type"), Some("result"));
        let query = iq.get_child("query", NS_DISCO_INFO).unwrap();
        assert_eq!(query.attr("node"), Some("urn:n#v"));
    }
    let (iq, _) = answer(&read("<iq id='1' type='get'/>"), &simple(), None);
    assert_eq!(iq.attr("to"), None);
    let query = iq.get_child("query", NS_DISCO_INFO).unwrap();
    assert_eq!(query.attr("node"), None);
    for other in [
        "<iq type='set'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
        "<iq type='get'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
        "<message><query xmlns='http://jabber.org/protocol/disco#info'/></message>",
    ] {
        assert!(info_request(&read(other)).is_none(), "{other}");
    }
}

#[test]
fn info_requests() {
    let mut out = Vec::new();
    let to = "juliet@capulet.lit/balcony";
    write_info_request("q1", to, Some("urn:n#v'"), &mut out);
    let expected = "<iq id='q1' to='juliet@capulet.lit/balcony' type='get'>\
        <query xmlns='http://jabber.org/protocol/disco#info' node='urn:n#v&apos;'/></iq>";
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    assert_eq!(NS_DISCO_ITEMS, "http://jabber.org/protocol/disco#items");
}

#[test]
fn caps_in_presence() {
    let presence = read(
        "<presence from='romeo@montague.lit/orchard'><c xmlns='http://jabber.org/protocol/caps' \
         hash='sha-1' node='http://code.google.com/p/exodus' \
         ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>",
    );
    let caps = Caps::from_presence(presence.root()).unwrap();
    assert_eq!(
        caps,
        Caps::new("http://code.google.com/p/exodus", &simple())
    );
    assert_eq!(
        caps.disco_node(),
        "http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0="
    );
    assert_eq!(caps.verify(&simple()), Some(true));
    assert_eq!(caps.verify(&complex()), Some(false));
    let mut other_hash = caps.clone();
    other_hash.hash = "sha-256".into();
    assert_eq!(other_hash.verify(&simple()), None);

    let mut out = b"<presence>".to_vec();
    caps.write(&mut out);
    out.extend_from_slice(b"</presence>");
    let written = read(std::str::from_utf8(&out).unwrap());
    assert_eq!(Caps::from_presence(written.root()), Some(caps));

    for no_caps in [
        // The legacy format (before XEP-0115 1.4) has no hash.
        "<presence><c xmlns='http://jabber.org/protocol/caps' node='n' ver='0.9' ext='x'/></presence>",
        "<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' ver='v'/></presence>",
        "<presence><c xmlns='urn:other' hash='sha-1' node='n' ver='v'/></presence>",
        "<presence/>",
    ] {
        assert_eq!(Caps::from_presence(read(no_caps).root()), None, "{no_caps}");
    }
}

fn name(s: &str) -> NcName {
    NcName::try_from(s).unwrap()
}

/// Disco-like queries: identities, features and forms with attributes and texts from small
/// pools (so duplicates, `<`, missing and odd values come up often), and other elements.
fn arb_disco() -> impl Strategy<Value = Element> {
    let text = || prop::sample::select(vec!["", "a", "b", "c", "d", "a<b", "FORM_TYPE", "\u{3a8}"]);
    let opt = || prop::option::weighted(0.9, text());
    fn with(mut el: Element, attrs: &[(&str, Option<&str>)]) -> Element {
        for (attr, value) in attrs {
            if let Some(value) = value {
                let ns = if *attr == "lang" {
                    Namespace::XML
                } else {
                    Namespace::NONE
                };
                el.attrs_mut().insert(ns, name(attr), value.to_string());
            }
        }
        el
    }
    let identity = (opt(), opt(), opt(), opt()).prop_map(|(c, t, l, n)| {
        let el = Element::bare("identity", NS_DISCO_INFO);
        with(
            el,
            &[("category", c), ("type", t), ("lang", l), ("name", n)],
        )
    });
    let feature =
        opt().prop_map(|var| with(Element::bare("feature", NS_DISCO_INFO), &[("var", var)]));
    let field_type = prop::option::of(prop::sample::select(vec!["hidden", "text-single"]));
    let values = prop::collection::vec(text(), 0..3);
    let field = (opt(), field_type, values).prop_map(|(var, kind, values)| {
        let el = Element::bare("field", "jabber:x:data");
        let mut field = with(el, &[("var", var), ("type", kind)]);
        for value in values {
            field.append_child(
                Element::builder("value", "jabber:x:data")
                    .append(value)
                    .build(),
            );
        }
        field
    });
    let form_type = prop::sample::select(vec!["urn:a", "urn:b"]);
    let form_type = (
        prop::sample::select(vec!["hidden", "fixed"]),
        prop::collection::vec(form_type, 1..3),
    );
    let form_type = prop::option::weighted(0.9, form_type).prop_map(|field| {
        field.map(|(kind, values)| {
            let el = Element::bare("field", "jabber:x:data");
            let mut field = with(el, &[("var", Some("FORM_TYPE")), ("type", Some(kind))]);
            for value in values {
                field.append_child(
                    Element::builder("value", "jabber:x:data")
                        .append(value)
                        .build(),
                );
            }
            field
        })
    });
    let form = (form_type, prop::collection::vec(field, 0..4)).prop_map(|(form_type, fields)| {
        let mut x = Element::bare("x", "jabber:x:data");
        for field in form_type.into_iter().chain(fields) {
            x.append_child(field);
        }
        x
    });
    let child = prop_oneof![3 => identity, 3 => feature, 3 => form, 1 => arb_element()];
    prop::collection::vec(child, 0..8).prop_map(|children| {
        let mut query = Element::bare("query", NS_DISCO_INFO);
        for child in children {
            query.append_child(child);
        }
        query
    })
}

proptest! {
    #[test]
    fn reading_never_panics_and_what_it_accepts_reads_back(el in arb_disco()) {
        let stanza = Stanza::from(&el);
        if let Ok(info) = DiscoInfo::from_query(stanza.root()) {
            prop_assert_eq!(info.validate(), Ok(()));
            let request = read("<iq from='a@b/c' id='1' type='get'/>");
            let (_, read) = answer(&request, &info, None);
            prop_assert_eq!(read.ver_sha1(), info.ver_sha1());
            prop_assert_eq!(read, info);
        }
    }

    #[test]
    fn any_tree_reads_without_panic(el in arb_element()) {
        let stanza = Stanza::from(&el);
        let _ = DiscoInfo::from_query(stanza.root());
        let _ = Caps::from_presence(stanza.root());
    }

    #[test]
    fn shuffling_keeps_the_ver(
        identities in Just(complex().identities).prop_shuffle(),
        features in Just(complex().features).prop_shuffle(),
        fields in Just(complex().forms[0].fields.clone()).prop_shuffle(),
    ) {
        let form = DataForm::new("urn:xmpp:dataforms:softwareinfo", fields);
        let info = DiscoInfo::new(identities, features, vec![form]);
        prop_assert_eq!(info.ver_sha1(), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
    }
}
