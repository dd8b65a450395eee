//! SMTP_CHECK, UDP_CHECK, PING_CHECK and FILE_CHECK from keepalived.conf
//! text to probes and verdicts, on a simulated clock.

use vigil_check::{Action, Checkers, Instant, ProbeKind, ProbeResult};
use vigil_config::{parse_text, show, MemoryLoader, Options};
use vigil_model::CheckKind;

fn config(text: &str) -> (vigil_model::Config, Vec<String>) {
    let loader = MemoryLoader::new();
    match parse_text("keepalived.conf", text, &loader, Options::default()) {
        Ok((cfg, warnings)) => (cfg, warnings.iter().map(|w| w.to_string()).collect()),
        Err(d) => panic!("config refused: {d:?}"),
    }
}

fn drain(c: &mut Checkers) -> Vec<Action> {
    std::iter::from_fn(|| c.poll_action()).collect()
}

const TEXT: &str = r#"
track_file up_file {
    file /run/vigil-test/up
    weight 4
}
virtual_server 10.0.0.1 25 {
    delay_loop 10
    connect_timeout 7
    real_server 10.0.0.10 25 {
        weight 100
        SMTP_CHECK {
            helo_name mx.example
            retry 2
            host {
                connect_ip 10.0.0.20
                connect_port 2525
            }
            host {
                connect_ip 10.0.0.21
                connect_timeout 2
            }
        }
        UDP_CHECK {
            connect_port 53
            payload 0a0B ff
            require_reply
        }
        PING_CHECK {
            connect_timeout 1
        }
        FILE_CHECK {
            track_file up_file
        }
        FILE_CHECK {
            track_file up_file
            weight 0 reverse
        }
    }
}
"#;

#[test]
fn the_checkers_resolve_as_keepalived_resolves_them() {
    let (cfg, warnings) = config(TEXT);
    assert!(warnings.is_empty(), "{warnings:?}");
    let rs = &cfg.virtual_servers[0].real_servers[0];
    let kinds: Vec<&CheckKind> = rs.checkers.iter().map(|c| &c.kind).collect();
    // Two SMTP host blocks are two checkers; the SMTP_CHECK's own
    // connection is not used (no connection option of its own, hosts).
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    let smtp: Vec<_> = rs.checkers[..2].iter().map(|c| &c.common).collect();
    assert_eq!(
        (smtp[0].connect_ip.to_string(), smtp[0].connect_port),
        ("10.0.0.20".into(), 2525)
    );
    assert_eq!(
        (smtp[1].connect_ip.to_string(), smtp[1].connect_port),
        ("10.0.0.21".into(), 25)
    );
    // A host's connect_timeout, else the virtual server's; retry from the
    // checker.
    assert_eq!(smtp[0].connect_timeout.as_secs(), 7);
    assert_eq!(smtp[1].connect_timeout.as_secs(), 2);
    assert_eq!((smtp[0].retry, smtp[1].retry), (2, 2));
    let CheckKind::Smtp(m) = kinds[0] else {
        panic!("{:?}", kinds[0])
    };
    assert_eq!(m.helo_name, "mx.example");
    let CheckKind::Udp(u) = kinds[2] else {
        panic!("{:?}", kinds[2])
    };
    assert_eq!(u.payload.as_deref(), Some(&[0x0a, 0x0b, 0xff][..]));
    assert!(u.require_reply);
    assert_eq!(rs.checkers[2].common.connect_port, 53);
    assert_eq!(kinds[3], &CheckKind::Ping);
    let (CheckKind::File(a), CheckKind::File(b)) = (kinds[4], kinds[5]) else {
        panic!("{kinds:?}")
    };
    assert_eq!(
        (a.path.as_str(), a.weight, a.reverse),
        ("/run/vigil-test/up", 4, false)
    );
    assert_eq!((b.weight, b.reverse), (0, true));
    // `show` writes it back to the same model.
    let (again, _) = config(&show(&cfg));
    assert_eq!(again, cfg);
}

