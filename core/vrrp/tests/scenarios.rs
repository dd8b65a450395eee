//! Scenarios mirroring /work/shared/seed-configs, checked by exact timings.

mod sim;

use std::time::Duration;

use sim::{seed_instance, v4, with, Sim, What};
use vigil_vrrp::{InitialState, Instant, Reason, State, Version};

const US: u64 = 1;
const SEC: u64 = 1_000_000 * US;
/// Master_Down_Interval of priority 80, v2, 1 s: 3 + 176/256 s.
const DOWN_80: u64 = 3_687_500;
/// The shortened first down timer of a `state MASTER` non-owner: 1 s + 1/256 s.
const FIRST_MASTER: u64 = SEC + 3_906;

/// 01: ka-master (100, state MASTER) and ka-slave (80, BACKUP).
fn single_master() -> (Sim, usize, usize) {
    let mut sim = Sim::new();
    let mut m = seed_instance("VI_1", 51, 100);
    m.initial_state = Some(InitialState::Master);
    let mut b = seed_instance("VI_1", 51, 80);
    b.initial_state = Some(InitialState::Backup);
    let master = sim.add("ka-master", v4(100), with(vec![m]));
    let backup = sim.add("ka-slave", v4(200), with(vec![b]));
    sim.start(master);
    sim.start(backup);
    (sim, master, backup)
}

#[test]
fn s01_state_master_hint_takes_over_after_one_interval() {
    let (mut sim, master, backup) = single_master();
    assert_eq!(
        sim.state(master, "VI_1"),
        State::Backup,
        "state MASTER is only a hint"
    );
    sim.run_for(Duration::from_secs(10));
    assert_eq!(
        sim.entered(master, "VI_1", State::Master),
        vec![Instant::from_micros(FIRST_MASTER)]
    );
    assert!(sim.entered(backup, "VI_1", State::Master).is_empty());
    assert_eq!(sim.masters("VI_1"), vec![master]);
    // The master advertises every second from its takeover.
    let times: Vec<u64> = sim
        .adverts(master, "VI_1")
        .iter()
        .map(|(t, _)| t.as_micros())
        .collect();
    assert_eq!(
        &times[..3],
        &[FIRST_MASTER, FIRST_MASTER + SEC, FIRST_MASTER + 2 * SEC]
    );
}

#[test]
fn s01_backup_takes_over_exactly_3_6875_s_after_the_last_advert_then_master_preempts() {
    let (mut sim, master, backup) = single_master();
    sim.run_for(Duration::from_millis(10_500));
    let (last, _) = *sim.adverts(master, "VI_1").last().unwrap();
    sim.crash(master);
    sim.run_for(Duration::from_secs(10));
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(backup, "VI_1", State::Master),
        vec![Instant::from_micros(last.as_micros() + latency + DOWN_80)]
    );
    assert_eq!(sim.masters("VI_1"), vec![backup]);

    // The master returns: BACKUP for one interval, then it preempts.
    let back = sim.now;
    sim.restart(master);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.entered(master, "VI_1", State::Master).last().copied(),
        Some(back.plus_micros(FIRST_MASTER))
    );
    let stepped_down = sim.entered(backup, "VI_1", State::Backup);
    assert_eq!(
        stepped_down.last().copied(),
        Some(back.plus_micros(FIRST_MASTER + latency)),
        "the backup steps down as soon as it hears priority 100"
    );
    assert_eq!(sim.masters("VI_1"), vec![master]);
    assert!(sim.nodes[master].vips.contains("VI_1"));
    assert!(sim.nodes[backup].vips.is_empty());
}

#[test]
fn s01_gratuitous_arp_bursts_on_takeover() {
    let (mut sim, master, _) = single_master();
    sim.run_for(Duration::from_secs(12));
    let garps: Vec<u64> = sim
        .log
        .iter()
        .filter(|r| r.node == master && matches!(r.what, What::Gratuitous { .. }))
        .map(|r| r.at.as_micros())
        .collect();
    // garp_master_repeat 5 spaced by vrrp_garp_interval 1 s, then after
    // garp_master_delay 5 s a second burst of 5 (queued behind the first).
    let t = FIRST_MASTER;
    let expected: Vec<u64> = (0..10).map(|k| t + k * SEC).collect();
    assert_eq!(garps, expected);
}

