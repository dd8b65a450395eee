//! Reload and ha_suspend on a simulated clock.

use vigil_check::{Action, CheckerId, Checkers, FailReason, Instant, ProbeResult};
use vigil_config::{parse_text, MemoryLoader, Options};

fn config(text: &str) -> vigil_model::Config {
    match parse_text("k.conf", text, &MemoryLoader::new(), Options::default()) {
        Ok((cfg, _)) => cfg,
        Err(d) => panic!("config refused: {d:?}"),
    }
}

fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn drain(c: &mut Checkers) -> Vec<Action> {
    std::iter::from_fn(|| c.poll_action()).collect()
}

/// Two real servers with a TCP_CHECK each; `timeout` is the second one's
/// connect_timeout, `extra` goes into the virtual server.
fn two(timeout: u32, extra: &str) -> vigil_model::Config {
    let check = |t: u32| format!("TCP_CHECK {{\nconnect_timeout {t}\nwarmup 0\nretry 0\n}}");
    config(&format!(
        "virtual_server 10.0.0.1 80 {{
            delay_loop 10
            {extra}
            real_server 10.0.0.10 80 {{ {} }}
            real_server 10.0.0.20 80 {{ {} }}
        }}",
        check(2),
        check(timeout)
    ))
}

/// Runs the first round at 1 s: server 0 passes, server 1 fails.
fn first_round(c: &mut Checkers) {
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    drain(c);
    let refused = ProbeResult::Failed(FailReason::Refused);
    c.handle_probe_result(at(1), CheckerId(0), ProbeResult::Ok)
        .unwrap();
    c.handle_probe_result(at(1), CheckerId(1), refused).unwrap();
    drain(c);
    assert_eq!(c.real_server_state(0, 1), Some((false, 1)));
}

#[test]
fn unchanged_checkers_keep_verdict_and_schedule() {
    let old = two(2, "");
    let mut c = Checkers::new(&old, 1);
    first_round(&mut c);
    let new = two(2, "lb_algo rr");
    let remap = c.reconfigure(at(5), &old, &new);
    assert_eq!(
        remap,
        vec![(CheckerId(0), CheckerId(0)), (CheckerId(1), CheckerId(1))]
    );
    assert_eq!(c.real_server_state(0, 0), Some((true, 1)));
    assert_eq!(c.real_server_state(0, 1), Some((false, 1)), "still down");
    let v = c.server_view(0, 1).unwrap();
    assert_eq!(v.changed, Some(at(1)));
    assert_eq!(v.reason, Some(ProbeResult::Failed(FailReason::Refused)));
    assert_eq!(c.poll_timeout(), Some(at(11)), "no re-probe from scratch");
}

#[test]
fn a_changed_checker_starts_afresh_and_servers_move_by_identity() {
    let old = two(2, "");
    let mut c = Checkers::new(&old, 1);
    first_round(&mut c);
    // The failing server's checker changes; a new server comes first.
    let new = config(
        "virtual_server 10.0.0.1 80 {
            delay_loop 10
            real_server 10.0.0.30 80 { TCP_CHECK {
connect_timeout 2
warmup 0
} }
            real_server 10.0.0.20 80 { TCP_CHECK {
connect_timeout 3
warmup 0
retry 0
} }
            real_server 10.0.0.10 80 { TCP_CHECK {
connect_timeout 2
warmup 0
retry 0
} }
        }",
    );
    let remap = c.reconfigure(at(5), &old, &new);
    assert_eq!(remap, vec![(CheckerId(0), CheckerId(2))]);
    assert_eq!(c.real_server_state(0, 2), Some((true, 1)));
    // A fresh checker is up (no alpha): no failed checker, so the server is
    // back in service (keepalived #1720 left it out for good).
    assert_eq!(c.real_server_state(0, 1), Some((true, 1)));
    assert_eq!(c.checker(CheckerId(1)).unwrap().next_probe(), Some(at(6)));
    assert_eq!(c.checker(CheckerId(2)).unwrap().next_probe(), Some(at(11)));
}

#[test]
fn a_probe_in_flight_survives_the_reload() {
    let old = two(2, "");
    let mut c = Checkers::new(&old, 1);
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    drain(&mut c);
    let new = config(
        "virtual_server 10.0.0.1 80 {
            delay_loop 10
            real_server 10.0.0.20 80 { TCP_CHECK {
connect_timeout 2
warmup 0
retry 0
} }
        }",
    );
    let remap = c.reconfigure(at(2), &old, &new);
    assert_eq!(remap, vec![(CheckerId(1), CheckerId(0))]);
    assert!(c.checker(CheckerId(0)).unwrap().in_flight());
    let refused = ProbeResult::Failed(FailReason::Refused);
    c.handle_probe_result(at(2), CheckerId(0), refused).unwrap();
    assert_eq!(drain(&mut c), vec![Action::RealServerDown { vs: 0, rs: 0 }]);
}

#[test]
fn ha_suspend_skips_probes_and_keeps_the_verdict() {
    let cfg = two(2, "ha_suspend");
    let mut c = Checkers::new(&cfg, 1);
    c.set_suspended(0, true);
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    assert!(drain(&mut c).is_empty(), "no probe while suspended");
    assert_eq!(c.poll_timeout(), Some(at(11)));
    assert_eq!(c.real_server_state(0, 1), Some((true, 1)));
    c.set_suspended(0, false);
    c.handle_timeout(at(11));
    assert_eq!(drain(&mut c).len(), 2, "both probe once resumed");
}

/// `checkers_of` bisects the checker list: it must find exactly the ones a
/// scan finds, for real servers with none, one and several checkers, before
/// and after a reload that reorders them.
#[test]
fn checkers_of_finds_what_a_scan_finds() {
    let text = |order: &[usize]| {
        let rs = |i: usize| {
            match i % 3 {
            0 => format!("real_server 10.0.0.{i} 80 {{\n}}\n"),
            1 => format!("real_server 10.0.0.{i} 80 {{\nTCP_CHECK {{\n}}\n}}\n"),
            _ => format!(
                "real_server 10.0.0.{i} 80 {{\nTCP_CHECK {{\n}}\nTCP_CHECK {{\nconnect_port 81\n}}\n}}\n"
            ),
        }
        };
        let mut t = String::new();
        for v in 0..3 {
            t += &format!("virtual_server 10.1.0.{v} 80 {{\ndelay_loop 1\n");
            for &i in order {
                t += &rs(i);
            }
            t += "}\n";
        }
        config(&t)
    };
    let a = text(&[0, 1, 2, 3, 4, 5]);
    let mut c = Checkers::new(&a, 1);
    let check = |c: &Checkers, cfg: &vigil_model::Config| {
        for (v, vs) in cfg.virtual_servers.iter().enumerate() {
            for r in 0..vs.real_servers.len() {
                let scan: Vec<CheckerId> = c
                    .iter()
                    .filter(|(_, k)| k.real_server().vs == v && k.real_server().rs == r)
                    .map(|(id, _)| id)
                    .collect();
                assert_eq!(
                    c.checkers_of(v, r).collect::<Vec<_>>(),
                    scan,
                    "vs {v} rs {r}"
                );
                assert_eq!(scan.len(), vs.real_servers[r].checkers.len());
            }
            let scan = c.iter().filter(|(_, k)| k.real_server().vs == v).count();
            assert_eq!(c.checkers_of_vs(v).count(), scan);
        }
    };
    check(&c, &a);
    let b = text(&[5, 2, 4, 0, 3, 1]);
    c.reconfigure(Instant::ZERO, &a, &b);
    check(&c, &b);
}
