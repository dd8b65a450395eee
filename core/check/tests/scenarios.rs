//! Scenarios on a simulated clock: configurations are written as
//! keepalived.conf text and read by vigil-config, probes are answered by hand.

use std::time::Duration;

use vigil_check::{
    Action, CheckerId, Checkers, FailReason, Ignored, Instant, ProbeKind, ProbeResult,
};
use vigil_config::{parse_text, MemoryLoader, Options};

const SEC: u64 = 1_000_000;

fn config(text: &str) -> vigil_model::Config {
    let loader = MemoryLoader::new();
    match parse_text("keepalived.conf", text, &loader, Options::default()) {
        Ok((cfg, _warnings)) => cfg,
        Err(d) => panic!("config refused: {d:?}"),
    }
}

fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn drain(c: &mut Checkers) -> Vec<Action> {
    std::iter::from_fn(|| c.poll_action()).collect()
}

fn probes(actions: &[Action]) -> Vec<CheckerId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Probe { checker, .. } => Some(*checker),
            _ => None,
        })
        .collect()
}

/// Real server 0's verdict turning `up` (or down), with its notify script.
fn verdict(up: bool) -> Vec<Action> {
    let change = if up {
        Action::RealServerUp { vs: 0, rs: 0 }
    } else {
        Action::RealServerDown { vs: 0, rs: 0 }
    };
    vec![change, Action::Notify { vs: 0, rs: 0, up }]
}

/// The timer due at `due` s fires (its probe request is dropped), then
/// checker 0's `result` comes back at `done` s.
fn answer(c: &mut Checkers, due: u64, done: u64, result: ProbeResult) {
    c.handle_timeout(at(due));
    drain(c);
    c.handle_probe_result(at(done), CheckerId(0), result)
        .unwrap();
}

/// Runs the clock to `t` through every deadline on the way, returning the
/// actions in order with the instant each came out.
fn run_until(c: &mut Checkers, t: Instant) -> Vec<(Instant, Action)> {
    let mut out = Vec::new();
    while let Some(d) = c.poll_timeout() {
        if d > t {
            break;
        }
        c.handle_timeout(d);
        out.extend(drain(c).into_iter().map(|a| (d, a)));
    }
    out
}

/// One real server, one TCP_CHECK: delay_loop 10, retry 2,
/// delay_before_retry 3, warmup 0.
fn tcp_one(extra_vs: &str) -> Checkers {
    let cfg = config(&format!(
        "virtual_server 10.0.0.1 80 {{
            delay_loop 10
            {extra_vs}
            real_server 10.0.0.10 80 {{
                weight 5
                notify_up /bin/up.sh
                notify_down /bin/down.sh
                TCP_CHECK {{
                    connect_timeout 2
                    retry 2
                    delay_before_retry 3
                    warmup 0
                }}
            }}
        }}"
    ));
    Checkers::new(&cfg, 7)
}

#[test]
fn first_probe_one_second_after_start_without_warmup() {
    let mut c = tcp_one("");
    assert_eq!(c.poll_timeout(), None, "nothing before start");
    c.handle_start(at(100));
    assert_eq!(c.poll_timeout(), Some(at(101)));
    c.handle_timeout(Instant::from_micros(101 * SEC - 1));
    assert!(drain(&mut c).is_empty(), "not due yet");
    c.handle_timeout(at(101));
    let acts = drain(&mut c);
    match acts.as_slice() {
        [Action::Probe {
            checker,
            kind:
                ProbeKind::Tcp {
                    connect_ip,
                    port,
                    timeout,
                    bindto,
                    bind_port,
                },
        }] => {
            assert_eq!(*checker, CheckerId(0));
            assert_eq!(connect_ip.to_string(), "10.0.0.10");
            assert_eq!(*port, 80);
            assert_eq!(*timeout, Duration::from_secs(2));
            assert_eq!(*bind_port, None);
            assert_eq!(*bindto, None);
        }
        other => panic!("expected one TCP probe, got {other:?}"),
    }
}

#[test]
fn probes_are_spaced_by_delay_loop_from_each_verdict() {
    let mut c = tcp_one("");
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    assert_eq!(probes(&drain(&mut c)), vec![CheckerId(0)]);
    // While in flight only the watchdog is pending: 1 + 2 + 5 s.
    assert_eq!(c.poll_timeout(), Some(at(8)));
    c.handle_probe_result(at(2), CheckerId(0), ProbeResult::Ok)
        .unwrap();
    assert!(drain(&mut c).is_empty(), "already up: no verdict change");
    assert_eq!(c.poll_timeout(), Some(at(12)));
    c.handle_timeout(at(12));
    assert_eq!(probes(&drain(&mut c)), vec![CheckerId(0)]);
    c.handle_probe_result(at(12), CheckerId(0), ProbeResult::Ok)
        .unwrap();
    assert_eq!(c.poll_timeout(), Some(at(22)));
}

