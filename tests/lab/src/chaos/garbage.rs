//! Garbage bursts from the attacker's namespace: the flood tool's packets
//! (`bench::craft`), sent by a thread that enters the namespace itself, so the
//! chaos run needs no second binary.

use crate::bench::craft::{self, Victim};
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{
    self, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The VRRP multicast group (RFC 3768), where every router listens.
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const RATE: u64 = 1000;

pub struct Burst {
    pub ns: String,
    pub src: Ipv4Addr,
    pub kind: craft::Kind,
    pub victim: Victim,
    pub count: u32,
    pub seed: u64,
}

/// Sends the burst on eth0 of its namespace at 1,000 packets per second;
/// the thread returns how many were sent.
pub fn spawn(b: Burst) -> JoinHandle<Result<u64, String>> {
    std::thread::spawn(move || send(&b))
}

fn send(b: &Burst) -> Result<u64, String> {
    let path = format!("/run/netns/{}", b.ns);
    let f = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    setns(&f, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns {path}: {e}"))?;
    // IPPROTO_RAW implies IP_HDRINCL: the TTL is ours.
    let fd = socket::socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::Raw,
    )
    .map_err(|e| format!("raw socket: {e}"))?;
    socket::setsockopt(&fd, sockopt::BindToDevice, &"eth0".into())
        .map_err(|e| format!("bind to eth0: {e}"))?;
    let to = SockaddrIn::from(SocketAddrV4::new(GROUP, 0));
    let mut rng = craft::rng(b.seed);
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < u64::from(b.count) && start.elapsed() < Duration::from_secs(30) {
        let (vrrp, ttl) = craft::payload(b.kind, &b.victim, b.src, GROUP, &mut rng);
        let pkt = craft::ipv4(b.src, GROUP, ttl, &vrrp);
        match socket::sendto(fd.as_raw_fd(), &pkt, &to, MsgFlags::empty()) {
            Ok(_) => sent += 1,
            Err(nix::errno::Errno::ENOBUFS | nix::errno::Errno::EAGAIN) => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            Err(e) => return Err(format!("send to {GROUP}: {e}")),
        }
        let due = Duration::from_secs_f64(sent as f64 / RATE as f64);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    Ok(sent)
}
