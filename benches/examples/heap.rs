//! Where an idle online client's heap goes (a scratch tool for BENCHMARKS.md).
#![allow(unsafe_code)]
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
// SAFETY: forwards to System.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        // SAFETY: same contract.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: same contract.
        unsafe { System.dealloc(p, l) }
    }
}
#[global_allocator]
static G: Counting = Counting;

fn main() {
    let script = herald_bench::login::LoginScript::record();
    let config = script.config().clone();
    let before = LIVE.load(Relaxed);
    let c = herald_core::Client::new(config.clone(), herald_core::SeededEntropy::new(42)).unwrap();
    println!("Client::new: {} B", LIVE.load(Relaxed) - before);
    drop(c);
    let before = LIVE.load(Relaxed);
    let c = config.clone();
    println!("Config clone: {} B", LIVE.load(Relaxed) - before);
    drop(c);
    let before = LIVE.load(Relaxed);
    let c = script.login();
    println!("online: {} B", LIVE.load(Relaxed) - before);
    println!(
        "size_of Event {} Element {}",
        std::mem::size_of::<herald_core::Event>(),
        std::mem::size_of::<minidom::Element>()
    );
    drop(c);
}
