//! What `no_checker_emails` and `checker_log_all_failures` act on: a
//! checker changing while its real server stays down
//! (`Action::CheckerChange`), and the failed attempts of a live checker
//! (`Checkers::fails_while_up`), on a simulated clock.

use vigil_check::{Action, CheckerId, Checkers, FailReason, Instant, ProbeResult};
use vigil_config::{parse_text, MemoryLoader, Options};

fn checkers() -> Checkers {
    let text = "virtual_server 10.0.0.1 80 {
        delay_loop 10
        real_server 10.0.0.10 80 {
            TCP_CHECK {
                connect_port 80
                warmup 0
                retry 1
            }
            TCP_CHECK {
                connect_port 81
                warmup 0
                retry 1
            }
        }
    }";
    let (cfg, w) = parse_text("k.conf", text, &MemoryLoader::new(), Options::default()).unwrap();
    assert!(w.is_empty(), "{w:?}");
    Checkers::new(&cfg, 1)
}

/// Fires what is due at `ms`, answers each probe with `answer(checker)`;
/// returns the actions other than probes and, per failure, whether it
/// counted as a failure of a live checker.
fn round(
    c: &mut Checkers,
    ms: u64,
    answer: impl Fn(usize) -> ProbeResult,
) -> (Vec<Action>, Vec<(usize, bool)>) {
    let now = Instant::from_millis(ms);
    c.handle_timeout(now);
    let mut out = Vec::new();
    let mut logged = Vec::new();
    let due: Vec<Action> = std::iter::from_fn(|| c.poll_action()).collect();
    for a in due {
        match a {
            Action::Probe { checker, .. } => {
                let r = answer(checker.0);
                if r != ProbeResult::Ok {
                    logged.push((checker.0, c.fails_while_up(checker, &r)));
                }
                c.handle_probe_result(now, checker, r).unwrap();
            }
            other => out.push(other),
        }
    }
    out.extend(std::iter::from_fn(|| c.poll_action()));
    (out, logged)
}

#[test]
fn a_second_checker_changes_while_the_server_stays_down() {
    let mut c = checkers();
    c.handle_start(Instant::ZERO);
    let ok = |_| ProbeResult::Ok;
    let refused = ProbeResult::Failed(FailReason::Refused);
    let (a, _) = round(&mut c, 1000, ok);
    assert!(a.is_empty(), "{a:?}");
    // Checker 0 fails: a retry first (logged), then down (logged).
    let (a, l) = round(&mut c, 11_000, |i| {
        if i == 0 {
            refused
        } else {
            ProbeResult::Ok
        }
    });
    assert!(a.is_empty(), "a retry changes nothing: {a:?}");
    assert_eq!(l, [(0, true)]);
    let (a, l) = round(&mut c, 12_000, |_| refused);
    assert_eq!(a, [Action::RealServerDown { vs: 0, rs: 0 }]);
    assert_eq!(l, [(0, true)]);
    // Checker 1 fails once: a retry of a live checker, logged.
    let (a, l) = round(&mut c, 21_000, |_| refused);
    assert!(a.is_empty(), "{a:?}");
    assert_eq!(l, [(1, true)]);
    // Checker 0, down, fails again (not "while up"); checker 1 goes down
    // while the server is already down: a checker change only.
    let (a, l) = round(&mut c, 22_000, |_| refused);
    let mut l = l;
    l.sort();
    assert_eq!(l, [(0, false), (1, true)]);
    let change = |up| Action::CheckerChange {
        checker: CheckerId(1),
        vs: 0,
        rs: 0,
        up,
    };
    assert_eq!(a, [change(false)]);
    // It comes back while checker 0 is still down: again only the checker.
    let (a, _) = round(&mut c, 32_000, |i| {
        if i == 1 {
            ProbeResult::Ok
        } else {
            refused
        }
    });
    assert_eq!(a, [change(true)]);
    // Checker 0 comes back: the server is up.
    let (a, _) = round(&mut c, 42_000, |_| ProbeResult::Ok);
    assert_eq!(a, [Action::RealServerUp { vs: 0, rs: 0 }]);
}
