//! Unit tests of `reader` (a child module, so private items are in reach).

use super::*;
use proptest::prelude::*;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' \
    version='1.0' xml:lang='en'>";

/// A realistic server stream, from XML declaration to closing tag.
fn server_stream() -> Vec<u8> {
    after_header(
        "\n<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>\
         </stream:features> \r\n\t \
         <message from='a@example.com/r' to=\"b@example.com\" type='chat'>\
         <body>Fish &amp; chips &#x20AC;5 \u{2014} \u{fc}n\u{ef}c\u{f6}d\u{e9} \u{1F41F} \
         <![CDATA[<not markup> & ]]> end</body>\
         <x xmlns='urn:x' a='&lt;&quot;&#9;' xml:lang='de'><y/><y>t<z>u</z>v</y></x></message>\
         \n\n<iq type='result' id='r1'><query xmlns='jabber:iq:roster'>\
         <item jid='c@d' name='\u{c7}a'/></query></iq> <presence/>\n</stream:stream>",
    )
}

fn after_header(rest: &str) -> Vec<u8> {
    format!("{HEADER}{rest}").into_bytes()
}

type Outcome = (Vec<StreamEvent>, Option<XmlError>);

/// Feeds `chunks` in order, looping `next` on each chunk until it is used up.
fn feed(limits: Limits, chunks: &[&[u8]]) -> Outcome {
    feed_with(limits, chunks, true)
}

/// [`feed`] with the fast path on or off.
fn feed_with(limits: Limits, chunks: &[&[u8]], fast_path: bool) -> Outcome {
    run(limits, fast_path, chunks).0
}

/// Events, error and held bytes after `chunks`, with or without the fast path.
fn run(limits: Limits, fast_path: bool, chunks: &[&[u8]]) -> (Outcome, usize) {
    let mut reader = StreamReader::new(limits);
    reader.fast_path = fast_path;
    let mut events = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        loop {
            match reader.next(&mut input) {
                Ok(Some(ev)) => events.push(ev),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(reader.next(&mut &b"<a/>"[..]), Err(e.clone()), "poisoned");
                    return ((events, Some(e)), 0);
                }
            }
        }
        let closed = events.last() == Some(&StreamEvent::Close);
        assert!(closed || input.is_empty(), "Ok(None) left input");
    }
    ((events, None), reader.buffered_bytes())
}

fn feed_whole(limits: Limits, bytes: &[u8]) -> Outcome {
    feed(limits, &[bytes])
}

fn element(event: &StreamEvent) -> &Stanza {
    match event {
        StreamEvent::Element(el) => el,
        other => panic!("not an element: {other:?}"),
    }
}

/// Splits `bytes` at the given points (taken modulo the length).
fn split_at_points<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let ends = cuts.iter().copied().chain([bytes.len()]);
    let starts = [0].into_iter().chain(cuts.iter().copied());
    starts.zip(ends).map(|(a, b)| &bytes[a..b]).collect()
}

#[test]
fn parses_a_server_stream() {
    let (events, error) = feed_whole(Limits::default(), &server_stream());
    assert_eq!((events.len(), error), (6, None));
    let StreamEvent::Header(h) = &events[0] else {
        panic!()
    };
    let header = [&h.from, &h.id, &h.version, &h.lang].map(|v| v.as_deref());
    assert_eq!(
        header,
        [Some("example.com"), Some("s1"), Some("1.0"), Some("en")]
    );
    assert!(element(&events[1]).is("features", NS_STREAMS));
    let msg = element(&events[2]);
    assert!(msg.is("message", "jabber:client") && msg.attr("to") == Some("b@example.com"));
    let body = msg.get_child("body", "jabber:client").unwrap();
    let text = "Fish & chips \u{20AC}5 \u{2014} \u{fc}n\u{ef}c\u{f6}d\u{e9} \u{1F41F} \
                <not markup> &  end";
    assert_eq!((body.nodes().count(), body.text().as_str()), (1, text));
    let x = msg.get_child("x", "urn:x").unwrap();
    assert_eq!(x.attr("a"), Some("<\"\t"));
    assert_eq!(x.attr_ns(rxml::XMLNS_XML, "lang"), Some("de"));
    assert_eq!(events[5], StreamEvent::Close);
    let bytes = server_stream();
    let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(feed(Limits::default(), &one_by_one), (events.clone(), None));
    assert_eq!(
        feed_with(Limits::default(), &[&bytes], false),
        (events, None)
    );
}

