//! UDP_CHECK inside a namespace: an echo server, a closed port (ICMP port
//! unreachable) and a silent server, with and without `require_reply`;
//! results and timings.

mod os_util;
mod probe_util;

use std::net::UdpSocket;
use std::sync::mpsc;
use std::time::Duration;

use probe_util::{ip, lab, probe_in, row, within, SERVER, SLACK};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

/// A UDP server on SERVER:`port` that echoes when `echo`, else stays
/// silent; the datagrams received come out of the receiver.
fn serve(ns: &os_util::Netns, port: u16, echo: bool) -> mpsc::Receiver<Vec<u8>> {
    let s = ns.run(move || UdpSocket::bind((SERVER, port)).unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = tx.send(buf[..n].to_vec());
            if echo {
                let _ = s.send_to(&buf[..n], from);
            }
        }
    });
    rx
}

fn udp(port: u16, timeout_ms: u64, payload: &[u8], require_reply: bool) -> ProbeKind {
    ProbeKind::Udp {
        connect_ip: ip(SERVER),
        port,
        bindto: None,
        bind_port: None,
        timeout: Duration::from_millis(timeout_ms),
        payload: payload.to_vec(),
        require_reply,
    }
}

#[test]
fn an_echo_passes_at_once_with_require_reply() {
    let ns = or_skip!(lab());
    let got = serve(&ns, 5000, true);
    let (r, took) = probe_in(&ns, udp(5000, 1000, b"\x01\x02ping", true));
    row("UDP echo, require_reply", &r, took);
    assert_eq!(r, ProbeResult::Ok);
    assert!(took < SLACK, "{took:?}");
    assert_eq!(
        got.recv_timeout(Duration::from_secs(1)).unwrap(),
        b"\x01\x02ping"
    );
}

#[test]
fn a_closed_port_fails_at_once_by_icmp() {
    let ns = or_skip!(lab());
    for require_reply in [false, true] {
        let (r, took) = probe_in(&ns, udp(5001, 1000, b"x", require_reply));
        row(
            &format!("UDP closed port, require_reply {require_reply}"),
            &r,
            took,
        );
        assert_eq!(r, ProbeResult::Failed(FailReason::Refused));
        assert!(took < SLACK, "{took:?}");
    }
}

#[test]
fn silence_passes_without_require_reply_at_connect_timeout() {
    let ns = or_skip!(lab());
    let _got = serve(&ns, 5002, false);
    let (r, took) = probe_in(&ns, udp(5002, 500, b"x", false));
    row("UDP silent (C=0.5s)", &r, took);
    assert_eq!(r, ProbeResult::Ok);
    assert!(within(took, Duration::from_millis(500), SLACK), "{took:?}");
}

#[test]
fn silence_fails_with_require_reply_at_connect_timeout() {
    let ns = or_skip!(lab());
    let _got = serve(&ns, 5002, false);
    let (r, took) = probe_in(&ns, udp(5002, 500, b"x", true));
    row("UDP silent, require_reply (C=0.5s)", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::NoReply));
    assert!(within(took, Duration::from_millis(500), SLACK), "{took:?}");
}
