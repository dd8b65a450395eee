//! The checker engine under load on the host: 1,000 TCP_CHECKs at
//! delay_loop 1 through the whole LVS thread (in-memory table), against
//! listeners in a namespace, with each TCP_CHECK engine (half-open, then
//! `VIGIL_TCP_CHECK=connect`). Prints checks answered per second and the
//! threads' CPU (run with --nocapture); fails if fewer than 90 % of the
//! checks are answered or the LVS thread never sleeps. Answered: accepted
//! by the listeners (full connects), or SYN-ACKs reset by the kernel (the
//! namespace's Tcp OutRsts: half-open checks leave nothing to accept).

mod os_util;
mod probe_util;

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use probe_util::lab;
use vigil::runtime::lvs::{Lvs, MemoryBackend, Prober};
use vigil_config::{parse_text, MemoryLoader, Options};

const NVS: usize = 50;
const NRS: usize = 20;
const WINDOW: Duration = Duration::from_secs(8);

fn config() -> vigil_model::Config {
    let mut t = String::new();
    for v in 0..NVS {
        let port = 8001 + v;
        t += &format!(
            "virtual_server 10.77.0.100 {port} {{\ndelay_loop 1\nlb_algo rr\nlb_kind DR\n"
        );
        for r in 0..NRS {
            t += &format!(
                "real_server 10.77.0.{} {port} {{\nweight 1\nTCP_CHECK {{\nconnect_timeout 1\nretry 2\ndelay_before_retry 1\n}}\n}}\n",
                10 + r
            );
        }
        t += "}\n";
    }
    match parse_text("k.conf", &t, &MemoryLoader::new(), Options::default()) {
        Ok((c, _)) => c,
        Err(d) => panic!("refused: {d:?}"),
    }
}

/// (tid, comm, utime+stime ticks, voluntary switches, utime ticks) of our threads.
fn threads() -> Vec<(String, String, u64, u64, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let p = e.path();
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        let rest = stat.rsplit_once(") ").map(|x| x.1).unwrap_or("");
        let f: Vec<&str> = rest.split(' ').collect();
        let user = f.get(11).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
        let ticks = f.get(11).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
        let status = std::fs::read_to_string(p.join("status")).unwrap_or_default();
        let vol = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        out.push((
            e.file_name().to_string_lossy().into_owned(),
            comm.trim().to_string(),
            ticks,
            vol,
            user,
        ));
    }
    out
}

/// The namespace's Tcp OutRsts (read from a thread inside it).
fn out_rsts() -> u64 {
    let t = std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap_or_default();
    let mut rows = t.lines().filter(|l| l.starts_with("Tcp:"));
    let (Some(h), Some(v)) = (rows.next(), rows.next()) else {
        return 0;
    };
    h.split_whitespace()
        .zip(v.split_whitespace())
        .find(|(k, _)| *k == "OutRsts")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_thousand_tcp_checks_a_second() {
    // VIGIL_LOAD_ONLY=halfopen (or connect) runs one engine: for profiling.
    let only = std::env::var("VIGIL_LOAD_ONLY").ok();
    for mode in ["halfopen", "connect"] {
        if only.as_deref().is_some_and(|o| o != mode) {
            continue;
        }
        std::env::set_var("VIGIL_TCP_CHECK", mode);
        one_engine(mode);
    }
    std::env::remove_var("VIGIL_TCP_CHECK");
}

fn one_engine(mode: &'static str) {
    let ns = or_skip!(lab());
    let addrs: String = (0..NRS)
        .map(|r| format!("ip addr add 10.77.0.{}/24 dev v0 && ", 10 + r))
        .collect();
    let out = ns.try_sh(&format!("{addrs} true"));
    assert!(out.status.success(), "{out:?}");
    ns.run(move || {
        let accepted = Arc::new(AtomicU64::new(0));
        for v in 0..NVS {
            let l = TcpListener::bind(("0.0.0.0", 8001 + v as u16)).unwrap();
            let n = accepted.clone();
            std::thread::spawn(move || {
                for c in l.incoming() {
                    drop(c);
                    n.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let prober: Prober =
            Arc::new(|kind, env| Box::pin(async move { vigil::os::probe::run(&kind, &env).await }));
        let lvs = Lvs::start(config(), || Ok(MemoryBackend::default()), prober).unwrap();
        // Past the first checks (1 s + warmup spread).
        std::thread::sleep(Duration::from_secs(3));
        let (a0, r0, t0, th0) = (
            accepted.load(Ordering::Relaxed),
            out_rsts(),
            Instant::now(),
            threads(),
        );
        std::thread::sleep(WINDOW);
        let (a1, r1, secs, th1) = (
            accepted.load(Ordering::Relaxed),
            out_rsts(),
            t0.elapsed().as_secs_f64(),
            threads(),
        );
        let (acc, rst) = ((a1 - a0) as f64 / secs, (r1 - r0) as f64 / secs);
        let rate = acc.max(rst);
        println!(
            "load | {mode}: {} TCP_CHECKs at delay_loop 1: {rate:.0} answered/s \
             ({acc:.0} accepted, {rst:.0} resets)",
            NVS * NRS
        );
        let mut lvs_sleeps = None;
        for (tid, comm, ticks, vol, user) in &th1 {
            let Some((_, _, t, v, u)) = th0.iter().find(|x| &x.0 == tid) else {
                continue;
            };
            if comm == "vigil-lvs" || comm == "async-io" {
                println!(
                    "load | thread {comm}: cpu {:.2} s (user {:.2}), {:.0} wake-ups/s",
                    (ticks - t) as f64 / 100.0,
                    (user - u) as f64 / 100.0,
                    (vol - v) as f64 / secs
                );
            }
            if comm == "vigil-lvs" {
                lvs_sleeps = Some((vol - v) as f64 / secs);
            }
        }
        smol::block_on(lvs.stop());
        assert!(rate >= 0.9 * (NVS * NRS) as f64, "{rate:.0} checks/s");
        assert!(lvs_sleeps.is_some_and(|w| w >= 10.0), "{lvs_sleeps:?}");
    });
}