/// Pieces of top-level elements, well-formed or not, inside and outside the fast path's
/// subset.
fn xmlish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "<a>",
        "</a>",
        "<b x='1'>",
        "</b>",
        "<c/>",
        "<c />",
        "<a\n>",
        "</a >",
        "text",
        " ",
        "\n",
        "\t",
        "\r\n",
        "\r",
        "&amp;",
        "&lt;&gt;&apos;&quot;",
        "&#10;",
        "&#x41;",
        "&nbsp;",
        "&",
        "]]>",
        "]]",
        "<![CDATA[x]]>",
        "<!-- c -->",
        "<?pi?>",
        "\u{e9}",
        "\u{1F41F}",
        "\u{FFFE}",
        "\u{1}",
        "\u{7F}",
        "<p:q>",
        "</p:q>",
        "<a xmlns:p='u'>",
        "<a xmlns='urn:x'>",
        "<a xmlns=''>",
        "<a xmlns='urn:a b'>",
        "<a xmlns='&amp;'>",
        "<a xmlns='http://www.w3.org/XML/1998/namespace'>",
        "<a xmlns='u' xmlns='v'>",
        "<a x='1' x='2'>",
        "<a x='1'y='2'>",
        "<a x = \"1\">",
        "<a x='<'>",
        "<a x='>'>",
        "<a x='\t\n'>",
        "<a x='&#9;'>",
        "<a x='&amp;&quot;'>",
        "<a xml:lang='en'>",
        "<a xml:space='preserve'>",
        "<a p:x='1'>",
        "<\u{e9}>",
        "</\u{e9}>",
        "<1a>",
        "<a-b.c_d>",
        "</a-b.c_d>",
        "<xml>",
        "</xml>",
        "<xmlfoo/>",
        "<a xml:xmlns='1'>",
        "<a XMLfoo='1'>",
        "<a xml:id='i'>",
        "<xmlns/>",
        "<a:>",
        "< a>",
        "<a/ >",
        "<presence from='a@b/c'><show>away</show><status>x &amp; y</status></presence>",
        "<message type='chat'><body>hi</body><c xmlns='urn:c' v='1'/></message>",
        "<iq><q xmlns='urn:q'><i k='v'/><i/></q></iq>",
        "</stream:stream>",
    ]);
    prop::collection::vec(piece, 1..12).prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn the_fast_path_changes_nothing(
        parts in prop::collection::vec(xmlish(), 1..4),
        bad_byte in prop::option::of(any::<u8>()),
        points in prop::collection::vec(any::<usize>(), 0..6),
        limits in prop::sample::select(vec![
            Limits::default(),
            Limits { max_stanza_bytes: 60, max_depth: 3, max_attributes: 1, ..Limits::default() },
        ]),
    ) {
        // A settled stream (header, one element through rxml), then the pieces.
        let mut bytes = after_header("<settle/>");
        for part in &parts {
            bytes.extend_from_slice(part.as_bytes());
            if let Some(b) = bad_byte {
                bytes.push(b);
            }
            bytes.extend_from_slice(b"<end/>");
        }
        let rxml_only = feed_with(limits, &[&bytes], false);
        let fast = feed_with(limits, &[&bytes], true);
        // The same minidom elements too: what `Stanza::to_element` gives the application.
        let elements = |outcome: &Outcome| -> Vec<Element> {
            outcome.0.iter().filter_map(|e| match e {
                StreamEvent::Element(s) => Some(s.to_element()),
                _ => None,
            }).collect()
        };
        prop_assert_eq!(elements(&fast), elements(&rxml_only));
        prop_assert_eq!(fast, rxml_only.clone());
        let chunks = split_at_points(&bytes, &points);
        prop_assert_eq!(feed_with(limits, &chunks, true), rxml_only);
    }

    #[test]
    fn any_split_gives_the_same_events(points in prop::collection::vec(any::<usize>(), 0..40)) {
        let stream = server_stream();
        let whole = feed_whole(Limits::default(), &stream);
        prop_assert_eq!(feed(Limits::default(), &split_at_points(&stream, &points)), whole);
    }

    #[test]
    fn any_split_gives_the_same_error(
        points in prop::collection::vec(any::<usize>(), 0..20),
        cut in any::<usize>(),
        junk in prop::sample::select(vec![
            "<!-- c -->", "x", "</a>", "\u{1}", "\u{FFFF}", "<a a='1' a='2'/>", "   ", "",
            "<!DOCTYPE x>", "&lol;", "<!x>",
        ]),
        limits in prop::sample::select(vec![
            Limits::default(),
            Limits { max_stanza_bytes: 300, max_depth: 4, max_whitespace_run: 5, ..Limits::default() },
            Limits { max_stanza_bytes: 100, max_attributes: 2, ..Limits::default() },
        ]),
    ) {
        // Junk inserted anywhere, tight limits: the outcome never depends on the split.
        let stream = server_stream();
        let at = cut % stream.len();
        let bytes = [&stream[..at], junk.as_bytes(), &stream[at..]].concat();
        let whole = feed_whole(limits, &bytes);
        prop_assert_eq!(feed(limits, &split_at_points(&bytes, &points)), whole);
    }

    #[test]
    fn junk_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        parts in prop::collection::vec(prop::sample::select(vec![
            "<a>", "</a>", "<b x='1'>", "</b>", "<c/>", "text", " ", "&amp;", "&#0;", "<![CDATA[",
            "]]>", "<?", "?>", "<!--", "-->", "</stream:stream>", "xmlns:p='u'", "<p:q>", "\u{e9}",
        ]), 0..64),
        points in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let tight = Limits { max_stanza_bytes: 40, max_depth: 4, ..Limits::default() };
        let xml_like = after_header(&parts.concat());
        let with_header = [HEADER.as_bytes(), &bytes].concat();
        for input in [&bytes, &with_header, &xml_like] {
            let _ = feed(Limits::default(), &split_at_points(input, &points));
            let _ = feed(tight, &input.chunks(3).collect::<Vec<_>>());
        }
    }
}

