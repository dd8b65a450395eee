//! The LVS engine against an in-memory kernel table, on a simulated clock:
//! start-up reconciliation, verdicts to commands, reload against the kernel,
//! refused commands, stop modes, quorum and sorry server, ha_suspend.

use std::net::IpAddr;

use vigil::runtime::lvs::{Backend, Engine, MemoryBackend, Out};
use vigil_check::{FailReason, Instant, ProbeResult};
use vigil_config::{parse_text, MemoryLoader, Options};
use vigil_lvs::{Command, DestKey, Destination, Forwarding, IpProto, Service, ServiceKey};

fn config(text: &str) -> vigil_model::Config {
    match parse_text("k.conf", text, &MemoryLoader::new(), Options::default()) {
        Ok((c, _)) => c,
        Err(d) => panic!("refused: {d:?}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn vs_key(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        addr: ip(addr),
        port,
        protocol: IpProto::Tcp,
    }
}

fn svc(key: ServiceKey) -> Service {
    Service {
        key,
        scheduler: "wlc".into(),
        flags: 0,
        timeout: 0,
        netmask: 32,
        pe_name: None,
    }
}

const VIP: &str = "192.168.67.150";

/// Seed 07's shape: two real servers with TCP checks, `extra` in the VS,
/// `rs_extra` in the first real server.
fn seed07(extra: &str, rs_extra: &str) -> String {
    let check = "TCP_CHECK {\nconnect_timeout 2\nretry 1\ndelay_before_retry 1\nwarmup 0\n}";
    format!(
        "virtual_server {VIP} 80 {{
            delay_loop 6
            lb_algo rr
            lb_kind DR
            {extra}
            real_server 192.168.67.10 80 {{
                weight 1
                {rs_extra}
                {check}
            }}
            real_server 192.168.67.20 80 {{
                weight 2
                {check}
            }}
        }}"
    )
}

fn weights(b: &MemoryBackend, key: &ServiceKey) -> Vec<(IpAddr, u32)> {
    b.table.dests(key).map(|d| (d.addr, d.weight)).collect()
}

/// Answers every probe asked for with `answer(addr)` at `t`.
fn answer_probes(
    e: &mut Engine<MemoryBackend>,
    t: Instant,
    answer: impl Fn(IpAddr) -> ProbeResult,
) {
    let mut asked = Vec::new();
    while let Some(o) = e.poll_out() {
        if let Out::Probe { token, kind } = o {
            let addr = match kind {
                vigil_check::ProbeKind::Tcp { connect_ip, .. } => connect_ip,
                _ => panic!("unexpected probe"),
            };
            asked.push((token, addr));
        }
    }
    for (token, addr) in asked {
        e.handle_probe(t, token, answer(addr));
    }
}

/// Runs the clock second by second to `to`, answering probes.
fn run(e: &mut Engine<MemoryBackend>, from: u64, to: u64, answer: impl Fn(IpAddr) -> ProbeResult) {
    for s in from..=to {
        if e.poll_timeout().is_some_and(|d| d <= at(s)) {
            e.handle_timeout(at(s));
        }
        answer_probes(e, at(s), &answer);
    }
}

const REFUSED: ProbeResult = ProbeResult::Failed(FailReason::Refused);

