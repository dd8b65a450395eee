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

/// Seed 01 for the master and the backup, in VRRPv2 or VRRPv3 with advert 0.1 s.
fn seed01(v3: bool) -> Result<(String, String), String> {
    let mut m = seed("01-single-master.master.conf")?;
    let mut b = seed("01-single-master.backup.conf")?;
    if v3 {
        for c in [&mut m, &mut b] {
            // VRRPv3 has no authentication (keepalived refuses it): drop the block.
            let start = c.find("authentication {").ok_or("seed 01: no auth block")?;
            let len = c[start..].find('}').ok_or("seed 01: open auth block")? + 1;
            c.replace_range(start..start + len, "");
            *c = c
                .replace(
                    "vrrp_skip_check_adv_addr",
                    "vrrp_skip_check_adv_addr\n   vrrp_version 3",
                )
                .replace("advert_int 1", "advert_int 0.1");
        }
    }
    Ok((m, b))
}

/// Seed 01's global_defs with `n` instances (VRIDs 51.., VIPs .151..).
fn many_instances(n: usize, master: bool) -> Result<String, String> {
    let text = seed(if master {
        "01-single-master.master.conf"
    } else {
        "01-single-master.backup.conf"
    })?;
    let head = text
        .split("vrrp_instance")
        .next()
        .ok_or("seed 01: no instance")?;
    let (state, prio) = if master {
        ("MASTER", 100)
    } else {
        ("BACKUP", 80)
    };
    let mut out = head.to_string();
    for i in 1..=n {
        out.push_str(&format!(
            "vrrp_instance VI_{i} {{\n    state {state}\n    interface eth0\n    \
             virtual_router_id {vrid}\n    priority {prio}\n    advert_int 1\n    \
             authentication {{\n        auth_type PASS\n        auth_pass 1111\n    }}\n    \
             virtual_ipaddress {{\n        192.168.67.{ip}/24 dev eth0 label eth0:{i}\n    }}\n}}\n",
            vrid = 50 + i,
            ip = 150 + i,
        ));
    }
    Ok(out)
}

struct Pair {
    lab: Lab,
    r1: Host,
    r2: Host,
}

fn pair(tag: &str) -> Result<Pair, String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    Ok(Pair { lab, r1, r2 })
}

fn logs(ds: &[&Daemon]) -> String {
    ds.iter()
        .map(|d| {
            format!(
                "\n--- {:?} on {} ---\n{}",
                d.kind,
                d.host.name,
                d.log_tail(15)
            )
        })
        .collect()
}

/// Starts `kind` on both routers and waits until only r1 holds the VIP.
fn start_pair(p: &Pair, kind: Kind, conf: &(String, String)) -> Result<(Daemon, Daemon), String> {
    let m = Daemon::start(kind, &p.r1, "m", &conf.0)?;
    let b = Daemon::start(kind, &p.r2, "b", &conf.1)?;
    wait::for_cond(Duration::from_secs(10), "VIP on r1 only", || {
        p.r1.has_addr("eth0", VIP) && !p.r2.has_addr("eth0", VIP)
    })
    .map_err(|e| format!("{e}{}", logs(&[&m, &b])))?;
    Ok((m, b))
}

fn tcpdump(h: &Host, file: &str) -> Result<Capture, String> {
    let path = h.dir().join(file);
    let p = path.display().to_string();
    // -Z root: tcpdump would otherwise drop to its own user and fail to write here.
    // --immediate-mode: otherwise packets wait in the capture ring for a timeout
    // and those still there when tcpdump is stopped are lost.
    let argv = [
        "tcpdump",
        "-Z",
        "root",
        "--immediate-mode",
        "-i",
        "eth0",
        "-n",
        "-U",
        "-w",
        &p,
        "ip proto 112",
    ];
    let mut bg = Background::start(&h.ns, &argv, &h.dir().join(format!("{file}.out")))?;
    bg.wait_stderr("listening on", Duration::from_secs(5))?;
    Ok(Capture { bg, path })
}

/// A running tcpdump and the pcap file it writes.
struct Capture {
    bg: Background,
    path: std::path::PathBuf,
}

