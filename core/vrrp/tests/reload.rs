//! Configuration reload (`Router::reconfigure`, SIGHUP): unchanged instances
//! are untouched, changed ones take effect, removed and added ones stop and
//! start, refused configurations change nothing.

mod sim;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sim::{seed_instance, v4, with, Rng, Sim, What};
use vigil_vrrp::{
    Action, Family, InitialState, InstanceConfig, Instant, NotifyState, NotifyTarget, Reason,
    Router, RouterConfig, ScriptConfig, ScriptResult, State, SyncGroupConfig, TrackStatus,
    TrackedScript,
};

const SEC: u64 = 1_000_000;
/// The shortened first down timer of a `state MASTER` non-owner.
const FIRST_MASTER: u64 = SEC + 3_906;
/// Master_Down_Interval of priority 80 and 100 (v2, 1 s).
const DOWN_80: u64 = 3_687_500;
const DOWN_100: u64 = 3_609_375;
/// Skew_Time of priority 80 and 150 (v2, 1 s).
const SKEW_80: u64 = 687_500;
const SKEW_150: u64 = 414_062;

/// ka-master (100, state MASTER) and ka-slave (80), master since 1.0039 s.
fn pair(extra: impl Fn(&mut RouterConfig)) -> (Sim, usize, usize) {
    let mut sim = Sim::new();
    let mut m = seed_instance("VI_1", 51, 100);
    m.initial_state = Some(InitialState::Master);
    let mut b = seed_instance("VI_1", 51, 80);
    b.initial_state = Some(InitialState::Backup);
    let (mut mc, mut bc) = (with(vec![m]), with(vec![b]));
    extra(&mut mc);
    extra(&mut bc);
    let master = sim.add("ka-master", v4(100), mc);
    let backup = sim.add("ka-slave", v4(200), bc);
    sim.start(master);
    sim.start(backup);
    sim.run_for(Duration::from_millis(10_500));
    assert_eq!(sim.masters("VI_1"), vec![master]);
    (sim, master, backup)
}

/// Every instance snapshot of a node, owned, for before/after comparisons.
fn snapshots(sim: &Sim, node: usize) -> Vec<String> {
    let r = &sim.nodes[node].router;
    r.instance_ids()
        .map(|id| format!("{:?}", r.instance(id)))
        .collect()
}

fn log_since(sim: &Sim, from: usize, node: usize) -> Vec<What> {
    sim.log[from..]
        .iter()
        .filter(|r| r.node == node)
        .map(|r| r.what.clone())
        .collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn unchanged_config_is_silent_and_keeps_the_rhythm() {
    let (mut sim, master, backup) = pair(|_| {});
    for node in [master, backup] {
        let before = snapshots(&sim, node);
        let deadline = sim.nodes[node].router.poll_timeout();
        let mark = sim.log.len();
        let config = sim.nodes[node].config.clone();
        let report = sim.reload(node, config);
        assert_eq!(report.kept, names(&["VI_1"]));
        assert!(report.updated.is_empty() && report.restarted.is_empty());
        assert!(report.added.is_empty() && report.removed.is_empty());
        assert_eq!(sim.log.len(), mark, "no action at all");
        assert_eq!(snapshots(&sim, node), before);
        assert_eq!(sim.nodes[node].router.poll_timeout(), deadline);
    }
    let mark = sim.log.len();
    sim.run_for(Duration::from_secs(20));
    // The master's adverts keep their 1 s rhythm from its takeover.
    let times: Vec<u64> = sim
        .adverts(master, "VI_1")
        .iter()
        .map(|(t, _)| t.as_micros())
        .collect();
    assert_eq!(times.len(), 30);
    for (k, t) in times.iter().enumerate() {
        assert_eq!(*t, FIRST_MASTER + k as u64 * SEC);
    }
    // The peer never noticed.
    assert!(sim.entered(backup, "VI_1", State::Master).is_empty());
    assert_eq!(sim.entered(master, "VI_1", State::Master).len(), 1);
    assert_eq!(sim.vips_added(master, "VI_1").len(), 1);
    assert!(sim.log[mark..]
        .iter()
        .all(|r| matches!(r.what, What::Advert { .. })));
}

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

#[test]
fn lowered_master_priority_is_advertised_and_the_backup_takes_over() {
    let (mut sim, master, backup) = pair(|_| {});
    let (last, prio) = *sim.adverts(master, "VI_1").last().unwrap();
    assert_eq!(prio, 100);
    let mut config = sim.nodes[master].config.clone();
    config.instances[0].priority = 50;
    let mark = sim.log.len();
    let report = sim.reload(master, config);
    assert_eq!(report.updated, names(&["VI_1"]));
    // The new priority goes out at once; the addresses stay.
    assert_eq!(
        log_since(&sim, mark, master),
        vec![What::Advert {
            instance: "VI_1".into(),
            priority: 50,
            dst: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44)),
        }]
    );
    assert_eq!(sim.state(master, "VI_1"), State::Master);
    sim.run_for(Duration::from_secs(10));
    // The backup ignores the lower adverts and takes over one
    // Master_Down_Interval after the last priority 100 advert.
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(backup, "VI_1", State::Master),
        vec![last.plus_micros(latency + DOWN_80)]
    );
    assert_eq!(sim.masters("VI_1"), vec![backup]);
    let r = &sim.nodes[master].router;
    let snap = r.instance(r.instance_id("VI_1").unwrap()).unwrap();
    assert_eq!((snap.state, snap.base_priority), (State::Backup, 50));
    assert!(sim.log.iter().any(|r| r.node == master
        && r.what
            == What::State {
                instance: "VI_1".into(),
                from: State::Master,
                to: State::Backup,
                reason: Reason::HigherPriority,
            }));
}

