//! Real-server launchers for Herald's tests. The scripted sans-IO server, [`Pair`], the
//! contract checker and the loopback server live in `herald-testkit`.
//!
//! [`Pair`]: herald_testkit::Pair

pub mod real;