impl Capture {
    /// Stops tcpdump and returns the adverts it captured.
    fn adverts(mut self) -> Result<Vec<pcap::Advert>, String> {
        self.bg.stop()?;
        let bytes =
            std::fs::read(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        pcap::adverts(&bytes)
    }
}

fn monitor(h: &Host) -> Result<Background, String> {
    let bg = Background::start(
        &h.ns,
        &["ip", "-ts", "-o", "monitor", "address"],
        &h.dir().join("monitor.txt"),
    )?;
    // ip monitor prints nothing when ready: give it a moment to subscribe.
    std::thread::sleep(Duration::from_millis(200));
    Ok(bg)
}

fn vip_time(mon: &mut Background) -> Result<f64, String> {
    let text = String::from_utf8_lossy(&mon.stop()?).into_owned();
    clock::first_add(&text, VIP).ok_or_else(|| format!("ip monitor never showed {VIP}:\n{text}"))
}

/// One failover after master loss; returns seconds from the master's last advert
/// to the VIP on the backup.
fn failover_once(kind: Kind, v3: bool, run: usize) -> Result<f64, String> {
    let p = pair(&format!("fo{}", if v3 { 3 } else { 2 }))?;
    let (mut m, b) = start_pair(&p, kind, &seed01(v3)?)?;
    let cap = tcpdump(&p.r2, "fo.pcap")?;
    let mut mon = monitor(&p.r2)?;
    // Vary where in the advert interval the kill lands.
    let advert = if v3 { 0.1 } else { 1.0 };
    std::thread::sleep(Duration::from_secs_f64(
        advert * (1.5 + 0.37 * run as f64 % 1.0),
    ));
    m.kill();
    p.lab.cable(&p.r1, false)?;
    wait::for_cond(Duration::from_secs(8), "VIP on the backup", || {
        p.r2.has_addr("eth0", VIP)
    })
    .map_err(|e| format!("{e}{}", logs(&[&b])))?;
    std::thread::sleep(Duration::from_millis(50));
    let t_vip = vip_time(&mut mon)?;
    let adverts = cap.adverts()?;
    let last = adverts
        .iter()
        .filter(|a| a.src == MASTER_IP && a.priority > 0 && a.at <= t_vip)
        .map(|a| a.at)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))))
        .ok_or("no advert from the master captured on the backup")?;
    Ok(t_vip - last)
}

/// One graceful stop; returns (SIGTERM -> VIP, priority-0 advert -> VIP).
fn graceful_once(kind: Kind) -> Result<(f64, Option<f64>), String> {
    let p = pair("stop")?;
    let (mut m, b) = start_pair(&p, kind, &seed01(false)?)?;
    let cap = tcpdump(&p.r2, "stop.pcap")?;
    let mut mon = monitor(&p.r2)?;
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = now_unix();
    m.signal(Signal::SIGTERM)?;
    wait::for_cond(Duration::from_secs(5), "VIP on the backup", || {
        p.r2.has_addr("eth0", VIP)
    })
    .map_err(|e| format!("{e}{}", logs(&[&m, &b])))?;
    std::thread::sleep(Duration::from_millis(50));
    let t_vip = vip_time(&mut mon)?;
    let prio0 = cap
        .adverts()?
        .iter()
        .find(|a| a.src == MASTER_IP && a.priority == 0)
        .map(|a| t_vip - a.at);
    let _ = m.stop(Duration::from_secs(3));
    Ok((t_vip - t0, prio0))
}

/// The daemon processes inside `h`'s namespace.
fn daemon_pids(h: &Host, kind: Kind) -> Result<Vec<u32>, String> {
    let pids: Vec<u32> = procfs::namespace_pids(&h.ns)?
        .into_iter()
        .filter(|p| procfs::comm(*p).is_some_and(|c| c.starts_with(name(kind))))
        .collect();
    if pids.is_empty() {
        return Err(format!("no {} process in {}", name(kind), h.name));
    }
    Ok(pids)
}

fn vip_count(h: &Host) -> usize {
    h.run(&["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .map(|o| {
            o.lines()
                .filter(|l| l.contains("inet 192.168.67.1") && !l.contains(h.ip4()))
                .count()
        })
        .unwrap_or(0)
}

/// Memory with one instance: (master, backup) after the pair settled.
fn memory_one(kind: Kind) -> Result<(Memory, Memory), String> {
    let p = pair("mem1")?;
    let (_m, _b) = start_pair(&p, kind, &seed01(false)?)?;
    std::thread::sleep(Duration::from_secs(3));
    Ok((
        procfs::memory(&daemon_pids(&p.r1, kind)?),
        procfs::memory(&daemon_pids(&p.r2, kind)?),
    ))
}

struct Idle {
    mem_master: Memory,
    mem_backup: Memory,
    /// CPU seconds over the window: master, backup.
    cpu: (f64, f64),
    processes: (usize, usize),
}

