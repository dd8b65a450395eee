//! VRRP under CPU pressure: two routers with many fast VRRPv3 instances (200 at
//! advert_int 0.02 = 10,000 adverts/s on the wire) while busy-loop hogs compete
//! for the CPUs. Measures what a router on a loaded box cares about: spurious
//! transitions, how often the backup held VIPs, the CPU ticks each daemon spent,
//! and how late the master's adverts reached the backup's wire.
//!
//! Shared by `vigil-bench --only pressure` and the `--test pressure` lab suite.

use crate::bench::background::Background;
use crate::bench::{pcap, procfs};
use crate::netns::Host;
use crate::proc::{Daemon, Kind};
use crate::{wait, Lab};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one pressure run is made of.
#[derive(Debug, Clone)]
pub struct Setup {
    pub kind: Kind,
    pub instances: usize,
    /// Advert interval in centiseconds (2 = 0.02 s).
    pub advert_cs: u32,
    /// Busy-loop processes started once the pair has settled.
    pub hogs: usize,
    pub window: Duration,
    /// Capture the backup's wire to measure advert lateness (tcpdump costs CPU
    /// of its own, so the tick figures of a capturing run are not the cleanest).
    pub capture: bool,
    /// Extra `global_defs` lines for both routers (e.g. `vrrp_rt_priority 1`).
    pub global_extra: String,
}

/// Advert lateness: how much longer than the interval a gap between two
/// adverts of one VRID was, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lateness {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub gaps: usize,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// CPU ticks (utime + stime, 10 ms each) over the window.
    pub master_ticks: u64,
    pub backup_ticks: u64,
    /// "Entering MASTER" on the backup plus "Entering BACKUP" on the master.
    pub transitions: usize,
    /// Share of VIP samples in which the backup held any VIP.
    pub backup_held: f64,
    pub samples: usize,
    pub lateness: Option<Lateness>,
    /// Packets tcpdump said the kernel dropped (gaps then overstate lateness).
    pub capture_dropped: Option<u64>,
}

/// The VIP of instance `i` (1-based), a /32 off the lab subnet.
fn vip(i: usize) -> String {
    format!("10.77.{}.{}", i / 250, i % 250)
}

/// The keepalived.conf of one side: `n` VRRPv3 instances, VRIDs 1..=n.
pub fn config(n: usize, advert_cs: u32, master: bool) -> String {
    config_with(n, advert_cs, master, "")
}

/// [`config`] with `extra` lines in `global_defs`.
pub fn config_with(n: usize, advert_cs: u32, master: bool, extra: &str) -> String {
    let (state, prio, id) = if master {
        ("MASTER", 100, "pressure-m")
    } else {
        ("BACKUP", 80, "pressure-b")
    };
    let mut s = format!(
        "global_defs {{\n    router_id {id}\n    vrrp_version 3\n    vrrp_skip_check_adv_addr\n{extra}}}\n"
    );
    let advert = format!("{}.{:02}", advert_cs / 100, advert_cs % 100);
    for i in 1..=n {
        s.push_str(&format!(
            "vrrp_instance VP_{i} {{\n    state {state}\n    interface eth0\n    \
             virtual_router_id {i}\n    priority {prio}\n    advert_int {advert}\n    \
             virtual_ipaddress {{\n        {}/32 dev eth0\n    }}\n}}\n",
            vip(i)
        ));
    }
    s
}

/// Busy-loop children (`sh -c 'while :; do :; done'`) at normal priority,
/// ended by pid when dropped.
pub struct Hogs {
    children: Vec<Child>,
}

impl Hogs {
    pub fn start(n: usize) -> Result<Hogs, String> {
        let mut h = Hogs {
            children: Vec::new(),
        };
        for _ in 0..n {
            let c = Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("start a CPU hog: {e}"))?;
            h.children.push(c);
        }
        Ok(h)
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// How many of the pressure VIPs `h` holds.
pub fn vip_count(h: &Host) -> usize {
    h.run(&["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .map(|o| o.lines().filter(|l| l.contains("inet 10.77.")).count())
        .unwrap_or(0)
}

fn daemon_pids(h: &Host, kind: Kind) -> Result<Vec<u32>, String> {
    let prefix = match kind {
        Kind::Vigil => "vigil",
        Kind::Keepalived => "keepalived",
    };
    let pids: Vec<u32> = procfs::namespace_pids(&h.ns)?
        .into_iter()
        .filter(|p| procfs::comm(*p).is_some_and(|c| c.starts_with(prefix)))
        .collect();
    if pids.is_empty() {
        return Err(format!("no {prefix} process in {}", h.name));
    }
    Ok(pids)
}

fn entering(d: &Daemon, state: &str) -> usize {
    let needle = format!("Entering {state} STATE");
    d.log_text().lines().filter(|l| l.contains(&needle)).count()
}

/// Samples the backup's VIP count every 100 ms in a thread; returns
/// (samples, samples with a VIP held).
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(usize, usize)>,
}

impl Sampler {
    fn start(h: Host) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut n, mut held) = (0, 0);
            let t0 = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                n += 1;
                held += usize::from(vip_count(&h) > 0);
                let next = Duration::from_millis(100 * n as u64);
                std::thread::sleep(next.saturating_sub(t0.elapsed()));
            }
            (n, held)
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0))
    }
}