/// The final error for `bytes` fed whole with the default limits.
fn error_of(bytes: &[u8]) -> Option<XmlError> {
    feed_whole(Limits::default(), bytes).1
}

#[test]
fn error_conditions() {
    let prolog = |p: &str| format!("<?xml version='1.0'?>{p}{}", &HEADER[21..]).into_bytes();
    let raw = |s: &str| s.as_bytes().to_vec();
    #[rustfmt::skip]
    let cases = [
        (raw("<stream xmlns='jabber:client'>"), "invalid-namespace"),
        (raw("<s:stream xmlns:s='urn:nope'>"), "invalid-namespace"),
        (after_header("<a></b>"), "not-well-formed"),
        ([&after_header("<a>")[..], b"\xff</a>"].concat(), "unsupported-encoding"),
        ([&after_header("<a>")[..], b"\xc3\x28</a>"].concat(), "unsupported-encoding"),
        (raw("<?xml version='1.0' encoding='ISO-8859-1'?>"), "unsupported-encoding"),
        (after_header("<a>\u{1}</a>"), "not-well-formed"),
        (after_header("<a x='1' x='2'/>"), "not-well-formed"),
        (after_header("<a>&custom;</a>"), "restricted-xml"),
        (after_header("<a>&123;</a>"), "restricted-xml"),
        (after_header("<a>& b</a>"), "not-well-formed"),
        (after_header("<a><!x></a>"), "not-well-formed"),
        (after_header("<a><![CDAT</a>"), "not-well-formed"),
        (after_header("<!DOCTYPE message>"), "restricted-xml"),
        (after_header("<a><!ENTITY e 'x'></a>"), "restricted-xml"),
        (after_header("<a/>junk<b/>"), "bad-format"),
        (after_header("<!-- comment -->"), "restricted-xml"),
        (after_header("<a><!-- comment --></a>"), "restricted-xml"),
        (after_header("<?pi data?>"), "restricted-xml"),
        (prolog("<!-- comment -->"), "restricted-xml"),
        (prolog("<!DOCTYPE stream>"), "restricted-xml"),
        (prolog("<!DOCTYPE stream [<!ENTITY e 'x'>]>"), "restricted-xml"),
        (prolog("<!ENTITY e 'x'>"), "restricted-xml"),
    ];
    for (bytes, condition) in cases {
        let error = error_of(&bytes).expect("an error");
        let input = String::from_utf8_lossy(&bytes);
        assert_eq!(error.condition(), condition, "{input}");
    }
    let utf8 = "<?xml version='1.0' encoding='UTF-8'?><stream:stream \
                xmlns:stream='http://etherx.jabber.org/streams'>";
    assert_eq!(error_of(utf8.as_bytes()), None, "UTF-8 may be declared");
    let junk = error_of(&after_header("<a/>junk<b/>"));
    let text = "text between top-level elements";
    assert_eq!(junk, Some(XmlError::BadFormat(text)));
    let policy = XmlError::LimitExceeded(Limit::Depth).condition();
    assert_eq!(policy, "policy-violation");
}

