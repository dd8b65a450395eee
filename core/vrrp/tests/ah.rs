//! `auth_type AH` through the simulated LAN: adverts travel as whole IPv4
//! datagrams of protocol 51 (sealed by vigil-wire, checked by the router), so
//! the sequence-number rules keepalived 2.2.7 follows are exercised across
//! crashes and restarts, and every refusal lands in its own drop counter.

mod sim;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sim::{seed_instance, v4, with, Sim};
use vigil_vrrp::{Auth, DropReason, InstanceConfig, Repr, RouterConfig, State, Version};
use vigil_wire::ah::{build, Sealing};

const KEY: [u8; 8] = *b"ahpass\0\0";

fn ah_instance(priority: u8, key: [u8; 8]) -> InstanceConfig {
    let mut c = seed_instance("VI_1", 51, priority);
    c.auth = Auth::Ah(key);
    c
}

fn cfg(priority: u8, key: [u8; 8]) -> RouterConfig {
    with(vec![ah_instance(priority, key)])
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn drops(sim: &Sim, node: usize, reason: DropReason) -> u64 {
    let r = &sim.nodes[node].router;
    let id = r.instance_id("VI_1").unwrap();
    r.instance(id).unwrap().counters.dropped(reason)
}

fn all_drops(sim: &Sim, node: usize) -> u64 {
    let r = &sim.nodes[node].router;
    let id = r.instance_id("VI_1").unwrap();
    r.instance(id).unwrap().counters.dropped_total()
}

/// Two routers, 100 and 80; the 100 one is master after the start.
fn pair() -> Sim {
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), cfg(100, KEY));
    let b = sim.add("b", v4(200), cfg(80, KEY));
    sim.start(a);
    sim.start(b);
    sim.run_for(secs(10));
    sim
}

#[test]
fn master_and_backup_hold_with_ah() {
    let mut sim = pair();
    assert_eq!(sim.masters("VI_1"), vec![0]);
    sim.run_for(secs(20));
    assert_eq!(sim.masters("VI_1"), vec![0]);
    assert_eq!(sim.state(1, "VI_1"), State::Backup);
    assert_eq!(sim.entered(1, "VI_1", State::Master), vec![]);
    assert_eq!((all_drops(&sim, 0), all_drops(&sim, 1)), (0, 0));
    // The adverts really are AH: a PASS-only router drops them all.
    let received = {
        let r = &sim.nodes[1].router;
        r.instance(r.instance_id("VI_1").unwrap())
            .unwrap()
            .counters
            .adverts_received
    };
    assert!(received >= 25, "{received}");
}

#[test]
fn restarted_master_catches_up_and_preempts_back() {
    let mut sim = pair();
    // The master dies; the backup takes over within Master_Down_Interval.
    let t0 = sim.now;
    sim.crash(0);
    sim.run_for(secs(5));
    let took = sim.entered(1, "VI_1", State::Master);
    assert_eq!(took.len(), 1);
    let after = took[0].as_micros() - t0.as_micros();
    assert!(after <= 3_700_000, "took over after {after} us");
    // The old master comes back with its counter at 0: it accepts the
    // backup's higher numbers, preempts, and the other yields.
    sim.restart(0);
    sim.run_for(secs(15));
    assert_eq!(sim.masters("VI_1"), vec![0]);
    assert_eq!(sim.state(1, "VI_1"), State::Backup);
    sim.run_for(secs(20));
    assert_eq!(sim.masters("VI_1"), vec![0], "stable after preempting back");
}

#[test]
fn quick_master_restart_resyncs_through_the_lower_priority_advert() {
    let mut sim = pair();
    // Let the counters grow well above what a fresh process sends.
    sim.run_for(secs(60));
    // Right after an advert, so that the restarted one (Master_Down 3.61 s)
    // runs out before the backup (3.69 s from that advert).
    let last = |sim: &Sim| sim.adverts(0, "VI_1").last().map(|a| a.0).unwrap();
    let before = last(&sim);
    while last(&sim) == before {
        sim.run_for(Duration::from_millis(5));
    }
    sim.crash(0);
    sim.run_for(Duration::from_millis(1));
    sim.restart(0);
    // Its first numbers (1, 2, ...) are replays to the backup, which takes
    // over; the restarted one then hears it, syncs above its number, and
    // wins back: keepalived's "Syncing seq_num".
    sim.run_for(secs(30));
    assert_eq!(sim.masters("VI_1"), vec![0]);
    assert_eq!(sim.state(1, "VI_1"), State::Backup);
    assert!(drops(&sim, 1, DropReason::AhReplay) > 0);
    let settled = sim.now;
    sim.run_for(secs(20));
    assert!(sim
        .entered(1, "VI_1", State::Master)
        .iter()
        .all(|t| *t < settled));
}

