//! After a reload the engine reads the kernel's table back with one
//! service dump, the summary (`/proc/net/ip_vs` in the daemon) and a
//! destination dump only for the services the reload changes or the
//! summary shows otherwise than recorded; hand edits to owned services are
//! still repaired. What the summary cannot see (thresholds, tunnel types)
//! the background audit after the reload finds and repairs, at its own
//! pace and with its requests counted apart. Against `MemoryBackend`,
//! whose summary is its own table.

use std::net::IpAddr;

use vigil::runtime::lvs::{Engine, MemoryBackend, Out};
use vigil_check::{Instant, ProbeResult};
mod common;
use common::table::{config, table_conf as table};
use vigil_lvs::{
    Command, DestKey, Destination, Forwarding, IpProto, ServiceKey, Table, TunCsum, Tunnel,
};

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

/// Runs the engine's timers the way the LVS loop does, each deadline as
/// it falls due with every probe answered "up", until the audit is over
/// (bounded); returns the wake-ups and the most services one dumped.
fn settle(e: &mut Engine<MemoryBackend>) -> (usize, usize) {
    let (mut wakeups, mut most) = (0, 0);
    while e.audit_left() > 0 {
        assert!(wakeups < 100_000, "the audit does not end");
        let Some(t) = e.poll_timeout() else {
            panic!("an audit under way but no timeout");
        };
        let dumps0 = e.backend_ref().dest_dumps;
        e.handle_timeout(t);
        while let Some(o) = e.poll_out() {
            if let Out::Probe { token, .. } = o {
                e.handle_probe(t, token, ProbeResult::Ok);
            }
        }
        most = most.max(e.backend_ref().dest_dumps - dumps0);
        wakeups += 1;
    }
    (wakeups, most)
}

/// `ipvsadm -e` of one destination's fields, on the kernel's table only.
fn hand_edit(e: &mut Engine<MemoryBackend>, v: u16, r: u8, edit: impl Fn(&mut Destination)) {
    let t = &mut e.backend_mut().table;
    let mut d = *t.dest(&svc(v), &rs(v, r)).unwrap();
    edit(&mut d);
    t.insert_dest(&svc(v), d).unwrap();
}

/// A hand edit the summary does not show, then a reload of the same file:
/// the reload's own sync sends nothing and dumps nothing; the audit dumps
/// every service and repairs the edit with one EditDest.
fn repaired_by_the_audit(text: &str, edit: impl Fn(&mut Destination)) {
    let mut e = Engine::new(config(text), MemoryBackend::default(), 1);
    e.start(Instant::from_secs(0));
    let want = e.backend_ref().table.clone();
    hand_edit(&mut e, 37, 2, edit);
    assert_ne!(e.backend_ref().table, want);
    let (log0, dumps0) = (e.backend_ref().log.len(), e.backend_ref().dest_dumps);
    let applies0 = e.apply_stats().applies;
    e.reload(Instant::from_secs(1), config(text));
    assert_eq!(e.backend_ref().log.len(), log0, "the summary cannot see it");
    assert_eq!(
        e.backend_ref().dest_dumps,
        dumps0,
        "the reload dumps nothing"
    );
    assert_eq!(e.audit_left(), 100);
    settle(&mut e);
    let b = e.backend_ref();
    assert!(b.table == want, "not repaired");
    assert!(*e.installed() == want, "the record disagrees");
    assert_eq!(b.dest_dumps - dumps0, 100, "each trusted service once");
    assert_eq!(b.log.len(), log0 + 1, "{:?}", &b.log[log0..]);
    assert!(
        matches!(&b.log[log0], Command::EditDest(k, d) if *k == svc(37) && d.key() == rs(37, 2))
    );
    let s = e.apply_stats();
    assert_eq!(s.applies, applies0, "the audit is not a reload's diff");
    assert_eq!(
        (s.audit.repaired, s.audit.commands, s.audit.refused),
        (1, 1, 0)
    );
    assert_eq!((s.audit.finished, s.audit.last_services), (1, 100));
}

fn with_thresholds(text: String) -> String {
    text.replace(
        "  weight 1\n",
        "  weight 1\n  uthreshold 50\n  lthreshold 10\n",
    )
}

#[test]
fn an_upper_threshold_edit_is_repaired_after_a_reload() {
    repaired_by_the_audit(&with_thresholds(conf(100, 4, None)), |d| {
        assert_eq!(d.u_threshold, 50);
        d.u_threshold = 77;
    });
}