/// Twenty instances on each router, both daemons at once (one lab each), then an
/// idle window over which CPU time is counted.
fn idle_twenty(window: Duration) -> Result<Vec<Idle>, String> {
    let conf = (
        many_instances(INSTANCES, true)?,
        many_instances(INSTANCES, false)?,
    );
    let mut setups = Vec::new();
    for kind in KINDS {
        let p = pair(&format!("idle-{}", name(kind)))?;
        let m = Daemon::start(kind, &p.r1, "m", &conf.0)?;
        let b = Daemon::start(kind, &p.r2, "b", &conf.1)?;
        setups.push((kind, p, m, b));
    }
    for (_, p, m, b) in &setups {
        wait::for_cond(
            Duration::from_secs(15),
            "all VIPs on r1, none on r2",
            || vip_count(&p.r1) == INSTANCES && vip_count(&p.r2) == 0,
        )
        .map_err(|e| format!("{e}{}", logs(&[m, b])))?;
    }
    // Past the start-up gratuitous ARP bursts.
    std::thread::sleep(Duration::from_secs(6));
    let pids: Vec<(Vec<u32>, Vec<u32>)> = setups
        .iter()
        .map(|(k, p, _, _)| Ok((daemon_pids(&p.r1, *k)?, daemon_pids(&p.r2, *k)?)))
        .collect::<Result<_, String>>()?;
    let before: Vec<(u64, u64)> = pids
        .iter()
        .map(|(a, b)| (procfs::cpu_ticks(a), procfs::cpu_ticks(b)))
        .collect();
    std::thread::sleep(window);
    let mut out = Vec::new();
    for (((pm, pb), (cm, cb)), (_, p, m, b)) in pids.iter().zip(&before).zip(&setups) {
        if vip_count(&p.r1) != INSTANCES || vip_count(&p.r2) != 0 {
            return Err(format!(
                "the election moved during the idle window{}",
                logs(&[m, b])
            ));
        }
        let ticks = |now: u64, then: u64| now.saturating_sub(then) as f64 / procfs::TICKS_PER_SEC;
        out.push(Idle {
            mem_master: procfs::memory(pm),
            mem_backup: procfs::memory(pb),
            cpu: (
                ticks(procfs::cpu_ticks(pm), *cm),
                ticks(procfs::cpu_ticks(pb), *cb),
            ),
            processes: (pm.len(), pb.len()),
        });
    }
    Ok(out)
}

/// Repeats `f` for each daemon, alternating, and keeps the values that worked.
fn repeat(
    o: &Opts,
    what: &str,
    mut f: impl FnMut(Kind, usize) -> Result<f64, String>,
) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(), Vec::new()];
    if !o.wants(&what.replace(' ', "-")) {
        return out;
    }
    for run in 0..o.runs {
        for (i, kind) in KINDS.into_iter().enumerate() {
            match f(kind, run) {
                Ok(v) => {
                    println!("  {what} {} run {}: {v:.4} s", name(kind), run + 1);
                    out[i].push(v);
                }
                Err(e) => eprintln!("  {what} {} run {}: FAILED: {e}", name(kind), run + 1),
            }
        }
    }
    out
}

fn fmt_secs(s: Option<Summary>) -> (String, String) {
    match s {
        Some(s) => (
            format!("{:.4} s", s.median),
            format!("{:.4} s (n={})", s.max, s.runs),
        ),
        None => ("failed".into(), "failed".into()),
    }
}

fn kib(k: u64) -> String {
    format!("{:.2} MiB", k as f64 / 1024.0)
}

struct Table {
    rows: Vec<[String; 4]>,
    /// Whether the current section ran (`--only`): rows of skipped ones are left out.
    on: bool,
}

impl Table {
    fn row(&mut self, what: &str, v: String, k: String, goal: &str) {
        if self.on {
            self.rows.push([what.into(), v, k, goal.into()]);
        }
    }

    fn print(&self) {
        let head = ["measurement", "vigil", "keepalived", "goal"];
        let mut w = head.map(|h| h.chars().count());
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |r: &[String; 4]| {
            let cells: Vec<String> = r
                .iter()
                .zip(w)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            println!("| {} |", cells.join(" | "));
        };
        line(&head.map(String::from));
        println!(
            "|{}|",
            w.iter()
                .map(|w| "-".repeat(w + 2))
                .collect::<Vec<_>>()
                .join("|")
        );
        for r in &self.rows {
            line(r);
        }
    }
}

fn within(s: Option<Summary>, expect: f64) -> String {
    match s {
        Some(s)
            if (s.median - expect).abs() <= TOLERANCE && (s.max - expect).abs() <= TOLERANCE =>
        {
            "met".into()
        }
        Some(s) => format!(
            "missed (median {:+.1} ms, max {:+.1} ms)",
            (s.median - expect) * 1e3,
            (s.max - expect) * 1e3
        ),
        None => "no data".into(),
    }
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
