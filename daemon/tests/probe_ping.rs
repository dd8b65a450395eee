//! PING_CHECK inside a namespace: a live address (IPv4 and IPv6), an
//! address whose frames are dropped, through a ping socket and, with
//! ping_group_range closed, through the raw-socket fallback.

mod os_util;
mod probe_util;

use std::time::Duration;

use probe_util::{ip, lab, probe_in, row, within, DROPPED, SERVER, SLACK};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

fn ping(addr: &str, timeout_ms: u64) -> ProbeKind {
    ProbeKind::Ping {
        connect_ip: ip(addr),
        bindto: None,
        timeout: Duration::from_millis(timeout_ms),
    }
}

#[test]
fn a_live_address_answers_by_ping_socket_and_by_raw_socket() {
    let ns = or_skip!(lab());
    ns.sh("ip addr add fd77::1/64 dev v0 nodad");
    // Per namespace: "0 0" admits root's group to ping sockets; "1 0"
    // admits nobody, so the probe falls back to a raw socket.
    for (range, how) in [("0 0", "ping socket"), ("1 0", "raw socket")] {
        ns.sh(&format!("sysctl -qw net.ipv4.ping_group_range='{range}'"));
        for addr in [SERVER, "fd77::1"] {
            let (r, took) = probe_in(&ns, ping(addr, 1000));
            row(&format!("PING {addr} ({how})"), &r, took);
            assert_eq!(r, ProbeResult::Ok, "{addr} by {how}");
            assert!(took < SLACK, "{took:?}");
        }
    }
}

#[test]
fn a_dropped_address_fails_at_connect_timeout() {
    let ns = or_skip!(lab());
    for (range, how) in [("0 0", "ping socket"), ("1 0", "raw socket")] {
        ns.sh(&format!("sysctl -qw net.ipv4.ping_group_range='{range}'"));
        let (r, took) = probe_in(&ns, ping(DROPPED, 500));
        row(&format!("PING dropped ({how}, C=0.5s)"), &r, took);
        assert_eq!(r, ProbeResult::Failed(FailReason::NoReply));
        assert!(within(took, Duration::from_millis(500), SLACK), "{took:?}");
    }
}