/// The gaps between consecutive adverts of each VRID from `src`, minus the
/// interval, clamped at 0; percentiles over all of them.
pub fn lateness(
    adverts: &[pcap::Advert],
    src: std::net::Ipv4Addr,
    interval: f64,
) -> Option<Lateness> {
    let mut last = [None::<f64>; 256];
    let mut late = Vec::new();
    for a in adverts.iter().filter(|a| a.src == src && a.priority > 0) {
        let slot = &mut last[usize::from(a.vrid)];
        if let Some(prev) = *slot {
            late.push(((a.at - prev - interval) * 1e3).max(0.0));
        }
        *slot = Some(a.at);
    }
    if late.is_empty() {
        return None;
    }
    late.sort_by(f64::total_cmp);
    let pick = |q: f64| late[((late.len() - 1) as f64 * q).round() as usize];
    Some(Lateness {
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
        gaps: late.len(),
    })
}

/// "N packets dropped by kernel" from tcpdump's closing lines.
fn dropped_by_kernel(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|l| {
        let n = l.strip_suffix(" packets dropped by kernel")?;
        n.trim().parse().ok()
    })
}

fn logs(ds: &[&Daemon]) -> String {
    ds.iter()
        .map(|d| format!("\n--- {} ---\n{}", d.host.name, d.log_tail(12)))
        .collect()
}

/// One run in a fresh lab: settle, start the hogs, measure over the window.
pub fn run(s: &Setup) -> Result<Outcome, String> {
    let mut lab = Lab::new("press")?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let conf = |master| config_with(s.instances, s.advert_cs, master, &s.global_extra);
    let m = Daemon::start(s.kind, &r1, "m", &conf(true))?;
    let b = Daemon::start(s.kind, &r2, "b", &conf(false))?;
    let n = s.instances;
    wait::for_cond(
        Duration::from_secs(30),
        "all VIPs on r1, none on r2",
        || vip_count(&r1) == n && vip_count(&r2) == 0,
    )
    .map_err(|e| format!("{e}{}", logs(&[&m, &b])))?;
    // Past the start-up gratuitous ARP bursts (second one at 5 s).
    std::thread::sleep(Duration::from_secs(6));
    let pm = daemon_pids(&r1, s.kind)?;
    let pb = daemon_pids(&r2, s.kind)?;
    let cap = if s.capture {
        let path = r2.dir().join("press.pcap");
        let p = path.display().to_string();
        // No --immediate-mode: packets are written in blocks, far cheaper at
        // 10,000 a second; a big buffer keeps the kernel from dropping any.
        let argv = [
            "tcpdump",
            "-Z",
            "root",
            "-i",
            "eth0",
            "-n",
            "-s",
            "64",
            "-B",
            "65536",
            "-w",
            &p,
            "ip proto 112",
        ];
        let mut bg = Background::start(&r2.ns, &argv, &r2.dir().join("press.out"))?;
        bg.wait_stderr("listening on", Duration::from_secs(5))?;
        Some((bg, path))
    } else {
        None
    };
    let hogs = Hogs::start(s.hogs)?;
    let before = (entering(&m, "BACKUP"), entering(&b, "MASTER"));
    let (tm, tb) = (procfs::cpu_ticks(&pm), procfs::cpu_ticks(&pb));
    let sampler = Sampler::start(r2.clone());
    std::thread::sleep(s.window);
    let (tm2, tb2) = (procfs::cpu_ticks(&pm), procfs::cpu_ticks(&pb));
    let (samples, held) = sampler.finish();
    drop(hogs);
    let after = (entering(&m, "BACKUP"), entering(&b, "MASTER"));
    let (lateness, capture_dropped) = match cap {
        Some((mut bg, path)) => {
            bg.stop()?;
            // PRESSURE_PCAP_COPY=FILE keeps the capture, to look at by hand.
            if let Some(keep) = std::env::var_os("PRESSURE_PCAP_COPY") {
                let _ = std::fs::copy(&path, keep);
            }
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let ads = pcap::adverts(&bytes)?;
            let err = std::fs::read_to_string(r2.dir().join("press.stderr")).unwrap_or_default();
            let ip = std::net::Ipv4Addr::new(192, 168, 67, 100);
            (
                lateness(&ads, ip, f64::from(s.advert_cs) / 100.0),
                dropped_by_kernel(&err),
            )
        }
        None => (None, None),
    };
    let mut m = m;
    let mut b = b;
    if !m.alive() || !b.alive() {
        return Err(format!(
            "a daemon died (master {}, backup {}){}",
            m.exit_text(),
            b.exit_text(),
            logs(&[&m, &b])
        ));
    }
    Ok(Outcome {
        master_ticks: tm2.saturating_sub(tm),
        backup_ticks: tb2.saturating_sub(tb),
        transitions: (after.0 - before.0) + (after.1 - before.1),
        backup_held: if samples == 0 {
            0.0
        } else {
            held as f64 / samples as f64
        },
        samples,
        lateness,
        capture_dropped,
    })
}