#[test]
fn s02_nopreempt_returning_100_stays_backup() {
    let mut sim = Sim::new();
    let mut a = seed_instance("VI_1", 51, 100);
    a.initial_state = Some(InitialState::Backup);
    a.nopreempt = true;
    let mut b = a.clone();
    b.priority = 80;
    let high = sim.add("ka-master", v4(100), with(vec![a]));
    let low = sim.add("ka-slave", v4(200), with(vec![b]));
    sim.start(high);
    sim.start(low);
    sim.run_for(Duration::from_secs(10));
    // Both BACKUP: the 100 takes over after its own down interval (3.609375 s).
    assert_eq!(
        sim.entered(high, "VI_1", State::Master),
        vec![Instant::from_micros(3_609_375)]
    );
    sim.crash(high);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("VI_1"), vec![low]);
    sim.restart(high);
    sim.run_for(Duration::from_secs(60));
    assert_eq!(
        sim.masters("VI_1"),
        vec![low],
        "nopreempt: the returning 100 stays BACKUP"
    );
    assert_eq!(sim.state(high, "VI_1"), State::Backup);
}

#[test]
fn s03_preempt_delay_returns_the_vip_only_after_the_delay() {
    let mut sim = Sim::new();
    let mut a = seed_instance("VI_1", 51, 100);
    a.initial_state = Some(InitialState::Backup);
    a.preempt_delay = Duration::from_secs(10);
    let mut b = a.clone();
    b.priority = 80;
    let high = sim.add("ka-master", v4(100), with(vec![a]));
    let low = sim.add("ka-slave", v4(200), with(vec![b]));
    sim.start(low);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![low]);
    let (first_adv, _) = sim.adverts(low, "VI_1")[0];
    let back = sim.now;
    sim.start(high);
    sim.run_for(Duration::from_secs(30));
    let latency = sim.latency.as_micros() as u64;
    // The low master advertises at first_adv + k s. The delay starts with the
    // first advert heard after `back` and ends 10 s later; the first advert
    // arriving at or after the end is ignored (keepalived delays only while
    // preempt_time > now), so the takeover is one down interval of the 100
    // (3.609375 s) after the last advert accepted before the end. Adverts are
    // periodic, so one arrives exactly at the end: 18.296975 s.
    let k_first = (back.as_micros() - first_adv.as_micros()).div_ceil(SEC);
    let heard = first_adv.as_micros() + k_first * SEC + latency;
    let delay_end = heard + 10 * SEC;
    let last_accepted = (0..)
        .map(|k| first_adv.as_micros() + k * SEC + latency)
        .take_while(|t| *t < delay_end)
        .last()
        .unwrap();
    let takeover = last_accepted + 3_609_375;
    assert_eq!(
        sim.vips_added(high, "VI_1"),
        vec![Instant::from_micros(takeover)]
    );
    assert_eq!(takeover, 18_296_975);
    assert!(takeover - back.as_micros() > 10 * SEC);
    assert_eq!(sim.masters("VI_1"), vec![high]);
}

