//! Tracked processes and files, and sync-group trackers, on the simulated
//! LAN: quorum and delays move priority or FAULT at the exact instants.

mod sim;

use std::time::Duration;

use sim::{seed_instance, v4, with, Sim};
use vigil_vrrp::{
    ProcessCause, ProcessConfig, RouterConfig, ScriptConfig, ScriptResult, State, SyncGroupConfig,
    TrackedFile, TrackedInterface, TrackedProcess, TrackedScript,
};

const DOWN_80: u64 = 3_687_500;

fn tracked(name: &str, weight: i32, reverse: bool) -> TrackedProcess {
    TrackedProcess {
        name: name.into(),
        weight,
        reverse,
    }
}

/// Node `node`'s process scanner reports `count` processes named `name`.
fn processes(sim: &mut Sim, node: usize, name: &str, count: u32, cause: ProcessCause) {
    sim.feed(node, |r, now| {
        r.handle_process_count(now, name, count, cause)
    });
}

/// Master "a" (100) tracks process `web` with `weight`; backup "b" (80).
fn pair(weight: i32, p: ProcessConfig) -> (Sim, usize, usize) {
    let mut a = seed_instance("VI_1", 51, 100);
    a.track_processes = vec![tracked("web", weight, false)];
    let mut ca = with(vec![a]);
    ca.processes = vec![p];
    let cb = with(vec![seed_instance("VI_1", 51, 80)]);
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), ca);
    let b = sim.add("b", v4(200), cb);
    processes(&mut sim, a, "web", 1, ProcessCause::Scan);
    sim.start(a);
    sim.start(b);
    sim.run_for(Duration::from_secs(5));
    (sim, a, b)
}

#[test]
fn weight0_process_exit_faults_and_restart_recovers() {
    let (mut sim, a, b) = pair(0, ProcessConfig::new("web"));
    assert_eq!(sim.state(a, "VI_1"), State::Master);
    let t0 = sim.now;
    processes(&mut sim, a, "web", 0, ProcessCause::Exit);
    assert_eq!(
        sim.state(a, "VI_1"),
        State::Fault,
        "no delay: FAULT at once"
    );
    sim.run_for(Duration::from_secs(1));
    assert_eq!(
        sim.masters("VI_1"),
        vec![b],
        "the backup took over on the priority-0 advert"
    );
    // A priority-0 advert: the backup waits its Skew_Time, (256-80)/256 s.
    let took = sim.entered(b, "VI_1", State::Master)[0] - t0;
    assert!(
        took >= Duration::from_micros(687_500) && took < Duration::from_micros(688_000),
        "{took:?}"
    );
    processes(&mut sim, a, "web", 1, ProcessCause::Exec);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![a], "back and preempting");
}

#[test]
fn terminate_delay_holds_the_fault_back_and_a_refork_cancels_it() {
    let mut p = ProcessConfig::new("web");
    p.terminate_delay = Duration::from_secs(2);
    p.fork_delay = Duration::from_secs(1);
    let (mut sim, a, _) = pair(0, p);
    let t0 = sim.now;
    processes(&mut sim, a, "web", 0, ProcessCause::Exit);
    sim.run_for(Duration::from_millis(1500));
    assert_eq!(
        sim.state(a, "VI_1"),
        State::Master,
        "within terminate_delay"
    );
    processes(&mut sim, a, "web", 1, ProcessCause::Fork);
    sim.run_for(Duration::from_secs(3));
    assert_eq!(
        sim.state(a, "VI_1"),
        State::Master,
        "the re-fork cancelled the loss"
    );
    // Lost for good: FAULT exactly terminate_delay after the exit.
    let t1 = sim.now;
    processes(&mut sim, a, "web", 0, ProcessCause::Exit);
    sim.run_for(Duration::from_secs(3));
    let fault = sim.entered(a, "VI_1", State::Fault);
    assert_eq!(fault, vec![t1 + Duration::from_secs(2)]);
    assert!(t1 > t0);
}

