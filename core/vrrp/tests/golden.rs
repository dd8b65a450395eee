//! Scenario transcripts, one action per line, compared with golden files in
//! tests/golden/ (holo-vrrp's conformance style). After a deliberate
//! behaviour change, regenerate with `VIGIL_BLESS=1 cargo test --test golden`
//! and review the diff.

mod sim;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use sim::{seed_instance, v4, with, Sim, What};
use vigil_vrrp::{InitialState, ScriptConfig, ScriptResult, TrackedScript};

fn transcript(sim: &Sim) -> String {
    let mut out = String::new();
    for r in &sim.log {
        let node = &sim.nodes[r.node].name;
        let what = match &r.what {
            What::State {
                instance,
                from,
                to,
                reason,
            } => {
                format!("({instance}) {from} -> {to} ({reason})")
            }
            What::VipsAdded { instance } => format!("({instance}) add VIPs"),
            What::VipsRemoved { instance } => format!("({instance}) remove VIPs"),
            What::Advert {
                instance,
                priority,
                dst,
            } => {
                format!("({instance}) advert priority {priority} to {dst}")
            }
            What::Gratuitous { instance, addrs } => {
                let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
                format!("({instance}) gratuitous {}", list.join(" "))
            }
            What::Notify { line } => format!("notify {line}"),
            What::ScriptRun { script } => format!("run script {script}"),
        };
        let _ = writeln!(out, "{} {node} {what}", r.at);
    }
    out
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name}: transcript differs from {} at line {}:\n  expected: {:?}\n  actual:   {:?}\n(VIGIL_BLESS=1 regenerates)",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

#[test]
fn golden_01_failover_and_preemption() {
    let mut sim = Sim::new();
    let mut m = seed_instance("VI_1", 51, 100);
    m.initial_state = Some(InitialState::Master);
    m.garp.master_repeat = 2;
    let b = seed_instance("VI_1", 51, 80);
    let master = sim.add("ka-master", v4(100), with(vec![m]));
    let backup = sim.add("ka-slave", v4(200), with(vec![b]));
    sim.start(master);
    sim.start(backup);
    sim.run_for(Duration::from_millis(3_500));
    sim.crash(master);
    sim.run_for(Duration::from_secs(5));
    sim.restart(master);
    sim.run_for(Duration::from_secs(2));
    sim.shutdown(master);
    sim.run_for(Duration::from_secs(1));
    check("01-failover-preemption", &transcript(&sim));
}

#[test]
fn golden_09_track_script() {
    let mut sim = Sim::new();
    let mut script = ScriptConfig::new("TEST_CHECK");
    script.weight = -30;
    script.fall = 2;
    script.rise = 2;
    script.timeout = Some(Duration::from_secs(2));
    let mut a = seed_instance("WEB_VIP", 51, 100);
    a.initial_state = Some(InitialState::Master);
    a.garp.master_repeat = 1;
    a.garp.master_delay = Duration::ZERO;
    a.unicast_src = Some(v4(100));
    a.unicast_peers = vec![v4(200)];
    a.track_scripts = vec![TrackedScript {
        name: "TEST_CHECK".into(),
        weight: None,
        reverse: None,
    }];
    let mut b = seed_instance("WEB_VIP", 51, 80);
    b.garp.master_repeat = 1;
    b.garp.master_delay = Duration::ZERO;
    b.unicast_src = Some(v4(200));
    b.unicast_peers = vec![v4(100)];
    let mut cfg = with(vec![a]);
    cfg.scripts = vec![script];
    let high = sim.add("ka-master", v4(100), cfg);
    let low = sim.add("ka-slave", v4(200), with(vec![b]));
    sim.start(high);
    sim.start(low);
    sim.run_for(Duration::from_millis(2_500));
    sim.nodes[high]
        .script_results
        .insert("TEST_CHECK".into(), ScriptResult::Failure);
    sim.run_for(Duration::from_secs(6));
    sim.nodes[high].script_results.clear();
    sim.run_for(Duration::from_secs(6));
    check("09-track-script", &transcript(&sim));
}