/// What a flood of adverts for an unknown VRID did to the backup.
#[derive(Debug, Clone)]
pub struct Flood {
    pub sent: u64,
    pub secs: f64,
    /// Backup's CPU ticks while the flood ran.
    pub ticks: u64,
    /// Backup's VmRSS before and after, KiB.
    pub rss_before: u64,
    pub rss_after: u64,
    pub transitions: usize,
}

/// Settles a pair of `kind` with `instances` instances, then floods
/// `count` valid-looking VRRPv2 adverts for VRID 251 (unknown to both) from a
/// third host as fast as it can send (`flood_bin` is vigil-lab-flood).
pub fn flood(kind: Kind, instances: usize, count: u64, flood_bin: &str) -> Result<Flood, String> {
    let mut lab = Lab::new("pflood")?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let attacker = lab.host("client", "192.168.67.10/24")?;
    let mut m = Daemon::start(kind, &r1, "m", &config(instances, 2, true))?;
    let mut b = Daemon::start(kind, &r2, "b", &config(instances, 2, false))?;
    wait::for_cond(
        Duration::from_secs(30),
        "all VIPs on r1, none on r2",
        || vip_count(&r1) == instances && vip_count(&r2) == 0,
    )
    .map_err(|e| format!("{e}{}", logs(&[&m, &b])))?;
    std::thread::sleep(Duration::from_secs(6));
    let pb = daemon_pids(&r2, kind)?;
    let before = (entering(&m, "BACKUP"), entering(&b, "MASTER"));
    let rss_before = procfs::memory(&pb).rss_kib;
    let t0 = procfs::cpu_ticks(&pb);
    let start = Instant::now();
    let count_s = count.to_string();
    let out = attacker.run(&[
        flood_bin,
        "--kind",
        "vrid",
        "--src",
        attacker.ip4(),
        "--count",
        &count_s,
        "--rate",
        "0",
        "--max-secs",
        "60",
        "--vrid",
        "250",
        "--password",
        "1111",
    ]);
    let secs = start.elapsed().as_secs_f64();
    // Let the backup work off what is still queued.
    std::thread::sleep(Duration::from_millis(500));
    let ticks = procfs::cpu_ticks(&pb).saturating_sub(t0);
    let rss_after = procfs::memory(&pb).rss_kib;
    let after = (entering(&m, "BACKUP"), entering(&b, "MASTER"));
    let out = out.map_err(|e| format!("flood: {e}"))?;
    let sent = out
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("flood: unexpected output {out:?}"))?;
    if !m.alive() || !b.alive() {
        return Err(format!("a daemon died{}", logs(&[&m, &b])));
    }
    Ok(Flood {
        sent,
        secs,
        ticks,
        rss_before,
        rss_after,
        transitions: (after.0 - before.0) + (after.1 - before.1),
    })
}

/// How both daemons are scheduled in one set of benchmark rows: a label
/// and the `global_defs` lines of vigil and of keepalived.
pub struct Mode {
    pub label: &'static str,
    pub vigil: &'static str,
    pub keepalived: &'static str,
}

/// Both daemons realtime (vigil's default; keepalived asked), then both
/// normal (keepalived's default; vigil asked).
pub const MODES: [Mode; 2] = [
    Mode {
        label: "SCHED_RR 1",
        vigil: "",
        keepalived: "    vrrp_rt_priority 1\n",
    },
    Mode {
        label: "normal",
        vigil: "    vrrp_rt_priority 0\n",
        keepalived: "",
    },
];