#[test]
fn weighted_process_lowers_priority_and_quorum_max_counts() {
    let mut p = ProcessConfig::new("web");
    p.quorum = 2;
    p.quorum_max = 3;
    // -30 while below quorum: 100 -> 70 < 80, the backup preempts.
    let mut a = seed_instance("VI_1", 51, 100);
    a.track_processes = vec![tracked("web", -30, false)];
    let mut ca = with(vec![a]);
    ca.processes = vec![p];
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), ca);
    let b = sim.add("b", v4(200), with(vec![seed_instance("VI_1", 51, 80)]));
    processes(&mut sim, a, "web", 2, ProcessCause::Scan);
    sim.start(a);
    sim.start(b);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![a]);
    processes(&mut sim, a, "web", 4, ProcessCause::Fork);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.masters("VI_1"),
        vec![b],
        "4 > quorum_max 3: priority 70"
    );
    assert!(sim
        .adverts(a, "VI_1")
        .iter()
        .all(|(_, p)| *p == 100 || *p == 70 || *p == 0));
    processes(&mut sim, a, "web", 3, ProcessCause::Exit);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![a]);
}

#[test]
fn file_value_times_weight_and_fault_floor() {
    let mut a = seed_instance("VI_1", 51, 100);
    a.track_files = vec![TrackedFile {
        name: "f".into(),
        weight: -10,
        reverse: false,
    }];
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), with(vec![a]));
    let b = sim.add("b", v4(200), with(vec![seed_instance("VI_1", 51, 80)]));
    sim.feed(a, |r, now| r.handle_file_value(now, "f", 0));
    sim.start(a);
    sim.start(b);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![a]);
    sim.feed(a, |r, now| r.handle_file_value(now, "f", 3));
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![b], "100 - 30 = 70 < 80");
    assert!(sim.adverts(a, "VI_1").iter().any(|(_, p)| *p == 70));
    sim.feed(a, |r, now| r.handle_file_value(now, "f", 26));
    assert_eq!(
        sim.state(a, "VI_1"),
        State::Fault,
        "-260 is below -254: FAULT"
    );
    sim.feed(a, |r, now| r.handle_file_value(now, "f", -1));
    sim.run_for(Duration::from_secs(DOWN_80 / 1_000_000 + 2));
    assert_eq!(sim.masters("VI_1"), vec![a], "+10: 110, preempts");
}

/// Two members in a group that tracks interface `wan` (weight 0), script
/// `chk` (-30) and process `p` (weight 0 reverse: FAULT while it runs).
fn grouped(tracking_weight: bool) -> RouterConfig {
    let mut a = seed_instance("VI_1", 51, 100);
    let b = seed_instance("VI_2", 52, 100);
    // A member's own weighted tracker: dropped without tracking_weight.
    a.track_interfaces = vec![TrackedInterface {
        name: "lan2".into(),
        weight: -50,
        reverse: false,
    }];
    let mut cfg = with(vec![a, b]);
    let mut chk = ScriptConfig::new("chk");
    chk.weight = -30;
    cfg.scripts = vec![chk];
    cfg.processes = vec![ProcessConfig::new("p")];
    cfg.sync_groups = vec![SyncGroupConfig {
        name: "G".into(),
        members: vec!["VI_1".into(), "VI_2".into()],
        track_interfaces: vec![TrackedInterface {
            name: "wan".into(),
            weight: 0,
            reverse: false,
        }],
        track_scripts: vec![TrackedScript {
            name: "chk".into(),
            weight: None,
            reverse: None,
        }],
        track_processes: vec![tracked("p", 0, true)],
        tracking_weight,
        ..Default::default()
    }];
    cfg
}

