//! UDP_CHECK inside a namespace: an echo server, a closed port (ICMP port
//! unreachable) and a silent server, with and without `require_reply`;
//! results and timings; `require_reply HEX` with its lengths against a
//! responder that answers right, wrong, short and long.

mod os_util;
mod probe_util;

use std::net::UdpSocket;
use std::sync::mpsc;
use std::time::Duration;

use probe_util::{ip, lab, probe_in, row, within, SERVER, SLACK};
use vigil_check::udp::ReplyMatch;
use vigil_check::{FailReason, ProbeKind, ProbeResult};
use vigil_model::ReplyPattern;

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
    udp_reply(port, timeout_ms, payload, require_reply, None)
}

fn udp_matching(
    port: u16,
    timeout_ms: u64,
    payload: &[u8],
    require_reply: bool,
    reply: ReplyMatch,
) -> ProbeKind {
    udp_reply(
        port,
        timeout_ms,
        payload,
        require_reply,
        Some(Box::new(reply)),
    )
}

fn udp_reply(
    port: u16,
    timeout_ms: u64,
    payload: &[u8],
    require_reply: bool,
    reply: Option<Box<ReplyMatch>>,
) -> ProbeKind {
    ProbeKind::Udp {
        connect_ip: ip(SERVER),
        port,
        bindto: None,
        bind_port: None,
        timeout: Duration::from_millis(timeout_ms),
        payload: payload.to_vec(),
        require_reply,
        reply,
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

/// A UDP server on SERVER:`port` answering every datagram with `answer`.
fn serve_fixed(ns: &os_util::Netns, port: u16, answer: Vec<u8>) {
    let s = ns.run(move || UdpSocket::bind((SERVER, port)).unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((_, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&answer, from);
        }
    });
}

#[test]
fn require_reply_hex_judges_content_and_lengths() {
    let ns = or_skip!(lab());
    // `require_reply 4f4b x0`, `min_reply_length 3`, `max_reply_length 8`:
    // "OK", then any high nibble and a low nibble 0.
    let want = ReplyMatch {
        pattern: Some(ReplyPattern {
            data: vec![0x4f, 0x4b, 0x00],
            mask: vec![0, 0, 0xf0],
        }),
        min_len: 3,
        max_len: 8,
    };
    let cases: [(&str, &[u8], ProbeResult); 5] = [
        ("right", b"OK\x70", ProbeResult::Ok),
        ("right, longer", b"OK\x30tail", ProbeResult::Ok),
        (
            "wrong",
            b"NO\x70",
            ProbeResult::Failed(FailReason::ReplyMismatch),
        ),
        (
            "short",
            b"OK",
            ProbeResult::Failed(FailReason::ReplyMismatch),
        ),
        (
            "long",
            b"OK\x70 too long",
            ProbeResult::Failed(FailReason::ReplyMismatch),
        ),
    ];
    for (i, (what, answer, expect)) in cases.into_iter().enumerate() {
        let port = 5100 + i as u16;
        serve_fixed(&ns, port, answer.to_vec());
        let (r, took) = probe_in(&ns, udp_matching(port, 1000, b"q", true, want.clone()));
        row(&format!("UDP require_reply HEX, answer {what}"), &r, took);
        assert_eq!(r, expect, "{what}");
        assert!(took < SLACK, "{what}: {took:?}");
    }
}