#[test]
fn no_host_and_a_missing_track_file_follow_keepalived() {
    let (cfg, warnings) = config(
        "virtual_server 10.0.0.1 25 {
            real_server 10.0.0.10 25 {
                SMTP_CHECK { }
                FILE_CHECK { track_file nowhere }
            }
        }",
    );
    let rs = &cfg.virtual_servers[0].real_servers[0];
    assert_eq!(rs.checkers.len(), 1);
    assert_eq!(rs.checkers[0].common.connect_port, 25);
    let CheckKind::Smtp(m) = &rs.checkers[0].kind else {
        panic!()
    };
    assert_eq!(m.helo_name, "smtpchecker.keepalived.org");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("track_file nowhere not found")),
        "{warnings:?}"
    );
}

/// Answers every due probe of `c` at `now` with `answer(kind)`.
fn answer(
    c: &mut Checkers,
    now: Instant,
    answer: impl Fn(&ProbeKind) -> ProbeResult,
) -> Vec<Action> {
    c.handle_timeout(now);
    let mut out = Vec::new();
    for a in drain(c) {
        match a {
            Action::Probe { checker, .. } => {
                let kind = c.checker(checker).unwrap().probe().clone();
                c.handle_probe_result(now, checker, answer(&kind)).unwrap();
            }
            other => out.push(other),
        }
    }
    out.extend(drain(c));
    out
}

#[test]
fn file_values_move_the_weight_and_the_state() {
    let (cfg, _) = config(
        "track_file f {
            file /x
            weight 10
        }
        virtual_server 10.0.0.1 80 {
            delay_loop 5
            alpha
            real_server 10.0.0.10 80 {
                weight 100
                FILE_CHECK { track_file f }
            }
        }",
    );
    let mut c = Checkers::new(&cfg, 3);
    c.handle_start(Instant::ZERO);
    // alpha does not hold a FILE_CHECK down.
    assert_eq!(c.real_server_state(0, 0), Some((true, 100)));
    let file = |v: i64| move |_: &ProbeKind| ProbeResult::FileValue(v);
    let t1 = Instant::from_secs(1);
    let out = answer(&mut c, t1, file(3));
    assert!(
        out.contains(&Action::SetWeight {
            vs: 0,
            rs: 0,
            weight: 130
        }),
        "{out:?}"
    );
    assert_eq!(c.real_server_state(0, 0), Some((true, 130)));
    let out = answer(&mut c, Instant::from_secs(6), file(-20));
    assert!(
        out.contains(&Action::SetWeight {
            vs: 0,
            rs: 0,
            weight: 0
        }),
        "{out:?}"
    );
    // FAULT: down at once (no retry), the file's share dropped.
    let out = answer(&mut c, Instant::from_secs(11), file(-300_000_000));
    assert!(
        out.contains(&Action::RealServerDown { vs: 0, rs: 0 }),
        "{out:?}"
    );
    assert_eq!(c.real_server_state(0, 0), Some((false, 100)));
    let out = answer(&mut c, Instant::from_secs(16), file(0));
    assert!(
        out.contains(&Action::RealServerUp { vs: 0, rs: 0 }),
        "{out:?}"
    );
}

#[test]
fn weight_zero_files_are_up_at_zero_and_down_otherwise() {
    let (cfg, _) = config(
        "track_file f {
            file /x
            weight 0
        }
        virtual_server 10.0.0.1 80 {
            delay_loop 5
            real_server 10.0.0.10 80 {
                FILE_CHECK { track_file f }
            }
        }",
    );
    let mut c = Checkers::new(&cfg, 3);
    c.handle_start(Instant::ZERO);
    let out = answer(&mut c, Instant::from_secs(1), |_| ProbeResult::FileValue(1));
    assert!(
        out.contains(&Action::RealServerDown { vs: 0, rs: 0 }),
        "{out:?}"
    );
    let out = answer(&mut c, Instant::from_secs(6), |_| ProbeResult::FileValue(0));
    assert!(
        out.contains(&Action::RealServerUp { vs: 0, rs: 0 }),
        "{out:?}"
    );
    assert_eq!(c.real_server_state(0, 0), Some((true, 1)));
}
