//! Configuration reload (`Router::reconfigure`, SIGHUP) of instances:
//! unchanged instances are untouched, changed ones take effect, removed and
//! added ones stop and start, refused configurations change nothing.
//! Trackers and sync groups across a reload are in `reload_tracking.rs`.

mod reload_util;
mod sim;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use reload_util::{drain, log_since, lone_master, names, pair, snapshots};
use reload_util::{DOWN_100, DOWN_80, FIRST_MASTER, SEC, SKEW_150, SKEW_80};
use sim::{seed_instance, v4, with, Rng, Sim, What};
use vigil_vrrp::{
    Action, Family, InstanceConfig, Instant, NotifyState, NotifyTarget, Reason, Router, State,
    TrackedScript,
};

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
                cfg.scripts = vec![sim::random_script(&mut rng)];
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
