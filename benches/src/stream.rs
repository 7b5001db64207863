//! The fixed-seed generator of the inbound stream (the mix is described in the crate docs).

/// A small deterministic generator (PCG-style LCG), so the stream is the same on every run
/// and machine without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.next_u32() as usize % n
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The server's stream header for the post-authentication stream of the anchors.
pub const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='bench-stream-1' \
    version='1.0' xml:lang='en'>";

/// Stream features after authentication (bind offered), as the anchors need them.
pub const FEATURES: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    </stream:features>";

/// The server's closing tag.
pub const FOOTER: &str = "</stream:stream>";

/// The inbound stream: the stanzas only (what follows the login on an online client).
#[derive(Debug, Clone)]
pub struct Mix {
    /// The stanza bytes, back to back.
    pub bytes: Vec<u8>,
    /// How many stanzas.
    pub stanzas: usize,
    /// How many of them are presence, message and IQ.
    pub counts: [usize; 3],
}

const WORDS: &[&str] = &[
    "the", "meeting", "is", "moved", "to", "tomorrow", "at", "ten", "please", "bring", "notes",
    "café", "déjà", "vu", "&amp;", "&lt;3", "ok", "thanks", "see", "you", "soon", "build",
    "passed", "failed", "deploy", "review", "lunch", "coffee", "€5", "naïve", "über", "🐟",
];
const STATUSES: &[&str] = &[
    "Working from home",
    "In a meeting until 3pm",
    "Lunch",
    "On holiday — back Monday",
    "Coding &amp; coffee",
    "Commuting",
    "Busy, ping me if urgent",
];
const SHOWS: &[&str] = &["away", "xa", "dnd", "chat"];
const RESOURCES: &[&str] = &[
    "laptop",
    "phone",
    "desk-7f3a",
    "Gajim.K2Q9",
    "Conversations.x1",
];
const CAPS_NODES: &[&str] = &[
    "https://gajim.org",
    "http://conversations.im",
    "https://dino.im",
    "http://pidgin.im/",
];

fn words(rng: &mut Rng, out: &mut String, min: usize, max: usize) {
    for i in 0..rng.between(min, max) {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick(WORDS));
    }
}

fn contact(rng: &mut Rng) -> String {
    format!(
        "contact{}@example.org/{}",
        rng.below(500),
        rng.pick(RESOURCES)
    )
}

fn token(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())] as char)
        .collect()
}

fn presence(rng: &mut Rng, out: &mut String) {
    let from = contact(rng);
    if rng.below(10) == 0 {
        out.push_str(&format!(
            "<presence from='{from}' to='alice@localhost/desk' type='unavailable'/>"
        ));
        return;
    }
    out.push_str(&format!(
        "<presence from='{from}' to='alice@localhost/desk' id='{}'>",
        token(rng, 10)
    ));
    if rng.below(3) != 0 {
        out.push_str(&format!("<show>{}</show>", rng.pick(SHOWS)));
    }
    if rng.below(4) != 0 {
        out.push_str(&format!("<status>{}</status>", rng.pick(STATUSES)));
    }
    if rng.below(2) == 0 {
        out.push_str(&format!("<priority>{}</priority>", rng.below(50)));
    }
    out.push_str(&format!(
        "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='{}' ver='{}='/>",
        rng.pick(CAPS_NODES),
        token(rng, 27)
    ));
    if rng.below(2) == 0 {
        out.push_str(&format!(
            "<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2026-11-{:02}T{:02}:{:02}:{:02}Z'/>",
            rng.between(1, 28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ));
    }
    out.push_str("</presence>");
}

fn message(rng: &mut Rng, out: &mut String) {
    let from = contact(rng);
    out.push_str(&format!(
        "<message from='{from}' to='alice@localhost/desk' type='chat' id='{}'><body>",
        token(rng, 16)
    ));
    // Mostly short chat lines, sometimes a paragraph.
    if rng.below(8) == 0 {
        words(rng, out, 40, 120);
    } else {
        words(rng, out, 3, 25);
    }
    out.push_str(&format!(
        "</body><active xmlns='http://jabber.org/protocol/chatstates'/>\
         <origin-id xmlns='urn:xmpp:sid:0' id='{}'/></message>",
        token(rng, 22)
    ));
}

fn iq(rng: &mut Rng, out: &mut String) {
    let from = contact(rng);
    let id = token(rng, 12);
    match rng.below(3) {
        0 => out.push_str(&format!(
            "<iq from='{from}' to='alice@localhost/desk' type='get' id='{id}'>\
             <ping xmlns='urn:xmpp:ping'/></iq>"
        )),
        1 => out.push_str(&format!(
            "<iq from='{from}' to='alice@localhost/desk' type='get' id='{id}'>\
             <query xmlns='http://jabber.org/protocol/disco#info' node='{}#{}='/></iq>",
            rng.pick(CAPS_NODES),
            token(rng, 27)
        )),
        _ => {
            out.push_str(&format!(
                "<iq from='{from}' to='alice@localhost/desk' type='result' id='{id}'>\
                 <query xmlns='http://jabber.org/protocol/disco#info'>\
                 <identity category='client' type='pc' name='Gajim'/>"
            ));
            for feature in [
                "http://jabber.org/protocol/caps",
                "http://jabber.org/protocol/disco#info",
                "urn:xmpp:ping",
                "http://jabber.org/protocol/chatstates",
                "urn:xmpp:receipts",
            ] {
                out.push_str(&format!("<feature var='{feature}'/>"));
            }
            out.push_str("</query></iq>");
        }
    }
}

/// `stanzas` stanzas of the mix, from a fixed seed.
pub fn generate(seed: u64, stanzas: usize) -> Mix {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(stanzas * 330);
    let mut counts = [0; 3];
    for _ in 0..stanzas {
        let roll = rng.below(100);
        let kind = match roll {
            0..60 => 0,
            60..90 => 1,
            _ => 2,
        };
        counts[kind] += 1;
        match kind {
            0 => presence(&mut rng, &mut out),
            1 => message(&mut rng, &mut out),
            _ => iq(&mut rng, &mut out),
        }
        // Servers separate stanzas now and then with a newline.
        if rng.below(8) == 0 {
            out.push('\n');
        }
    }
    Mix {
        bytes: out.into_bytes(),
        stanzas,
        counts,
    }
}

impl Mix {
    /// The whole server stream the anchors read: header, features, stanzas, footer.
    pub fn full_stream(&self) -> Vec<u8> {
        [
            HEADER.as_bytes(),
            FEATURES.as_bytes(),
            &self.bytes,
            FOOTER.as_bytes(),
        ]
        .concat()
    }
}
