//! `virtual_server group`: one kernel service per group entry, each with the
//! virtual server's real servers; quorum and sorry server judged once for the
//! group; a reload diffs the entries.

mod common;

use std::net::IpAddr;

use common::{apply, config};
use vigil_lvs::{desired, diff, Command, Forwarding, ServiceKey, Table};

const GROUP: &str = "
virtual_server_group web {
    10.0.0.1-2 80
    192.168.9.0/31 8080
    fwmark 7
}
virtual_server group web {
    lb_kind DR
    protocol TCP
    quorum 2
    sorry_server 10.9.9.9 80
    real_server 10.1.0.1 80 { weight 1 }
    real_server 10.1.0.2 80 { weight 1 }
    real_server 10.1.0.3 9000 { lb_kind NAT }
}
";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn addr_key(a: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        addr: ip(a),
        port,
        protocol: vigil_lvs::IpProto::Tcp,
    }
}

fn dests(t: &Table, k: &ServiceKey) -> Vec<(IpAddr, u16, u32, Forwarding)> {
    t.dests(k)
        .map(|d| (d.addr, d.port, d.weight, d.forwarding))
        .collect()
}

#[test]
fn every_entry_is_a_service_with_every_real_server() {
    let c = config(GROUP);
    let t = desired(&c, &|_, _| (true, None), &[]);
    let keys: Vec<ServiceKey> = t.services().map(|s| s.key).collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    for (a, port) in [
        ("10.0.0.1", 80),
        ("10.0.0.2", 80),
        ("192.168.9.0", 8080),
        ("192.168.9.1", 8080),
    ] {
        let k = addr_key(a, port);
        assert!(t.service(&k).is_some(), "missing {a}:{port}");
        // DR takes the service's port, NAT keeps its own.
        assert_eq!(
            dests(&t, &k),
            vec![
                (ip("10.1.0.1"), port, 1, Forwarding::Dr),
                (ip("10.1.0.2"), port, 1, Forwarding::Dr),
                (ip("10.1.0.3"), 9000, 1, Forwarding::Nat),
            ]
        );
    }
    let fw = ServiceKey::Fwmark {
        mark: 7,
        family: vigil_lvs::Family::V4,
    };
    let d = dests(&t, &fw);
    assert_eq!(d[0], (ip("10.1.0.1"), 0, 1, Forwarding::Dr));
    assert_eq!(d[2], (ip("10.1.0.3"), 9000, 1, Forwarding::Nat));
}

#[test]
fn a_dead_server_leaves_every_service_and_the_quorum_is_the_groups() {
    let c = config(GROUP);
    let all_up = desired(&c, &|_, _| (true, None), &[]);
    // One DR server down: live weight 2 still meets quorum 2.
    let one_down = desired(&c, &|_, ri| (ri != 0, None), &[]);
    for s in one_down.services() {
        let d = dests(&one_down, &s.key);
        assert_eq!(d.len(), 2, "{:?}: {d:?}", s.key);
        assert!(d.iter().all(|x| x.0 != ip("10.1.0.1")));
    }
    let cmds = diff(&all_up, &one_down);
    let dels = cmds
        .iter()
        .filter(|c| matches!(c, Command::DelDest(..)))
        .count();
    assert_eq!(dels, 5, "{cmds:?}");
    // Two down: the quorum (judged on the virtual server, not per service)
    // is lost and every service gets the sorry server only.
    let lost = desired(&c, &|_, ri| (ri == 2, None), &[]);
    for s in lost.services() {
        let d = dests(&lost, &s.key);
        assert_eq!(d.len(), 1, "{:?}: {d:?}", s.key);
        assert_eq!(d[0].0, ip("10.9.9.9"));
        assert_eq!(d[0].2, 1);
    }
}

#[test]
fn reload_removes_dropped_entries_and_fills_new_ones() {
    let old = config(GROUP);
    let new = config(&GROUP.replace("10.0.0.1-2 80", "10.0.0.2-3 80"));
    let health = |_: usize, ri: usize| (ri != 1, None);
    let mut kernel = desired(&old, &health, &[]);
    let want = desired(&new, &health, &[]);
    let cmds = diff(&kernel, &want);
    apply(&mut kernel, &cmds).unwrap();
    assert_eq!(kernel, want);
    assert!(kernel.service(&addr_key("10.0.0.1", 80)).is_none());
    let k3 = addr_key("10.0.0.3", 80);
    assert_eq!(
        dests(&kernel, &k3).iter().map(|d| d.0).collect::<Vec<_>>(),
        vec![ip("10.1.0.1"), ip("10.1.0.3")]
    );
    // The entry kept is not touched.
    assert!(!cmds.iter().any(|c| match c {
        Command::AddService(s) => s.key == addr_key("10.0.0.2", 80),
        Command::DelService(k) => *k == addr_key("10.0.0.2", 80),
        _ => false,
    }));
}

#[test]
fn ipv6_service_with_ipv4_tunnelled_real_servers() {
    let c = config(
        "virtual_server 2001:db8::10 80 {
            lb_kind TUN
            real_server 10.1.0.1 80
            real_server 2001:db8::21 80
        }",
    );
    let t = desired(&c, &|_, _| (true, None), &[]);
    let k = ServiceKey::Addr {
        addr: ip("2001:db8::10"),
        port: 80,
        protocol: vigil_lvs::IpProto::Tcp,
    };
    let d = dests(&t, &k);
    assert_eq!(d.len(), 2);
    assert!(matches!(d[0].3, Forwarding::Tun(_)), "{d:?}");
    assert_eq!(d[0].0, ip("10.1.0.1"));
}

#[test]
fn ipv6_group_range_steps_the_last_group_in_hex() {
    let c = config(
        "virtual_server_group v6 { 2001:db8::8-b 443 }
         virtual_server group v6 { lb_kind DR real_server 2001:db8::99 443 }",
    );
    let t = desired(&c, &|_, _| (true, None), &[]);
    let addrs: Vec<String> = t
        .services()
        .map(|s| match s.key {
            ServiceKey::Addr { addr, .. } => addr.to_string(),
            k => format!("{k:?}"),
        })
        .collect();
    assert_eq!(
        addrs,
        ["2001:db8::8", "2001:db8::9", "2001:db8::a", "2001:db8::b"]
    );
}
