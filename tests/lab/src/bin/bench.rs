//! vigil-bench: vigil and keepalived side by side in the namespace lab, on the same
//! configuration text (keepalived syntax; keepalived runs with -P), one fresh lab
//! per measurement. Prints a table: vigil | keepalived | goal.
//!
//! `cargo run --release -p vigil-lab --bin vigil-bench [-- --quick] [--runs N]`
//! (as root; needs keepalived and tcpdump).
//!
//! - Failover after master loss: the master is SIGKILLed and its cable cut; the
//!   time runs from the last advert the master sent (tcpdump on the backup, pcap
//!   timestamps) to the VIP appearing on the backup (`ip -ts monitor address`).
//!   Expected: Master_Down_Interval = 3 x advert + skew for priority 80.
//! - Graceful handover: SIGTERM on the master -> VIP on the backup (expected: skew).
//! - Memory: VmRSS/VmHWM summed over the daemon's processes (keepalived: parent +
//!   VRRP child), one instance and twenty.
//! - CPU: utime+stime of all the daemon's processes over an idle window with 20
//!   instances on each router.
//! - Pressure (`--only pressure`): 200 VRRPv3 instances at 0.02 s with 0, 2 and 8
//!   busy-loop hogs, both daemons realtime (SCHED_RR 1) then both normal:
//!   transitions, VIPs on the backup, CPU ticks, advert lateness (see
//!   `vigil_lab::bench::pressure`).
//! - Chaos (`--only chaos`): the chaos test's seeded schedule on vigil, then on
//!   keepalived; a table of faults, invariant violations and re-convergence.

use background::Background;
use nix::sys::signal::Signal;
use procfs::Memory;
use stats::Summary;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vigil_lab::bench::background;
use vigil_lab::bench::clock;
use vigil_lab::bench::pcap;
use vigil_lab::bench::procfs;
use vigil_lab::bench::stats;
use vigil_lab::chaos;
use vigil_lab::scenario::seed;
use vigil_lab::{cleanup, netns, wait, Daemon, Host, Kind, Lab};

// A binary's root looks for modules beside it, hence the paths.
#[path = "bench/measure.rs"]
mod measure;
#[path = "bench/setup.rs"]
mod setup;
#[path = "bench/table.rs"]
mod table;

use measure::*;
use setup::*;
use table::*;

const VIP: &str = "192.168.67.150";
const MASTER_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 67, 100);
/// Skew_Time of the priority-80 backup with a 1 s advert interval.
const SKEW_V2: f64 = (256.0 - 80.0) / 256.0;
/// Master_Down_Interval = 3 x advert + skew.
const EXPECT_V2: f64 = 3.0 + SKEW_V2;
const EXPECT_V3: f64 = 0.3 + SKEW_V2 * 0.1;
const TOLERANCE: f64 = 0.020;
const KINDS: [Kind; 2] = [Kind::Vigil, Kind::Keepalived];
const INSTANCES: usize = 20;

struct Opts {
    runs: usize,
    idle: Duration,
    /// Run only the sections whose name contains this (failover-v2, failover-v3,
    /// graceful, memory, idle, pressure, chaos).
    only: Option<String>,
    /// Length of the chaos run (VIGIL_CHAOS_SECS overrides it).
    chaos_secs: u64,
}

impl Opts {
    fn wants(&self, section: &str) -> bool {
        self.only.as_deref().is_none_or(|o| section.contains(o))
    }
}

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        runs: 5,
        idle: Duration::from_secs(60),
        only: None,
        chaos_secs: 90,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => {
                o.runs = 3;
                o.idle = Duration::from_secs(10);
                o.chaos_secs = 30;
            }
            "--runs" => {
                o.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=50).contains(n))
                    .ok_or("--runs takes a number from 1 to 50")?;
            }
            "--only" => o.only = Some(args.next().ok_or("--only takes a section name")?),
            _ => {
                return Err(format!(
                "unknown argument {a:?}\nusage: vigil-bench [--quick] [--runs N] [--only SECTION]"
            ))
            }
        }
    }
    Ok(o)
}

