//! DNS_CHECK against a UDP responder written for the test, inside a
//! namespace: NOERROR, REFUSED, a wrong id before the right one, silence,
//! and a closed port; results and timings.

mod os_util;
mod probe_util;

use std::net::UdpSocket;
use std::sync::mpsc;
use std::time::Duration;

use probe_util::{ip, lab, probe_in, row, within, SERVER, SLACK};
use vigil_check::{FailReason, ProbeKind, ProbeResult};
use vigil_model::DnsType;

#[derive(Clone, Copy)]
enum Behaviour {
    /// Answer with this RCODE.
    Rcode(u8),
    /// First an answer with another id, then NOERROR with ours.
    WrongIdFirst,
    /// Never answer.
    Silent,
}

/// Answers queries on SERVER:`port`; the queries come out of the receiver.
fn serve(ns: &os_util::Netns, port: u16, b: Behaviour) -> mpsc::Receiver<Vec<u8>> {
    let s = ns.run(move || UdpSocket::bind((SERVER, port)).unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, from)) = s.recv_from(&mut buf) else {
                return;
            };
            let q = buf[..n].to_vec();
            let _ = tx.send(q.clone());
            let answer = |id: [u8; 2], rcode: u8| {
                let mut a = q.clone();
                a[0..2].copy_from_slice(&id);
                a[2] = 0x81; // QR, RD
                a[3] = 0x80 | rcode; // RA, RCODE
                a
            };
            match b {
                Behaviour::Rcode(rc) => {
                    let _ = s.send_to(&answer([q[0], q[1]], rc), from);
                }
                Behaviour::WrongIdFirst => {
                    let _ = s.send_to(&answer([q[0] ^ 0xff, q[1]], 0), from);
                    let _ = s.send_to(&q[..5], from); // too short: ignored
                    std::thread::sleep(Duration::from_millis(100));
                    let _ = s.send_to(&answer([q[0], q[1]], 0), from);
                }
                Behaviour::Silent => {}
            }
        }
    });
    rx
}

fn dns(port: u16, timeout_ms: u64, name: &str) -> ProbeKind {
    ProbeKind::Dns {
        connect_ip: ip(SERVER),
        port,
        bindto: None,
        bind_port: None,
        timeout: Duration::from_millis(timeout_ms),
        query_type: DnsType::Soa,
        name: name.into(),
    }
}

#[test]
fn noerror_passes_and_the_query_is_keepalived_s() {
    let ns = or_skip!(lab());
    let qs = serve(&ns, 5353, Behaviour::Rcode(0));
    let (r, took) = probe_in(&ns, dns(5353, 1000, "example.org."));
    row("DNS NOERROR", &r, took);
    assert_eq!(r, ProbeResult::Ok);
    assert!(took < SLACK, "{took:?}");
    let q = qs.recv_timeout(Duration::from_secs(1)).unwrap();
    // RD only, one question, then the name, type SOA, class IN.
    assert_eq!(&q[2..12], &[0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&q[12..], b"\x07example\x03org\x00\x00\x06\x00\x01");
}

#[test]
fn refused_fails_with_its_rcode() {
    let ns = or_skip!(lab());
    let _qs = serve(&ns, 5353, Behaviour::Rcode(5));
    let (r, took) = probe_in(&ns, dns(5353, 1000, "."));
    row("DNS REFUSED", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::DnsRcode(5)));
    assert_eq!(r.to_string(), "failed: DNS rcode 5 (REFUSED)");
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn a_wrong_id_is_ignored_until_the_right_one() {
    let ns = or_skip!(lab());
    let _qs = serve(&ns, 5353, Behaviour::WrongIdFirst);
    let (r, took) = probe_in(&ns, dns(5353, 1000, "example.org"));
    row("DNS wrong id + short, then right id", &r, took);
    assert_eq!(r, ProbeResult::Ok);
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(took < Duration::from_millis(100) + SLACK, "{took:?}");
}

#[test]
fn a_silent_server_fails_at_connect_timeout() {
    let ns = or_skip!(lab());
    let _qs = serve(&ns, 5353, Behaviour::Silent);
    let (r, took) = probe_in(&ns, dns(5353, 1000, "."));
    row("DNS silent (C=1s)", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::ResponseTimeout));
    assert!(within(took, Duration::from_secs(1), SLACK), "{took:?}");
}

#[test]
fn a_closed_port_is_refused_by_icmp() {
    let ns = or_skip!(lab());
    let (r, took) = probe_in(&ns, dns(5354, 1000, "."));
    row("DNS closed port", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::Refused));
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn a_name_that_cannot_be_encoded_does_not_run() {
    let ns = or_skip!(lab());
    let (r, _) = probe_in(&ns, dns(5353, 1000, "a..b"));
    assert_eq!(r, ProbeResult::NotRun(FailReason::BadDnsName));
}
