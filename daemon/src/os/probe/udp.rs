//! UDP_CHECK: one datagram to a connected socket with IP(V6)_RECVERR, as
//! keepalived sets it, so that every ICMP destination unreachable (not
//! only port unreachable) comes back as a socket error and fails the
//! check. A reply passes if it matches `require_reply HEX` and its
//! lengths ([`ReplyMatch`]); silence until connect_timeout passes, unless
//! `require_reply`.

use std::net::{IpAddr, UdpSocket};
use std::time::{Duration, Instant};

use nix::sys::socket::{setsockopt, sockopt};
use smol::{future, Async, Timer};
use socket2::{Protocol, SockAddr, Type};
use vigil_check::udp::ReplyMatch;
use vigil_check::{FailReason, ProbeResult};

use super::connect::{self, Target};

/// Largest reply read (a UDP datagram's payload fits).
const RECV_BUF: usize = 65536;

pub(super) async fn probe(
    t: &Target,
    timeout: Duration,
    payload: &[u8],
    require_reply: bool,
    reply: Option<&ReplyMatch>,
) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let sock = match socket(t) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let exchange = async {
        if let Err(e) = sock.send(payload).await {
            return connect::classify(&e);
        }
        let mut buf = vec![0u8; RECV_BUF];
        match sock.recv(&mut buf).await {
            Ok(n) if reply.is_none_or(|m| m.judge(&buf[..n])) => ProbeResult::Ok,
            Ok(_) => ProbeResult::Failed(FailReason::ReplyMismatch),
            Err(e) => connect::classify(&e),
        }
    };
    let silence = async {
        Timer::at(deadline).await;
        if require_reply {
            ProbeResult::Failed(FailReason::NoReply)
        } else {
            ProbeResult::Ok
        }
    };
    future::or(exchange, silence).await
}

fn socket(t: &Target) -> Result<Async<UdpSocket>, ProbeResult> {
    let s = connect::socket(t, Type::DGRAM, Protocol::UDP)?;
    let on = match t.ip {
        IpAddr::V4(_) => setsockopt(&s, sockopt::Ipv4RecvErr, &true),
        IpAddr::V6(_) => setsockopt(&s, sockopt::Ipv6RecvErr, &true),
    };
    on.map_err(|e| connect::not_run(&e.into()))?;
    s.connect(&SockAddr::from(std::net::SocketAddr::new(t.ip, t.port)))
        .map_err(|e| connect::classify(&e))?;
    Async::new_nonblocking(UdpSocket::from(s)).map_err(|e| connect::not_run(&e))
}