#[test]
fn s04_unicast_adverts_go_only_to_the_peer() {
    let mut sim = Sim::new();
    let mut a = seed_instance("VI_1", 51, 100);
    a.unicast_src = Some(v4(100));
    a.unicast_peers = vec![v4(200)];
    let mut b = a.clone();
    b.priority = 80;
    b.unicast_src = Some(v4(200));
    b.unicast_peers = vec![v4(100)];
    let mut c = seed_instance("VI_9", 99, 50);
    c.unicast_peers = vec![v4(100)];
    let high = sim.add("ka-master", v4(100), with(vec![a]));
    let low = sim.add("ka-slave", v4(200), with(vec![b]));
    let bystander = sim.add("bystander", v4(201), with(vec![c]));
    for n in [high, low, bystander] {
        sim.start(n);
    }
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("VI_1"), vec![high]);
    let dsts: Vec<_> = sim
        .log
        .iter()
        .filter_map(|r| match &r.what {
            What::Advert { instance, dst, .. } if instance == "VI_1" => Some(*dst),
            _ => None,
        })
        .collect();
    assert!(!dsts.is_empty());
    assert!(dsts.iter().all(|d| *d == v4(200)), "{dsts:?}");
    // Nothing for VRID 51 reached the bystander.
    let g = sim.nodes[bystander].router.global_counters();
    assert_eq!(g.dropped(vigil_vrrp::DropReason::UnknownVrid), 0);
}

#[test]
fn s06_dual_master_each_side_masters_one_instance() {
    let mut sim = Sim::new();
    let mut web_a = seed_instance("WEB_VIP", 51, 100);
    web_a.initial_state = Some(InitialState::Master);
    let mut db_a = seed_instance("DB_VIP", 52, 80);
    db_a.virtual_addresses = vec![v4(160)];
    db_a.initial_state = Some(InitialState::Backup);
    let mut web_b = web_a.clone();
    web_b.priority = 80;
    web_b.initial_state = Some(InitialState::Backup);
    let mut db_b = db_a.clone();
    db_b.priority = 100;
    db_b.initial_state = Some(InitialState::Master);
    let a = sim.add("ka-master", v4(100), with(vec![web_a, db_a]));
    let b = sim.add("ka-slave", v4(200), with(vec![web_b, db_b]));
    sim.start(a);
    sim.start(b);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("WEB_VIP"), vec![a]);
    assert_eq!(sim.masters("DB_VIP"), vec![b]);
    sim.crash(a);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("WEB_VIP"), vec![b]);
    assert_eq!(sim.masters("DB_VIP"), vec![b]);
    sim.restart(a);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("WEB_VIP"), vec![a]);
    assert_eq!(sim.masters("DB_VIP"), vec![b]);
}

/// 09: a script (interval 1, fall 2, rise 2, weight -30) on the 100.
#[test]
fn s09_track_script_weight_moves_the_vip_and_back() {
    let mut sim = Sim::new();
    let mut script = vigil_vrrp::ScriptConfig::new("TEST_CHECK");
    script.weight = -30;
    script.fall = 2;
    script.rise = 2;
    script.timeout = Some(Duration::from_secs(2));
    let mut a = seed_instance("WEB_VIP", 51, 100);
    a.initial_state = Some(InitialState::Master);
    a.unicast_src = Some(v4(100));
    a.unicast_peers = vec![v4(200)];
    a.track_scripts = vec![vigil_vrrp::TrackedScript {
        name: "TEST_CHECK".into(),
        weight: None,
        reverse: None,
    }];
    let mut b = seed_instance("WEB_VIP", 51, 80);
    b.unicast_src = Some(v4(200));
    b.unicast_peers = vec![v4(100)];
    let mut cfg_a = with(vec![a]);
    cfg_a.scripts = vec![script];
    let high = sim.add("ka-master", v4(100), cfg_a);
    let low = sim.add("ka-slave", v4(200), with(vec![b]));
    sim.start(high);
    sim.start(low);
    sim.run_for(Duration::from_millis(10_500));
    assert_eq!(sim.masters("WEB_VIP"), vec![high]);

    // HAProxy dies: runs at 11 s and 12 s fail (exit after 10 ms).
    sim.nodes[high]
        .script_results
        .insert("TEST_CHECK".into(), vigil_vrrp::ScriptResult::Failure);
    sim.run_for(Duration::from_millis(1_600));
    let snap = |sim: &Sim, n: usize| {
        let r = &sim.nodes[n].router;
        r.instance(r.instance_id("WEB_VIP").unwrap())
            .unwrap()
            .effective_priority
    };
    assert_eq!(snap(&sim, high), 70, "two failures: 100 - 30");
    // The master advertised 70 at once (12.010 s); the 80 ignores lower
    // adverts and takes over one down interval after the last 100 it heard.
    let adverts = sim.adverts(high, "WEB_VIP");
    let first_70 = adverts.iter().find(|(_, p)| *p == 70).unwrap().0;
    assert_eq!(first_70, Instant::from_millis(12_010));
    let last_100 = adverts.iter().rfind(|(_, p)| *p == 100).unwrap().0;
    sim.run_for(Duration::from_secs(6));
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(low, "WEB_VIP", State::Master),
        vec![Instant::from_micros(
            last_100.as_micros() + latency + DOWN_80
        )]
    );
    assert_eq!(sim.masters("WEB_VIP"), vec![low]);

    // HAProxy is back: two successes restore 100, which preempts.
    sim.nodes[high].script_results.clear();
    let fixed = sim.now;
    sim.run_for(Duration::from_secs(8));
    assert_eq!(snap(&sim, high), 100);
    assert_eq!(sim.masters("WEB_VIP"), vec![high]);
    assert!(sim.entered(high, "WEB_VIP", State::Master).last().unwrap() > &fixed);
}