fn name(k: Kind) -> &'static str {
    match k {
        Kind::Vigil => "vigil",
        Kind::Keepalived => "keepalived",
    }
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn run(o: &Opts) -> Result<(), String> {
    if let Some(why) = netns::unavailable() {
        return Err(format!("needs root and network namespaces: {why}"));
    }
    println!(
        "vigil-bench: {} runs per timing, {} s idle window; vigil = {}",
        o.runs,
        o.idle.as_secs(),
        vigil_lab::proc::vigil_bin().display()
    );
    let mut t = Table {
        rows: Vec::new(),
        on: true,
    };

    println!("\n== failover after master loss, VRRPv2 advert_int 1");
    let v2 = repeat(o, "failover v2", |k, r| failover_once(k, false, r));
    println!("\n== failover after master loss, VRRPv3 advert_int 0.1");
    let v3 = repeat(o, "failover v3", |k, r| failover_once(k, true, r));
    println!("\n== graceful handover (SIGTERM on the master)");
    let mut prio0: Vec<Vec<f64>> = vec![Vec::new(), Vec::new()];
    let grace = repeat(o, "graceful", |k, _| {
        let (sig, p0) = graceful_once(k)?;
        if let Some(p0) = p0 {
            let i = usize::from(k == Kind::Keepalived);
            prio0[i].push(p0);
        }
        Ok(sig)
    });

    let sum = |v: &Vec<Vec<f64>>, i: usize| stats::summarize(&v[i]);
    for (section, label, data, expect, goal) in [
        (
            "failover-v2",
            "failover v2 (1 s)",
            &v2,
            EXPECT_V2,
            "3.6875 s ± 20 ms",
        ),
        (
            "failover-v3",
            "failover v3 (0.1 s)",
            &v3,
            EXPECT_V3,
            "0.36875 s ± 20 ms, < 1 s",
        ),
        (
            "graceful",
            "graceful SIGTERM -> VIP",
            &grace,
            SKEW_V2,
            "<= 0.6875 s + 20 ms",
        ),
    ] {
        t.on = o.wants(section);
        let (vm, vx) = fmt_secs(sum(data, 0));
        let (km, kx) = fmt_secs(sum(data, 1));
        t.row(&format!("{label} median"), vm, km, goal);
        t.row(&format!("{label} max"), vx, kx, "");
        let verdict = |i: usize| {
            if label.starts_with("graceful") {
                match sum(data, i) {
                    Some(s) if s.max <= expect + TOLERANCE => "met".to_string(),
                    Some(s) => format!("missed (max {:.4} s)", s.max),
                    None => "no data".into(),
                }
            } else {
                within(sum(data, i), expect)
            }
        };
        t.row(&format!("{label}: goal"), verdict(0), verdict(1), "");
    }
    let (vm, _) = fmt_secs(stats::summarize(&prio0[0]));
    let (km, _) = fmt_secs(stats::summarize(&prio0[1]));
    t.row(
        "graceful prio-0 advert -> VIP median",
        vm,
        km,
        "0.6875 s (skew)",
    );

    println!("\n== memory, one instance");
    let mut mem1 = Vec::new();
    for k in KINDS.into_iter().filter(|_| o.wants("memory")) {
        match memory_one(k) {
            Ok(m) => {
                println!("  {}: master {:?}, backup {:?}", name(k), m.0, m.1);
                mem1.push(Some(m));
            }
            Err(e) => {
                eprintln!("  {}: FAILED: {e}", name(k));
                mem1.push(None);
            }
        }
    }
    let cell = |m: Option<Memory>, f: fn(&Memory) -> u64| {
        m.map_or("failed".into(), |m| {
            format!("{} ({}p)", kib(f(&m)), m.processes)
        })
    };
    let ratio = |v: Option<u64>, k: Option<u64>| match (v, k) {
        (Some(v), Some(k)) if k > 0 => {
            let r = v as f64 / k as f64;
            let verdict = if r <= 0.2 { "met" } else { "missed" };
            format!("{r:.2}x keepalived: {verdict}")
        }
        _ => "n/a".into(),
    };
    let m1 = |i: usize| mem1.get(i).copied().flatten();
    t.on = o.wants("memory");
    t.row(
        "VmRSS 1 instance (master)",
        cell(m1(0).map(|m| m.0), |m| m.rss_kib),
        cell(m1(1).map(|m| m.0), |m| m.rss_kib),
        "<= 1/5 of keepalived",
    );
    t.row(
        "VmHWM 1 instance (master)",
        cell(m1(0).map(|m| m.0), |m| m.hwm_kib),
        cell(m1(1).map(|m| m.0), |m| m.hwm_kib),
        "",
    );
    t.row(
        "RssAnon 1 instance (master)",
        cell(m1(0).map(|m| m.0), |m| m.anon_kib),
        cell(m1(1).map(|m| m.0), |m| m.anon_kib),
        "",
    );
    t.row(
        "VmRSS 1 instance: vigil/keepalived",
        ratio(m1(0).map(|m| m.0.rss_kib), m1(1).map(|m| m.0.rss_kib)),
        String::new(),
        "<= 0.20x",
    );

    println!(
        "\n== {INSTANCES} instances each side, {} s idle (both daemons at once)",
        o.idle.as_secs()
    );
    t.on = o.wants("idle");
    let idle = if t.on {
        idle_twenty(o.idle)
    } else {
        Err("skipped".into())
    };
    match idle {
        Ok(idle) => {
            for (k, i) in KINDS.iter().zip(&idle) {
                println!(
                    "  {}: master {:?} cpu {:.2} s; backup {:?} cpu {:.2} s",
                    name(*k),
                    i.mem_master,
                    i.cpu.0,
                    i.mem_backup,
                    i.cpu.1
                );
            }
            let (v, k) = (&idle[0], &idle[1]);
            t.row(
                &format!("VmRSS {INSTANCES} instances (master)"),
                cell(Some(v.mem_master), |m| m.rss_kib),
                cell(Some(k.mem_master), |m| m.rss_kib),
                "<= 1/5 of keepalived",
            );
            t.row(
                &format!("VmHWM {INSTANCES} instances (master)"),
                cell(Some(v.mem_master), |m| m.hwm_kib),
                cell(Some(k.mem_master), |m| m.hwm_kib),
                "",
            );
            t.row(
                &format!("RssAnon {INSTANCES} instances (master)"),
                cell(Some(v.mem_master), |m| m.anon_kib),
                cell(Some(k.mem_master), |m| m.anon_kib),
                "",
            );
            t.row(
                &format!("VmRSS {INSTANCES} instances (backup)"),
                cell(Some(v.mem_backup), |m| m.rss_kib),
                cell(Some(k.mem_backup), |m| m.rss_kib),
                "",
            );
            t.row(
                &format!("VmRSS {INSTANCES} instances: vigil/keepalived"),
                ratio(Some(v.mem_master.rss_kib), Some(k.mem_master.rss_kib)),
                String::new(),
                "<= 0.20x",
            );
            let w = o.idle.as_secs_f64();
            let cpu = |c: f64, n: usize| format!("{:.2} s ({:.2}%, {n}p)", c, 100.0 * c / w);
            t.row(
                &format!(
                    "CPU {} s idle, {INSTANCES} inst. (master)",
                    o.idle.as_secs()
                ),
                cpu(v.cpu.0, v.processes.0),
                cpu(k.cpu.0, k.processes.0),
                "(tick = 10 ms)",
            );
            t.row(
                &format!(
                    "CPU {} s idle, {INSTANCES} inst. (backup)",
                    o.idle.as_secs()
                ),
                cpu(v.cpu.1, v.processes.1),
                cpu(k.cpu.1, k.processes.1),
                "",
            );
        }
        Err(_) if !t.on => {}
        Err(e) => eprintln!("  FAILED: {e}"),
    }

    t.on = o.wants("pressure");
    if t.on {
        println!("\n== pressure: 200 VRRPv3 instances at 0.02 s, 0/2/8 busy-loop hogs, realtime and normal");
        let window = if o.runs < 5 { 10 } else { 20 };
        let runs = if o.runs < 5 { 1 } else { 2 };
        let rows = vigil_lab::bench::pressure::bench_rows(
            runs,
            Duration::from_secs(window),
            &[0, 2, 8],
            &vigil_lab::bench::pressure::MODES,
        );
        t.rows.extend(rows);
    }

    if !t.rows.is_empty() {
        println!();
        t.print();
    }

    if o.wants("chaos") {
        // Its own table: counts per daemon on one seeded schedule.
        let (seed, total) = chaos::from_env(o.chaos_secs)?;
        println!("\n== chaos: three routers, two instances, one fault every few seconds");
        chaos::side_by_side(seed, total);
    }
    Ok(())
}