/// Starts `c` at 0 and passes its first probe (at 1 s): keepalived starts
/// the retry series used up, so retries only apply once a check has passed.
fn passed_once(c: &mut Checkers) {
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    drain(c);
    c.handle_probe_result(at(1), CheckerId(0), ProbeResult::Ok)
        .unwrap();
    assert!(drain(c).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(11)));
}

#[test]
fn the_very_first_failure_is_a_verdict() {
    let mut c = tcp_one("");
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    drain(&mut c);
    let refused = ProbeResult::Failed(FailReason::Refused);
    c.handle_probe_result(at(1), CheckerId(0), refused).unwrap();
    assert_eq!(
        drain(&mut c).first(),
        Some(&Action::RealServerDown { vs: 0, rs: 0 })
    );
}

#[test]
fn retries_then_down_then_recovery() {
    let mut c = tcp_one("");
    passed_once(&mut c);
    c.handle_timeout(at(11));
    drain(&mut c);
    let refused = ProbeResult::Failed(FailReason::Refused);
    // First failure: retry 1 after delay_before_retry.
    c.handle_probe_result(at(11), CheckerId(0), refused)
        .unwrap();
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.real_server_state(0, 0), Some((true, 5)));
    assert_eq!(c.poll_timeout(), Some(at(14)));
    c.handle_timeout(at(14));
    drain(&mut c);
    // Second failure: retry 2.
    c.handle_probe_result(at(14), CheckerId(0), ProbeResult::TimedOut)
        .unwrap();
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(17)));
    c.handle_timeout(at(17));
    drain(&mut c);
    // Third failure: retries exhausted, down.
    c.handle_probe_result(at(17), CheckerId(0), refused)
        .unwrap();
    assert_eq!(drain(&mut c), verdict(false));
    assert_eq!(c.real_server_state(0, 0), Some((false, 5)));
    // Down: plain delay_loop, no retries, no repeated verdicts.
    assert_eq!(c.poll_timeout(), Some(at(27)));
    answer(&mut c, 27, 27, refused);
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(37)));
    // The next success brings it back at once.
    answer(&mut c, 37, 38, ProbeResult::Ok);
    assert_eq!(drain(&mut c), verdict(true));
    assert_eq!(c.real_server_state(0, 0), Some((true, 5)));
}

#[test]
fn a_success_between_failures_restarts_the_retry_series() {
    let mut c = tcp_one("");
    passed_once(&mut c);
    let refused = ProbeResult::Failed(FailReason::Refused);
    let mut t = 11;
    for result in [refused, refused, ProbeResult::Ok, refused, refused] {
        c.handle_timeout(at(t));
        assert_eq!(probes(&drain(&mut c)).len(), 1, "probe due at {t}");
        c.handle_probe_result(at(t), CheckerId(0), result).unwrap();
        assert!(drain(&mut c).is_empty(), "no verdict change at {t}");
        t = c.poll_timeout().unwrap().as_micros() / SEC;
    }
    assert_eq!(c.real_server_state(0, 0), Some((true, 5)));
}

#[test]
fn alpha_starts_down_and_first_success_brings_up() {
    let mut c = tcp_one("alpha");
    assert_eq!(c.real_server_state(0, 0), Some((false, 5)));
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    drain(&mut c);
    // A failure while down: no retries, no verdict.
    c.handle_probe_result(at(1), CheckerId(0), ProbeResult::TimedOut)
        .unwrap();
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(11)));
    answer(&mut c, 11, 11, ProbeResult::Ok);
    assert_eq!(drain(&mut c), verdict(true));
}

#[test]
fn stale_and_unknown_results_are_ignored() {
    let mut c = tcp_one("");
    c.handle_start(at(0));
    assert_eq!(
        c.handle_probe_result(at(0), CheckerId(0), ProbeResult::Ok),
        Err(Ignored::NotInFlight(CheckerId(0)))
    );
    assert_eq!(
        c.handle_probe_result(at(0), CheckerId(9), ProbeResult::Ok),
        Err(Ignored::UnknownChecker(CheckerId(9)))
    );
    answer(&mut c, 1, 1, ProbeResult::Ok);
    // A duplicate (e.g. a failure reported late) must not start a retry.
    let dup = c.handle_probe_result(at(2), CheckerId(0), ProbeResult::TimedOut);
    assert_eq!(dup, Err(Ignored::NotInFlight(CheckerId(0))));
    assert_eq!(c.poll_timeout(), Some(at(11)));
}

