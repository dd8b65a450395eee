//! Randomized runs: random configurations and event sequences (crashes,
//! restarts, link flaps, partitions, script flaps, loss, duplication, garbage
//! packets). Nothing may panic, a node holds VIPs iff it is MASTER at every
//! step (checked by the harness), and once the LAN is healthy again exactly
//! one router is MASTER and stays so.

mod sim;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sim::{random_script, seed_instance, v4, with, Rng, Sim};
use vigil_vrrp::{Auth, Repr, ScriptResult, State, TrackedScript, Version};
use vigil_wire::vrrp::Packet;

const GROUP: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44));

fn random_lan(rng: &mut Rng) -> Sim {
    let mut sim = Sim::new();
    sim.rng = Rng::new(rng.next_u64());
    sim.latency = Duration::from_micros(rng.below(5_000));
    let v3 = rng.chance(0.5);
    let advert_cs = if v3 {
        10 + 10 * rng.below(30) as u16
    } else {
        100 * (1 + rng.below(2) as u16)
    };
    let nodes = 2 + rng.below(3) as usize;
    for n in 0..nodes {
        // Priorities from a small set, so ties happen.
        let prio = [50, 80, 100, 100, 255][rng.below(5) as usize];
        let mut c = seed_instance("VI_1", 51, prio);
        c.advert_int_cs = advert_cs;
        if v3 {
            c.version = Version::V3;
            c.auth = Auth::None;
        }
        c.nopreempt = prio != 255 && rng.chance(0.2);
        if !c.nopreempt && rng.chance(0.2) {
            c.preempt_delay = Duration::from_secs(rng.below(5));
        }
        if rng.chance(0.3) {
            c.initial_state = Some(vigil_vrrp::InitialState::Master);
        }
        c.garp.garp_interval = Duration::from_millis(rng.below(1_000));
        let mut cfg = with(vec![c]);
        if rng.chance(0.5) {
            let mut s = random_script(rng);
            s.interval = Duration::from_millis(200 + rng.below(2_000));
            s.init_fail = rng.chance(0.2);
            cfg.scripts = vec![s];
            cfg.instances[0].track_scripts = vec![TrackedScript {
                name: "chk".into(),
                weight: None,
                reverse: Some(rng.chance(0.2)),
            }];
        }
        let id = sim.add(&format!("n{n}"), v4(10 + n as u8), cfg);
        sim.start(id);
    }
    sim
}

fn random_repr(rng: &mut Rng) -> Repr {
    let v3 = rng.chance(0.5);
    Repr {
        version: if v3 { Version::V3 } else { Version::V2 },
        vrid: if rng.chance(0.8) {
            51
        } else {
            rng.below(256) as u8
        },
        priority: rng.below(256) as u8,
        adver_int_cs: if v3 {
            1 + rng.below(4095) as u16
        } else {
            100 * (1 + rng.below(3) as u16)
        },
        auth: if v3 || rng.chance(0.3) {
            Auth::None
        } else {
            Auth::Simple(*b"1111\0\0\0\0")
        },
        addresses: if rng.chance(0.8) {
            vec![v4(150)]
        } else {
            vec![v4(rng.below(256) as u8)]
        },
    }
}