fn main() {
    cleanup::install_signal_cleanup();
    let opts = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("vigil-bench: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&opts) {
        cleanup::delete_all();
        eprintln!("vigil-bench: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_intervals() {
        assert_eq!(EXPECT_V2, 3.6875);
        assert!((EXPECT_V3 - 0.36875).abs() < 1e-12);
    }

    #[test]
    fn v3_config_has_no_auth_and_fast_adverts() {
        let (m, b) = seed01(true).unwrap();
        for c in [&m, &b] {
            assert!(!c.contains("auth_pass") && !c.contains("authentication"));
            assert!(c.contains("vrrp_version 3") && c.contains("advert_int 0.1"));
            assert!(c.contains("192.168.67.150/24 dev eth0 label eth0:0"));
        }
        assert!(m.contains("priority 100") && b.contains("priority 80"));
    }

    #[test]
    fn twenty_instances() {
        let m = many_instances(20, true).unwrap();
        assert_eq!(m.matches("vrrp_instance").count(), 20);
        assert!(m.contains("virtual_router_id 70") && m.contains("192.168.67.170/24"));
        assert!(m.contains("global_defs") && m.contains("router_id ka-master"));
        let b = many_instances(3, false).unwrap();
        assert!(b.contains("priority 80") && !b.contains("priority 100"));
        assert!(b.contains("router_id ka-slave"));
        assert_eq!(
            vigil_lab::scenario::peer(&m).matches("priority 80").count(),
            20
        );
    }

    #[test]
    fn verdicts() {
        let s = stats::summarize(&[3.69, 3.70]);
        assert_eq!(within(s, EXPECT_V2), "met");
        assert!(within(stats::summarize(&[3.75]), EXPECT_V2).starts_with("missed"));
        assert_eq!(within(None, 1.0), "no data");
    }
}
