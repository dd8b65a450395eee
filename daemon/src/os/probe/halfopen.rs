//! TCP_CHECK half-open ("SYN check"): one SYN from a raw socket per check,
//! the verdict from the reply, no socket and no connection per check.
//!
//! Why: under TCG every transmit from syscall context is dear, and a full
//! connect costs socket(), setsockopt(), connect() (the SYN), epoll_ctl()
//! and close() (the RST) per check. Here a check is one sendmsg(); the
//! replies are read in batches from one raw socket per family.
//!
//! Verdicts, the same as a connect()'s (keepalived's TCP_CHECK):
//! - a SYN-ACK acknowledging our ISN + 1: up (exactly when connect() would
//!   complete). No socket owns the connection, so the kernel answers it
//!   with a reset itself; the server never sees an accepted connection.
//! - a reset acknowledging ISN + 1: refused (ECONNREFUSED).
//! - an ICMP error quoting our SYN (IP_RECVERR): its errno, as the kernel
//!   would give connect() in SYN_SENT (EHOSTUNREACH, ...); "fragmentation
//!   needed" is ignored, as TCP does.
//! - nothing by connect_timeout: timed out. The SYN is sent again after
//!   1 s, then 2 s, 4 s ..., as the kernel retransmits a connect's SYN, so
//!   a lost SYN or a listener whose accept queue was full when the SYN came
//!   (Linux drops it) fares as it would for keepalived.
//!
//! The ISN is a keyed hash (SipHash with random keys) of the 4-tuple and
//! a counter: a stray or forged SYN-ACK cannot pass a check. Our source
//! ports are reserved by ordinary TCP sockets bound to them without
//! listen(): no other program gets them, and the kernel still resets the
//! SYN-ACKs (a bound socket is not a listener). A classic BPF filter
//! copies only SYN-ACKs and resets to those ports to us.
//!
//! What it cannot do (the caller falls back to a full connect): a check
//! whose `bind_port` cannot be reserved (in use by another program), or
//! one more check to a server port while every source port is already
//! checking it; and nothing when the raw socket cannot be opened.

use std::cmp::Reverse;
use std::collections::hash_map::{Entry, RandomState};
use std::collections::BinaryHeap;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use nix::libc;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::Domain;
use vigil_check::{FailReason, ProbeResult};

use super::connect::{self, Target};
use super::rawio::{self, Rx, Tx, BATCH};
use super::rawsock::{family, Family, MixMap};
use super::syn;

/// The kernel's initial SYN retransmission timeout (TCP_TIMEOUT_INIT).
const RTO_US: u64 = 1_000_000;
/// How long a route's source address is trusted (IPv4 checksums need it).
const ROUTE_TTL_US: u64 = 30_000_000;
/// Replies read per readiness before the loop gets its turn again.
const READS: usize = 4096;

struct Slot {
    token: u64,
    gen: u32,
    live: bool,
    key: (IpAddr, u16, u16),
    isn: u32,
    /// What the raw socket sends: over IPv4 our IP header and the SYN
    /// (IP_HDRINCL), over IPv6 the SYN alone.
    pkt: [u8; syn::IP4_LEN + syn::SYN_LEN],
    len: u8,
    /// Source for IP_PKTINFO / IPV6_PKTINFO, if we choose it.
    src: Option<IpAddr>,
    deadline_us: u64,
    next_tx_us: u64,
    rto_us: u64,
    /// A soft ICMP error seen (IPv6, see `errors`): the verdict at the
    /// deadline instead of a timeout.
    soft: Option<i32>,
}

/// The half-open checks in flight.
pub(super) struct HalfOpen {
    v4: Option<Family>,
    v6: Option<Family>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    timers: BinaryHeap<Reverse<(u64, u32, u32)>>,
    /// (server address, server port, our port) -> slot.
    by_key: MixMap<(IpAddr, u16, u16), u32>,
    keys: RandomState,
    counter: u64,
    /// IPv4 destination -> (source the route gives, valid until).
    routes: MixMap<Ipv4Addr, (Ipv4Addr, u64)>,
    /// `bindto` addresses found local, until when.
    locals: MixMap<IpAddr, u64>,
    lookup: Option<UdpSocket>,
    /// SYNs to send at the next flush: (slot, generation, retransmission).
    pending: Vec<(u32, u32, bool)>,
    rx: Rx,
    cmsg: Vec<u8>,
    live: usize,
}

