//! Detection times through the whole checker path: the LVS thread with the
//! real socket probes and script runner, against real servers in a network
//! namespace, with an in-memory table standing in for the kernel's (the
//! host has no IPVS; the guest tests cover the kernel).
//!
//! Bound for a server that dies right after a good check (notes 3.11):
//! `delay_loop + (retry + 1) x attempt + retry x delay_before_retry`, where
//! `attempt` is what one failing probe takes (about 0 for a refused
//! connection, 2 x connect_timeout for an HTTP server that never answers).
//! A revived server is back within one delay_loop.

mod os_util;
mod probe_util;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use probe_util::{lab, SERVER};
use vigil::runtime::lvs::{Lvs, MemoryBackend, Prober};
use vigil_config::{parse_text, MemoryLoader, Options};

/// The publish period of the status views plus scheduling on a busy host.
const SLACK: Duration = Duration::from_millis(700);

fn config(text: &str) -> vigil_model::Config {
    match parse_text("k.conf", text, &MemoryLoader::new(), Options::default()) {
        Ok((c, _)) => c,
        Err(d) => panic!("refused: {d:?}"),
    }
}

fn start(text: &str) -> Lvs {
    let cfg = config(text);
    let prober: Prober =
        Arc::new(|kind, env| Box::pin(async move { vigil::os::probe::run(&kind, &env).await }));
    Lvs::start(cfg, || Ok(MemoryBackend::default()), prober).unwrap()
}

/// Weight of the first real server in the table, and whether it has been
/// checked at all.
fn first(lvs: &Lvs) -> (Option<u32>, bool) {
    let v = lvs.views();
    match v.first().and_then(|vs| vs.real_servers.first()) {
        Some(rs) => (rs.installed, rs.last.is_some()),
        None => (None, false),
    }
}

/// Waits up to `limit` for `cond`; the time it took.
fn wait(
    lvs: &Lvs,
    limit: Duration,
    cond: impl Fn((Option<u32>, bool)) -> bool,
) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if cond(first(lvs)) {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn vs(checker: &str, port: u16) -> String {
    format!(
        "virtual_server 10.77.0.100 80 {{
            delay_loop 2
            lb_algo rr
            lb_kind DR
            real_server {SERVER} {port} {{
                weight 3
                {checker}
            }}
        }}"
    )
}

#[test]
fn tcp_check_refused_server_leaves_within_the_bound_and_returns() {
    let ns = or_skip!(lab());
    ns.run(|| {
        let l = TcpListener::bind((SERVER, 8090)).unwrap();
        let lvs = start(&vs(
            "TCP_CHECK {\nconnect_timeout 1\nretry 1\ndelay_before_retry 1\nwarmup 0\n}",
            8090,
        ));
        assert!(
            wait(&lvs, Duration::from_secs(4), |(w, checked)| w == Some(3)
                && checked)
            .is_some()
        );
        // Right after a good check: the worst case for detection.
        std::thread::sleep(Duration::from_millis(100));
        drop(l);
        let bound = Duration::from_secs(2 + 1);
        let took = wait(&lvs, bound + SLACK + Duration::from_secs(2), |(w, _)| {
            w.is_none()
        });
        println!("detect | TCP_CHECK refused: removed after {took:?} (bound {bound:?})");
        assert!(took.is_some_and(|t| t <= bound + SLACK), "{took:?}");
        let _l = TcpListener::bind((SERVER, 8090)).unwrap();
        let back = wait(&lvs, Duration::from_secs(5), |(w, _)| w == Some(3));
        println!("detect | TCP_CHECK revived: back after {back:?} (bound 2 s)");
        assert!(
            back.is_some_and(|t| t <= Duration::from_secs(2) + SLACK),
            "{back:?}"
        );
        smol::block_on(lvs.stop());
    });
}

#[test]
fn http_get_hung_server_leaves_within_the_bound() {
    let ns = or_skip!(lab());
    ns.run(|| {
        // Answers 200 while `serving`; afterwards accepts and never answers.
        let l = TcpListener::bind((SERVER, 8091)).unwrap();
        let serving = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let s2 = serving.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                if s2.load(std::sync::atomic::Ordering::SeqCst) {
                    use std::io::{Read, Write};
                    let mut buf = [0u8; 1024];
                    let _ = c.read(&mut buf);
                    let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
                } else {
                    held.push(c);
                }
            }
        });
        let lvs = start(&vs(
            "HTTP_GET {\nurl {\npath /\n}\nconnect_timeout 1\nretry 1\ndelay_before_retry 1\nwarmup 0\n}",
            8091,
        ));
        assert!(wait(&lvs, Duration::from_secs(4), |(w, checked)| w == Some(3) && checked).is_some());
        std::thread::sleep(Duration::from_millis(100));
        serving.store(false, std::sync::atomic::Ordering::SeqCst);
        // D + (R+1) x 2C + R x B = 2 + 2 x 2 + 1.
        let bound = Duration::from_secs(7);
        let took = wait(&lvs, bound + SLACK + Duration::from_secs(2), |(w, _)| w.is_none());
        println!("detect | HTTP_GET hung: removed after {took:?} (bound {bound:?})");
        assert!(took.is_some_and(|t| t <= bound + SLACK), "{took:?}");
        smol::block_on(lvs.stop());
    });
}

#[test]
fn misc_dynamic_exit_code_sets_the_weight() {
    let ns = or_skip!(lab());
    let dir = std::env::temp_dir().join(format!("vigil-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("check.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 7\n").unwrap();
    std::process::Command::new("chmod")
        .arg("755")
        .arg(&script)
        .status()
        .unwrap();
    let text = vs(
        &format!(
            "MISC_CHECK {{\nmisc_path \"{}\"\nmisc_dynamic\nmisc_timeout 2\nwarmup 0\n}}",
            script.display()
        ),
        8092,
    );
    ns.run(move || {
        let lvs = start(&text);
        let took = wait(&lvs, Duration::from_secs(4), |(w, _)| w == Some(5));
        println!("detect | MISC_CHECK exit 7 (misc_dynamic): weight 5 after {took:?}");
        assert!(took.is_some(), "the weight never became 7 - 2");
        smol::block_on(lvs.stop());
    });
    let _ = std::fs::remove_dir_all(&dir);
}
