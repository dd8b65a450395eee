//! Failed servers, inhibit_on_failure, quorum with hysteresis and a sorry
//! server, driven through the `Planner` as the daemon would.

mod common;

use core::net::{IpAddr, Ipv4Addr};
use std::cell::RefCell;
use vigil_lvs::{diff, Command, Planner, QuorumEvent, ServiceKey, Table};

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 1, 0, last))
}

/// Four real servers of weight 2 (.1-.4, .4 with inhibit_on_failure), quorum
/// 5 with hysteresis 2 (gained at 7, lost below 3), a sorry server .9.
const CONF: &str = "
virtual_server 10.0.0.1 80 {
    lb_algo wrr
    lb_kind DR
    quorum 5
    hysteresis 2
    sorry_server 10.1.0.9 80
    quorum_up /bin/up
    quorum_down /bin/down
    real_server 10.1.0.1 80 { weight 2 }
    real_server 10.1.0.2 80 { weight 2 }
    real_server 10.1.0.3 80 { weight 2 }
    real_server 10.1.0.4 80 { weight 2
        inhibit_on_failure
    }
}
";

/// Which servers are up, then the table as `(last octet, weight)` pairs.
struct Sim {
    config: vigil_model::Config,
    up: RefCell<[bool; 4]>,
    planner: Planner,
    kernel: Table,
}

impl Sim {
    fn new(conf: &str) -> Self {
        Sim {
            config: common::config(conf),
            up: RefCell::new([true; 4]),
            planner: Planner::new(),
            kernel: Table::new(),
        }
    }

    /// Sets the verdicts, plans, applies the diff; returns the events.
    fn step(&mut self, up: [bool; 4]) -> Vec<QuorumEvent> {
        *self.up.borrow_mut() = up;
        let verdicts = &self.up;
        let plan = self.planner.plan(&self.config, &|_, ri| {
            (verdicts.borrow().get(ri) == Some(&true), None)
        });
        let cmds = diff(&self.kernel, &plan.table);
        common::apply(&mut self.kernel, &cmds).unwrap();
        assert_eq!(self.kernel, plan.table);
        plan.events.into_iter().map(|(_, e)| e).collect()
    }

    fn weights(&self) -> Vec<(u8, u32)> {
        let key = self.kernel.services().next().unwrap().key;
        self.kernel
            .dests(&key)
            .map(|d| match d.addr {
                IpAddr::V4(a) => (a.octets()[3], d.weight),
                IpAddr::V6(_) => (0, d.weight),
            })
            .collect()
    }
}

fn ev(up: bool, initial: bool) -> Vec<QuorumEvent> {
    vec![QuorumEvent { up, initial }]
}

#[test]
fn failed_servers_leave_or_drop_to_zero_with_inhibit() {
    let mut sim = Sim::new(CONF);
    assert_eq!(sim.step([true; 4]), ev(true, true));
    assert_eq!(sim.weights(), [(1, 2), (2, 2), (3, 2), (4, 2)]);
    // .2 and .4 fail: .2 goes away, .4 (inhibit_on_failure) stays at 0.
    assert_eq!(sim.step([true, false, true, false]), vec![]);
    assert_eq!(sim.weights(), [(1, 2), (3, 2), (4, 0)]);
    // .4 recovers: one weight edit, no re-add.
    let key = sim.kernel.services().next().unwrap().key;
    let before = sim.kernel.clone();
    sim.step([true, false, true, true]);
    let cmds = diff(&before, &sim.kernel);
    assert_eq!(cmds.len(), 1);
    assert!(
        matches!(cmds[0], Command::EditDest(k, d) if k == key && d.addr == ip(4) && d.weight == 2)
    );
}

#[test]
fn quorum_loss_brings_the_sorry_server_and_hysteresis_delays_the_return() {
    let mut sim = Sim::new(CONF);
    sim.step([true; 4]); // weight 8: up
    assert_eq!(sim.step([true, true, false, false]), vec![]); // 4 >= 3: still up
    assert_eq!(sim.weights(), [(1, 2), (2, 2), (4, 0)]);
    // Weight 2 < 5 - 2: lost. Real servers out (.4 kept at 0), sorry in at 1.
    assert_eq!(sim.step([true, false, false, false]), ev(false, false));
    assert_eq!(sim.weights(), [(4, 0), (9, 1)]);
    // Weight 4, .4 among the live: still down, and .4 stays at 0 while the
    // sorry server serves.
    assert_eq!(sim.step([true, false, false, true]), vec![]);
    assert_eq!(sim.weights(), [(4, 0), (9, 1)]);
    // Weight 6 < 5 + 2: still down, table unchanged.
    assert_eq!(sim.step([true, true, true, false]), vec![]);
    assert_eq!(sim.weights(), [(4, 0), (9, 1)]);
    // Weight 8: regained; sorry server leaves, live servers return.
    assert_eq!(sim.step([true; 4]), ev(true, false));
    assert_eq!(sim.weights(), [(1, 2), (2, 2), (3, 2), (4, 2)]);
}

#[test]
fn sorry_server_arrives_before_the_last_real_servers_leave() {
    let mut sim = Sim::new(CONF);
    sim.step([true; 4]);
    let before = sim.kernel.clone();
    sim.step([false; 4]);
    let cmds = diff(&before, &sim.kernel);
    let sorry = cmds
        .iter()
        .position(|c| matches!(c, Command::AddDest(_, d) if d.addr == ip(9)))
        .unwrap();
    let first_del = cmds
        .iter()
        .position(|c| matches!(c, Command::DelDest(..)))
        .unwrap();
    assert!(sorry < first_del, "{cmds:?}");
}

#[test]
fn starting_without_quorum_uses_the_sorry_server_at_once() {
    let mut sim = Sim::new(CONF);
    assert_eq!(sim.step([true, true, true, false]), ev(false, true)); // 6 < 7
    assert_eq!(sim.weights(), [(4, 0), (9, 1)]);
}

#[test]
fn sorry_server_inhibit_keeps_it_at_weight_zero() {
    let conf = CONF.replace("    quorum_up", "    sorry_server_inhibit\n    quorum_up");
    let mut sim = Sim::new(&conf);
    sim.step([true; 4]);
    assert_eq!(sim.weights(), [(1, 2), (2, 2), (3, 2), (4, 2), (9, 0)]);
    sim.step([false; 4]);
    assert_eq!(sim.weights(), [(4, 0), (9, 1)]);
    sim.step([true; 4]);
    assert_eq!(sim.weights(), [(1, 2), (2, 2), (3, 2), (4, 2), (9, 0)]);
}

#[test]
fn without_sorry_server_a_lost_quorum_changes_no_destination() {
    let conf = CONF.replace("    sorry_server 10.1.0.9 80\n", "");
    let mut sim = Sim::new(&conf);
    sim.step([true; 4]);
    assert_eq!(sim.step([true, false, false, false]), ev(false, false));
    assert_eq!(sim.weights(), [(1, 2), (4, 0)]);
}

#[test]
fn services_are_keyed_by_address_port_and_protocol() {
    let sim = Sim::new(CONF);
    let t = vigil_lvs::desired(&sim.config, &|_, _| (true, None), &[]);
    let key = t.services().next().unwrap().key;
    assert_eq!(
        key,
        ServiceKey::Addr {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            port: 80,
            protocol: vigil_lvs::IpProto::Tcp
        }
    );
    assert_eq!(t.service(&key).unwrap().scheduler, "wrr");
}