fn chaos_step(sim: &mut Sim, rng: &mut Rng) {
    let nodes = sim.nodes.len();
    let n = rng.below(nodes as u64) as usize;
    match rng.below(11) {
        0 if sim.nodes[n].alive => sim.crash(n),
        1 if !sim.nodes[n].alive => sim.restart(n),
        2 if sim.nodes[n].alive => sim.shutdown(n),
        3 => {
            let up = !sim.nodes[n].link_up;
            sim.set_link(n, up);
        }
        4 => {
            let m = rng.below(nodes as u64) as usize;
            if m != n {
                sim.partition(n, m);
            }
        }
        5 => sim.heal(),
        6 => {
            let r = [
                ScriptResult::Success,
                ScriptResult::Failure,
                ScriptResult::TimedOut,
            ];
            sim.nodes[n]
                .script_results
                .insert("chk".into(), r[rng.below(3) as usize]);
        }
        7 if sim.nodes[n].alive => {
            let len = rng.below(64) as usize;
            let junk: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            sim.inject(n, v4(99), GROUP, 255, &junk);
        }
        8 if sim.nodes[n].alive => {
            let repr = random_repr(rng);
            let mut b = vec![0u8; repr.buffer_len()];
            repr.emit(
                &mut Packet::new_unchecked(&mut b[..]),
                v4(99),
                GROUP,
                vigil_vrrp::V3Checksum::PseudoHeader,
            );
            if rng.chance(0.5) && !b.is_empty() {
                let at = rng.below(b.len() as u64) as usize;
                b[at] ^= 1 << rng.below(8);
            }
            let ttl = if rng.chance(0.8) {
                255
            } else {
                rng.below(256) as u8
            };
            sim.inject(n, v4(99), GROUP, ttl, &b);
        }
        9 if sim.nodes[n].alive => {
            let repr = random_repr(rng);
            sim.inject_repr(n, v4(99), GROUP, 255, &repr);
        }
        10 => {
            sim.loss = [0.0, 0.1, 0.5][rng.below(3) as usize];
            sim.duplication = [0.0, 0.2][rng.below(2) as usize];
        }
        _ => {}
    }
    let d = Duration::from_micros(rng.below(3_000_000));
    sim.run_for(d);
}

fn heal_all(sim: &mut Sim) {
    sim.heal();
    sim.loss = 0.0;
    sim.duplication = 0.0;
    for n in 0..sim.nodes.len() {
        sim.nodes[n].script_results.clear();
        if !sim.nodes[n].link_up {
            sim.set_link(n, true);
        }
        if !sim.nodes[n].alive {
            sim.restart(n);
        }
    }
}

#[test]
fn random_event_sequences_keep_the_invariants() {
    let mut seeds = Rng::new(0x5eed);
    for round in 0..60 {
        let seed = seeds.next_u64();
        let mut rng = Rng::new(seed);
        let mut sim = random_lan(&mut rng);
        for _ in 0..40 {
            chaos_step(&mut sim, &mut rng);
        }
        heal_all(&mut sim);
        // Long enough for init_fail scripts to rise, preempt delays to end
        // and the slowest down interval (3 x 2 s + skew) to pass.
        sim.run_for(Duration::from_secs(40));
        let masters = sim.masters("VI_1");
        assert_eq!(
            masters.len(),
            1,
            "round {round} seed {seed:#x}: masters {masters:?}"
        );
        let settled = sim.now;
        sim.run_for(Duration::from_secs(20));
        assert_eq!(
            sim.masters("VI_1"),
            masters,
            "round {round} seed {seed:#x}: master changed"
        );
        for n in 0..sim.nodes.len() {
            assert!(
                sim.entered(n, "VI_1", State::Master)
                    .iter()
                    .all(|t| *t <= settled),
                "round {round} seed {seed:#x}: node {n} flapped after convergence"
            );
            sim.check_invariants(n);
        }
    }
}

#[test]
fn random_reprs_on_one_router_never_panic() {
    let mut rng = Rng::new(42);
    let mut sim = Sim::new();
    let mut c = seed_instance("VI_1", 51, 100);
    c.skip_check_adv_addr = false;
    let n = sim.add("n", v4(10), with(vec![c]));
    sim.start(n);
    for _ in 0..20_000 {
        let repr = random_repr(&mut rng);
        let ttl = if rng.chance(0.9) {
            255
        } else {
            rng.below(256) as u8
        };
        let src = v4(rng.below(256) as u8);
        sim.inject_repr(n, src, GROUP, ttl, &repr);
        if rng.chance(0.05) {
            sim.run_for(Duration::from_millis(rng.below(2_000)));
        }
    }
    let r = &sim.nodes[n].router;
    let c = r.instance(r.instance_id("VI_1").unwrap()).unwrap().counters;
    assert!(c.adverts_received > 0 && c.dropped_total() > 0, "{c:?}");
}