#[test]
fn raised_backup_priority_preempts() {
    let (mut sim, master, backup) = pair(|_| {});
    let mut config = sim.nodes[backup].config.clone();
    config.instances[0].priority = 150;
    let mark = sim.log.len();
    let report = sim.reload(backup, config);
    assert_eq!(report.updated, names(&["VI_1"]));
    assert!(
        log_since(&sim, mark, backup).is_empty(),
        "a backup is quiet"
    );
    let (last, _) = *sim.adverts(master, "VI_1").last().unwrap();
    sim.run_for(Duration::from_secs(10));
    // Its running down timer moved by the change of its skew.
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(backup, "VI_1", State::Master),
        vec![last.plus_micros(latency + 3 * SEC + SKEW_150)]
    );
    assert_eq!(sim.masters("VI_1"), vec![backup]);
    assert_eq!(sim.state(master, "VI_1"), State::Backup);
}

/// A lone router that is master of `config`'s instances.
fn lone_master(config: RouterConfig) -> Router {
    let mut r = Router::new(config);
    r.handle_address(Instant::ZERO, "eth0", Family::V4, Some(v4(100)));
    r.handle_start(Instant::ZERO);
    r.handle_timeout(Instant::from_secs(5));
    while r.poll_action().is_some() {}
    r
}

fn drain(r: &mut Router) -> Vec<Action> {
    std::iter::from_fn(|| r.poll_action()).collect()
}

#[test]
fn vrid_change_restarts_the_instance() {
    let mut r = lone_master(with(vec![seed_instance("VI_1", 51, 100)]));
    let mut c = seed_instance("VI_1", 52, 100);
    c.initial_state = None;
    let report = r.reconfigure(Instant::from_secs(6), with(vec![c]));
    assert_eq!(report.restarted, names(&["VI_1"]));
    assert!(report.instance_ids.is_empty());
    let new = r.instance_id("VI_1").unwrap();
    let actions = drain(&mut r);
    let [Action::SendAdvert {
        instance: old,
        repr,
        ..
    }, Action::RemoveVips { instance: removed }, Action::StateChanged {
        from: State::Master,
        to: State::Init,
        reason: Reason::Reload,
        ..
    }, Action::Notify {
        state: NotifyState::Stop,
        ..
    }, Action::StateChanged {
        instance: started,
        from: State::Init,
        to: State::Backup,
        reason: Reason::Startup,
    }, Action::Notify {
        target: NotifyTarget::Instance(notified),
        state: NotifyState::Backup,
        ..
    }] = &actions[..]
    else {
        panic!("unexpected actions {actions:#?}");
    };
    // The goodbye is for the old VRID, under an id that still resolves.
    assert_eq!((repr.vrid, repr.priority), (51, 0));
    assert_eq!(old, removed);
    assert_ne!(*old, new);
    assert_eq!(r.instance_name(*old), Some("VI_1"));
    assert_eq!(r.instance(*old).unwrap().state, State::Init);
    assert_eq!((*started, *notified), (new, new));
    assert_eq!(r.instance_ids().collect::<Vec<_>>(), vec![new]);
    // The new one takes over its own VRID after a Master_Down_Interval.
    r.handle_timeout(Instant::from_micros(6 * SEC + DOWN_100));
    assert_eq!(r.instance(new).unwrap().state, State::Master);
    let adverts: Vec<u8> = drain(&mut r)
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert { repr, .. } => Some(repr.vrid),
            _ => None,
        })
        .collect();
    assert_eq!(adverts, vec![52]);
}