#[test]
fn limits() {
    let (max, ws) = (256 * 1024, 64 * 1024);
    // <message><body> + n bytes of text + </body></message>: n + 32 bytes.
    let message = |n: usize| format!("<message><body>{}</body></message>", "a".repeat(n));
    let nested = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
    let attrs = |n: usize| (0..n).map(|i| format!(" a{i}='v'")).collect::<String>();
    let v3000 = "v".repeat(3000);
    let big: String = (0..100).map(|i| format!(" a{i}='{v3000}'")).collect();
    let big_header = format!("<stream:stream xmlns:stream='{NS_STREAMS}'{big}>");
    let lim = |l| Some(XmlError::LimitExceeded(l));
    #[rustfmt::skip]
    let cases = [
        (after_header(&message(max - 32)), None),
        (after_header(&message(max - 31)), lim(Limit::StanzaSize)),
        (big_header.into_bytes(), lim(Limit::StanzaSize)),
        // The stream root is depth 1.
        (after_header(&nested(31)), None),
        (after_header(&nested(32)), lim(Limit::Depth)),
        (after_header(&format!("<a{}/>", attrs(64))), None),
        (after_header(&format!("<a{}/>", attrs(65))), lim(Limit::Attributes)),
        (after_header(&format!("{0}<a/>{0}<a/>{0}", " ".repeat(ws))), None),
        (after_header(&format!("<a/>{}<a/>", "\n".repeat(ws + 1))), lim(Limit::WhitespaceRun)),
    ];
    for (i, (bytes, expected)) in cases.into_iter().enumerate() {
        assert_eq!(error_of(&bytes), expected, "case {i}");
    }
    let (events, _) = feed_whole(Limits::default(), &after_header(&message(max - 32)));
    let body = element(&events[1]).get_child("body", "jabber:client");
    let body = body.expect("a body");
    assert_eq!((body.nodes().count(), body.text().len()), (1, max - 32));
}

