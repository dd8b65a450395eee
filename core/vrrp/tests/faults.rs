//! FAULT handling (interfaces, weight-0 trackers, missing address) and sync
//! groups following their members.

mod sim;

use std::time::Duration;

use sim::{seed_instance, v4, with, Sim, What};
use vigil_vrrp::{
    Family, Instant, Reason, RouterConfig, ScriptConfig, ScriptResult, State, SyncGroupConfig,
    TrackedInterface, TrackedScript,
};

const DOWN_80: u64 = 3_687_500;
const DOWN_100: u64 = 3_609_375;

fn pair(a: RouterConfig, b: RouterConfig) -> (Sim, usize, usize) {
    let mut sim = Sim::new();
    let high = sim.add("a", v4(100), a);
    let low = sim.add("b", v4(200), b);
    sim.start(high);
    sim.start(low);
    sim.run_for(Duration::from_secs(5));
    (sim, high, low)
}

fn reasons(sim: &Sim, node: usize, instance: &str) -> Vec<(State, Reason)> {
    sim.log
        .iter()
        .filter(|r| r.node == node)
        .filter_map(|r| match &r.what {
            What::State {
                instance: i,
                to,
                reason,
                ..
            } if i == instance => Some((*to, *reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn interface_down_faults_at_once_and_up_returns_to_backup() {
    let (mut sim, high, low) = pair(
        with(vec![seed_instance("VI_1", 51, 100)]),
        with(vec![seed_instance("VI_1", 51, 80)]),
    );
    assert_eq!(sim.masters("VI_1"), vec![high]);
    let (last, _) = *sim.adverts(high, "VI_1").last().unwrap();
    sim.set_link(high, false);
    let t = sim.now;
    assert_eq!(sim.state(high, "VI_1"), State::Fault);
    assert!(sim.nodes[high].vips.is_empty(), "VIPs removed at once");
    assert_eq!(
        sim.notifies(high).last().unwrap(),
        "INSTANCE VI_1 FAULT 100"
    );
    sim.run_for(Duration::from_secs(5));
    // The cable is out, so no priority 0 reached the backup: it waits for
    // the full down interval after the last advert.
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(low, "VI_1", State::Master),
        vec![last.plus_micros(latency + DOWN_80)]
    );
    sim.set_link(high, true);
    let up = sim.now;
    assert_eq!(sim.state(high, "VI_1"), State::Backup);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.entered(high, "VI_1", State::Master).last(),
        Some(&up.plus_micros(DOWN_100))
    );
    assert_eq!(
        reasons(&sim, high, "VI_1"),
        vec![
            (State::Backup, Reason::Startup),
            (State::Master, Reason::MasterDown),
            (State::Fault, Reason::InterfaceDown),
            (State::Backup, Reason::Recovered),
            (State::Master, Reason::MasterDown),
        ]
    );
    assert!(t < up);
}

#[test]
fn weight_zero_script_failure_faults_and_recovery_returns() {
    let mut script = ScriptConfig::new("chk");
    script.interval = Duration::from_secs(2);
    let mut a = seed_instance("VI_1", 51, 100);
    a.track_scripts = vec![TrackedScript {
        name: "chk".into(),
        weight: None,
        reverse: None,
    }];
    let mut cfg = with(vec![a]);
    cfg.scripts = vec![script];
    let mut sim = Sim::new();
    let high = sim.add("a", v4(100), cfg);
    let low = sim.add("b", v4(200), with(vec![seed_instance("VI_1", 51, 80)]));
    sim.start(high);
    // Waiting for the first result: FAULT, but no notify (as keepalived).
    assert_eq!(sim.state(high, "VI_1"), State::Fault);
    assert!(sim.notifies(high).is_empty());
    sim.start(low);
    sim.run_for(Duration::from_secs(6));
    assert_eq!(
        reasons(&sim, high, "VI_1")[..2],
        [
            (State::Fault, Reason::TrackerPending),
            (State::Backup, Reason::Recovered)
        ]
    );
    assert_eq!(
        sim.entered(high, "VI_1", State::Backup),
        vec![Instant::from_millis(10)]
    );
    assert_eq!(sim.masters("VI_1"), vec![high]);

    sim.nodes[high]
        .script_results
        .insert("chk".into(), ScriptResult::TimedOut);
    sim.run_for(Duration::from_secs(5));
    // The run at 6 s already succeeded; the one at 8 s times out at 10 s
    // (timeout = interval); fall 1.
    assert_eq!(
        sim.entered(high, "VI_1", State::Fault).last(),
        Some(&Instant::from_secs(10))
    );
    assert_eq!(
        sim.notifies(high).last().unwrap(),
        "INSTANCE VI_1 FAULT 100"
    );
    // It said goodbye with priority 0, so the 80 took over after Skew_Time.
    assert_eq!(
        sim.adverts(high, "VI_1").last().unwrap(),
        &(Instant::from_secs(10), 0)
    );
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(low, "VI_1", State::Master),
        vec![Instant::from_secs(10).plus_micros(latency + 687_500)]
    );
    sim.nodes[high].script_results.clear();
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("VI_1"), vec![high]);
}

#[test]
fn tracked_interface_weight_and_reverse() {
    let mut a = seed_instance("VI_1", 51, 100);
    a.track_interfaces = vec![
        TrackedInterface {
            name: "eth1".into(),
            weight: -30,
            reverse: false,
        },
        TrackedInterface {
            name: "eth2".into(),
            weight: 10,
            reverse: true,
        },
    ];
    let (mut sim, high, low) = pair(with(vec![a]), with(vec![seed_instance("VI_1", 51, 80)]));
    let prio = |sim: &Sim| {
        let r = &sim.nodes[high].router;
        r.instance(r.instance_id("VI_1").unwrap())
            .unwrap()
            .effective_priority
    };
    // eth2 is up and reversed: 100 - 10.
    assert_eq!(prio(&sim), 90);
    sim.set_other_link(high, "eth2", false);
    assert_eq!(prio(&sim), 100);
    sim.set_other_link(high, "eth1", false);
    assert_eq!(prio(&sim), 70);
    assert_eq!(
        sim.adverts(high, "VI_1").last().unwrap(),
        &(sim.now, 70),
        "advertised at once"
    );
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![low]);
}

