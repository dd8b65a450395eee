//! A seeded chaos test of the VRRP election: three routers with two instances
//! each, a replayable random schedule of crashes, graceful restarts, reload
//! bursts, link flaps, interface re-creations and garbage floods, one at a time,
//! a watcher sampling the VIP holders every 50 ms, and a judge of four
//! invariants (see [`judge`]).

pub mod addrs;
pub mod judge;
pub mod report;
pub mod run;
pub mod schedule;
pub mod topo;
pub mod watcher;

pub use judge::Report;
pub use run::{from_env, parse_seed, run, Options};