#[test]
fn vrid_change_hands_the_old_vrid_to_the_peer_at_once() {
    let (mut sim, master, backup) = pair(|_| {});
    let mut config = sim.nodes[master].config.clone();
    config.instances[0].vrid = 52;
    let at = sim.now;
    let report = sim.reload(master, config);
    assert_eq!(report.restarted, names(&["VI_1"]));
    sim.run_for(Duration::from_secs(5));
    // Priority 0: the peer waits only its Skew_Time.
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(backup, "VI_1", State::Master),
        vec![at.plus_micros(latency + SKEW_80)]
    );
    assert_eq!(
        sim.entered(master, "VI_1", State::Master).last().copied(),
        Some(at.plus_micros(FIRST_MASTER))
    );
    assert!(sim
        .notifies(master)
        .contains(&"INSTANCE VI_1 STOP 100".to_string()));
}

#[test]
fn removed_master_says_goodbye_and_the_others_are_untouched() {
    let two = |prio: u8| {
        let a = seed_instance("VI_1", 51, prio);
        let mut b = seed_instance("VI_2", 52, prio);
        b.virtual_addresses = vec![v4(151)];
        with(vec![a, b])
    };
    let mut sim = Sim::new();
    let master = sim.add("m", v4(100), two(100));
    let backup = sim.add("b", v4(200), two(80));
    sim.start(master);
    sim.start(backup);
    sim.run_for(Duration::from_millis(10_500));
    assert_eq!(sim.masters("VI_1"), vec![master]);
    let vi2_before = {
        let r = &sim.nodes[master].router;
        format!("{:?}", r.instance(r.instance_id("VI_2").unwrap()))
    };
    let mut config = two(100);
    config.instances.remove(0);
    let at = sim.now;
    let mark = sim.log.len();
    let report = sim.reload(master, config);
    assert_eq!(report.removed, names(&["VI_1"]));
    assert_eq!(report.kept, names(&["VI_2"]));
    assert_eq!(report.instance_ids.len(), 1);
    let (old, new) = report.instance_ids[0];
    assert_eq!((old.index(), new.index()), (1, 0));
    assert_eq!(
        log_since(&sim, mark, master),
        vec![
            What::Advert {
                instance: "VI_1".into(),
                priority: 0,
                dst: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44)),
            },
            What::VipsRemoved {
                instance: "VI_1".into()
            },
            What::State {
                instance: "VI_1".into(),
                from: State::Master,
                to: State::Init,
                reason: Reason::Reload,
            },
            What::Notify {
                line: "INSTANCE VI_1 STOP 100".into()
            },
        ]
    );
    let r = &sim.nodes[master].router;
    assert_eq!(r.instance_id("VI_1"), None);
    assert_eq!(
        format!("{:?}", r.instance(r.instance_id("VI_2").unwrap())),
        vi2_before
    );
    sim.run_for(Duration::from_secs(10));
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(backup, "VI_1", State::Master),
        vec![at.plus_micros(latency + SKEW_80)]
    );
    assert_eq!(sim.masters("VI_2"), vec![master]);
    assert!(sim.entered(backup, "VI_2", State::Master).is_empty());
}

#[test]
fn added_instance_comes_up() {
    let (mut sim, master, _backup) = pair(|_| {});
    let mut config = sim.nodes[master].config.clone();
    let mut extra = seed_instance("VI_9", 59, 100);
    extra.virtual_addresses = vec![v4(159)];
    config.instances.push(extra);
    let at = sim.now;
    let mark = sim.log.len();
    let report = sim.reload(master, config);
    assert_eq!(report.kept, names(&["VI_1"]));
    assert_eq!(report.added, names(&["VI_9"]));
    assert_eq!(
        log_since(&sim, mark, master),
        vec![
            What::State {
                instance: "VI_9".into(),
                from: State::Init,
                to: State::Backup,
                reason: Reason::Startup,
            },
            What::Notify {
                line: "INSTANCE VI_9 BACKUP 100".into()
            },
        ]
    );
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.entered(master, "VI_9", State::Master),
        vec![at.plus_micros(DOWN_100)]
    );
    assert_eq!(
        sim.vips_added(master, "VI_9"),
        vec![at.plus_micros(DOWN_100)]
    );
    assert_eq!(sim.masters("VI_1"), vec![master]);
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
fn master_with_new_addresses_swaps_them_without_a_state_change() {
    let (mut sim, master, backup) = pair(|_| {});
    let mut config = sim.nodes[master].config.clone();
    config.instances[0].virtual_addresses = vec![v4(150), v4(152)];
    let mark = sim.log.len();
    let report = sim.reload(master, config.clone());
    assert_eq!(report.updated, names(&["VI_1"]));
    let log = log_since(&sim, mark, master);
    assert_eq!(
        &log[..3],
        &[
            What::VipsRemoved {
                instance: "VI_1".into()
            },
            What::VipsAdded {
                instance: "VI_1".into()
            },
            What::Gratuitous {
                instance: "VI_1".into(),
                addrs: vec![v4(150), v4(152)],
            },
        ]
    );
    assert!(log
        .iter()
        .all(|w| !matches!(w, What::State { .. } | What::Notify { .. })));
    assert_eq!(sim.state(master, "VI_1"), State::Master);
    // The backup learns the same list and keeps accepting the adverts.
    sim.reload(backup, {
        let mut c = sim.nodes[backup].config.clone();
        c.instances[0].virtual_addresses = config.instances[0].virtual_addresses.clone();
        c
    });
    sim.run_for(Duration::from_secs(10));
    assert!(sim.entered(backup, "VI_1", State::Master).is_empty());
}