#[test]
fn restarted_backup_follows_at_once() {
    let mut sim = pair();
    sim.run_for(secs(30));
    sim.restart(1);
    sim.run_for(secs(20));
    assert_eq!(sim.masters("VI_1"), vec![0]);
    assert_eq!(all_drops(&sim, 1), 0);
}

#[test]
fn a_wrong_auth_pass_makes_two_masters_and_names_the_icv() {
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), cfg(100, KEY));
    let b = sim.add("b", v4(200), cfg(80, *b"other\0\0\0"));
    sim.start(a);
    sim.start(b);
    sim.run_for(secs(10));
    assert_eq!(sim.masters("VI_1"), vec![0, 1]);
    assert!(drops(&sim, 0, DropReason::AhIcv) >= 5);
    assert!(drops(&sim, 1, DropReason::AhIcv) >= 5);
    assert_eq!(all_drops(&sim, 0), drops(&sim, 0, DropReason::AhIcv));
}

#[test]
fn ah_and_pass_do_not_mix() {
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), cfg(100, KEY));
    let mut pass = ah_instance(80, KEY);
    pass.auth = Auth::Simple(KEY);
    let b = sim.add("b", v4(200), with(vec![pass]));
    sim.start(a);
    sim.start(b);
    sim.run_for(secs(10));
    assert_eq!(sim.masters("VI_1"), vec![0, 1]);
    // "Received AH header but auth type not AH" and the reverse.
    assert!(drops(&sim, 0, DropReason::AuthType) >= 5);
    assert!(drops(&sim, 1, DropReason::AuthType) >= 5);
}

fn advert(priority: u8) -> Repr {
    Repr {
        version: Version::V2,
        vrid: 51,
        priority,
        adver_int_cs: 100,
        auth: Auth::Ah(KEY),
        addresses: vec![v4(150)],
    }
}

fn datagram(priority: u8, seq: u32, src: IpAddr) -> Vec<u8> {
    let IpAddr::V4(s) = src else { unreachable!() };
    let mut out = Vec::new();
    let sealing = Sealing {
        src: s,
        dst: Ipv4Addr::new(224, 0, 0, 44),
        ident: 7,
        seq,
        key: KEY,
    };
    build(&mut out, &advert(priority), &sealing).unwrap();
    out
}

#[test]
fn replays_spi_and_tampering_are_counted_apart() {
    let mut sim = Sim::new();
    let b = sim.add("b", v4(200), cfg(80, KEY));
    sim.start(b);
    let group = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44));
    let d = datagram(100, 1000, v4(100));
    sim.inject(b, v4(100), group, 255, &d);
    assert_eq!(all_drops(&sim, b), 0);
    sim.inject(b, v4(100), group, 255, &d);
    assert_eq!(drops(&sim, b, DropReason::AhReplay), 1, "the same again");
    sim.inject(b, v4(100), group, 255, &datagram(100, 999, v4(100)));
    assert_eq!(drops(&sim, b, DropReason::AhReplay), 2, "an older one");
    sim.inject(b, v4(100), group, 255, &datagram(100, 1001, v4(100)));
    assert_eq!(
        drops(&sim, b, DropReason::AhReplay),
        2,
        "the next one passes"
    );
    // A flipped bit in the VRRP part: the ICV fails, the counter stays.
    let mut t = datagram(100, 5000, v4(100));
    t[50] ^= 1;
    sim.inject(b, v4(100), group, 255, &t);
    assert_eq!(drops(&sim, b, DropReason::AhIcv), 1);
    sim.inject(b, v4(100), group, 255, &datagram(100, 1002, v4(100)));
    assert_eq!(
        drops(&sim, b, DropReason::AhReplay),
        2,
        "5000 was not taken"
    );
    // An SPI that is not the source: re-sealed so that the ICV holds.
    let mut s = datagram(100, 1003, v4(100));
    s[24..28].copy_from_slice(&[10, 9, 9, 9]);
    vigil_wire::ah::seal(&mut s, &KEY, 1003, false).unwrap();
    s[24..28].copy_from_slice(&[10, 9, 9, 9]);
    let mut body = s.clone();
    body[32..44].fill(0);
    let mac = vigil_wire::ah::hmac_md5(
        &KEY,
        &[
            &{
                let mut h = [0u8; 20];
                h.copy_from_slice(&body[..20]);
                h[1] = 0;
                h[6] = 0;
                h[7] = 0;
                h[10] = 0;
                h[11] = 0;
                h
            },
            &body[20..],
        ],
    );
    s[32..44].copy_from_slice(&mac[..12]);
    sim.inject(b, v4(100), group, 255, &s);
    assert_eq!(drops(&sim, b, DropReason::AhSpi), 1);
    // A plain protocol-112 advert to an AH instance: auth type mismatch.
    let mut plain = advert(100);
    plain.auth = Auth::Simple(KEY);
    sim.inject_repr(b, v4(100), group, 255, &plain);
    assert_eq!(drops(&sim, b, DropReason::AuthType), 1);
    assert_eq!(sim.state(b, "VI_1"), State::Backup);
}