#[test]
fn one_probe_in_flight_and_the_watchdog_times_it_out() {
    let mut c = tcp_one("");
    passed_once(&mut c);
    c.handle_timeout(at(11));
    assert_eq!(probes(&drain(&mut c)).len(), 1);
    // Way past delay_loop without an answer: no second probe, the watchdog
    // (11 + 2 + 5 s) counts a timeout and the retry comes 3 s later.
    c.handle_timeout(at(18));
    assert!(probes(&drain(&mut c)).is_empty());
    assert_eq!(c.poll_timeout(), Some(at(21)));
    let late = c.handle_probe_result(at(19), CheckerId(0), ProbeResult::Ok);
    assert_eq!(late, Err(Ignored::NotInFlight(CheckerId(0))));
    c.handle_timeout(at(21));
    assert_eq!(probes(&drain(&mut c)).len(), 1);
}

#[test]
fn time_going_back_is_taken_as_the_latest_seen() {
    let mut c = tcp_one("");
    c.handle_start(at(50));
    answer(&mut c, 51, 10, ProbeResult::Ok);
    assert_eq!(c.poll_timeout(), Some(at(61)));
}

#[test]
fn two_checkers_one_down_is_server_down() {
    let cfg = config(
        "virtual_server 10.0.0.1 80 {
            delay_loop 10
            real_server 10.0.0.10 80 {
                TCP_CHECK {
                    connect_timeout 1
                    retry 0
                    warmup 0
                }
                HTTP_GET {
                    url { path /health status_code 200 }
                    connect_timeout 1
                    retry 0
                    warmup 0
                }
            }
        }",
    );
    let mut c = Checkers::new(&cfg, 1);
    assert_eq!(c.len(), 2);
    assert_eq!(c.checkers_of(0, 0).count(), 2);
    c.handle_start(at(0));
    c.handle_timeout(at(1));
    let ids = probes(&drain(&mut c));
    assert_eq!(ids, vec![CheckerId(0), CheckerId(1)]);
    assert!(matches!(
        c.checker(CheckerId(1)).unwrap().probe(),
        ProbeKind::Http { tls: false, .. }
    ));
    c.handle_probe_result(at(1), CheckerId(0), ProbeResult::Ok)
        .unwrap();
    c.handle_probe_result(
        at(1),
        CheckerId(1),
        ProbeResult::Failed(FailReason::HttpStatus(500)),
    )
    .unwrap();
    assert_eq!(drain(&mut c), vec![Action::RealServerDown { vs: 0, rs: 0 }]);
    // The TCP checker going down too leaves the server as it is: only the
    // checker's change (mailed unless no_checker_emails).
    let change = |n, up| Action::CheckerChange {
        checker: CheckerId(n),
        vs: 0,
        rs: 0,
        up,
    };
    answer(&mut c, 11, 11, ProbeResult::TimedOut);
    assert_eq!(drain(&mut c), vec![change(0, false)]);
    // One recovering is not enough; both are.
    c.handle_probe_result(at(11), CheckerId(1), ProbeResult::Ok)
        .unwrap();
    assert_eq!(drain(&mut c), vec![change(1, true)]);
    assert_eq!(c.real_server_state(0, 0), Some((false, 1)));
    answer(&mut c, 21, 21, ProbeResult::Ok);
    assert_eq!(drain(&mut c), vec![Action::RealServerUp { vs: 0, rs: 0 }]);
}

