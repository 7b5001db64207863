//! Real-server launchers for Herald's tests, and a loopback server for the adapter tests.
//! The scripted sans-IO server and [`Pair`](herald_testkit::Pair) live in `herald-testkit`.

pub mod loopback;
pub mod real;
