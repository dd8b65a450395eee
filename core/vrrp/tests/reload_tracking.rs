//! Configuration reload (`Router::reconfigure`, SIGHUP) of what instances
//! track: script status and counters survive, new weights apply, and sync
//! groups gain, lose and restart members without moving the others.

mod reload_util;
mod sim;

use std::time::Duration;

use reload_util::{log_since, names, snapshots, DOWN_100};
use sim::{seed_instance, v4, Sim, What};
use vigil_vrrp::{
    RouterConfig, ScriptConfig, ScriptResult, State, SyncGroupConfig, TrackStatus, TrackedScript,
};

/// Two instances, a sync group, a tracked script half-way down its `fall`.
fn rich() -> RouterConfig {
    let mut chk = ScriptConfig::new("chk");
    chk.fall = 3;
    chk.weight = -10;
    let mut a = seed_instance("VI_1", 51, 100);
    a.track_scripts = vec![TrackedScript {
        name: "chk".into(),
        weight: None,
        reverse: None,
    }];
    let mut b = seed_instance("VI_2", 52, 100);
    b.virtual_addresses = vec![v4(151)];
    RouterConfig {
        instances: vec![a, b],
        scripts: vec![chk],
        sync_groups: vec![SyncGroupConfig {
            name: "G".into(),
            members: vec!["VI_1".into(), "VI_2".into()],
            ..Default::default()
        }],
        processes: vec![],
    }
}

#[test]
fn unchanged_rich_config_is_silent() {
    let mut sim = Sim::new();
    let node = sim.add("r1", v4(100), rich());
    sim.start(node);
    sim.run_for(Duration::from_secs(8));
    assert_eq!(sim.masters("VI_1"), vec![node]);
    assert_eq!(sim.masters("VI_2"), vec![node]);
    sim.nodes[node]
        .script_results
        .insert("chk".into(), ScriptResult::Failure);
    sim.run_for(Duration::from_millis(1_500));
    let before = snapshots(&sim, node);
    let mark = sim.log.len();
    let report = sim.reload(node, rich());
    assert_eq!(report.kept, names(&["VI_1", "VI_2"]));
    assert_eq!(sim.log.len(), mark);
    assert_eq!(snapshots(&sim, node), before);
    let r = &sim.nodes[node].router;
    assert_eq!(r.group(r.group_id("G").unwrap()).unwrap().1, State::Master);
}

/// VI_1 held in FAULT unless `chk` (rise 1, fall 3) is up.
fn tracked(interval_ms: u64, extra_script_first: bool) -> RouterConfig {
    let mut chk = ScriptConfig::new("chk");
    chk.fall = 3;
    chk.interval = Duration::from_millis(interval_ms);
    let mut c = seed_instance("VI_1", 51, 100);
    c.track_scripts = vec![TrackedScript {
        name: "chk".into(),
        weight: None,
        reverse: None,
    }];
    let mut scripts = vec![chk];
    if extra_script_first {
        scripts.insert(0, ScriptConfig::new("other"));
    }
    RouterConfig {
        instances: vec![c],
        scripts,
        ..Default::default()
    }
}

fn chk_status(sim: &Sim, node: usize) -> TrackStatus {
    let r = &sim.nodes[node].router;
    r.script_status_of(r.script_id("chk").unwrap()).unwrap()
}

