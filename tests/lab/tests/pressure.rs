//! VRRP under CPU pressure: two vigil routers with 200 VRRPv3 instances at
//! advert_int 0.02 (10,000 adverts/s) while eight busy-loop hogs (children of
//! this test, normal priority, ended by pid) compete for the CPUs. No instance
//! may change state and the backup may never hold a VIP. A second test floods
//! valid-looking adverts for an unknown VRID as fast as the lab can send: the
//! backup's RSS stays flat, its CPU per packet stays bounded, nothing moves.
//!
//! vigil runs with its default scheduling (SCHED_RR 1 for the VRRP loop).
//! Knobs to investigate: PRESSURE_HOGS, PRESSURE_SECS, PRESSURE_CAPTURE=1
//! (advert lateness from a capture), PRESSURE_GLOBAL="vrrp_rt_priority 0"
//! (extra global_defs lines), PRESSURE_KEEPALIVED=1, PRESSURE_PCAP_COPY=FILE.
//!
//! Run as root: `cargo test --release -p vigil-lab --test pressure -- --nocapture`.

use std::time::Duration;
use vigil_lab::bench::pressure::{self, Setup};
use vigil_lab::harness::{check, run};
use vigil_lab::Kind;

const INSTANCES: usize = 200;
/// CPU budget of the flood: ticks (10 ms) per 100,000 dropped packets.
const FLOOD_TICKS_PER_100K: f64 = 150.0;
/// RSS growth allowed over the flood.
const FLOOD_RSS_KIB: u64 = 512;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn eight_hogs() -> Result<(), String> {
    let s = Setup {
        // PRESSURE_KEEPALIVED=1: the same run with keepalived, to compare.
        kind: if env_or("PRESSURE_KEEPALIVED", 0) == 1 {
            Kind::Keepalived
        } else {
            Kind::Vigil
        },
        instances: INSTANCES,
        advert_cs: 2,
        // PRESSURE_HOGS / PRESSURE_SECS: other loads, to investigate.
        hogs: env_or("PRESSURE_HOGS", 8),
        window: Duration::from_secs(env_or("PRESSURE_SECS", 30) as u64),
        capture: env_or("PRESSURE_CAPTURE", 0) == 1,
        // PRESSURE_GLOBAL: extra global_defs lines, e.g. "vrrp_rt_priority 1".
        global_extra: std::env::var("PRESSURE_GLOBAL")
            .map(|g| format!("    {g}\n"))
            .unwrap_or_default(),
    };
    let o = pressure::run(&s)?;
    println!(
        "    {} s, {} hogs: {} transitions, backup held VIPs in {:.1}% of {} samples, \
         ticks master {} backup {}",
        s.window.as_secs(),
        s.hogs,
        o.transitions,
        100.0 * o.backup_held,
        o.samples,
        o.master_ticks,
        o.backup_ticks
    );
    if let Some(l) = o.lateness {
        println!(
            "    advert lateness p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} gaps; capture dropped {:?}",
            l.p50_ms, l.p99_ms, l.max_ms, l.gaps, o.capture_dropped
        );
    }
    if o.samples < 3 * s.window.as_secs() as usize {
        return Err(format!("only {} VIP samples", o.samples));
    }
    if o.transitions != 0 || o.backup_held > 0.0 {
        return Err(format!(
            "{} spurious transitions; the backup held VIPs in {:.1}% of samples",
            o.transitions,
            100.0 * o.backup_held
        ));
    }
    Ok(())
}

fn unknown_vrid_flood() -> Result<(), String> {
    let f = pressure::flood(
        Kind::Vigil,
        INSTANCES,
        1_000_000,
        env!("CARGO_BIN_EXE_vigil-lab-flood"),
    )?;
    let rate = f.sent as f64 / f.secs.max(1e-3);
    let per_100k = f.ticks as f64 * 100_000.0 / (f.sent.max(1) as f64);
    println!(
        "    {} packets in {:.1} s ({rate:.0}/s): backup {} ticks ({per_100k:.1} per 100k), \
         RSS {} -> {} KiB, {} transitions",
        f.sent, f.secs, f.ticks, f.rss_before, f.rss_after, f.transitions
    );
    if f.sent < 100_000 {
        return Err(format!("the flood sent only {} packets", f.sent));
    }
    if f.transitions != 0 {
        return Err(format!("{} transitions during the flood", f.transitions));
    }
    if f.rss_after > f.rss_before + FLOOD_RSS_KIB {
        return Err(format!(
            "RSS grew from {} to {} KiB",
            f.rss_before, f.rss_after
        ));
    }
    if per_100k > FLOOD_TICKS_PER_100K {
        return Err(format!(
            "{per_100k:.1} ticks per 100k packets (budget {FLOOD_TICKS_PER_100K})"
        ));
    }
    Ok(())
}

fn main() {
    vigil_lab::cleanup::install_signal_cleanup();
    run(&[
        ("pressure_eight_hogs_no_transition", || check(eight_hogs())),
        (
            "pressure_unknown_vrid_flood",
            || check(unknown_vrid_flood()),
        ),
    ]);
}