#[test]
fn graceful_shutdown_hands_over_in_skew_time() {
    let (mut sim, master, backup) = single_master();
    sim.run_for(Duration::from_millis(5_500));
    let t = sim.now;
    sim.shutdown(master);
    assert_eq!(sim.adverts(master, "VI_1").last().unwrap(), &(t, 0));
    assert!(sim
        .notifies(master)
        .contains(&"INSTANCE VI_1 STOP 100".to_string()));
    sim.run_for(Duration::from_secs(2));
    let latency = sim.latency.as_micros() as u64;
    // Skew_Time of priority 80: 176/256 s.
    assert_eq!(
        sim.entered(backup, "VI_1", State::Master),
        vec![t.plus_micros(latency + 687_500)]
    );
    let b = &sim.nodes[backup].router;
    let c = b.instance(b.instance_id("VI_1").unwrap()).unwrap().counters;
    assert_eq!(c.priority_zero_received, 1);
}

#[test]
fn split_brain_heals_when_the_partition_ends() {
    let (mut sim, master, backup) = single_master();
    sim.run_for(Duration::from_secs(5));
    sim.partition(master, backup);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(
        sim.masters("VI_1"),
        vec![master, backup],
        "both master while cut off"
    );
    sim.heal();
    let healed = sim.now;
    sim.run_for(Duration::from_secs(3));
    assert_eq!(sim.masters("VI_1"), vec![master]);
    // The 80 steps down at the first advert of the 100 after the heal.
    let down = *sim.entered(backup, "VI_1", State::Backup).last().unwrap();
    assert!(down > healed && down <= healed.plus_micros(SEC + 100));
}