#[test]
fn tracked_script_status_and_counter_survive_a_reload() {
    let mut sim = Sim::new();
    let node = sim.add("r1", v4(100), tracked(1_000, false));
    sim.start(node);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![node]);
    // Two failures of the three `fall` needs (runs at 6 s and 7 s).
    sim.nodes[node]
        .script_results
        .insert("chk".into(), ScriptResult::Failure);
    sim.run_for(Duration::from_millis(2_500));
    assert_eq!(chk_status(&sim, node), TrackStatus::Up);
    // Reload with a script in front (ids move) and a slower interval (the
    // debouncing is unchanged).
    let mark = sim.log.len();
    let report = sim.reload(node, tracked(2_000, true));
    assert_eq!(report.kept, names(&["VI_1"]));
    let (old, new) = report.script_ids[0];
    assert_eq!((old.index(), new.index()), (0, 1));
    assert_eq!(report.script_id(old), Some(new));
    assert_eq!(sim.log.len(), mark, "status kept: no fault, no action");
    assert_eq!(chk_status(&sim, node), TrackStatus::Up);
    // The third failure (the 8 s run, as scheduled before the reload) is the
    // one that counts: the counter survived. New scripts run at once.
    sim.run_for(Duration::from_millis(600));
    assert_eq!(chk_status(&sim, node), TrackStatus::Down);
    assert_eq!(sim.state(node, "VI_1"), State::Fault);
    let runs: Vec<String> = sim.log[mark..]
        .iter()
        .filter_map(|r| match &r.what {
            What::ScriptRun { script } => Some(script.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(runs, names(&["other", "chk"]));
}

#[test]
fn new_script_weight_updates_an_unchanged_instance() {
    let mut sim = Sim::new();
    let mut config = tracked(1_000, false);
    config.scripts[0].weight = 20;
    let node = sim.add("r1", v4(100), config.clone());
    sim.start(node);
    sim.run_for(Duration::from_secs(5));
    let prio = |sim: &Sim| {
        let r = &sim.nodes[node].router;
        r.instance(r.instance_id("VI_1").unwrap())
            .unwrap()
            .effective_priority
    };
    assert_eq!(prio(&sim), 120);
    config.scripts[0].weight = 30;
    let report = sim.reload(node, config);
    assert_eq!(report.updated, names(&["VI_1"]));
    assert_eq!(prio(&sim), 130);
    assert_eq!(sim.adverts(node, "VI_1").last().unwrap(), &(sim.now, 130));
}

#[test]
fn added_member_with_a_failed_tracker_pulls_its_new_group_into_fault() {
    let mut chk = ScriptConfig::new("chk");
    chk.weight = 0;
    let base = RouterConfig {
        instances: vec![seed_instance("VI_1", 51, 100)],
        scripts: vec![chk],
        ..Default::default()
    };
    let mut sim = Sim::new();
    let node = sim.add("r1", v4(100), base.clone());
    sim.nodes[node]
        .script_results
        .insert("chk".into(), ScriptResult::Failure);
    sim.start(node);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![node]);
    let mut grouped = base.clone();
    let mut b = seed_instance("VI_2", 52, 100);
    b.virtual_addresses = vec![v4(151)];
    b.track_scripts = vec![TrackedScript {
        name: "chk".into(),
        weight: None,
        reverse: None,
    }];
    grouped.instances.push(b);
    grouped.sync_groups = vec![SyncGroupConfig {
        name: "G".into(),
        members: vec!["VI_1".into(), "VI_2".into()],
        ..Default::default()
    }];
    let report = sim.reload(node, grouped);
    assert_eq!(report.kept, names(&["VI_1"]));
    assert_eq!(report.added, names(&["VI_2"]));
    assert_eq!(sim.state(node, "VI_1"), State::Fault);
    assert_eq!(sim.state(node, "VI_2"), State::Fault);
    let notes = sim.notifies(node);
    assert!(notes.ends_with(&names(&[
        "INSTANCE VI_2 FAULT 100",
        "INSTANCE VI_1 FAULT 100",
        "GROUP G FAULT 0",
    ])));
    // The check recovers: both leave FAULT together and come back up.
    sim.nodes[node]
        .script_results
        .insert("chk".into(), ScriptResult::Success);
    sim.run_for(Duration::from_secs(6));
    assert_eq!(sim.masters("VI_1"), vec![node]);
    assert_eq!(sim.masters("VI_2"), vec![node]);
}

#[test]
fn restarted_group_member_rejoins_without_moving_the_others() {
    let group = |vrid2: u8| {
        let mut c = rich();
        c.scripts.clear();
        c.instances[0].track_scripts.clear();
        c.instances[1].vrid = vrid2;
        c
    };
    let mut sim = Sim::new();
    let node = sim.add("r1", v4(100), group(52));
    sim.start(node);
    sim.run_for(Duration::from_secs(8));
    assert_eq!(sim.masters("VI_2"), vec![node]);
    let at = sim.now;
    let mark = sim.log.len();
    let report = sim.reload(node, group(53));
    assert_eq!(report.kept, names(&["VI_1"]));
    assert_eq!(report.restarted, names(&["VI_2"]));
    let log = log_since(&sim, mark, node);
    assert!(log.iter().all(|w| match w {
        What::State { instance, .. } | What::VipsRemoved { instance } => instance == "VI_2",
        What::Notify { line } => line.starts_with("INSTANCE VI_2"),
        _ => true,
    }));
    assert_eq!(sim.state(node, "VI_1"), State::Master);
    let r = &sim.nodes[node].router;
    assert_eq!(r.group(r.group_id("G").unwrap()).unwrap().1, State::Master);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.entered(node, "VI_2", State::Master).last().copied(),
        Some(at.plus_micros(DOWN_100))
    );
    assert_eq!(sim.entered(node, "VI_1", State::Master).len(), 1);
}
