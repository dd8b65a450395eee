//! Seeded chaos: three vigil routers, two VRRP instances each (VI_1 prefers r1,
//! then r2; VI_2 prefers r3, then r1), a random schedule of SIGKILL + restart,
//! SIGTERM + restart, SIGHUP bursts, link down/up, interface delete/re-create and
//! garbage floods, one fault at a time. Invariants, from 50 ms samples:
//! never two holders of a VIP for more than 1.5 s; 6 s after a heal exactly one
//! holder, the highest-priority live router; no daemon exits unasked; no VIP on
//! a router whose daemon is not MASTER (beyond 0.5 s).
//!
//! Run as root after `cargo build --release -p vigil`:
//! `cargo test --release -p vigil-lab --test chaos -- --nocapture
//! [--seed=N] [--secs=S]` (or `VIGIL_CHAOS_SEED`, `VIGIL_CHAOS_SECS`; 90 s by
//! default, the seed is printed so that a run can be replayed).

use std::time::Duration;
use vigil_lab::chaos::{self, report};
use vigil_lab::harness::{check, run};
use vigil_lab::Kind;

/// `--seed=N` / `--secs=S` on the command line override the environment (with
/// `=`: the harness takes the first argument without a dash as its filter).
fn options() -> Result<chaos::Options, String> {
    let (mut seed, mut total) = chaos::from_env(90)?;
    for a in std::env::args().skip(1) {
        if let Some(v) = a.strip_prefix("--seed=") {
            seed = chaos::parse_seed(v).ok_or("--seed= takes a number")?;
        } else if let Some(v) = a.strip_prefix("--secs=") {
            total = v
                .parse()
                .ok()
                .filter(|s| *s >= 10)
                .map(Duration::from_secs)
                .ok_or("--secs= takes a number of seconds, at least 10")?;
        }
    }
    Ok(chaos::Options {
        kind: Kind::Vigil,
        seed,
        total,
    })
}

fn chaos_vigil() -> Result<(), String> {
    let o = options()?;
    println!(
        "    seed {} ({} s): replay with VIGIL_CHAOS_SEED={} VIGIL_CHAOS_SECS={}",
        o.seed,
        o.total.as_secs(),
        o.seed,
        o.total.as_secs()
    );
    let r = chaos::run(&o)?;
    report::print_table(&["vigil"], &[&r]);
    if r.violations() > 0 {
        return Err(format!(
            "seed {}: {} violations\n{}",
            o.seed,
            r.violations(),
            report::findings(&r, 10)
        ));
    }
    // A run that checked nothing would pass vacuously.
    if r.faults.iter().sum::<usize>() == 0 || r.windows < 2 {
        return Err(format!(
            "seed {}: only {} faults and {} settled windows: run longer",
            o.seed,
            r.faults.iter().sum::<usize>(),
            r.windows
        ));
    }
    Ok(())
}

fn main() {
    vigil_lab::cleanup::install_signal_cleanup();
    run(&[("chaos", || check(chaos_vigil()))]);
}
