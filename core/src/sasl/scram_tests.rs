//! Unit tests of `scram` (a child module, so private items are in reach).

use super::ScramError::*;
use super::*;
use crate::sasl::ChannelBindingType;
use proptest::prelude::*;

thread_local! {
    /// How often PBKDF2 ran on this test thread.
    pub(super) static PBKDF2_RUNS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
}

const NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";
const FIRST: &[u8] = b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const FINAL: &str =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
const V: &[u8] = b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
const N: fn() -> CbindFlag = || CbindFlag::NotSupported;

/// SCRAM-SHA-1 client with the RFC 5802 nonce, iterations in 4096..=max.
fn sc(user: &str, pass: &str, cbind: CbindFlag, max: u32) -> ScramClient {
    ScramClient::new(ScramHash::Sha1, user, pass, cbind, NONCE.into(), 4096, max).unwrap()
}

fn first_err(msg: &str) -> ScramError {
    sc("user", "pencil", N(), 1_000_000)
        .handle_server_first(msg.as_bytes())
        .unwrap_err()
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap()
}

#[test]
fn rfc5802_sha1_vector() {
    let mut c = sc("user", "pencil", N(), 4096);
    assert_eq!(
        text(c.client_first()),
        "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    );
    assert_eq!(text(c.handle_server_first(FIRST).unwrap()), FINAL);
    assert!(!c.is_verified());
    c.handle_server_final(V).unwrap();
    assert!(c.is_verified());
    assert_eq!(c.handle_server_final(V), Err(UnexpectedMessage));
    assert!(c.is_verified());
}

#[test]
fn rfc7677_sha256_vector() {
    let nonce = "rOprNGfwEbeRWgbNEkqO".to_owned();
    let mut c =
        ScramClient::new(ScramHash::Sha256, "user", "pencil", N(), nonce, 4096, 4096).unwrap();
    assert_eq!(text(c.client_first()), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    let fin = c.handle_server_first(
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    );
    let want = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    assert_eq!(text(fin.unwrap()), want);
    c.handle_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        .unwrap();
    assert!(c.is_verified());
}

#[test]
fn bad_server_first() {
    let n = NONCE;
    let s = "s=QSXCR+Q6sek8bf92";
    let (iter, salt) = (Malformed("iteration count"), Malformed("salt"));
    let mext = Malformed("mandatory extension");
    for (msg, want) in [
        (
            format!("r=Xyko+d2lbbFgONRv9qkxdawL3rfc,{s},i=4096"),
            NonceMismatch,
        ),
        (format!("r={n},{s},i=4096"), NonceMismatch), // equal: not extended
        (format!("r=fyko,{s},i=4096"), NonceMismatch),
        (format!("r={n}\u{7f},{s},i=4096"), Malformed("nonce")),
        (format!("{s},r={n}a,i=4096"), Malformed("nonce")),
        (format!("r={n}a,{s},i=0"), iter.clone()),
        (format!("r={n}a,{s},i=abc"), iter.clone()),
        (format!("r={n}a,{s},i=4294967296"), iter.clone()),
        (
            format!("r={n}a,{s},i=99999999999999999999999"),
            iter.clone(),
        ),
        (format!("r={n}a,{s},i=-4096"), iter.clone()),
        (format!("r={n}a,{s},i=+4096"), iter.clone()),
        (format!("r={n}a,{s},i="), iter.clone()),
        (format!("r={n}a,{s}"), iter),
        (format!("r={n}a,i=4096"), salt.clone()),
        (format!("r={n}a,s=,i=4096"), salt.clone()),
        (format!("r={n}a,s=not*base64,i=4096"), salt.clone()),
        (format!("r={n}a,s=QSXCR+Q6sek8bf9,i=4096"), salt),
        (format!("m=x,r={n}a,{s},i=4096"), mext.clone()),
        (format!("r={n}a,{s},i=4096,m=x"), mext),
        (format!("r={n}a,{s},i=4096,"), Malformed("extension")),
        (
            "e=other-error".to_owned(),
            ServerError("other-error".into()),
        ),
    ] {
        assert_eq!(first_err(&msg), want, "{msg}");
    }
    // Extensions after i= are tolerated.
    let ext = format!("r={n}a,{s},i=4096,x=foo,y=");
    sc("user", "pencil", N(), 4096)
        .handle_server_first(ext.as_bytes())
        .unwrap();
}

#[test]
fn bad_server_final() {
    let run = |msg: &[u8]| {
        let mut c = sc("user", "pencil", N(), 4096);
        c.handle_server_first(FIRST).unwrap();
        let r = c.handle_server_final(msg);
        assert!(!c.is_verified());
        // A failure ends the exchange, even for the right signature.
        assert_eq!(c.handle_server_final(V), Err(UnexpectedMessage));
        r.unwrap_err()
    };
    assert_eq!(run(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="), SignatureMismatch);
    assert_eq!(run(b"v="), SignatureMismatch);
    assert_eq!(run(b"e=invalid-proof"), ServerError("invalid-proof".into()));
    assert_eq!(
        run(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ"),
        Malformed("server signature")
    );
    assert_eq!(run(b"x=1"), Malformed("server-final"));
    assert_eq!(run(b""), Malformed("server-final"));
    assert_eq!(run(b"v=\xff"), Malformed("server-final not UTF-8"));
    let long = format!("e={}", "\u{e9}".repeat(1000));
    assert!(matches!(run(long.as_bytes()), ServerError(e) if e.len() == 256));
}

#[test]
fn a_cached_key_skips_pbkdf2_and_gives_the_same_proof() {
    PBKDF2_RUNS.with(|r| r.set(0));
    let mut cache = ScramCache::new();
    let mut c = sc("user", "pencil", N(), 4096);
    assert_eq!(
        text(c.handle_server_first_cached(FIRST, &cache).unwrap()),
        FINAL
    );
    c.handle_server_final(V).unwrap();
    cache.insert(c.take_key().expect("a key"));
    assert_eq!(PBKDF2_RUNS.with(|r| r.get()), 1);

    let mut c = sc("user", "pencil", N(), 4096);
    assert_eq!(
        text(c.handle_server_first_cached(FIRST, &cache).unwrap()),
        FINAL
    );
    c.handle_server_final(V).unwrap();
    assert_eq!(
        PBKDF2_RUNS.with(|r| r.get()),
        1,
        "no PBKDF2 with the key cached"
    );
    assert!(!format!("{cache:?}").contains("pencil"));

    // Another password, user, salt or count is another key.
    let first = core::str::from_utf8(FIRST).unwrap();
    for (user, pass, first) in [
        ("user", "pencil2", first.to_owned()),
        ("user2", "pencil", first.to_owned()),
        ("user", "pencil", first.replace("s=QSXCR", "s=QSXCQ")),
        ("user", "pencil", first.replace("4096", "4097")),
    ] {
        let mut c = sc(user, pass, N(), 5000);
        c.handle_server_first_cached(first.as_bytes(), &cache)
            .unwrap();
        assert!(c.take_key().is_some());
    }
    assert_eq!(PBKDF2_RUNS.with(|r| r.get()), 5);
}

#[test]
fn iteration_count_bounds_checked_before_pbkdf2() {
    for (count, max) in [(u32::MAX, 1_000_000), (10_000_000, 1_000_000), (4095, 5000)] {
        PBKDF2_RUNS.with(|r| r.set(0));
        let msg = format!("r={NONCE}abc,s=QSXCR+Q6sek8bf92,i={count}");
        let err = sc("u", "p", N(), max).handle_server_first(msg.as_bytes());
        assert_eq!(
            err,
            Err(IterationCount {
                count,
                min: 4096,
                max
            })
        );
        assert_eq!(PBKDF2_RUNS.with(|r| r.get()), 0, "PBKDF2 ran for i={count}");
    }
    sc("user", "pencil", N(), 4096)
        .handle_server_first(FIRST)
        .unwrap();
    assert_eq!(PBKDF2_RUNS.with(|r| r.get()), 1);
}

#[test]
fn username_escaping_and_nonce_checks() {
    let c = sc("a=b,c", "p", N(), 4096);
    assert_eq!(text(c.client_first()), format!("n,,n=a=3Db=2Cc,r={NONCE}"));
    let new = |u: &str, p: &str, nonce: &str| {
        ScramClient::new(ScramHash::Sha1, u, p, N(), nonce.into(), 1, 2).unwrap_err()
    };
    assert_eq!(new("u", "p", "a,b"), Malformed("client nonce"));
    assert_eq!(new("u", "p", ""), Malformed("client nonce"));
}

#[test]
fn gs2_headers_and_channel_binding() {
    let mut c = sc("user", "pencil", CbindFlag::SupportedNotUsed, 4096);
    assert_eq!(text(c.client_first()), format!("y,,n=user,r={NONCE}"));
    let fin = text(c.handle_server_first(FIRST).unwrap());
    assert!(fin.starts_with("c=eSws,r="), "{fin}"); // base64("y,,")

    let data = vec![0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0xFF];
    let kind = ChannelBindingType::TlsExporter;
    let used = CbindFlag::Used {
        kind,
        data: data.clone(),
    };
    let mut c = sc("user", "pencil", used.clone(), 4096);
    assert_eq!(
        text(c.client_first()),
        format!("p=tls-exporter,,n=user,r={NONCE}")
    );
    let mut input = b"p=tls-exporter,,".to_vec();
    input.extend_from_slice(&data);
    let fin = text(c.handle_server_first(FIRST).unwrap());
    let (head, proof) = fin.rsplit_once(",p=").unwrap();
    let want = format!(
        "c={},r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
        BASE64.encode(&input)
    );
    assert_eq!(head, want);
    // The binding data is covered by the proof.
    assert_ne!(proof, FINAL.rsplit_once(",p=").unwrap().1);
    let dbg = format!("{used:?}");
    assert!(dbg.contains("data_len: 6") && !dbg.contains("222"), "{dbg}");
}

#[test]
fn steps_out_of_order() {
    let mut c = sc("user", "pencil", N(), 4096);
    assert_eq!(c.handle_server_final(V), Err(UnexpectedMessage));
    assert_eq!(text(c.handle_server_first(FIRST).unwrap()), FINAL);
    assert_eq!(c.handle_server_first(FIRST), Err(UnexpectedMessage));
    c.handle_server_final(V).unwrap();
    assert_eq!(c.handle_server_first(FIRST), Err(UnexpectedMessage));
    let mut c = sc("user", "pencil", N(), 4096);
    assert!(c.handle_server_first(b"garbage").is_err());
    assert_eq!(c.handle_server_first(FIRST), Err(UnexpectedMessage));
    assert_eq!(c.handle_server_final(V), Err(UnexpectedMessage));
}

#[test]
fn debug_redacts_secrets() {
    let binding = CbindFlag::Used {
        kind: ChannelBindingType::TlsExporter,
        data: b"binding-bytes".to_vec(),
    };
    let mut c = sc("user", "pencil", binding, 4096);
    let dbg = format!("{c:?} {c:#?}");
    assert!(!dbg.contains("pencil") && !dbg.contains(NONCE), "{dbg}");
    assert!(!dbg.contains("binding-bytes"), "{dbg}");
    // Mid-exchange the client holds the expected server signature instead.
    c.handle_server_first(FIRST).unwrap();
    let dbg = format!("{c:?} {c:#?}");
    let State::AwaitingServerFinal { server_signature } = &c.state else {
        panic!("{dbg}")
    };
    let signature = BASE64.encode(server_signature.as_slice());
    assert!(
        !dbg.contains(&signature) && !dbg.contains("pencil"),
        "{dbg}"
    );
}

#[test]
fn the_password_is_wiped_once_used() {
    // The secret types wipe their bytes on drop.
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<Zeroizing<String>>();
    wiped_on_drop::<Zeroizing<Vec<u8>>>();
    let mut c = sc("user", "pencil", N(), 4096);
    assert_eq!(c.password.as_str(), "pencil");
    c.handle_server_first(FIRST).unwrap();
    assert_eq!(c.password.as_str(), "", "taken out and wiped after PBKDF2");
}

proptest! {
    #[test]
    fn arbitrary_server_bytes_never_panic(
        first in proptest::collection::vec(any::<u8>(), 0..300),
        fin in proptest::collection::vec(any::<u8>(), 0..300),
        tail in "[a-z=,0-9+/]{0,60}\\PC{0,8}",
    ) {
        let mut c = sc("user", "pencil", N(), 4096);
        let _ = c.handle_server_first(&first);
        let _ = c.handle_server_final(&fin);
        let mut c = sc("user", "pencil", N(), 4096);
        let _ = c.handle_server_first(format!("r={NONCE}{tail}").as_bytes());
        let mut c = sc("user", "pencil", N(), 4096);
        c.handle_server_first(FIRST).unwrap();
        prop_assert!(c.handle_server_final(&fin).is_err());
        let mut c = sc("user", "pencil", N(), 4096);
        c.handle_server_first(FIRST).unwrap();
        let v = format!("v={tail}");
        prop_assert!(c.handle_server_final(v.as_bytes()).is_err());
    }
}