#[test]
fn endless_element_head_is_cut_off_early() {
    let mut head = String::from("<message");
    for i in 0..100_000 {
        head.push_str(&format!(" a{i}='value'"));
    }
    assert!(head.len() > 1024 * 1024);
    let bytes = after_header(&head);
    let mut reader = StreamReader::new(Limits::default());
    let chunks = bytes.chunks(4096).position(|chunk| {
        let mut input = chunk;
        loop {
            match reader.next(&mut input) {
                Ok(Some(_)) => {}
                Ok(None) => return false,
                Err(e) => return e == XmlError::LimitExceeded(Limit::StanzaSize),
            }
        }
    });
    let fed = (chunks.expect("the limit is hit") + 1) * 4096;
    assert!(fed < 300 * 1024, "error after {fed} bytes");
}

#[test]
fn a_self_closing_root_closes_the_stream_whatever_follows_in_any_chunking() {
    let root = format!("<stream:stream xmlns:stream='{NS_STREAMS}' version='1.0'/>");
    for rest in ["junk", "<a/>", "  x", ""] {
        let bytes = format!("{root}{rest}").into_bytes();
        let whole = feed_whole(Limits::default(), &bytes);
        assert_eq!(whole.0.len(), 2, "{rest:?}: {whole:?}");
        assert_eq!(
            (&whole.0[1], &whole.1),
            (&StreamEvent::Close, &None),
            "{rest:?}"
        );
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(feed(Limits::default(), &bytewise), whole, "{rest:?}");
    }
}

/// rxml accepts a repeated default namespace declaration (the last one wins; a repeated
/// prefix is a duplicate attribute for it). The fast path once took the root's first
/// one (found by fuzzing).
#[test]
fn duplicate_namespace_declarations_read_the_same_with_or_without_the_fast_path() {
    let root_twice = HEADER.replace(
        "xmlns='jabber:client'",
        "xmlns='urn:a' xmlns='jabber:client'",
    );
    let cases = [
        // rxml reads the first top-level element; the fast path may read the second.
        format!("{root_twice}<iq type='result' id='1'/><iq type='result' id='2'/>").into_bytes(),
        after_header("<iq xmlns='urn:a' xmlns='urn:b' id='1'/>"),
        after_header("<iq id='1'><q xmlns='urn:a' xmlns='urn:b'/></iq>"),
        after_header("<iq xmlns:p='urn:a' xmlns:p='urn:b' id='1'><p:q/></iq>"),
    ];
    for bytes in cases {
        let with = feed_with(Limits::default(), &[&bytes], true);
        let without = feed_with(Limits::default(), &[&bytes], false);
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(with, without, "{text}");
    }
}

