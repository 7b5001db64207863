//! The committed `command_sequence` seeds, written as steps and encoded the way the target
//! decodes them (`arbitrary` 1.x: two `bool` bytes for the configuration, then for each
//! step a continue byte, the variant as a little-endian `u32` scaled to the variant count,
//! and the fields). Written here rather than by hand, the seeds follow when a step or a
//! canned message is added: `record_scripted_seeds` rewrites them, and
//! `tests/tests/fuzz_seeds.rs` checks both the files and that each decodes to its steps.

use super::scripted_seeds::Seed;
use super::sequence::{Canned, Connect, Op};

/// How many variants each enum has (a wrong count shows as a seed that decodes to other
/// steps).
const CONNECTS: u32 = 3;
const CANNED: u32 = 33;
const OPS: u32 = 21;

/// The seeds: their file names and steps.
fn steps() -> Vec<(&'static str, Vec<Op>)> {
    use Canned::*;
    let login = || {
        vec![
            Op::Connect(Connect::Plain),
            Op::Say(Header),
            Op::Say(FeaturesStartTls),
            Op::Say(Proceed),
            Op::TlsEstablished(false),
            Op::Say(Header),
            Op::Say(FeaturesPlain),
            Op::Say(Success),
            Op::Say(Header),
            Op::Say(FeaturesBind),
        ]
    };
    let online = || [login(), vec![Op::Say(BindResult), Op::Say(IqResult)]].concat();
    let then = |first: Vec<Op>, rest: Vec<Op>| [first, rest].concat();
    vec![
        (
            "during-tls",
            vec![
                Op::Connect(Connect::Plain),
                Op::Say(Header),
                Op::Say(FeaturesStartTls),
                Op::Say(Proceed),
                Op::SetPresence(4),
                Op::Close,
                Op::TlsEstablished(true),
            ],
        ),
        (
            "login-keepalive-eof",
            then(
                online(),
                vec![Op::Advance(700), Op::FireTimeout, Op::Eof, Op::Close],
            ),
        ),
        (
            "login-other-account",
            then(
                login(),
                vec![Op::Say(BindResultForAnotherAccount), Op::SetPresence(2)],
            ),
        ),
        (
            "login-presence-close",
            then(
                online(),
                vec![
                    Op::SetPresence(2),
                    Op::Say(ContactPresence),
                    Op::Say(PresenceError),
                    Op::Say(RosterPush),
                    Op::Say(Ping),
                    Op::Close,
                    Op::Say(StreamClose),
                ],
            ),
        ),
        (
            "login-stream-error",
            then(
                online(),
                vec![
                    Op::SetPresence(0),
                    Op::Say(Message),
                    Op::Say(StreamError),
                    Op::SetPresence(1),
                    Op::Close,
                ],
            ),
        ),
        (
            "login-timeouts",
            vec![
                Op::Connect(Connect::Plain),
                Op::Say(Header),
                Op::FireTimeout,
                Op::SetPresence(3),
                Op::Close,
            ],
        ),
        // The Core Client profile: client state before and after login, a contact's caps
        // queried and verified, messages and receipts both ways, a carbon, the block list.
        (
            "core-client",
            [
                &login()[..9],
                &[
                    Op::SetClientActive(false),
                    Op::Say(FeaturesBindCsi),
                    Op::Say(BindResult),
                    Op::Say(IqResult),
                    Op::Say(CapsPresence),
                    Op::Say(DiscoInfoAnswer),
                    Op::Say(DiscoInfoQuery),
                    Op::SendChat(0),
                    Op::SendChat(2),
                    Op::Say(Receipt),
                    Op::Say(ReceiptRequest),
                    Op::Say(Carbon),
                    Op::SetExtraFeatures(2),
                    Op::RequestBlocklist,
                    Op::Say(BlocklistResult),
                    Op::Block(true),
                    Op::Say(BlockPush),
                    Op::Unblock(false),
                    Op::Say(UnblockPush),
                    Op::SetClientActive(true),
                    Op::QueryCaps,
                    Op::Close,
                    Op::Say(StreamClose),
                ][..],
            ]
            .concat(),
        ),
    ]
}

/// The seeds, encoded.
pub(super) fn seeds() -> Vec<Seed> {
    steps()
        .into_iter()
        .map(|(name, ops)| Seed {
            target: "command_sequence",
            name,
            data: encode(&ops),
        })
        .collect()
}

/// Each seed's steps as the target's trace shows them (`Debug`), by file name.
pub fn seed_steps() -> Vec<(&'static str, Vec<String>)> {
    steps()
        .into_iter()
        .map(|(name, ops)| (name, ops.iter().map(|op| format!("{op:?}")).collect()))
        .collect()
}

fn encode(ops: &[Op]) -> Vec<u8> {
    // TLS required, roster fetched.
    let mut out = vec![0, 1];
    for op in ops {
        out.push(1);
        encode_op(op, &mut out);
    }
    out
}

fn encode_op(op: &Op, out: &mut Vec<u8>) {
    let mut step = |index: u32, fields: &[u8]| {
        variant(index, OPS, out);
        out.extend_from_slice(fields);
    };
    match *op {
        Op::Connect(connect) => {
            step(0, &[]);
            variant(connect as u32, CONNECTS, out);
        }
        Op::Say(canned) => {
            step(2, &[]);
            variant(canned as u32, CANNED, out);
        }
        Op::Eof => step(3, &[]),
        Op::Advance(tenths) => step(4, &tenths.to_le_bytes()),
        Op::FireTimeout => step(5, &[]),
        Op::TlsEstablished(binding) => step(6, &[u8::from(binding)]),
        Op::TlsFailed => step(7, &[]),
        Op::SetPresence(p) => step(8, &[p]),
        Op::Close => step(11, &[]),
        Op::SendPresence => step(13, &[]),
        Op::SendChat(n) => step(14, &[n]),
        Op::SetClientActive(active) => step(15, &[u8::from(active)]),
        Op::RequestBlocklist => step(16, &[]),
        Op::Block(contact) => step(17, &[u8::from(contact)]),
        Op::Unblock(contact) => step(18, &[u8::from(contact)]),
        Op::QueryCaps => step(19, &[]),
        Op::SetExtraFeatures(n) => step(20, &[n]),
        // Variable-length fields are read from the end of the input: not in seeds.
        Op::Input(_) | Op::SetStatus(_) | Op::ChangePresence(..) | Op::SendMessage(_) => {
            panic!("{op:?}: a seed step has fixed-size fields only")
        }
    }
}

/// Variant `index` of `count`: `arbitrary`'s derive takes `(u32 * count) >> 32`, so the
/// least `u32` that gives `index`.
fn variant(index: u32, count: u32, out: &mut Vec<u8>) {
    let x = (u64::from(index) << 32).div_ceil(u64::from(count));
    out.extend_from_slice(&u32::try_from(x).expect("index < count").to_le_bytes());
}