#[test]
fn a_master_hearing_a_lower_priority_advert_sends_above_it() {
    use vigil_vrrp::{Action, Family, Instant, Router, RxMeta};
    let mut c = ah_instance(100, KEY);
    c.initial_state = Some(vigil_vrrp::InitialState::Master);
    c.priority = 255;
    let mut r = Router::new(with(vec![c]));
    r.handle_address(Instant::ZERO, sim::IFACE, Family::V4, Some(v4(200)));
    r.handle_start(Instant::ZERO);
    let seqs = |r: &mut Router| {
        let mut v = Vec::new();
        while let Some(a) = r.poll_action() {
            if let Action::SendAdvert { ah_seq, .. } = a {
                v.push(ah_seq);
            }
        }
        v
    };
    assert_eq!(seqs(&mut r), vec![Some(1)], "an owner starts at 1");
    let meta = RxMeta {
        interface: sim::IFACE,
        src: v4(100),
        dst: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44)),
        ttl: Some(255),
    };
    r.handle_ah_packet(
        Instant::from_micros(1000),
        &meta,
        &datagram(80, 500, v4(100)),
    );
    // keepalived: counter = 500 + 1, and the advert it sends at once is 502.
    assert_eq!(seqs(&mut r), vec![Some(502)]);
    assert_eq!(
        r.instance(r.instance_id("VI_1").unwrap()).unwrap().state,
        State::Master
    );
}

#[test]
fn any_bytes_on_the_ah_path_are_dropped_not_panicked_on() {
    let mut sim = Sim::new();
    let b = sim.add("b", v4(200), cfg(80, KEY));
    sim.start(b);
    let group = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44));
    let good = datagram(100, 10, v4(100));
    let mut rng = sim::Rng::new(42);
    let mut sent = 0u64;
    for n in 0..3000 {
        let mut d = if n % 2 == 0 {
            // A valid datagram with bytes flipped, cut or extended.
            let mut d = good.clone();
            for _ in 0..=rng.below(3) {
                let at = rng.below(d.len() as u64) as usize;
                d[at] ^= 1 << rng.below(8);
            }
            d.truncate(rng.below(d.len() as u64 + 8) as usize);
            d
        } else {
            (0..rng.below(80)).map(|_| rng.below(256) as u8).collect()
        };
        if d.len() > 9 {
            d[9] = 51;
        }
        sim.inject(b, v4(100), group, 255, &d);
        sent += 1;
    }
    let r = &sim.nodes[b].router;
    let inst = r.instance(r.instance_id("VI_1").unwrap()).unwrap();
    let counted = inst.counters.dropped_total()
        + r.global_counters().dropped_total()
        + inst.counters.adverts_received;
    assert_eq!(counted, sent, "every datagram is counted once");
    assert!(inst.counters.dropped(DropReason::AhIcv) > 100);
}

#[test]
fn unicast_ah_pairs_hold_and_fail_over() {
    let uni = |prio: u8, peer: IpAddr| {
        let mut c = ah_instance(prio, KEY);
        c.unicast_peers = vec![peer];
        with(vec![c])
    };
    let mut sim = Sim::new();
    let a = sim.add("a", v4(100), uni(100, v4(200)));
    let b = sim.add("b", v4(200), uni(80, v4(100)));
    sim.start(a);
    sim.start(b);
    sim.run_for(secs(20));
    assert_eq!(sim.masters("VI_1"), vec![a]);
    assert_eq!((all_drops(&sim, a), all_drops(&sim, b)), (0, 0));
    sim.crash(a);
    sim.run_for(secs(5));
    assert_eq!(sim.masters("VI_1"), vec![b]);
    sim.restart(a);
    sim.run_for(secs(10));
    assert_eq!(sim.masters("VI_1"), vec![a]);
}
