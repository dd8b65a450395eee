//! The LVS thread's TCP_CHECK loop (`os::probe::TcpPool`) in a namespace:
//! the same verdicts as the async probe, many connects at once, deadlines
//! kept, slots reused, and the caller's bell reported.

mod os_util;
mod probe_util;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use probe_util::{lab, tcp, BLACKHOLED, DROPPED, SERVER, SLACK};
use vigil::os::clock;
use vigil::os::probe::{Bell, TcpPool};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

/// Starts every probe (token = index), then waits until all have ended or
/// `limit` passed; each result with when it came.
fn run_all(kinds: &[ProbeKind], limit: Duration) -> Vec<(u64, ProbeResult, Duration)> {
    let mut pool = TcpPool::new().unwrap();
    let mut done = Vec::new();
    let t0 = Instant::now();
    for (i, k) in kinds.iter().enumerate() {
        assert!(pool.start(i as u64, k, clock::now_us(), &mut done));
    }
    let mut out: Vec<_> = done.drain(..).map(|(t, r)| (t, r, t0.elapsed())).collect();
    while out.len() < kinds.len() && t0.elapsed() < limit {
        let wait = pool
            .next_deadline()
            .map(|d| clock::until(clock::now_us(), d));
        pool.wait(wait, clock::now_us, &mut done).unwrap();
        out.extend(done.drain(..).map(|(t, r)| (t, r, t0.elapsed())));
    }
    assert_eq!(pool.in_flight(), 0, "connects left in flight");
    out.sort_by_key(|(t, _, _)| *t);
    out
}

#[test]
fn verdicts_match_the_async_probe() {
    let ns = or_skip!(lab());
    let out = ns.run(|| {
        let _l = TcpListener::bind((SERVER, 8091)).unwrap();
        run_all(
            &[
                tcp(SERVER, 8091, 1000),
                tcp(SERVER, 8092, 1000),
                tcp(DROPPED, 80, 600),
                tcp(BLACKHOLED, 80, 1000),
            ],
            Duration::from_secs(3),
        )
    });
    println!("{out:?}");
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].1, ProbeResult::Ok);
    assert!(out[0].2 < SLACK);
    assert_eq!(out[1].1, ProbeResult::Failed(FailReason::Refused));
    assert!(out[1].2 < SLACK);
    assert_eq!(out[2].1, ProbeResult::Failed(FailReason::ConnectTimeout));
    let late = out[2].2;
    assert!(
        late >= Duration::from_millis(600) && late < Duration::from_millis(600) + SLACK,
        "{late:?}"
    );
    assert!(
        matches!(out[3].1, ProbeResult::NotRun(FailReason::Socket(_))),
        "{:?}",
        out[3].1
    );
}

#[test]
fn a_thousand_connects_at_once_and_slots_reused() {
    let ns = or_skip!(lab());
    let (first, second) = ns.run(|| {
        let l = TcpListener::bind((SERVER, 8093)).unwrap();
        l.set_nonblocking(true).unwrap();
        // Drain the accept queue as we go, like a real server.
        let kinds: Vec<_> = (0..1000).map(|_| tcp(SERVER, 8093, 2000)).collect();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = stop.clone();
        let acceptor = std::thread::spawn(move || {
            let mut n = 0usize;
            while !s2.load(std::sync::atomic::Ordering::Relaxed) {
                match l.accept() {
                    Ok(_) => n += 1,
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
            n
        });
        let first = run_all(&kinds, Duration::from_secs(10));
        let second = run_all(&kinds, Duration::from_secs(10));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let accepted = acceptor.join().unwrap();
        assert!(accepted > 0);
        (first, second)
    });
    for out in [&first, &second] {
        assert_eq!(out.len(), 1000);
        let ok = out.iter().filter(|(_, r, _)| *r == ProbeResult::Ok).count();
        assert_eq!(
            ok,
            1000,
            "{:?}",
            out.iter().find(|x| x.1 != ProbeResult::Ok)
        );
    }
}

#[test]
fn the_bell_wakes_the_wait_and_other_kinds_are_refused() {
    let mut pool = TcpPool::new().unwrap();
    let bell = Bell::new().unwrap();
    pool.watch(&bell, 0).unwrap();
    let mut done = Vec::new();
    let file = ProbeKind::File {
        path: "/nonexistent".into(),
        weight: 0,
        reverse: false,
    };
    assert!(!pool.start(1, &file, clock::now_us(), &mut done));
    assert!(done.is_empty());
    // Nothing rings: the wait times out with nothing woken.
    let t0 = Instant::now();
    let w = pool
        .wait(Some(Duration::from_millis(50)), clock::now_us, &mut done)
        .unwrap();
    assert_eq!(w.keys, 0);
    assert!(t0.elapsed() >= Duration::from_millis(50));
    bell.post();
    bell.post();
    let t0 = Instant::now();
    let w = pool
        .wait(Some(Duration::from_secs(5)), clock::now_us, &mut done)
        .unwrap();
    assert_eq!(w.keys, 1);
    assert!(t0.elapsed() < Duration::from_millis(500));
    bell.drain();
    let w = pool
        .wait(Some(Duration::from_millis(20)), clock::now_us, &mut done)
        .unwrap();
    assert_eq!(w.keys, 0, "a drained bell still rings");
}