#[test]
fn start_installs_before_checks_and_repairs_only_what_it_owns() {
    let mut kernel = MemoryBackend::default();
    // A foreign service, and our own service with a wrong scheduler and a
    // stale destination (a crashed run, or a hand edit).
    let foreign = svc(vs_key("10.9.9.9", 443));
    kernel.apply(&Command::AddService(foreign.clone())).unwrap();
    let mut ours = svc(vs_key(VIP, 80));
    ours.scheduler = "wlc".into();
    kernel.apply(&Command::AddService(ours)).unwrap();
    let stale = Destination {
        addr: ip("192.168.67.99"),
        port: 80,
        forwarding: Forwarding::Dr,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
    };
    kernel
        .apply(&Command::AddDest(vs_key(VIP, 80), stale))
        .unwrap();
    kernel.log.clear();

    let mut e = Engine::new(config(&seed07("", "")), kernel, 1);
    e.start(at(0));
    let k = vs_key(VIP, 80);
    assert_eq!(e.backend_ref().table.service(&k).unwrap().scheduler, "rr");
    assert_eq!(
        weights(e.backend_ref(), &k),
        vec![(ip("192.168.67.10"), 1), (ip("192.168.67.20"), 2)],
        "real servers in service before any check, stale one gone"
    );
    assert_eq!(
        e.backend_ref().table.service(&foreign.key),
        Some(&foreign),
        "foreign untouched"
    );
    // One edit, two adds, one delete: the fewest commands.
    assert_eq!(e.backend_ref().log.len(), 4, "{:?}", e.backend_ref().log);
}

#[test]
fn a_dead_server_leaves_after_retries_and_comes_back() {
    let mut e = Engine::new(config(&seed07("", "")), MemoryBackend::default(), 1);
    e.start(at(0));
    let k = vs_key(VIP, 80);
    let rs1 = ip("192.168.67.10");
    run(&mut e, 0, 10, |_| ProbeResult::Ok);
    // rs1 dies at 10 s: next check at 13 (1 + 6 + 6), retry at 14, down.
    run(&mut e, 11, 13, |a| {
        if a == rs1 {
            REFUSED
        } else {
            ProbeResult::Ok
        }
    });
    assert_eq!(
        weights(e.backend_ref(), &k).len(),
        2,
        "first failure is retried"
    );
    run(&mut e, 14, 14, |a| {
        if a == rs1 {
            REFUSED
        } else {
            ProbeResult::Ok
        }
    });
    assert_eq!(weights(e.backend_ref(), &k), vec![(ip("192.168.67.20"), 2)]);
    // Back: the next check (one delay_loop later) brings it in.
    run(&mut e, 15, 20, |_| ProbeResult::Ok);
    assert_eq!(weights(e.backend_ref(), &k).len(), 2);
}

#[test]
fn inhibit_on_failure_sets_weight_zero() {
    let mut e = Engine::new(
        config(&seed07("", "inhibit_on_failure")),
        MemoryBackend::default(),
        1,
    );
    e.start(at(0));
    run(&mut e, 0, 1, |_| REFUSED);
    let k = vs_key(VIP, 80);
    assert_eq!(weights(e.backend_ref(), &k), vec![(ip("192.168.67.10"), 0)]);
}

#[test]
fn reload_keeps_verdicts_and_repairs_hand_deletions() {
    let text = seed07("", "");
    let mut e = Engine::new(config(&text), MemoryBackend::default(), 1);
    e.start(at(0));
    let rs1 = ip("192.168.67.10");
    run(&mut e, 0, 1, |a| {
        if a == rs1 {
            REFUSED
        } else {
            ProbeResult::Ok
        }
    });
    let k = vs_key(VIP, 80);
    assert_eq!(weights(e.backend_ref(), &k), vec![(ip("192.168.67.20"), 2)]);
    // Someone runs `ipvsadm -d` on the live server.
    let rs2 = DestKey {
        addr: ip("192.168.67.20"),
        port: 80,
    };
    e.backend_mut().apply(&Command::DelDest(k, rs2)).unwrap();
    e.reload(at(2), config(&text));
    assert_eq!(
        weights(e.backend_ref(), &k),
        vec![(ip("192.168.67.20"), 2)],
        "repaired from the kernel's table; the failed one stays out"
    );
    // A real server dropped from the configuration goes, even inhibited.
    let one = config(&format!(
        "virtual_server {VIP} 80 {{\n lb_algo rr\n lb_kind DR\n real_server 192.168.67.20 80 {{\n weight 3\n }}\n}}"
    ));
    e.reload(at(3), one);
    assert_eq!(weights(e.backend_ref(), &k), vec![(ip("192.168.67.20"), 3)]);
}

