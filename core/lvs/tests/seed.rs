//! The LVS-DR seed configurations give the expected IPVS tables.

mod common;

use core::net::{IpAddr, Ipv4Addr};
use vigil_lvs::{
    desired, diff, flush_then, Command, Destination, Forwarding, IpProto, ServiceKey, Table,
};

const SEED_07: &str = include_str!("../../../tests/data/seed-configs/07-lvs-dr.conf");
const SEED_08: &str = include_str!("../../../tests/data/seed-configs/08-lvs-dr-dual-master.conf");

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 168, 67, last))
}

fn tcp(last: u8, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        addr: ip(last),
        port,
        protocol: IpProto::Tcp,
    }
}

fn dr(last: u8, port: u16, weight: u32) -> Destination {
    Destination {
        addr: ip(last),
        port,
        forwarding: Forwarding::Dr,
        weight,
        u_threshold: 0,
        l_threshold: 0,
    }
}

/// Checks one service: rr, not persistent, the given destinations.
fn assert_service(t: &Table, key: ServiceKey, dests: &[Destination]) {
    let s = t.service(&key).unwrap_or_else(|| panic!("{key:?} missing"));
    assert_eq!(s.scheduler, "rr");
    assert_eq!((s.flags, s.timeout, s.netmask), (0, 0, 32));
    let got: Vec<Destination> = t.dests(&key).copied().collect();
    assert_eq!(got, dests, "{key:?}");
}

#[test]
fn seed_07_all_up() {
    let config = common::config(SEED_07);
    let t = desired(&config, &|_, _| (true, None), &[]);
    assert_eq!(t.len(), 1);
    assert_service(&t, tcp(150, 80), &[dr(10, 80, 1), dr(20, 80, 1)]);
}

#[test]
fn seed_07_a_failed_server_disappears() {
    let config = common::config(SEED_07);
    let t = desired(&config, &|_, ri| (ri != 1, None), &[]);
    assert_service(&t, tcp(150, 80), &[dr(10, 80, 1)]);
    // And from the full table, that is one deletion.
    let full = desired(&config, &|_, _| (true, None), &[]);
    assert_eq!(
        diff(&full, &t),
        vec![Command::DelDest(tcp(150, 80), dr(20, 80, 1).key())]
    );
}

#[test]
fn seed_08_two_services() {
    let config = common::config(SEED_08);
    let t = desired(&config, &|_, _| (true, None), &[]);
    assert_eq!(t.len(), 2);
    assert_service(&t, tcp(150, 80), &[dr(10, 80, 1), dr(20, 80, 1)]);
    assert_service(&t, tcp(160, 3306), &[dr(10, 3306, 1), dr(20, 3306, 1)]);
    // The database's second server fails; the web service is untouched.
    let t2 = desired(&config, &|vi, ri| (!(vi == 1 && ri == 1), None), &[]);
    assert_service(&t2, tcp(150, 80), &[dr(10, 80, 1), dr(20, 80, 1)]);
    assert_service(&t2, tcp(160, 3306), &[dr(10, 3306, 1)]);
}

#[test]
fn seed_08_from_scratch() {
    let config = common::config(SEED_08);
    let t = desired(&config, &|_, _| (true, None), &[]);
    let cmds = flush_then(&t);
    assert_eq!(cmds.len(), 1 + 2 + 4);
    assert_eq!(cmds[0], Command::Flush);
    assert!(matches!(&cmds[1], Command::AddService(s) if s.key == tcp(150, 80)));
    // Start from a stale table (one service missing, a foreign one
    // present): the flush must clear it.
    let mut built = t.clone();
    built.remove_service(&tcp(150, 80));
    built.insert_service(vigil_lvs::service_of(
        &common::config(&SEED_07.replace("192.168.67.150 80", "192.168.67.99 8080"))
            .virtual_servers[0],
    ));
    common::apply(&mut built, &cmds).unwrap();
    assert_eq!(built, t);
}
