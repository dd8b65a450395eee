//! After a reload the engine reads the kernel's table back with one
//! service dump, the summary (`/proc/net/ip_vs` in the daemon) and a
//! destination dump only for the services the reload changes or the
//! summary shows otherwise than recorded; hand edits to owned services are
//! still repaired. Against `MemoryBackend`, whose summary is its own table.

use std::net::IpAddr;

use vigil::runtime::lvs::{Engine, MemoryBackend};
use vigil_check::Instant;
mod common;
use common::table::{config, table_conf as table};
use vigil_lvs::{Command, DestKey, Destination, Forwarding, IpProto, ServiceKey, Table};

fn svc(v: u16) -> ServiceKey {
    ServiceKey::Addr {
        addr: "192.168.67.150".parse().unwrap(),
        port: 8001 + v,
        protocol: IpProto::Tcp,
    }
}

fn rs(v: u16, r: u8) -> DestKey {
    DestKey {
        addr: format!("192.168.67.{}", 10 + r).parse::<IpAddr>().unwrap(),
        port: 8001 + v,
    }
}

fn started(nvs: u16, backend: MemoryBackend) -> Engine<MemoryBackend> {
    let mut e = Engine::new(config(&conf(nvs, 4, None)), backend, 1);
    e.start(Instant::from_secs(0));
    assert_eq!(e.backend_ref().table.len(), usize::from(nvs));
    e
}

fn dests(t: &Table) -> usize {
    t.services().map(|s| t.dests(&s.key).count()).sum()
}

#[test]
fn a_one_line_reload_dumps_one_service() {
    let mut e = started(1000, MemoryBackend::default());
    let dumps0 = e.backend_ref().dest_dumps;
    e.reload(
        Instant::from_secs(1),
        config(&conf(1000, 4, Some((517, 2)))),
    );
    let b = e.backend_ref();
    assert_eq!(b.dest_dumps - dumps0, 1, "only the changed service");
    assert_eq!(b.log.len(), 5001);
    assert!(matches!(&b.log[5000], Command::EditDest(k, d) if *k == svc(517) && d.weight == 2));

    // The same file again: nothing changes, nothing is dumped.
    let dumps1 = e.backend_ref().dest_dumps;
    e.reload(
        Instant::from_secs(2),
        config(&conf(1000, 4, Some((517, 2)))),
    );
    assert_eq!(e.backend_ref().dest_dumps, dumps1);
    assert_eq!(e.backend_ref().log.len(), 5001);
}

#[test]
fn hand_edits_to_unchanged_services_are_repaired_at_reload() {
    let mut e = started(100, MemoryBackend::default());
    let want = e.installed().clone();
    {
        let t = &mut e.backend_mut().table;
        // ipvsadm -d, -e -w 7, -D, and -a of a stranger into an owned service.
        assert!(t.remove_dest(&svc(10), &rs(10, 1)).is_some());
        let mut d = *t.dest(&svc(20), &rs(20, 3)).unwrap();
        d.weight = 7;
        t.insert_dest(&svc(20), d).unwrap();
        assert!(t.remove_service(&svc(30)).is_some());
        let stranger = Destination {
            addr: "192.168.67.99".parse().unwrap(),
            port: 8041,
            forwarding: Forwarding::Nat,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
        };
        t.insert_dest(&svc(40), stranger).unwrap();
    }
    let dumps0 = e.backend_ref().dest_dumps;
    e.reload(Instant::from_secs(1), config(&conf(100, 4, None)));
    let b = e.backend_ref();
    assert_eq!(b.table, want, "every edit undone");
    assert_eq!(dests(&b.table), 400);
    // 10, 20 and 40 look different in the summary; 30 is gone, so it is
    // filled without a dump.
    assert_eq!(b.dest_dumps - dumps0, 3);
    let repairs: Vec<&Command> = b.log[500..].iter().collect();
    // Add, edit, the service and its 4, the stranger removed.
    assert_eq!(repairs.len(), 1 + 1 + 5 + 1, "{repairs:?}");
}

#[test]
fn without_a_summary_every_owned_service_is_dumped() {
    let backend = MemoryBackend {
        no_summary: true,
        ..MemoryBackend::default()
    };
    let mut e = started(50, backend);
    {
        let t = &mut e.backend_mut().table;
        assert!(t.remove_dest(&svc(5), &rs(5, 0)).is_some());
    }
    let dumps0 = e.backend_ref().dest_dumps;
    e.reload(Instant::from_secs(1), config(&conf(50, 4, Some((7, 1)))));
    let b = e.backend_ref();
    assert_eq!(b.dest_dumps - dumps0, 50);
    assert_eq!(dests(&b.table), 200, "the hand-deleted one is back");
    assert_eq!(b.table.dest(&svc(7), &rs(7, 1)).map(|d| d.weight), Some(2));
}

/// The generated table with this file's TCP_CHECK block.
fn conf(nvs: u16, nrs: u8, changed: Option<(u16, u8)>) -> String {
    table(nvs, nrs, changed, "")
}
