//! The LVS seed configurations build the checkers keepalived would run.

use std::time::Duration;

use vigil_check::{CheckerId, Checkers, Instant, ProbeKind};
use vigil_config::{parse_text, MemoryLoader, Options};

fn load(name: &str, text: &str) -> Checkers {
    let loader = MemoryLoader::new();
    match parse_text(name, text, &loader, Options::default()) {
        Ok((cfg, _)) => Checkers::new(&cfg, 1),
        Err(d) => panic!("{name} refused: {d:?}"),
    }
}

/// (vs, rs, is_http, port, connect_timeout s, delay_before_retry s)
type Expect = (usize, usize, bool, u16, u64, u64);

fn check(c: &Checkers, expect: &[Expect]) {
    assert_eq!(c.len(), expect.len());
    for (n, &(vs, rs, http, port, timeout, dbr)) in expect.iter().enumerate() {
        let k = c.checker(CheckerId(n)).unwrap();
        assert_eq!(
            (k.real_server().vs, k.real_server().rs),
            (vs, rs),
            "checker {n}"
        );
        assert_eq!(k.retry(), 3, "checker {n}");
        assert_eq!(
            k.delay_before_retry(),
            Duration::from_secs(dbr),
            "checker {n}"
        );
        assert_eq!(k.delay_loop(), Duration::from_secs(6), "checker {n}");
        // warmup defaults to the delay_loop.
        assert_eq!(k.warmup(), Duration::from_secs(6), "checker {n}");
        assert_eq!(
            k.probe().timeout(),
            Duration::from_secs(timeout),
            "checker {n}"
        );
        match k.probe() {
            ProbeKind::Http {
                tls, port: p, urls, ..
            } => {
                assert!(http && !tls, "checker {n}");
                assert_eq!(*p, port);
                assert_eq!(urls.len(), 1);
                assert_eq!(urls[0].path, "/");
                assert_eq!(
                    (urls[0].status[0].first, urls[0].status[0].last),
                    (200, 200)
                );
            }
            ProbeKind::Tcp { port: p, .. } => {
                assert!(!http, "checker {n}");
                assert_eq!(*p, port);
            }
            other => panic!("checker {n}: unexpected {other:?}"),
        }
        assert_eq!(c.real_server_state(vs, rs), Some((true, 1)));
    }
}

#[test]
fn seed_07_two_real_servers_http_and_tcp() {
    let mut c = load(
        "07",
        include_str!("../../../tests/data/seed-configs/07-lvs-dr.conf"),
    );
    check(&c, &[(0, 0, true, 80, 2, 3), (0, 1, false, 80, 2, 3)]);
    // First probes within bootstrap + warmup (1..=7 s).
    c.handle_start(Instant::ZERO);
    let t = c.poll_timeout().unwrap();
    assert!(
        t >= Instant::from_secs(1) && t <= Instant::from_secs(7),
        "{t}"
    );
}

#[test]
fn seed_08_two_services_four_checkers() {
    let c = load(
        "08",
        include_str!("../../../tests/data/seed-configs/08-lvs-dr-dual-master.conf"),
    );
    check(
        &c,
        &[
            (0, 0, true, 80, 2, 3),
            (0, 1, false, 80, 2, 3),
            (1, 0, false, 3306, 10, 5),
            (1, 1, false, 3306, 10, 5),
        ],
    );
}