#[test]
fn misc_dynamic_sets_weights_from_exit_codes() {
    let cfg = config(
        "virtual_server 10.0.0.1 80 {
            delay_loop 10
            real_server 10.0.0.10 80 {
                weight 4
                MISC_CHECK {
                    misc_path \"/bin/check.sh arg\"
                    misc_timeout 3
                    misc_dynamic
                    warmup 0
                }
            }
        }",
    );
    let mut c = Checkers::new(&cfg, 1);
    c.handle_start(at(0));
    let step = |c: &mut Checkers, t: u64, code: u8| -> Vec<Action> {
        c.handle_timeout(at(t));
        let acts = drain(c);
        match acts.as_slice() {
            [Action::Probe {
                kind:
                    ProbeKind::Misc {
                        command,
                        timeout,
                        dynamic,
                    },
                ..
            }] => {
                assert_eq!(command.argv, vec!["/bin/check.sh", "arg"]);
                assert_eq!(*timeout, Duration::from_secs(3));
                assert!(*dynamic);
            }
            other => panic!("expected a misc probe at {t}, got {other:?}"),
        }
        c.handle_probe_result(at(t + 1), CheckerId(0), ProbeResult::MiscExit(code))
            .unwrap();
        drain(c)
    };
    // 12 -> weight 10, still up.
    assert_eq!(
        step(&mut c, 1, 12),
        vec![Action::SetWeight {
            vs: 0,
            rs: 0,
            weight: 10
        }]
    );
    assert_eq!(c.real_server_state(0, 0), Some((true, 10)));
    // MISC_CHECK counts delay_loop from the program's start (1 + 10).
    assert_eq!(c.poll_timeout(), Some(at(11)));
    // Same code again: nothing.
    assert!(step(&mut c, 11, 12).is_empty());
    // 1 -> down (misc retry defaults to 0), weight kept.
    assert_eq!(
        step(&mut c, 21, 1),
        vec![Action::RealServerDown { vs: 0, rs: 0 }]
    );
    assert_eq!(c.real_server_state(0, 0), Some((false, 10)));
    // 2 -> up with weight 0.
    assert_eq!(
        step(&mut c, 31, 2),
        vec![
            Action::SetWeight {
                vs: 0,
                rs: 0,
                weight: 0
            },
            Action::RealServerUp { vs: 0, rs: 0 }
        ]
    );
    // 0 -> configured weight back.
    assert_eq!(
        step(&mut c, 41, 0),
        vec![Action::SetWeight {
            vs: 0,
            rs: 0,
            weight: 4
        }]
    );
    assert_eq!(c.real_server_state(0, 0), Some((true, 4)));
}

#[test]
fn misc_without_dynamic_fails_on_any_nonzero_exit() {
    let cfg = config(
        "virtual_server 10.0.0.1 80 {
            delay_loop 10
            real_server 10.0.0.10 80 {
                MISC_CHECK {
                    misc_path /bin/check.sh
                    warmup 0
                }
            }
        }",
    );
    let mut c = Checkers::new(&cfg, 1);
    c.handle_start(at(0));
    answer(&mut c, 1, 1, ProbeResult::MiscExit(5));
    assert_eq!(drain(&mut c), vec![Action::RealServerDown { vs: 0, rs: 0 }]);
    assert_eq!(c.real_server_state(0, 0), Some((false, 1)));
}

#[test]
fn warmup_spreads_first_probes_reproducibly() {
    let text = "virtual_server 10.0.0.1 80 {
        delay_loop 6
        real_server 10.0.0.10 80 { TCP_CHECK { warmup 30 } }
        real_server 10.0.0.11 80 { TCP_CHECK { warmup 30 } }
        real_server 10.0.0.12 80 { TCP_CHECK { warmup 30 } }
        real_server 10.0.0.13 80 { TCP_CHECK { warmup 30 } }
    }";
    let cfg = config(text);
    let firsts = |seed: u64| -> Vec<Instant> {
        let mut c = Checkers::new(&cfg, seed);
        c.handle_start(at(0));
        c.iter().map(|(_, k)| k.next_probe().unwrap()).collect()
    };
    let a = firsts(11);
    assert_eq!(a, firsts(11), "same seed, same schedule");
    assert_ne!(a, firsts(12), "another seed, another schedule");
    assert!(a.iter().all(|&t| t >= at(1) && t <= at(31)), "{a:?}");
    assert!(a.windows(2).any(|w| w[0] != w[1]), "spread: {a:?}");
    // And every first probe does come out exactly then.
    let mut c = Checkers::new(&cfg, 11);
    c.handle_start(at(0));
    let fired = run_until(&mut c, at(31));
    for (n, first) in a.iter().enumerate() {
        let t = fired.iter().find_map(|(t, act)| match act {
            Action::Probe { checker, .. } if *checker == CheckerId(n) => Some(*t),
            _ => None,
        });
        assert_eq!(t, Some(*first), "checker {n}");
    }
}

#[test]
fn servers_without_checkers_are_up_and_unknown_ones_none() {
    let cfg = config(
        "virtual_server 10.0.0.1 80 {
            alpha
            real_server 10.0.0.10 80 { weight 3 }
        }",
    );
    let c = Checkers::new(&cfg, 0);
    assert!(c.is_empty());
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.real_server_state(0, 0), Some((true, 3)));
    assert_eq!(c.real_server_state(0, 1), None);
    assert_eq!(c.real_server_state(1, 0), None);
}