#[test]
fn no_source_address_is_a_fault_until_one_appears() {
    let mut sim = Sim::new();
    let n = sim.add("a", v4(100), with(vec![seed_instance("VI_1", 51, 100)]));
    sim.nodes[n]
        .router
        .handle_address(Instant::ZERO, sim::IFACE, Family::V4, None);
    sim.start(n);
    assert_eq!(sim.state(n, "VI_1"), State::Fault);
    sim.run_for(Duration::from_secs(1));
    let now = sim.now;
    sim.nodes[n]
        .router
        .handle_address(now, sim::IFACE, Family::V4, Some(v4(100)));
    while let Some(a) = sim.nodes[n].router.poll_action() {
        let _ = a;
    }
    assert_eq!(sim.state(n, "VI_1"), State::Backup);
    assert_eq!(
        reasons(&sim, n, "VI_1"),
        vec![(State::Fault, Reason::NoSourceAddress)]
    );
}

fn grouped(prio: u8, track_eth1: bool) -> RouterConfig {
    let mut a = seed_instance("VI_1", 51, prio);
    let mut b = seed_instance("VI_2", 52, prio);
    b.virtual_addresses = vec![v4(160)];
    if track_eth1 {
        b.track_interfaces = vec![TrackedInterface {
            name: "eth1".into(),
            weight: 0,
            reverse: false,
        }];
    }
    a.garp.master_repeat = 1;
    let mut cfg = with(vec![a, b]);
    cfg.sync_groups = vec![SyncGroupConfig {
        name: "G1".into(),
        members: vec!["VI_1".into(), "VI_2".into()],
        ..Default::default()
    }];
    cfg
}

#[test]
fn sync_group_goes_master_together_once_all_members_want_it() {
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), grouped(100, false));
    sim.start(a);
    sim.run_for(Duration::from_secs(5));
    // Both members time out at 3.609375 s; the first waits, the second
    // pulls it along, so both become MASTER at that instant.
    let t = Instant::from_micros(DOWN_100);
    assert_eq!(sim.entered(a, "VI_1", State::Master), vec![t]);
    assert_eq!(sim.entered(a, "VI_2", State::Master), vec![t]);
    let n = sim.notifies(a);
    assert_eq!(n.first().unwrap(), "GROUP G1 BACKUP 0");
    assert!(n.contains(&"GROUP G1 MASTER 0".to_string()));
}

#[test]
fn sync_group_member_fault_takes_the_group_to_fault_and_back() {
    let (mut sim, high, low) = pair(grouped(100, true), grouped(80, false));
    assert_eq!(sim.masters("VI_1"), vec![high]);
    assert_eq!(sim.masters("VI_2"), vec![high]);
    sim.set_other_link(high, "eth1", false);
    let t = sim.now;
    assert_eq!(sim.state(high, "VI_2"), State::Fault);
    assert_eq!(
        sim.state(high, "VI_1"),
        State::Fault,
        "VI_1 follows its group"
    );
    assert!(sim.nodes[high].vips.is_empty());
    assert_eq!(sim.notifies(high).last().unwrap(), "GROUP G1 FAULT 0");
    sim.run_for(Duration::from_secs(2));
    // Both sent priority 0: the 80s take over after Skew_Time, together.
    let latency = sim.latency.as_micros() as u64;
    let skew = t.plus_micros(latency + 687_500);
    assert_eq!(sim.entered(low, "VI_1", State::Master), vec![skew]);
    assert_eq!(sim.entered(low, "VI_2", State::Master), vec![skew]);

    sim.set_other_link(high, "eth1", true);
    let up = sim.now;
    assert_eq!(sim.state(high, "VI_1"), State::Backup);
    assert_eq!(sim.state(high, "VI_2"), State::Backup);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.entered(high, "VI_1", State::Master).last(),
        Some(&up.plus_micros(DOWN_100))
    );
    assert_eq!(sim.masters("VI_1"), vec![high]);
    assert_eq!(sim.masters("VI_2"), vec![high]);
}

#[test]
fn sync_group_member_stepping_down_takes_the_group_to_backup() {
    // The grouped side masters both; then a router with VI_1 alone at 120
    // appears. VI_1 steps down and VI_2 follows although nobody outranks it,
    // and, as in keepalived, VI_2 stays BACKUP: the group goes MASTER only
    // when every member wants to, and VI_1 keeps hearing a better master.
    let mut sim = Sim::new();
    let high = sim.add("a", v4(100), grouped(100, false));
    sim.start(high);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_2"), vec![high]);
    let better = sim.add("c", v4(201), with(vec![seed_instance("VI_1", 51, 120)]));
    sim.start(better);
    sim.run_for(Duration::from_secs(20));
    assert_eq!(sim.masters("VI_1"), vec![better]);
    assert_eq!(
        sim.state(high, "VI_2"),
        State::Backup,
        "VI_2 follows VI_1 to BACKUP"
    );
    assert_eq!(sim.entered(high, "VI_2", State::Backup).len(), 2);
    assert!(sim.notifies(high).ends_with(&[
        "INSTANCE VI_1 BACKUP 100".to_string(),
        "INSTANCE VI_2 BACKUP 100".to_string(),
        "GROUP G1 BACKUP 0".to_string(),
    ]));
}
