//! DNS SRV lookup (feature `srv`): herald-io's lookup, run on a small single-threaded
//! runtime because this adapter is blocking.

use herald_io::target::Target;

/// The SRV targets for `domain`, best first; empty when there are none or DNS fails.
pub(crate) fn lookup(domain: &str) -> Vec<Target> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(herald_io::target::lookup_srv(domain)),
        Err(_) => Vec::new(),
    }
}
