//! vigil-checker-scan: what the checker side of vigil's LVS loop costs per
//! wake-up, natively and on a simulated clock, for the load-balancing
//! benchmark's configurations (tests/guest/bench/gen-conf).
//!
//! `vigil-checker-scan FILE...` (keepalived.conf files with virtual servers)
//!
//! Each wake does what daemon/src/runtime/lvs/worker.rs does: handle one event
//! (the earliest probe result or checker deadline), poll_timeout twice and
//! handle_timeout when due; every probe answers Ok 200 us after it starts.
//! 20 simulated seconds; prints probes, wakes and wall time per wake and probe.

use std::collections::BTreeMap;
use std::time::Instant as Wall;
use vigil_check::{Action, CheckerId, Checkers, Instant, ProbeResult};

const HORIZON_US: u64 = 20_000_000;
const ANSWER_US: u64 = 200;

fn run(file: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let loader = vigil_config::MemoryLoader::new();
    let (cfg, _) = vigil_config::parse_text(file, &text, &loader, vigil_config::Options::default())
        .map_err(|d| format!("{file}: {} diagnostics, first: {:?}", d.len(), d.first()))?;
    let mut c = Checkers::new(&cfg, 1);
    c.handle_start(Instant::from_micros(0));
    let mut answers: BTreeMap<u64, Vec<CheckerId>> = BTreeMap::new();
    let (mut wakes, mut probes) = (0u64, 0u64);
    let wall = Wall::now();
    loop {
        let due = c.poll_timeout().map_or(u64::MAX, |i| i.as_micros());
        let answer = answers.keys().next().copied().unwrap_or(u64::MAX);
        let now = due.min(answer);
        if now > HORIZON_US {
            break;
        }
        wakes += 1;
        if answer <= due {
            for id in answers.remove(&answer).unwrap_or_default() {
                let _ = c.handle_probe_result(Instant::from_micros(now), id, ProbeResult::Ok);
            }
        }
        let _ = c.poll_timeout(); // the loop's wait computation
        if c.poll_timeout().is_some_and(|d| d.as_micros() <= now) {
            c.handle_timeout(Instant::from_micros(now));
        }
        while let Some(a) = c.poll_action() {
            if let Action::Probe { checker, .. } = a {
                probes += 1;
                answers.entry(now + ANSWER_US).or_default().push(checker);
            }
        }
    }
    let s = wall.elapsed().as_secs_f64();
    Ok(format!(
        "SCAN {file}: {} checkers, {probes} probes, {wakes} wakes in 20 simulated s; {:.1} ms, {:.2} us per wake, {:.2} us per probe",
        cfg.virtual_servers.iter().map(|v| v.real_servers.len()).sum::<usize>(),
        s * 1e3,
        s * 1e6 / wakes.max(1) as f64,
        s * 1e6 / probes.max(1) as f64
    ))
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: vigil-checker-scan FILE...");
        std::process::exit(2);
    }
    for f in &files {
        match run(f) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("vigil-checker-scan: {e}");
                std::process::exit(1);
            }
        }
    }
}