#[test]
fn equal_priority_tie_break_by_address() {
    let mut sim = Sim::new();
    let a = seed_instance("VI_1", 51, 100);
    let low_addr = sim.add("low", v4(10), with(vec![a.clone()]));
    let high_addr = sim.add("high", v4(20), with(vec![a]));
    sim.start(low_addr);
    sim.start(high_addr);
    sim.run_for(Duration::from_secs(10));
    // Both time out together and go MASTER; the lower address yields.
    assert_eq!(
        sim.entered(low_addr, "VI_1", State::Master),
        vec![Instant::from_micros(3_609_375)]
    );
    assert_eq!(sim.masters("VI_1"), vec![high_addr]);
    let reasons: Vec<Reason> = sim
        .log
        .iter()
        .filter(|r| r.node == low_addr)
        .filter_map(|r| match &r.what {
            What::State {
                to: State::Backup,
                reason,
                ..
            } => Some(*reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec![Reason::Startup, Reason::HigherPriority]);
}

fn v3(name: &str, prio: u8, cs: u16) -> vigil_vrrp::InstanceConfig {
    let mut c = seed_instance(name, 51, prio);
    c.version = Version::V3;
    c.auth = vigil_vrrp::Auth::None;
    c.advert_int_cs = cs;
    c
}

#[test]
fn v3_with_a_100_ms_interval() {
    let mut sim = Sim::new();
    let high = sim.add("a", v4(100), with(vec![v3("VI_1", 100, 10)]));
    let low = sim.add("b", v4(200), with(vec![v3("VI_1", 80, 10)]));
    sim.start(high);
    sim.start(low);
    sim.run_for(Duration::from_secs(2));
    // 3 x 100 ms + 156/256 x 100 ms = 360.9375 ms, kept to the microsecond.
    assert_eq!(
        sim.entered(high, "VI_1", State::Master),
        vec![Instant::from_micros(360_937)]
    );
    let (last, _) = *sim.adverts(high, "VI_1").last().unwrap();
    sim.crash(high);
    sim.run_for(Duration::from_secs(1));
    let latency = sim.latency.as_micros() as u64;
    // 3 x 100 ms + 176/256 x 100 ms = 368.75 ms.
    assert_eq!(
        sim.entered(low, "VI_1", State::Master),
        vec![last.plus_micros(latency + 368_750)]
    );
}

#[test]
fn v3_backup_adopts_the_masters_interval() {
    let mut sim = Sim::new();
    let high = sim.add("a", v4(100), with(vec![v3("VI_1", 100, 50)]));
    let low = sim.add("b", v4(200), with(vec![v3("VI_1", 80, 200)]));
    sim.start(high);
    sim.run_for(Duration::from_secs(3));
    sim.start(low);
    sim.run_for(Duration::from_secs(3));
    let r = &sim.nodes[low].router;
    let snap = r.instance(r.instance_id("VI_1").unwrap()).unwrap();
    assert_eq!(
        snap.advert_int_cs, 50,
        "Master_Adver_Interval is the master's"
    );
    let (last, _) = *sim.adverts(high, "VI_1").last().unwrap();
    sim.crash(high);
    sim.run_for(Duration::from_secs(10));
    let latency = sim.latency.as_micros() as u64;
    // 3 x 0.5 s + 176/256 x 0.5 s = 1.84375 s, not the 2 s interval's 6.x s.
    assert_eq!(
        sim.entered(low, "VI_1", State::Master),
        vec![last.plus_micros(latency + 1_843_750)]
    );
    // As master it advertises its own 2 s interval.
    let times: Vec<u64> = sim
        .adverts(low, "VI_1")
        .iter()
        .map(|(t, _)| t.as_micros())
        .collect();
    assert_eq!(times[1] - times[0], 2 * SEC);
}

#[test]
fn losing_two_consecutive_adverts_does_not_fail_over() {
    let (mut sim, master, backup) = single_master();
    sim.run_for(Duration::from_millis(5_500));
    sim.drop_next_from(master, 2);
    sim.run_for(Duration::from_secs(10));
    assert!(sim.entered(backup, "VI_1", State::Master).is_empty());
    sim.drop_next_from(master, 3);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(
        sim.entered(backup, "VI_1", State::Master).len(),
        1,
        "three lost adverts do"
    );
}

#[test]
fn duplicated_adverts_are_harmless() {
    let (mut sim, master, backup) = single_master();
    sim.duplication = 1.0;
    sim.run_for(Duration::from_secs(30));
    assert_eq!(sim.masters("VI_1"), vec![master]);
    assert_eq!(sim.entered(master, "VI_1", State::Master).len(), 1);
    assert!(sim.entered(backup, "VI_1", State::Master).is_empty());
    let r = &sim.nodes[backup].router;
    let c = r.instance(r.instance_id("VI_1").unwrap()).unwrap().counters;
    assert_eq!(
        c.adverts_received,
        2 * sim.adverts(master, "VI_1").len() as u64
    );
}

#[test]
fn notify_lines_follow_keepalived() {
    let (mut sim, master, backup) = single_master();
    sim.run_for(Duration::from_secs(5));
    sim.crash(master);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.notifies(master),
        vec!["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 MASTER 100"]
    );
    assert_eq!(
        sim.notifies(backup),
        vec!["INSTANCE VI_1 BACKUP 80", "INSTANCE VI_1 MASTER 80"]
    );
}

#[test]
fn address_owner_with_state_master_is_master_at_once() {
    let mut sim = Sim::new();
    let mut o = seed_instance("VI_1", 51, 255);
    o.initial_state = Some(InitialState::Master);
    let owner = sim.add("owner", v4(150), with(vec![o]));
    let other = sim.add("other", v4(200), with(vec![seed_instance("VI_1", 51, 100)]));
    sim.start(other);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_1"), vec![other]);
    let t = sim.now;
    sim.start(owner);
    assert_eq!(sim.entered(owner, "VI_1", State::Master), vec![t]);
    assert_eq!(sim.adverts(owner, "VI_1")[0], (t, 255));
    sim.run_for(Duration::from_millis(1));
    assert_eq!(sim.masters("VI_1"), vec![owner]);
}

#[test]
fn ipv6_failover_with_unsolicited_na_spacing() {
    use std::net::IpAddr;
    let ll = |n: u16| -> IpAddr { format!("fe80::{n}").parse().unwrap() };
    let vip: IpAddr = "2001:db8::150".parse().unwrap();
    let mk = |prio: u8| {
        let mut c = vigil_vrrp::InstanceConfig::new("VI_6", sim::IFACE, 61);
        c.family = vigil_vrrp::Family::V6;
        c.version = Version::V3;
        c.priority = prio;
        c.virtual_addresses = vec![vip];
        c.garp.master_repeat = 2;
        c.garp.master_delay = Duration::ZERO;
        c.garp.garp_interval = Duration::from_secs(9);
        c.garp.gna_interval = Duration::from_millis(250);
        c
    };
    let mut sim = Sim::new();
    let high = sim.add("a", ll(1), with(vec![mk(100)]));
    let low = sim.add("b", ll(2), with(vec![mk(80)]));
    sim.start(high);
    sim.start(low);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI_6"), vec![high]);
    let t = Instant::from_micros(3_609_375);
    let nas: Vec<Instant> = sim
        .log
        .iter()
        .filter(|r| {
            r.node == high
                && matches!(&r.what, What::Gratuitous { addrs, .. } if addrs == &vec![vip])
        })
        .map(|r| r.at)
        .collect();
    assert_eq!(
        nas,
        vec![t, t.plus_micros(250_000)],
        "two NAs, vrrp_gna_interval apart"
    );
    let (last, _) = *sim.adverts(high, "VI_6").last().unwrap();
    sim.crash(high);
    sim.run_for(Duration::from_secs(5));
    let latency = sim.latency.as_micros() as u64;
    assert_eq!(
        sim.entered(low, "VI_6", State::Master),
        vec![last.plus_micros(latency + DOWN_80)]
    );
}

#[test]
fn garp_refresh_while_master() {
    let mut sim = Sim::new();
    let mut c = seed_instance("VI_1", 51, 255);
    c.garp.master_repeat = 1;
    c.garp.master_delay = Duration::ZERO;
    c.garp.master_refresh = Duration::from_secs(10);
    c.garp.refresh_repeat = 2;
    c.excluded_addresses = vec![v4(151)];
    let n = sim.add("owner", v4(150), with(vec![c]));
    sim.start(n);
    sim.run_for(Duration::from_secs(25));
    let garps: Vec<(u64, usize)> = sim
        .log
        .iter()
        .filter_map(|r| match &r.what {
            What::Gratuitous { addrs, .. } => Some((r.at.as_micros() / SEC, addrs.len())),
            _ => None,
        })
        .collect();
    // One at takeover, then two every 10 s (1 s apart), VIP and excluded.
    assert_eq!(garps, vec![(0, 2), (10, 2), (11, 2), (20, 2), (21, 2)]);
}