/// What rxml rejects as soon as it reads it must not sit in the fast path's held bytes
/// (found by review: each of these was held, silently, until more bytes came).
#[test]
fn held_bytes_never_hide_an_error_rxml_would_report() {
    for tail in [
        "<a x='&foo;' ",
        "<a x='&#0;' y='1",
        "<a x='& ' ",
        "<a x='&lt' y='1",
        "<a></b ",
        "<a><b></a ",
        "</foo ",
        "</p:q ",
        "<a>&aaaaaaaaa",
        "<a x='&aaaaaaaaa",
        "<a xmlns:p='' ",
        "<a xmlns:xml='u' ",
        "<a xmlns='http://www.w3.org/XML/1998/namespace'",
        "<a xmlns:p='http://www.w3.org/XML/1998/namespace' ",
        "<a>\u{1a}",
        // And what rxml only judges later may be held.
        "<a>&quo",
        "<a x='1' x='2' ",
        "<a><b></b",
    ] {
        let bytes = after_header(&format!("<settle/>{tail}"));
        let fast = run(Limits::default(), true, &[&bytes]);
        assert_eq!(fast, run(Limits::default(), false, &[&bytes]), "{tail:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// A stream that stops anywhere reads the same with and without the fast path,
    /// whole or chunked: nothing held hides or delays an outcome.
    #[test]
    fn a_stream_cut_anywhere_reads_the_same_with_or_without_the_fast_path(
        parts in prop::collection::vec(xmlish(), 1..4),
        extra in prop::collection::vec(prop::sample::select(vec![
            "&foo;", "&#0;", "& ", "&aaaaaaaaa", "&am", "&lt", "</b ", "</a ", "</p:a ",
            "<a y='&foo;' ", "<a y='&#0;' z='", "x", "]]", "]]>", "\u{e9}",
            "<a xmlns:p='' ", "<a xmlns:xml='u' ",
            "<a xmlns='http://www.w3.org/XML/1998/namespace' ",
            "<a xmlns='u' xmlns='v' ", "<a x='1' x='2' ", "</stream:stream ",
            "<a>&#x110000;", "<a\r", "<a x='\r'", "<a:b:c", "<a></a\r", "<a>\u{FFFE}",
            "<a x='&amp;&lt;&gt;&quot;&apos;'", "<a>&quot", "<a>&apo", "<a>&ampx",
        ]), 0..4),
        cut in any::<usize>(),
        points in prop::collection::vec(any::<usize>(), 0..6),
        limits in prop::sample::select(vec![
            Limits::default(),
            Limits { max_stanza_bytes: 60, max_depth: 3, max_attributes: 1, ..Limits::default() },
        ]),
    ) {
        let mut body = String::new();
        for (i, part) in parts.iter().enumerate() {
            body.push_str(part);
            if let Some(e) = extra.get(i) {
                body.push_str(e);
            }
        }
        let bytes = after_header(&format!("<settle/>{body}"));
        let at = HEADER.len() + cut % (bytes.len() - HEADER.len() + 1);
        let bytes = &bytes[..at];
        let rxml_only = run(limits, false, &[bytes]).0;
        prop_assert_eq!(&run(limits, true, &[bytes]).0, &rxml_only);
        let chunks = split_at_points(bytes, &points);
        prop_assert_eq!(&run(limits, true, &chunks).0, &rxml_only);
    }
}

/// Stanzas of the fast path's subset, one of them long, after a settled stream.
fn plain_stanzas() -> Vec<u8> {
    let long_body = "x".repeat(3 * MAX_PENDING);
    after_header(&format!(
        "<settle/><presence from='a@b/c'><show>away</show><status>x &amp; y</status>\
         </presence><message type='chat'><body>{long_body}</body></message>\
         <iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq> <presence/>"
    ))
}

#[test]
fn a_stanza_cut_anywhere_reads_the_same() {
    let bytes = plain_stanzas();
    let whole = feed_whole(Limits::default(), &bytes);
    assert_eq!(whole.0.len(), 6, "{whole:?}");
    let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(feed(Limits::default(), &one_by_one), whole);
    for size in [2, 7, 100, 4096] {
        let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
        assert_eq!(feed(Limits::default(), &chunks), whole, "{size}");
    }
    let start = HEADER.len();
    for cut in start..start + 200 {
        assert_eq!(
            feed(Limits::default(), &[&bytes[..cut], &bytes[cut..]]),
            whole,
            "{cut}"
        );
    }
}

#[test]
fn a_held_stanza_counts_as_buffered_and_stays_bounded() {
    let bytes = plain_stanzas();
    let mut reader = StreamReader::new(Limits::default());
    let mut most = 0;
    for chunk in bytes.chunks(1000) {
        let mut input = chunk;
        while let Ok(Some(_)) = reader.next(&mut input) {}
        assert!(input.is_empty());
        most = most.max(reader.buffered_bytes());
    }
    assert!(most > 0);
    assert!(most <= 3 * MAX_PENDING + 100, "{most}");
    // The presence cut after its first 10 bytes is held by the fast path, not rxml.
    let mut reader = StreamReader::new(Limits::default());
    let presence_at = bytes.windows(9).position(|w| w == b"<presence").unwrap();
    let mut input = &bytes[..presence_at + 10];
    while let Ok(Some(_)) = reader.next(&mut input) {}
    assert_eq!((reader.phase, reader.pending.len()), (Phase::Between, 10));
    let mut input = &bytes[presence_at + 10..];
    let Ok(Some(StreamEvent::Element(presence))) = reader.next(&mut input) else {
        panic!("no presence");
    };
    assert_eq!(presence.attr("from"), Some("a@b/c"));
    assert!(reader.pending.is_empty() && reader.pending.capacity() == 0);
}

#[test]
fn bytes_after_an_event_stay_in_input() {
    let mut reader = StreamReader::new(Limits::default());
    let bytes = after_header("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03<j");
    let mut input = &bytes[..];
    let header = reader.next(&mut input).unwrap().unwrap();
    assert!(matches!(header, StreamEvent::Header(_)));
    let proceed = reader.next(&mut input).unwrap().unwrap();
    assert!(element(&proceed).is("proceed", "urn:ietf:params:xml:ns:xmpp-tls"));
    assert_eq!(input, b"\x16\x03<j");

    let mut reader = StreamReader::new(Limits::default());
    let bytes = after_header("</stream:stream>trailing");
    let mut input = &bytes[..];
    let header = reader.next(&mut input).unwrap().unwrap();
    assert!(matches!(header, StreamEvent::Header(_)));
    assert_eq!(reader.next(&mut input), Ok(Some(StreamEvent::Close)));
    assert_eq!(reader.next(&mut input), Ok(None));
    assert_eq!(input, b"trailing");
}

/// Between top-level elements, once the input runs out, the reader drops rxml's parser
/// (its token buffer and namespace state) and makes it again from the stream header when
/// rxml is next needed; a stream fed one element at a time (a release before each) reads
/// exactly as when fed whole, to its close or its error, with or without the fast path.
#[test]
fn an_idle_reader_holds_no_parser_and_one_made_again_reads_the_same() {
    let pieces = [
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
        " \n",
        "<message from='a@b/c'><body>Fish &amp; chips</body></message>",
        "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
        "\t<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
        "<presence/>",
    ];
    let header_with_more = format!("{HEADER}\n{}", pieces[0]);
    let endings = [
        "</stream:stream>",
        "</stream:wrong>",
        "<a>&nope;</a>",
        "x",
        "<stream:x/>",
    ];
    let firsts = [HEADER, header_with_more.as_str()];
    for (ending, first) in endings.iter().flat_map(|e| firsts.map(|f| (e, f))) {
        // The header alone, or with more bytes in its chunk (the prolog kept is the header).
        let mut chunks = vec![first.as_bytes()];
        let skip = usize::from(first.len() > HEADER.len());
        chunks.extend(pieces[skip..].iter().map(|p| p.as_bytes()));
        chunks.push(ending.as_bytes());
        let whole: Vec<u8> = chunks.concat();
        for fast_path in [true, false] {
            let mut reader = StreamReader::new(Limits::default());
            reader.fast_path = fast_path;
            let mut events = Vec::new();
            let mut error = None;
            for (i, chunk) in chunks.iter().enumerate() {
                let mut input = *chunk;
                loop {
                    match reader.next(&mut input) {
                        Ok(Some(ev)) => events.push(ev),
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
                if i == 0 {
                    assert_eq!(reader.prolog.as_deref(), Some(HEADER.as_bytes()));
                }
                if error.is_none() && i >= 1 && i < chunks.len() - 1 {
                    assert!(reader.parser.is_none(), "a parser held after chunk {i}");
                }
            }
            let expected = run(Limits::default(), fast_path, &[&whole]).0;
            assert_eq!((events, error), expected, "{ending} fast path {fast_path}");
        }
    }
}
