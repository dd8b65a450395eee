//! PING_CHECK: one ICMP / ICMPv6 echo request, passed by its reply within
//! connect_timeout. An unprivileged ping socket (`SOCK_DGRAM`,
//! `IPPROTO_ICMP[V6]`) is used where `net.ipv4.ping_group_range` admits
//! our group; otherwise (EACCES/EPERM) a raw socket. keepalived instead
//! widens ping_group_range itself; vigil leaves the sysctl alone.

use std::net::{IpAddr, UdpSocket};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use nix::libc;
use smol::{future, Async, Timer};
use socket2::{Protocol, SockAddr, Type};
use vigil_check::{icmp, FailReason, ProbeResult};

use super::connect::{self, Target};

/// Sequence numbers across probes (keepalived's `seq_no`).
static SEQ: AtomicU16 = AtomicU16::new(0);

pub(super) async fn probe(ip: IpAddr, bindto: Option<IpAddr>, timeout: Duration) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let t = Target {
        ip,
        port: 0,
        bindto,
        bind_port: None,
    };
    let v6 = ip.is_ipv6();
    let proto = if v6 {
        Protocol::ICMPV6
    } else {
        Protocol::ICMPV4
    };
    let (s, raw) = match connect::socket(&t, Type::DGRAM, proto) {
        Ok(s) => (s, false),
        Err(ProbeResult::NotRun(FailReason::Socket(libc::EACCES | libc::EPERM))) => {
            match connect::socket(&t, Type::RAW, proto) {
                Ok(s) => (s, true),
                Err(r) => return r,
            }
        }
        Err(r) => return r,
    };
    if let Err(e) = s.connect(&SockAddr::from(std::net::SocketAddr::new(ip, 0))) {
        return connect::classify(&e);
    }
    let sock = match Async::new_nonblocking(UdpSocket::from(s)) {
        Ok(s) => s,
        Err(e) => return connect::not_run(&e),
    };
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    // A ping socket's kernel sets the id (its port) and filters by it; on a
    // raw socket we pick one and filter ourselves.
    let id = if raw {
        Some((std::process::id() as u16) ^ seq.rotate_left(8))
    } else {
        None
    };
    let request = icmp::echo_request(v6, id.unwrap_or(0), seq);
    let exchange = async {
        if let Err(e) = sock.send(&request).await {
            return connect::classify(&e);
        }
        let mut buf = [0u8; 1500];
        loop {
            match sock.recv(&mut buf).await {
                Ok(n) => {
                    if icmp::is_reply(v6, &buf[..n], raw && !v6, id, seq) {
                        return ProbeResult::Ok;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return connect::classify(&e),
            }
        }
    };
    let timeout = async {
        Timer::at(deadline).await;
        ProbeResult::Failed(FailReason::NoReply)
    };
    future::or(exchange, timeout).await
}