/// The benchmark section: for each hog count and mode, `runs` runs of
/// each daemon (alternating, capture on), `window` each. Returns table
/// rows [measurement, vigil, keepalived, goal]; each cell lists the runs;
/// CPU ticks are per 20 s whatever the window.
pub fn bench_rows(
    runs: usize,
    window: Duration,
    hog_counts: &[usize],
    modes: &[Mode],
) -> Vec<[String; 4]> {
    let mut rows = Vec::new();
    for mode in modes {
        rows.extend(mode_rows(runs, window, hog_counts, mode));
    }
    rows
}

fn mode_rows(runs: usize, window: Duration, hog_counts: &[usize], mode: &Mode) -> Vec<[String; 4]> {
    let mut rows = Vec::new();
    let per20 = |t: u64| t as f64 * 20.0 / window.as_secs_f64().max(1e-3);
    for &hogs in hog_counts {
        let mut got: [Vec<Outcome>; 2] = [Vec::new(), Vec::new()];
        for run_no in 0..runs {
            for (i, kind) in [Kind::Vigil, Kind::Keepalived].into_iter().enumerate() {
                let extra = match kind {
                    Kind::Vigil => mode.vigil,
                    Kind::Keepalived => mode.keepalived,
                };
                let s = Setup {
                    kind,
                    instances: 200,
                    advert_cs: 2,
                    hogs,
                    window,
                    capture: true,
                    global_extra: extra.to_string(),
                };
                match run(&s) {
                    Ok(o) => {
                        println!(
                            "  {} {hogs} hogs {kind:?} run {}: {o:?}",
                            mode.label,
                            run_no + 1
                        );
                        got[i].push(o);
                    }
                    Err(e) => eprintln!(
                        "  {} {hogs} hogs {kind:?} run {}: FAILED: {e}",
                        mode.label,
                        run_no + 1
                    ),
                }
            }
        }
        let cell = |i: usize, f: &dyn Fn(&Outcome) -> String| {
            let v: Vec<String> = got[i].iter().map(f).collect();
            if v.is_empty() {
                "failed".to_string()
            } else {
                v.join(" / ")
            }
        };
        let late = |o: &Outcome| {
            o.lateness.map_or("n/a".into(), |l| {
                format!("{:.1}/{:.1}/{:.1}", l.p50_ms, l.p99_ms, l.max_ms)
            })
        };
        let w = window.as_secs();
        let head = format!("{}, {hogs} hogs, {w} s:", mode.label);
        let mut row = |what: &str, f: &dyn Fn(&Outcome) -> String, goal: &str| {
            rows.push([
                format!("{head} {what}"),
                cell(0, f),
                cell(1, f),
                goal.to_string(),
            ]);
        };
        row("transitions", &|o| o.transitions.to_string(), "0");
        row(
            "backup held VIPs",
            &|o| format!("{:.0}%", 100.0 * o.backup_held),
            "0%",
        );
        row(
            "CPU ticks per 20 s, backup",
            &|o| format!("{:.0}", per20(o.backup_ticks)),
            "<= keepalived",
        );
        row(
            "CPU ticks per 20 s, master",
            &|o| format!("{:.0}", per20(o.master_ticks)),
            "< keepalived",
        );
        row("advert lateness p50/p99/max ms", &late, "");
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn config_has_every_instance() {
        let c = config(200, 2, true);
        assert_eq!(c.matches("vrrp_instance").count(), 200);
        assert!(c.contains("advert_int 0.02") && c.contains("vrrp_version 3"));
        assert!(c.contains("virtual_router_id 200") && c.contains("10.77.0.200/32"));
        let b = config(3, 100, false);
        assert!(b.contains("advert_int 1.00") && b.contains("priority 80"));
    }

    #[test]
    fn lateness_percentiles() {
        let src = Ipv4Addr::new(192, 168, 67, 100);
        let ad = |at: f64, vrid: u8| pcap::Advert {
            at,
            src,
            vrid,
            priority: 100,
        };
        // VRID 1: gaps 0.02, 0.03 (10 ms late); VRID 2: gap 0.05 (30 ms late).
        let ads = [
            ad(0.0, 1),
            ad(0.0, 2),
            ad(0.02, 1),
            ad(0.05, 1),
            ad(0.05, 2),
        ];
        let l = lateness(&ads, src, 0.02).unwrap();
        assert_eq!(l.gaps, 3);
        assert!((l.p50_ms - 10.0).abs() < 1e-6 && (l.max_ms - 30.0).abs() < 1e-6);
        assert!(lateness(&ads[..2], src, 0.02).is_none());
    }

    #[test]
    fn tcpdump_drop_line() {
        let e = "10 packets captured\n12 packets received by filter\n2 packets dropped by kernel\n";
        assert_eq!(dropped_by_kernel(e), Some(2));
        assert_eq!(dropped_by_kernel("nothing"), None);
    }
}
