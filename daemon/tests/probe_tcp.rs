//! TCP_CHECK against a listener, a closed port, a host that never answers
//! and a blackhole route, inside a namespace; results and timings.

mod os_util;
mod probe_util;

use std::net::TcpListener;
use std::time::Duration;

use probe_util::{ip, lab, probe_in, row, tcp, within, BLACKHOLED, DROPPED, SERVER, SLACK};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

#[test]
fn listening_port_passes_at_once() {
    let ns = or_skip!(lab());
    let l = ns.run(|| TcpListener::bind((SERVER, 8081)).unwrap());
    let (r, took) = probe_in(&ns, tcp(SERVER, 8081, 1000));
    row("TCP listening", &r, took);
    assert_eq!(r, ProbeResult::Ok);
    assert!(took < SLACK, "{took:?}");
    // The probe connected (and closed): the listener has the connection.
    l.set_nonblocking(true).unwrap();
    assert!(l.accept().is_ok(), "no connection reached the listener");
}

#[test]
fn closed_port_is_refused_at_once() {
    let ns = or_skip!(lab());
    let (r, took) = probe_in(&ns, tcp(SERVER, 8082, 1000));
    row("TCP closed port", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::Refused));
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn silent_host_fails_at_connect_timeout() {
    let ns = or_skip!(lab());
    let (r, took) = probe_in(&ns, tcp(DROPPED, 80, 1000));
    row("TCP dropped subnet (C=1s)", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::ConnectTimeout));
    assert!(within(took, Duration::from_secs(1), SLACK), "{took:?}");
}

#[test]
fn blackhole_route_means_not_run() {
    // keepalived: EINVAL is outside the "server is down" errnos.
    let ns = or_skip!(lab());
    let (r, took) = probe_in(&ns, tcp(BLACKHOLED, 80, 1000));
    row("TCP blackhole route", &r, took);
    assert_eq!(
        r,
        ProbeResult::NotRun(FailReason::Socket(nix::libc::EINVAL))
    );
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn bindto_a_missing_address_means_not_run() {
    let ns = or_skip!(lab());
    let _l = ns.run(|| TcpListener::bind((SERVER, 8083)).unwrap());
    let mut k = tcp(SERVER, 8083, 1000);
    if let ProbeKind::Tcp { bindto, .. } = &mut k {
        *bindto = Some(ip("10.77.0.99"));
    }
    let (r, took) = probe_in(&ns, k);
    row("TCP bindto missing address", &r, took);
    assert_eq!(
        r,
        ProbeResult::NotRun(FailReason::Socket(nix::libc::EADDRNOTAVAIL))
    );
}

#[test]
fn bind_port_is_the_source_and_reusable_probe_after_probe() {
    let ns = or_skip!(lab());
    let l = ns.run(|| TcpListener::bind((SERVER, 8084)).unwrap());
    let mut k = tcp(SERVER, 8084, 1000);
    if let ProbeKind::Tcp {
        bindto, bind_port, ..
    } = &mut k
    {
        *bindto = Some(ip(SERVER));
        *bind_port = Some(40123);
    }
    for i in 0..3 {
        // One delay_loop apart, as a checker runs them (a back-to-back probe
        // can race the previous connection's teardown on this one host; a
        // TIME_WAIT from a graceful close would still last 60 s and fail).
        std::thread::sleep(std::time::Duration::from_millis(200));
        let (r, took) = probe_in(&ns, k.clone());
        row(&format!("TCP bind_port 40123, probe {}", i + 1), &r, took);
        assert_eq!(r, ProbeResult::Ok, "probe {}", i + 1);
        let (_, peer) = l.accept().unwrap();
        assert_eq!(peer.port(), 40123);
        assert_eq!(peer.ip(), ip(SERVER));
    }
}