#[test]
fn reload_before_start_only_replaces_the_tables() {
    let mut r = Router::new(with(vec![seed_instance("VI_1", 51, 100)]));
    r.handle_address(Instant::ZERO, "eth0", Family::V4, Some(v4(100)));
    let mut c = with(vec![seed_instance("VI_1", 51, 100)]);
    c.instances.push(seed_instance("VI_2", 52, 90));
    let report = r.reconfigure(Instant::ZERO, c);
    assert_eq!(report.added, names(&["VI_2"]));
    assert_eq!(r.poll_action(), None);
    assert_eq!(r.poll_timeout(), None);
    r.handle_start(Instant::ZERO);
    let started = drain(&mut r)
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::StateChanged {
                    to: State::Backup,
                    ..
                }
            )
        })
        .count();
    assert_eq!(started, 2);
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

/// Random LANs reloaded with their own configuration at random moments:
/// never an action, never a failover.
#[test]
fn random_identical_reloads_are_invisible() {
    let mut rng = Rng::new(0x5eed_0001);
    for _ in 0..40 {
        let mut sim = Sim::new();
        sim.rng = Rng::new(rng.next_u64());
        let nodes = 2 + rng.below(3) as usize;
        for n in 0..nodes {
            let prio = [50, 80, 100, 100, 255][rng.below(5) as usize];
            let mut c = seed_instance("VI_1", 51, prio);
            c.nopreempt = prio != 255 && rng.chance(0.2);
            c.garp.master_refresh = Duration::from_secs(rng.below(3));
            let mut cfg = with(vec![c]);
            if rng.chance(0.5) {
                let mut s = ScriptConfig::new("chk");
                s.weight = [0, -30, 20][rng.below(3) as usize];
                s.rise = 1 + rng.below(3) as u32;
                s.fall = 1 + rng.below(3) as u32;
                cfg.scripts = vec![s];
                cfg.instances[0].track_scripts = vec![TrackedScript {
                    name: "chk".into(),
                    weight: None,
                    reverse: None,
                }];
            }
            let addr = v4(10 + n as u8);
            sim.add(&format!("n{n}"), addr, cfg);
        }
        for n in 0..nodes {
            sim.start(n);
        }
        sim.run_for(Duration::from_secs(12));
        for _ in 0..10 {
            let transitions = |sim: &Sim| {
                sim.log
                    .iter()
                    .filter(|r| matches!(r.what, What::State { .. }))
                    .count()
            };
            let before = transitions(&sim);
            let node = rng.below(nodes as u64) as usize;
            let snaps = snapshots(&sim, node);
            let mark = sim.log.len();
            let config = sim.nodes[node].config.clone();
            let report = sim.reload(node, config);
            assert_eq!(report.kept.len(), 1);
            assert_eq!(sim.log.len(), mark);
            assert_eq!(snapshots(&sim, node), snaps);
            sim.run_for(Duration::from_millis(100 + rng.below(3_000)));
            assert_eq!(transitions(&sim), before, "a reload moved something");
        }
    }
}

#[test]
fn report_reads_as_one_log_line() {
    let mut r = lone_master(with(vec![
        seed_instance("VI_1", 51, 100),
        InstanceConfig::new("VI_2", "eth0", 52),
    ]));
    let report = r.reconfigure(
        Instant::from_secs(6),
        with(vec![
            seed_instance("VI_1", 51, 100),
            InstanceConfig::new("VI_3", "eth0", 53),
        ]),
    );
    assert_eq!(
        report.to_string(),
        "reload: 1 kept, 0 updated, 0 restarted, 1 added (VI_3), 1 removed (VI_2)"
    );
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