#[test]
fn a_lower_threshold_edit_is_repaired_after_a_reload() {
    repaired_by_the_audit(&with_thresholds(conf(100, 4, None)), |d| {
        assert_eq!(d.l_threshold, 10);
        d.l_threshold = 3;
    });
    // And a threshold set where the configuration has none.
    repaired_by_the_audit(&conf(100, 4, None), |d| d.l_threshold = 3);
}

#[test]
fn a_tunnel_type_edit_is_repaired_after_a_reload() {
    let tun = conf(100, 4, None).replace("lb_kind DR", "lb_kind TUN");
    repaired_by_the_audit(&tun, |d| {
        assert_eq!(d.forwarding, Forwarding::Tun(Tunnel::ipip()));
        d.forwarding = Forwarding::Tun(Tunnel::gre(TunCsum::Csum));
    });
    // A type with a port and flags (the configuration has IP-in-IP only).
    repaired_by_the_audit(&tun, |d| {
        d.forwarding = Forwarding::Tun(Tunnel::gue(6080, TunCsum::RemCsum));
    });
}

#[test]
fn an_unchanged_table_gives_the_audit_no_command() {
    let mut e = started(100, MemoryBackend::default());
    let log0 = e.backend_ref().log.len();
    e.reload(Instant::from_secs(1), config(&conf(100, 4, None)));
    settle(&mut e);
    assert_eq!(e.backend_ref().log.len(), log0);
    let a = e.apply_stats().audit;
    assert_eq!(
        (a.finished, a.services, a.repaired, a.commands),
        (1, 100, 0, 0)
    );
}

#[test]
fn a_one_line_reload_is_still_one_command_and_the_audit_adds_none() {
    let mut e = started(1000, MemoryBackend::default());
    let dumps0 = e.backend_ref().dest_dumps;
    e.reload(
        Instant::from_secs(1),
        config(&conf(1000, 4, Some((517, 2)))),
    );
    let s = e.apply_stats();
    assert_eq!(s.last_commands, 1, "the reload's sync");
    assert_eq!(e.backend_ref().dest_dumps - dumps0, 1);
    assert_eq!(
        e.audit_left(),
        999,
        "the changed service was dumped already"
    );
    let (wakeups, most) = settle(&mut e);
    let after = e.apply_stats();
    assert_eq!(e.backend_ref().log.len(), 5001, "the audit sent nothing");
    assert_eq!(
        (after.applies, after.last_commands),
        (s.applies, 1),
        "the reload's figures are its own"
    );
    let a = after.audit;
    assert_eq!(e.backend_ref().dest_dumps - dumps0, 1 + 999);
    // Paced: a bounded batch per wake-up, over a few seconds.
    assert!(most <= 25, "{most} services in one wake-up");
    assert!(a.last_steps >= 40, "{} steps", a.last_steps);
    assert!(
        (3_000.0..6_000.0).contains(&a.last_span_ms),
        "{} ms",
        a.last_span_ms
    );
    eprintln!(
        "audit of {} services: {} steps over {:.2} s (engine clock), {} wake-ups, \
         {:.1} ms of work, longest step {:.2} ms (MemoryBackend)",
        a.last_services,
        a.last_steps,
        a.last_span_ms / 1e3,
        wakeups,
        a.last_work_ms,
        a.last_max_step_ms
    );
}

#[test]
fn a_reload_during_an_audit_starts_it_over_and_stop_ends_it() {
    let text = conf(200, 4, None);
    let mut e = started(200, MemoryBackend::default());
    let want = e.backend_ref().table.clone();
    e.reload(Instant::from_secs(1), config(&text));
    assert_eq!(e.audit_left(), 200);
    // Two steps: the first 50 services are read back.
    while e.audit_left() > 150 {
        let t = e.poll_timeout().unwrap();
        e.handle_timeout(t);
    }
    assert_eq!(e.audit_left(), 150);
    // An edit to a service audited already, then a reload: it is audited
    // again (a resumed audit would miss it).
    hand_edit(&mut e, 0, 1, |d| d.u_threshold = 77);
    e.reload(Instant::from_secs(2), config(&text));
    assert_eq!(e.audit_left(), 200);
    let a = e.apply_stats().audit;
    assert_eq!((a.begun, a.finished), (2, 0));
    settle(&mut e);
    assert!(e.backend_ref().table == want, "not repaired");
    assert_eq!(e.apply_stats().audit.repaired, 1);

    e.reload(Instant::from_secs(3), config(&text));
    assert_eq!(e.audit_left(), 200);
    e.stop();
    assert_eq!(e.audit_left(), 0);
    assert_eq!(e.backend_ref().table.len(), 0);
}

/// The generated table with this file's TCP_CHECK block.
fn conf(nvs: u16, nrs: u8, changed: Option<(u16, u8)>) -> String {
    table(nvs, nrs, changed, "")
}