#[test]
fn a_refused_command_triggers_a_resync() {
    let mut e = Engine::new(config(&seed07("", "")), MemoryBackend::default(), 1);
    e.start(at(0));
    run(&mut e, 0, 1, |_| ProbeResult::Ok);
    // The whole service vanishes behind our back (ipvsadm -C).
    e.backend_mut().apply(&Command::Flush).unwrap();
    let rs1 = ip("192.168.67.10");
    run(&mut e, 2, 8, |a| {
        if a == rs1 {
            REFUSED
        } else {
            ProbeResult::Ok
        }
    });
    let k = vs_key(VIP, 80);
    assert_eq!(
        weights(e.backend_ref(), &k),
        vec![(ip("192.168.67.20"), 2)],
        "the refused DelDest made the engine rebuild the service"
    );
}

#[test]
fn stop_modes() {
    let foreign = svc(vs_key("10.9.9.9", 443));
    for (global, left) in [
        ("", 1),
        ("lvs_flush_on_stop VS", 1),
        ("lvs_flush_on_stop", 0),
    ] {
        let mut kernel = MemoryBackend::default();
        kernel.apply(&Command::AddService(foreign.clone())).unwrap();
        let text = format!("global_defs {{\n{global}\n}}\n{}", seed07("", ""));
        let mut e = Engine::new(config(&text), kernel, 1);
        e.start(at(0));
        assert_eq!(e.backend_ref().table.len(), 2);
        e.stop();
        assert_eq!(e.backend_ref().table.len(), left, "{global:?}");
    }
}

#[test]
fn quorum_loss_brings_the_sorry_server_and_runs_quorum_down() {
    let text = seed07(
        "sorry_server 192.168.67.30 80\nquorum_down /bin/true\nquorum 2",
        "",
    );
    let mut e = Engine::new(config(&text), MemoryBackend::default(), 1);
    e.start(at(0));
    let mut scripts = Vec::new();
    let rs2 = ip("192.168.67.20");
    for s in 0..=2 {
        if e.poll_timeout().is_some_and(|d| d <= at(s)) {
            e.handle_timeout(at(s));
        }
        let mut asked = Vec::new();
        while let Some(o) = e.poll_out() {
            match o {
                Out::Probe { token, kind } => asked.push((token, kind)),
                Out::Script { what, .. } => scripts.push(what),
                Out::Alert(_) => {}
            }
        }
        for (token, kind) in asked {
            let a = match kind {
                vigil_check::ProbeKind::Tcp { connect_ip, .. } => connect_ip,
                _ => unreachable!(),
            };
            e.handle_probe(
                at(s),
                token,
                if a == rs2 { REFUSED } else { ProbeResult::Ok },
            );
        }
    }
    while let Some(o) = e.poll_out() {
        if let Out::Script { what, .. } = o {
            scripts.push(what);
        }
    }
    let k = vs_key(VIP, 80);
    // Weight 1 left < quorum 2: the sorry server alone.
    assert_eq!(weights(e.backend_ref(), &k), vec![(ip("192.168.67.30"), 1)]);
    assert!(
        scripts.iter().any(|s| s.starts_with("quorum_down")),
        "{scripts:?}"
    );
}

#[test]
fn ha_suspend_follows_the_vip() {
    let mut e = Engine::new(
        config(&seed07("ha_suspend", "")),
        MemoryBackend::default(),
        1,
    );
    e.start(at(0));
    run(&mut e, 0, 20, |_| REFUSED);
    let k = vs_key(VIP, 80);
    assert_eq!(
        weights(e.backend_ref(), &k).len(),
        2,
        "no checks without the VIP"
    );
    e.set_held([ip(VIP)]);
    run(&mut e, 21, 40, |_| REFUSED);
    assert!(
        weights(e.backend_ref(), &k).is_empty(),
        "checks run once the VIP is held"
    );
}
