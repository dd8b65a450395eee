//! TCP_CHECK half-open ("SYN check"): one SYN from a raw socket per check,
//! the verdict from the reply, no socket and no connection per check.
//!
//! Why: under TCG every transmit from syscall context is dear, and a full
//! connect costs socket(), setsockopt(), connect() (the SYN), epoll_ctl()
//! and close() (the RST) per check. Here a check is one sendmsg(); the
//! replies are read in batches from one raw socket per family.
//!
//! An IPv4 SYN whose next hop the kernel knows (route and neighbour,
//! `nexthop`) is handed to its interface from a packet socket: no route
//! look-up, netfilter pass or neighbour output per SYN, the tenth of a
//! SYN's cost that the raw socket's IP output was; the director's OUTPUT
//! and POSTROUTING rules do not see it. Not while conntrack tracks the
//! namespace (the reply to a SYN it did not see is "invalid", and routers
//! often drop those). Retransmissions, IPv6, destinations without a
//! resolved neighbour, local ones and every SYN after a failed hand-over go
//! by the raw socket, the kernel's path; `VIGIL_TCP_CHECK=raw` sends every
//! SYN that way.
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
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use nix::libc;
use socket2::{Domain, Socket};
use vigil_check::{FailReason, ProbeResult};

use super::connect::{self, Target};
use super::nexthop::NextHops;
use super::rawio::Rx;
use super::rawsock::{family, link_socket, Family, MixMap};
use super::syn;

mod replies;
mod send;

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
    /// What is sent: over IPv4 our IP header and the SYN (the raw socket
    /// with IP_HDRINCL, or the packet socket as is), over IPv6 the SYN
    /// alone.
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
    /// The packet socket and the next hops.
    link: Option<(Socket, NextHops)>,
    /// SYNs sent (packet socket, raw sockets).
    sent: (u64, u64),
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
        let raw_only = std::env::var_os("VIGIL_TCP_CHECK").is_some_and(|v| v == "raw");
        let link = match (v4.is_ok() && !raw_only)
            .then(|| link_socket().and_then(|l| Ok((l, NextHops::open()?))))
        {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                log::info!("TCP_CHECK: IPv4 SYNs by the raw socket only ({e})");
                None
            }
            None => None,
        };
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
            link,
            sent: (0, 0),
        })
    }

    /// The next hops' event socket, to watch for input.
    pub fn hop_fd(&self) -> Option<BorrowedFd<'_>> {
        self.link.as_ref().map(|(_, h)| h.fd())
    }

    /// Takes the next hops' events.
    pub fn hops_readable(&mut self, now_us: u64) {
        if let Some((_, h)) = self.link.as_mut() {
            h.readable(now_us);
        }
    }

    /// SYNs sent so far: (handed to interfaces, by the raw sockets).
    pub fn sent(&self) -> (u64, u64) {
        self.sent
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
                // Any identification will do (the SYN may not be
                // fragmented); the raw socket keeps a nonzero one.
                let id = ((isn >> 16) as u16).max(1);
                let h = syn::ipv4_header(s, d, syn::SYN_LEN, id);
                pkt[..syn::IP4_LEN].copy_from_slice(&h);
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
