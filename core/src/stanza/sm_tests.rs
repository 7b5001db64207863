//! The outbound counter of stream management: acknowledgements modulo 2^32, the bound on
//! what is kept, and what counts as lost.

use proptest::prelude::*;

use super::sm::{Acks, parse_h, resume};

fn sent(acks: &mut Acks, n: usize, max: usize) {
    for i in 0..n {
        let id = format!("m{i}");
        acks.record(Some(&id), id.as_bytes(), max);
    }
}

#[test]
fn an_ack_drops_what_it_covers_and_no_more() {
    let mut acks = Acks::default();
    sent(&mut acks, 5, 100);
    acks.acknowledge(3).unwrap();
    let left: Vec<_> = acks.unacked.iter().map(|u| u.id.clone().unwrap()).collect();
    assert_eq!(left, ["m3", "m4"]);
    // The same h again changes nothing; a lower one would be "more than sent".
    acks.acknowledge(3).unwrap();
    assert_eq!(acks.unacked.len(), 2);
    assert_eq!(acks.acknowledge(6), Err(5));
    assert_eq!(acks.unacked.len(), 2, "a refused h changes nothing");
    acks.acknowledge(5).unwrap();
    assert!(acks.unacked.is_empty());
    assert!(acks.take_lost().is_none());
}

#[test]
fn counts_wrap_at_two_to_the_32() {
    let mut acks = Acks::default();
    acks.sent = u32::MAX - 1;
    acks.acked = u32::MAX - 1;
    sent(&mut acks, 4, 100);
    assert_eq!(acks.sent, 2);
    // h wrapped as well: 0 acknowledges the first two (MAX, then 0).
    acks.acknowledge(0).unwrap();
    assert_eq!(acks.unacked.len(), 2);
    assert_eq!(acks.acknowledge(3), Err(2));
    acks.acknowledge(2).unwrap();
    assert!(acks.unacked.is_empty());
}

#[test]
fn past_the_bound_the_oldest_are_reported_lost_once() {
    let mut acks = Acks::default();
    sent(&mut acks, 7, 4);
    assert_eq!(acks.unacked.len(), 4);
    let (count, ids) = acks.take_lost().unwrap();
    assert_eq!(
        (count, ids.as_slice()),
        (3, ["m0", "m1", "m2"].map(String::from).as_slice())
    );
    assert!(acks.take_lost().is_none(), "reported once");
    // The server acknowledging the dropped ones and one more drops one from the queue.
    acks.acknowledge(4).unwrap();
    assert_eq!(acks.unacked.front().unwrap().id.as_deref(), Some("m4"));
    acks.lose_all();
    let (count, ids) = acks.take_lost().unwrap();
    assert_eq!((count, ids.len()), (3, 3));
}

#[test]
fn h_and_resume_read_and_write() {
    assert_eq!(parse_h(Some("4294967295")), Some(u32::MAX));
    assert_eq!(parse_h(Some("4294967296")), None);
    assert_eq!(parse_h(Some("-1")), None);
    assert_eq!(parse_h(None), None);
    assert_eq!(
        String::from_utf8(resume(7, "a'b<")).unwrap(),
        "<resume xmlns='urn:xmpp:sm:3' h='7' previd='a&apos;b&lt;'/>"
    );
}

proptest! {
    /// Whatever is sent and acknowledged (within what was sent), the queue holds exactly
    /// the newest unacknowledged stanzas up to the bound, and nothing is both kept and lost.
    #[test]
    fn the_queue_is_the_unacknowledged_tail(
        start in any::<u32>(),
        steps in proptest::collection::vec((0usize..6, 0u32..8), 1..40),
        max in 1usize..8,
    ) {
        let mut acks = Acks::default();
        acks.sent = start;
        acks.acked = start;
        let mut lost = 0usize;
        for (send, ack) in steps {
            sent(&mut acks, send, max);
            let ack = ack.min(acks.outstanding());
            acks.acknowledge(acks.acked.wrapping_add(ack)).unwrap();
            if let Some((count, _)) = acks.take_lost() {
                lost += count;
            }
            let outstanding = acks.outstanding() as usize;
            prop_assert!(acks.unacked.len() <= max);
            prop_assert!(acks.unacked.len() <= outstanding);
            prop_assert!(acks.acknowledge(acks.sent.wrapping_add(1)).is_err());
        }
        let total = acks.sent.wrapping_sub(start) as usize;
        prop_assert!(lost + acks.unacked.len() <= total);
    }
}