#[test]
fn sync_group_trackers_apply_to_every_member() {
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), grouped(false));
    let mut low = with(vec![
        seed_instance("VI_1", 51, 80),
        seed_instance("VI_2", 52, 80),
    ]);
    low.sync_groups = vec![SyncGroupConfig {
        name: "G".into(),
        members: vec!["VI_1".into(), "VI_2".into()],
        ..Default::default()
    }];
    let b = sim.add("b", v4(200), low);
    processes(&mut sim, a, "p", 0, ProcessCause::Scan);
    sim.start(a);
    sim.start(b);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![a]);
    assert_eq!(sim.masters("VI_2"), vec![a]);
    // The member's own weighted lan2 became unweighted: down = FAULT.
    sim.set_other_link(a, "lan2", false);
    assert_eq!(sim.state(a, "VI_1"), State::Fault);
    assert_eq!(sim.state(a, "VI_2"), State::Fault, "the group follows");
    sim.set_other_link(a, "lan2", true);
    sim.run_for(Duration::from_secs(6));
    assert_eq!(sim.masters("VI_2"), vec![a]);
    // The group's wan (weight 0) faults both members.
    sim.set_other_link(a, "wan", false);
    assert_eq!(sim.state(a, "VI_1"), State::Fault);
    assert_eq!(sim.state(a, "VI_2"), State::Fault);
    sim.set_other_link(a, "wan", true);
    sim.run_for(Duration::from_secs(6));
    assert_eq!(sim.masters("VI_1"), vec![a]);
    // The group's reversed process: running = FAULT for both.
    processes(&mut sim, a, "p", 1, ProcessCause::Exec);
    assert_eq!(sim.state(a, "VI_1"), State::Fault);
    assert_eq!(sim.state(a, "VI_2"), State::Fault);
    processes(&mut sim, a, "p", 0, ProcessCause::Exit);
    sim.run_for(Duration::from_secs(6));
    assert_eq!(sim.masters("VI_2"), vec![a]);
    // The group's script weight -30 applies to each member: 70 < 80.
    sim.nodes[a]
        .script_results
        .insert("chk".into(), ScriptResult::Failure);
    sim.run_for(Duration::from_secs(6));
    assert_eq!(sim.masters("VI_1"), vec![b]);
    assert_eq!(sim.masters("VI_2"), vec![b]);
    assert!(sim.adverts(a, "VI_2").iter().any(|(_, p)| *p == 70));
}

#[test]
fn sync_group_tracking_weight_keeps_member_weights() {
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), grouped(true));
    processes(&mut sim, a, "p", 0, ProcessCause::Scan);
    sim.start(a);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.state(a, "VI_1"), State::Master);
    sim.set_other_link(a, "lan2", false);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(
        sim.state(a, "VI_1"),
        State::Master,
        "weighted: -50, no FAULT"
    );
    assert!(sim.adverts(a, "VI_1").iter().any(|(_, p)| *p == 50));
}

#[test]
fn owner_in_group_clears_group_weights() {
    let mut cfg = grouped(false);
    cfg.instances[1].priority = 255;
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), cfg);
    processes(&mut sim, a, "p", 0, ProcessCause::Scan);
    sim.start(a);
    sim.run_for(Duration::from_secs(5));
    // chk's -30 became 0: a failing script now faults the group.
    sim.nodes[a]
        .script_results
        .insert("chk".into(), ScriptResult::Failure);
    sim.run_for(Duration::from_secs(3));
    assert_eq!(sim.state(a, "VI_1"), State::Fault);
}

#[test]
fn group_members_keep_weighted_processes_and_an_owner_file_becomes_unweighted() {
    // A member's own weighted process keeps its weight (2.2.7 strips
    // interfaces, scripts and files only).
    let mut cfg = grouped(false);
    cfg.instances[0].track_processes = vec![tracked("p", -40, true)];
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), cfg);
    processes(&mut sim, a, "p", 0, ProcessCause::Scan);
    sim.start(a);
    sim.run_for(Duration::from_secs(5));
    // p down (0 running): reversed -40 while down gives +40.
    assert!(sim.adverts(a, "VI_1").iter().any(|(_, p)| *p == 140));
    // An owner's file at the default weight 1 becomes weight 0: nonzero = FAULT.
    let mut own = seed_instance("VI_1", 51, 255);
    own.track_files = vec![TrackedFile {
        name: "f".into(),
        weight: 1,
        reverse: false,
    }];
    let mut sim = Sim::new();
    let o = sim.add("o", v4(100), with(vec![own]));
    sim.feed(o, |r, now| r.handle_file_value(now, "f", 0));
    sim.start(o);
    sim.run_for(Duration::from_secs(2));
    assert_eq!(sim.state(o, "VI_1"), State::Master);
    sim.feed(o, |r, now| r.handle_file_value(now, "f", 5));
    assert_eq!(sim.state(o, "VI_1"), State::Fault);
}
