//! What the reload tests share: the timing figures they assert, a settled
//! master/backup pair, and before/after snapshots of a node.
#![allow(dead_code)]

use std::time::Duration;

use vigil_vrrp::{Action, Family, InitialState, Instant, Router, RouterConfig};

use crate::sim::{seed_instance, v4, with, Sim, What};

pub const SEC: u64 = 1_000_000;
/// The shortened first down timer of a `state MASTER` non-owner.
pub const FIRST_MASTER: u64 = SEC + 3_906;
/// Master_Down_Interval of priority 80 and 100 (v2, 1 s).
pub const DOWN_80: u64 = 3_687_500;
pub const DOWN_100: u64 = 3_609_375;
/// Skew_Time of priority 80 and 150 (v2, 1 s).
pub const SKEW_80: u64 = 687_500;
pub const SKEW_150: u64 = 414_062;

/// ka-master (100, state MASTER) and ka-slave (80), master since 1.0039 s.
pub fn pair(extra: impl Fn(&mut RouterConfig)) -> (Sim, usize, usize) {
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
pub fn snapshots(sim: &Sim, node: usize) -> Vec<String> {
    let r = &sim.nodes[node].router;
    r.instance_ids()
        .map(|id| format!("{:?}", r.instance(id)))
        .collect()
}

pub fn log_since(sim: &Sim, from: usize, node: usize) -> Vec<What> {
    sim.log[from..]
        .iter()
        .filter(|r| r.node == node)
        .map(|r| r.what.clone())
        .collect()
}

pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A lone router that is master of `config`'s instances.
pub fn lone_master(config: RouterConfig) -> Router {
    let mut r = Router::new(config);
    r.handle_address(Instant::ZERO, "eth0", Family::V4, Some(v4(100)));
    r.handle_start(Instant::ZERO);
    r.handle_timeout(Instant::from_secs(5));
    while r.poll_action().is_some() {}
    r
}

pub fn drain(r: &mut Router) -> Vec<Action> {
    std::iter::from_fn(|| r.poll_action()).collect()
}
