//! `diff` round trips: applying its commands to `current` yields `desired`,
//! in an order a strict IPVS accepts, for thousands of random table pairs.

mod common;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vigil_lvs::{
    diff, flush_then, Command, Destination, Family, Forwarding, IpProto, Service, ServiceKey,
    Table, Tunnel, FLAG_PERSISTENT,
};

/// The shared xorshift64*: deterministic, seedable.
use vigil_rng::XorShift as Rng;

fn pick<T: Copy>(r: &mut Rng, items: &[T]) -> T {
    items[r.index(items.len())]
}

/// Small value ranges, so that two random tables share many keys.
fn service_key(r: &mut Rng) -> ServiceKey {
    if r.below(4) == 0 {
        ServiceKey::Fwmark {
            mark: r.below(3) as u32 + 1,
            family: pick(r, &[Family::V4, Family::V6]),
        }
    } else {
        let addr = if r.below(3) == 0 {
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, r.below(3) as u16))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, r.below(3) as u8))
        };
        ServiceKey::Addr {
            addr,
            port: pick(r, &[80, 443]),
            protocol: pick(r, &[IpProto::Tcp, IpProto::Udp, IpProto::Sctp]),
        }
    }
}

fn service(r: &mut Rng, key: ServiceKey) -> Service {
    let persistent = r.below(3) == 0;
    Service {
        key,
        scheduler: pick(r, &["rr", "wlc", "sh"]).into(),
        flags: if persistent { FLAG_PERSISTENT } else { 0 },
        timeout: if persistent { pick(r, &[60, 360]) } else { 0 },
        netmask: key.family().full_prefix() - if persistent { pick(r, &[0, 8]) } else { 0 },
        pe_name: None,
    }
}

fn dest(r: &mut Rng) -> Destination {
    Destination {
        addr: IpAddr::V4(Ipv4Addr::new(192, 168, 1, r.below(6) as u8)),
        port: pick(r, &[80, 8080]),
        forwarding: pick(
            r,
            &[
                Forwarding::Dr,
                Forwarding::Nat,
                Forwarding::Tun(Tunnel::ipip()),
            ],
        ),
        weight: r.below(4) as u32,
        u_threshold: pick(r, &[0, 0, 100]),
        l_threshold: pick(r, &[0, 0, 10]),
    }
}

fn table(r: &mut Rng) -> Table {
    let mut t = Table::new();
    for _ in 0..r.below(6) {
        let key = service_key(r);
        let s = service(r, key);
        let key = s.key;
        t.insert_service(s);
        for _ in 0..r.below(6) {
            t.insert_dest(&key, dest(r)).unwrap();
        }
    }
    t
}

/// A random table and a random mutation of it: most keys shared, some
/// attributes changed, some entries gone or new.
fn mutate(r: &mut Rng, t: &Table) -> Table {
    let mut out = Table::new();
    for s in t.services() {
        if r.below(6) == 0 {
            continue;
        }
        let mut s2 = s.clone();
        if r.below(4) == 0 {
            s2 = service(r, s.key);
        }
        out.insert_service(s2);
        for d in t.dests(&s.key) {
            match r.below(6) {
                0 => continue,
                1 => {
                    let mut d2 = dest(r);
                    d2.addr = d.addr;
                    d2.port = d.port;
                    out.insert_dest(&s.key, d2).unwrap();
                }
                _ => {
                    out.insert_dest(&s.key, *d).unwrap();
                }
            }
        }
        if r.below(3) == 0 {
            out.insert_dest(&s.key, dest(r)).unwrap();
        }
    }
    if r.below(2) == 0 {
        let key = service_key(r);
        let s = service(r, key);
        if out.service(&s.key).is_none() {
            let key = s.key;
            out.insert_service(s);
            out.insert_dest(&key, dest(r)).unwrap();
        }
    }
    out
}

#[test]
fn random_diffs_round_trip() {
    let mut r = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut commands = 0;
    for case in 0..4000 {
        let current = table(&mut r);
        let desired = if case % 3 == 0 {
            table(&mut r)
        } else {
            mutate(&mut r, &current)
        };
        let cmds = diff(&current, &desired);
        commands += cmds.len();
        let mut t = current.clone();
        if let Err((i, e)) = common::apply(&mut t, &cmds) {
            panic!("case {case}: command {i} ({:?}) refused: {e:?}", cmds[i]);
        }
        assert_eq!(t, desired, "case {case}");
        // Nothing left to do afterwards, and no key is both deleted and added.
        assert!(diff(&t, &desired).is_empty(), "case {case}");
        assert_no_delete_then_add(&cmds);
        // From scratch too.
        let mut scratch = current.clone();
        common::apply(&mut scratch, &flush_then(&desired)).unwrap();
        assert_eq!(scratch, desired, "case {case}: flush_then");
    }
    assert!(
        commands > 10_000,
        "the random tables barely differ: {commands}"
    );
}

/// Edits, not delete + add, for keys present on both sides.
fn assert_no_delete_then_add(cmds: &[Command]) {
    for c in cmds {
        match c {
            Command::AddService(s) => {
                assert!(!cmds.contains(&Command::DelService(s.key)), "{cmds:?}")
            }
            Command::AddDest(k, d) => {
                assert!(!cmds.contains(&Command::DelDest(*k, d.key())), "{cmds:?}")
            }
            _ => {}
        }
    }
}

#[test]
fn identical_tables_need_nothing() {
    let mut r = Rng::new(7);
    for _ in 0..200 {
        let t = table(&mut r);
        assert!(diff(&t, &t.clone()).is_empty());
    }
}

#[test]
fn weight_only_change_is_a_single_edit() {
    let mut r = Rng::new(42);
    for _ in 0..500 {
        let current = table(&mut r);
        let Some(s) = current
            .services()
            .find(|s| current.dests(&s.key).next().is_some())
        else {
            continue;
        };
        let key = s.key;
        let mut d = *current.dests(&key).next().unwrap();
        d.weight += 1 + r.below(5) as u32;
        let mut desired = current.clone();
        desired.insert_dest(&key, d).unwrap();
        assert_eq!(diff(&current, &desired), vec![Command::EditDest(key, d)]);
    }
}

#[test]
fn scheduler_change_is_a_single_service_edit() {
    let mut r = Rng::new(3);
    let current = loop {
        let t = table(&mut r);
        if !t.is_empty() {
            break t;
        }
    };
    let mut s = current.services().next().unwrap().clone();
    s.scheduler = "mh".into();
    let mut desired = current.clone();
    desired.insert_service(s.clone());
    assert_eq!(diff(&current, &desired), vec![Command::EditService(s)]);
}

#[test]
fn a_removed_service_loses_its_dests_first() {
    let mut r = Rng::new(11);
    let current = loop {
        let t = table(&mut r);
        if t.len() == 1 && t.dests(&t.services().next().unwrap().key).count() >= 2 {
            break t;
        }
    };
    let key = current.services().next().unwrap().key;
    let cmds = diff(&current, &Table::new());
    assert_eq!(cmds.len(), current.dests(&key).count() + 1);
    assert!(cmds[..cmds.len() - 1]
        .iter()
        .all(|c| matches!(c, Command::DelDest(k, _) if *k == key)));
    assert_eq!(cmds.last(), Some(&Command::DelService(key)));
}