impl HalfOpen {
    /// Raw sockets for IPv4 and IPv6; an error only if neither opens (no
    /// CAP_NET_RAW).
    pub fn new() -> io::Result<HalfOpen> {
        let v4 = family(Domain::IPV4);
        let v6 = family(Domain::IPV6);
        if let (Err(e), Err(_)) = (&v4, &v6) {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
        Ok(HalfOpen {
            v4: v4.ok(),
            v6: v6.ok(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: BinaryHeap::new(),
            by_key: MixMap::default(),
            keys: RandomState::new(),
            counter: 0,
            routes: MixMap::default(),
            locals: MixMap::default(),
            lookup: None,
            pending: Vec::new(),
            rx: Rx::new(),
            cmsg: nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6),
            live: 0,
        })
    }

    /// The raw sockets to watch for input: (fd, is IPv6).
    pub fn fds(&self) -> impl Iterator<Item = (BorrowedFd<'_>, bool)> {
        let a = self.v4.as_ref().map(|f| (f.raw.as_fd(), false));
        let b = self.v6.as_ref().map(|f| (f.raw.as_fd(), true));
        a.into_iter().chain(b)
    }

    pub fn in_flight(&self) -> usize {
        self.live
    }

    /// Starts a check of `t`, or returns `false` (nothing done) when this
    /// engine cannot take it (see the module comment).
    pub fn start(
        &mut self,
        token: u64,
        t: &Target,
        timeout: Duration,
        now_us: u64,
        done: &mut Vec<(u64, ProbeResult)>,
    ) -> bool {
        let fam = match t.ip {
            IpAddr::V4(_) => self.v4.as_mut(),
            IpAddr::V6(_) => self.v6.as_mut(),
        };
        let Some(fam) = fam else {
            return false;
        };
        // Our port: bind_port, else the next reserved one not already
        // checking this server port.
        let port = match t.bind_port {
            Some(p) => {
                if !fam.fix(p) || self.by_key.contains_key(&(t.ip, t.port, p)) {
                    return false;
                }
                p
            }
            None => {
                let n = fam.ports.len();
                let free = (0..n)
                    .map(|i| fam.ports[(fam.next + i) % n])
                    .find(|p| !self.by_key.contains_key(&(t.ip, t.port, *p)));
                fam.next = (fam.next + 1) % n.max(1);
                match free {
                    Some(p) => p,
                    None => return false,
                }
            }
        };
        let src = match self.source(t, now_us) {
            Ok(s) => s,
            Err(r) => {
                done.push((token, r));
                return true;
            }
        };
        self.counter = self.counter.wrapping_add(1);
        let key = (t.ip, t.port, port);
        let isn = isn(&self.keys, key, self.counter);
        let mut seg = syn::syn(port, t.port, isn, if t.ip.is_ipv4() { 1460 } else { 1440 });
        let mut pkt = [0u8; syn::IP4_LEN + syn::SYN_LEN];
        let len = match (src, t.ip) {
            (Some(IpAddr::V4(s)), IpAddr::V4(d)) => {
                syn::fill_checksum_v4(s, d, &mut seg);
                pkt[..syn::IP4_LEN].copy_from_slice(&syn::ipv4_header(s, d, syn::SYN_LEN));
                pkt[syn::IP4_LEN..].copy_from_slice(&seg);
                pkt.len()
            }
            _ => {
                pkt[..syn::SYN_LEN].copy_from_slice(&seg);
                syn::SYN_LEN
            }
        };
        let micros = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
        let n = match self.free.pop() {
            Some(n) => n,
            None => {
                self.slots.push(Slot {
                    token: 0,
                    gen: 0,
                    live: false,
                    key,
                    isn: 0,
                    pkt,
                    len: 0,
                    src: None,
                    deadline_us: 0,
                    next_tx_us: 0,
                    rto_us: 0,
                    soft: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let Some(slot) = self.slots.get_mut(n as usize) else {
            return false;
        };
        slot.gen = slot.gen.wrapping_add(1);
        slot.token = token;
        slot.live = true;
        slot.key = key;
        slot.isn = isn;
        slot.pkt = pkt;
        slot.len = len as u8;
        slot.src = src;
        slot.deadline_us = now_us.saturating_add(micros);
        slot.rto_us = RTO_US;
        slot.soft = None;
        slot.next_tx_us = now_us.saturating_add(RTO_US);
        let first = slot.deadline_us.min(slot.next_tx_us);
        self.timers.push(Reverse((first, n, slot.gen)));
        self.pending.push((n, slot.gen, false));
        self.by_key.insert(key, n);
        self.live += 1;
        true
    }

    /// Sends the SYNs queued since the last flush, a batch per syscall. A
    /// first SYN that cannot be sent ends its check (`connect::classify`
    /// of the errno, as connect() would); a retransmission that cannot is
    /// left to the deadline.
    pub fn flush(&mut self, done: &mut Vec<(u64, ProbeResult)>) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        for v6 in [false, true] {
            let fd = match if v6 { &self.v6 } else { &self.v4 } {
                Some(f) => f.raw.as_raw_fd(),
                None => continue,
            };
            let mut i = 0;
            loop {
                // The next batch of this family's live SYNs.
                let mut batch: [(u32, bool); BATCH] = [(0, false); BATCH];
                let mut k = 0;
                while i < pending.len() && k < BATCH {
                    let (n, gen, retx) = pending[i];
                    i += 1;
                    match self.slots.get(n as usize) {
                        Some(s) if s.live && s.gen == gen && s.key.0.is_ipv6() == v6 => {
                            batch[k] = (n, retx);
                            k += 1;
                        }
                        _ => {}
                    }
                }
                if k == 0 {
                    break;
                }
                let mut sent = 0;
                while sent < k {
                    let mut txs = [Tx {
                        seg: &[],
                        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                        src: None,
                    }; BATCH];
                    let mut m = 0;
                    for &(n, _) in batch.iter().take(k).skip(sent) {
                        // Every batched slot is live (checked above).
                        if let Some(s) = self.slots.get(n as usize) {
                            txs[m] = Tx {
                                seg: &s.pkt[..usize::from(s.len)],
                                dst: s.key.0,
                                src: s.src,
                            };
                            m += 1;
                        }
                    }
                    match rawio::send(fd, &txs[..m]) {
                        Ok(0) => break,
                        Ok(m) => sent += m,
                        Err(e) => {
                            let (n, retx) = batch[sent];
                            sent += 1;
                            if retx {
                                continue;
                            }
                            let (dst, src) = match self.slots.get(n as usize) {
                                Some(s) => (s.key.0, s.src),
                                None => continue,
                            };
                            // A source that is no longer ours (the address
                            // went away): the check could not run, and the
                            // caches are refilled next time.
                            let gone = src.and_then(|s| is_local(s).err());
                            if let IpAddr::V4(d) = dst {
                                self.routes.remove(&d);
                            }
                            if let Some(s) = src {
                                self.locals.remove(&s);
                            }
                            let r = match gone {
                                Some(g) => connect::not_run(&g),
                                None => connect::classify(&e),
                            };
                            if let Some(token) = self.end(n) {
                                done.push((token, r));
                            }
                        }
                    }
                }
            }
        }
        pending.clear();
        self.pending = pending;
    }

    /// The source address we put in the pseudo-header (IPv4) or choose
    /// (`bindto`); IPv6 without `bindto` leaves it to the kernel.
    fn source(&mut self, t: &Target, now_us: u64) -> Result<Option<IpAddr>, ProbeResult> {
        if let Some(b) = t.bindto {
            // Not a local address: the check cannot run, as connect()'s
            // bind() says (EADDRNOTAVAIL); a raw send would go out with it.
            match self.locals.get(&b) {
                Some(until) if *until > now_us => {}
                _ => {
                    is_local(b).map_err(|e| connect::not_run(&e))?;
                    self.locals.insert(b, now_us.saturating_add(ROUTE_TTL_US));
                }
            }
            return Ok(Some(b));
        }
        let IpAddr::V4(d) = t.ip else {
            return Ok(None);
        };
        if let Some((s, until)) = self.routes.get(&d) {
            if *until > now_us {
                return Ok(Some(IpAddr::V4(*s)));
            }
        }
        if self.lookup.is_none() {
            let u =
                UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| connect::not_run(&e))?;
            self.lookup = Some(u);
        }
        let Some(u) = self.lookup.as_ref() else {
            return Err(ProbeResult::NotRun(FailReason::Socket(libc::EBADF)));
        };
        // A connected UDP socket's address is the route's source; no
        // packet is sent.
        u.connect((d, t.port.max(1)))
            .map_err(|e| connect::classify(&e))?;
        let s = match u.local_addr() {
            Ok(SocketAddr::V4(a)) => *a.ip(),
            Ok(_) => return Err(ProbeResult::NotRun(FailReason::Socket(libc::EAFNOSUPPORT))),
            Err(e) => return Err(connect::not_run(&e)),
        };
        self.routes
            .insert(d, (s, now_us.saturating_add(ROUTE_TTL_US)));
        Ok(Some(IpAddr::V4(s)))
    }

    /// Reads every reply queued on the raw socket of one family, and with
    /// `err` its ICMP errors; decided checks go to `done`.
    pub fn readable(&mut self, v6: bool, err: bool, done: &mut Vec<(u64, ProbeResult)>) {
        for _ in 0..READS / BATCH {
            let fam = if v6 {
                self.v6.as_ref()
            } else {
                self.v4.as_ref()
            };
            let Some(fam) = fam else { return };
            let got = self.rx.recv(fam.raw.as_raw_fd());
            for i in 0..got {
                let Some((pkt, from)) = self.rx.get(i) else {
                    continue;
                };
                let (peer, tcp) = if v6 {
                    match from {
                        Some(a) => (a, pkt),
                        None => continue,
                    }
                } else {
                    match syn::tcp_of_v4(pkt) {
                        Some((s, tcp)) => (IpAddr::V4(s), tcp),
                        None => continue,
                    }
                };
                let Some(r) = syn::parse(tcp) else { continue };
                let Some(&n) = self.by_key.get(&(peer, r.peer_port, r.our_port)) else {
                    continue;
                };
                let Some(slot) = self.slots.get(n as usize) else {
                    continue;
                };
                let result = match syn::verdict(&r, slot.isn) {
                    Some(true) => ProbeResult::Ok,
                    Some(false) => ProbeResult::Failed(FailReason::Refused),
                    None => continue,
                };
                if let Some(token) = self.end(n) {
                    done.push((token, result));
                }
            }
            if got < BATCH {
                break;
            }
        }
        if err {
            self.errors(v6, done);
        }
    }

    /// ICMP errors quoting our SYNs (IP_RECVERR's error queue).
    fn errors(&mut self, v6: bool, done: &mut Vec<(u64, ProbeResult)>) {
        for _ in 0..READS {
            let fam = if v6 {
                self.v6.as_ref()
            } else {
                self.v4.as_ref()
            };
            let Some(fam) = fam else { return };
            let mut data = [0u8; 128];
            let mut iov = [IoSliceMut::new(&mut data)];
            let (errno, peer, len, fatal) = {
                let msg = match recvmsg::<SockaddrStorage>(
                    fam.raw.as_raw_fd(),
                    &mut iov,
                    Some(&mut self.cmsg),
                    MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
                ) {
                    Ok(m) => m,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => break,
                };
                let mut errno = None;
                let mut fatal = true;
                if let Ok(cmsgs) = msg.cmsgs() {
                    for c in cmsgs {
                        match c {
                            ControlMessageOwned::Ipv4RecvErr(e, _)
                                if e.ee_origin == libc::SO_EE_ORIGIN_ICMP =>
                            {
                                errno = Some(e.ee_errno as i32)
                            }
                            ControlMessageOwned::Ipv6RecvErr(e, _)
                                if e.ee_origin == libc::SO_EE_ORIGIN_ICMP6 =>
                            {
                                errno = Some(e.ee_errno as i32);
                                fatal = fatal6(e.ee_type, e.ee_code);
                            }
                            _ => {}
                        }
                    }
                }
                let peer = msg.address.and_then(|a| {
                    a.as_sockaddr_in()
                        .map(|s| IpAddr::V4(s.ip()))
                        .or_else(|| a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
                });
                (errno, peer, msg.bytes, fatal)
            };
            // TCP ignores "fragmentation needed" / "packet too big" in
            // SYN_SENT; so do we.
            let (Some(errno), Some(peer)) = (errno, peer) else {
                continue;
            };
            if errno == libc::EMSGSIZE || len < 8 {
                continue;
            }
            // The quoted SYN: our port, the server's, our ISN. With
            // IP_HDRINCL (IPv4) the kernel quotes from our IP header.
            let quoted = data.get(..len.min(data.len())).unwrap_or(&[]);
            let tcp = if v6 {
                quoted
            } else {
                match syn::tcp_of_v4(quoted) {
                    Some((_, t)) => t,
                    None => continue,
                }
            };
            let Some(q) = tcp.get(..8) else { continue };
            let ours = u16::from_be_bytes([q[0], q[1]]);
            let theirs = u16::from_be_bytes([q[2], q[3]]);
            let seq = u32::from_be_bytes([q[4], q[5], q[6], q[7]]);
            let Some(&n) = self.by_key.get(&(peer, theirs, ours)) else {
                continue;
            };
            let Some(slot) = self.slots.get_mut(n as usize).filter(|s| s.isn == seq) else {
                continue;
            };
            if !fatal {
                slot.soft = Some(errno);
                continue;
            }
            let result = connect::classify(&io::Error::from_raw_os_error(errno));
            if let Some(token) = self.end(n) {
                done.push((token, result));
            }
        }
    }
}

/// The ISN: SipHash (random keys) of the 4-tuple's varying part and a
/// counter, fed as three words (hashing the tuple field by field was
/// several times the instructions).
fn isn(keys: &RandomState, (ip, theirs, ours): (IpAddr, u16, u16), counter: u64) -> u32 {
    let mut h = keys.build_hasher();
    let (hi, lo) = match ip {
        IpAddr::V4(a) => (0, u64::from(u32::from(a))),
        IpAddr::V6(a) => {
            let n = u128::from(a);
            ((n >> 64) as u64, n as u64)
        }
    };
    h.write_u64(hi ^ (u64::from(theirs) << 48 | u64::from(ours) << 32));
    h.write_u64(lo);
    h.write_u64(counter);
    h.finish() as u32
}

/// Ok if `ip` is one of our addresses (a UDP socket can bind it).
fn is_local(ip: IpAddr) -> io::Result<()> {
    UdpSocket::bind((ip, 0)).map(drop)
}

/// Whether an ICMPv6 error ends a connect() in SYN_SENT at once, as Linux
/// (6.18, measured) does: the "fatal" ones of its icmpv6_err_convert. No
/// route, address unreachable, beyond scope and hop limit exceeded are
/// soft: the SYN is retried and the error is the verdict at the deadline.
/// Over IPv4 every unreachable is final at once (measured the same).
fn fatal6(ty: u8, code: u8) -> bool {
    match ty {
        1 => !matches!(code, 0 | 2 | 3),
        3 => false,
        _ => true,
    }
}

impl HalfOpen {
    fn end(&mut self, n: u32) -> Option<u64> {
        let slot = self.slots.get_mut(n as usize)?;
        if !slot.live {
            return None;
        }
        slot.live = false;
        if let Entry::Occupied(e) = self.by_key.entry(slot.key) {
            if *e.get() == n {
                e.remove();
            }
        }
        self.free.push(n);
        self.live -= 1;
        Some(slot.token)
    }

    /// The earliest deadline or retransmission.
    pub fn next_deadline(&mut self) -> Option<u64> {
        while let Some(Reverse((d, n, gen))) = self.timers.peek().copied() {
            match self.slots.get(n as usize) {
                Some(s) if s.live && s.gen == gen => return Some(d),
                _ => {
                    self.timers.pop();
                }
            }
        }
        None
    }

    /// Checks past their deadline at `now_us` time out; SYNs due again are
    /// retransmitted.
    pub fn expire(&mut self, now_us: u64, done: &mut Vec<(u64, ProbeResult)>) {
        while let Some(d) = self.next_deadline() {
            if d > now_us {
                break;
            }
            let Some(Reverse((_, n, _))) = self.timers.pop() else {
                break;
            };
            let Some(slot) = self.slots.get_mut(n as usize) else {
                continue;
            };
            if slot.deadline_us <= now_us {
                // As connect() with SO_ERROR read at the deadline.
                let r = match slot.soft {
                    Some(e) => connect::classify(&io::Error::from_raw_os_error(e)),
                    None => ProbeResult::Failed(FailReason::ConnectTimeout),
                };
                if let Some(token) = self.end(n) {
                    done.push((token, r));
                }
                continue;
            }
            slot.rto_us = slot.rto_us.saturating_mul(2);
            slot.next_tx_us = now_us.saturating_add(slot.rto_us);
            let next = slot.deadline_us.min(slot.next_tx_us);
            let gen = slot.gen;
            self.timers.push(Reverse((next, n, gen)));
            self.pending.push((n, gen, true));
        }
    }

    /// Drops every check in flight.
    pub fn clear(&mut self) {
        for n in 0..self.slots.len() {
            let _ = self.end(n as u32);
        }
        self.timers.clear();
        self.by_key.clear();
        self.pending.clear();
    }
}
