//! A seeded chaos test of the VRRP election: three routers with two instances
//! each, a replayable random schedule of crashes, graceful restarts, reload
//! bursts, link flaps, interface re-creations and garbage floods, one at a time,
//! a watcher sampling the VIP holders every 50 ms, and a judge of four
//! invariants (see [`judge`]).

pub mod addrs;
pub mod garbage;
pub mod judge;
pub mod report;
pub mod run;
pub mod schedule;
pub mod topo;
pub mod watcher;

pub use judge::Report;
pub use run::{from_env, parse_seed, run, Options};

use crate::Kind;
use std::time::Duration;

/// The benchmark's section: vigil, then keepalived, on the schedule of `seed`;
/// prints each run's faults, then both tables and the findings. A daemon whose
/// run could not be carried out is reported and left out of the table.
pub fn side_by_side(seed: u64, total: Duration) {
    let mut done: Vec<(&str, Report)> = Vec::new();
    for (kind, name) in [(Kind::Vigil, "vigil"), (Kind::Keepalived, "keepalived")] {
        println!(
            "  {name}: seed {seed}, {} s (VIGIL_CHAOS_SEED={seed} VIGIL_CHAOS_SECS={} replays it)",
            total.as_secs(),
            total.as_secs()
        );
        match run(&Options { kind, seed, total }) {
            Ok(r) => done.push((name, r)),
            Err(e) => eprintln!("  {name}: FAILED: {e}"),
        }
    }
    let heads: Vec<&str> = done.iter().map(|(n, _)| *n).collect();
    let reports: Vec<&Report> = done.iter().map(|(_, r)| r).collect();
    println!();
    report::print_table(&heads, &reports);
    for (name, r) in &done {
        let f = report::findings(r, 5);
        if !f.is_empty() {
            println!("\n{name} findings:\n{f}");
        }
    }
}
