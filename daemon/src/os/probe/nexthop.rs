//! The half-open engine's next hops: for an IPv4 SYN, the interface and the
//! link address the kernel would send it to, so that it can be handed to
//! the interface from a packet socket (see `halfopen`'s module comment).
//!
//! Asked of the kernel (route, then neighbour) on first use and kept while
//! the kernel says nothing changed: neighbour events update the link
//! addresses we hold (an address that moved to another machine, which
//! announces itself, is followed at once), link, address and route events
//! drop every route, lost events drop everything. The entries also expire
//! after `TTL_US`, in case an event is missed. A destination without a
//! usable hop (no neighbour entry yet, a local or unreachable route) goes
//! by the kernel's own path, which resolves the neighbour.
//!
//! Not while conntrack tracks this namespace's traffic: a SYN it did not
//! see leaves the SYN-ACK without a connection, "invalid", and a firewall
//! that drops invalid packets (common on routers) would drop every reply.
//! Tracking is on when the namespace's conntrack table holds any entry
//! (the director's own adverts and raw SYNs make some as soon as its hooks
//! are registered); the count is read (one pread) before every batch, so
//! a firewall added later costs at most the SYNs already in flight.

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::os::unix::fs::FileExt;

use super::rawsock::MixMap;
use crate::os::netlink::hop::{HopEvent, HopWatch, RouteHop};
use crate::os::netlink::Netlink;

/// How long an answer is trusted without an event confirming it.
const TTL_US: u64 = 30_000_000;
/// How often opening the conntrack count is tried again while the kernel
/// has none (conntrack may be loaded later, with a firewall).
const CONNTRACK_OPEN_EVERY_US: u64 = 1_000_000;
const CONNTRACK_COUNT: &str = "/proc/sys/net/netfilter/nf_conntrack_count";

type Mac = [u8; 6];

pub(super) struct NextHops {
    nl: Netlink,
    watch: HopWatch,
    /// (destination, source) -> the route's hop, until when.
    routes: MixMap<(Ipv4Addr, Ipv4Addr), (Option<RouteHop>, u64)>,
    /// (interface, next hop) -> its link address, until when.
    neigh: MixMap<(u32, Ipv4Addr), (Option<Mac>, u64)>,
    events: Vec<HopEvent>,
    /// This namespace's conntrack count (if the kernel has conntrack),
    /// whether it tracks (as last read), and when to try opening it again.
    count: Option<File>,
    tracked: Option<bool>,
    reopen_us: u64,
}

impl NextHops {
    pub fn open() -> io::Result<NextHops> {
        let e = |e| io::Error::other(format!("{e}"));
        Ok(NextHops {
            nl: Netlink::open().map_err(e)?,
            watch: HopWatch::open().map_err(e)?,
            routes: MixMap::default(),
            neigh: MixMap::default(),
            events: Vec::new(),
            count: None,
            tracked: None,
            reopen_us: 0,
        })
    }

    /// Whether SYNs may go to interfaces at all: not while conntrack tracks
    /// this namespace (see the module comment).
    pub fn usable(&mut self, now_us: u64) -> bool {
        if self.count.is_none() && now_us >= self.reopen_us {
            self.reopen_us = now_us.saturating_add(CONNTRACK_OPEN_EVERY_US);
            self.count = File::open(CONNTRACK_COUNT).ok();
        }
        // No file: no conntrack in this kernel. A count that cannot be
        // read counts as tracking (the raw socket is always safe).
        let mut buf = [0u8; 24];
        let tracked = self
            .count
            .as_ref()
            .is_some_and(|f| match f.read_at(&mut buf, 0) {
                Ok(n) => buf[..n.min(buf.len())]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .any(|b| *b != b'0'),
                Err(_) => true,
            });
        if self.tracked != Some(tracked) {
            self.tracked = Some(tracked);
            if tracked {
                log::info!("TCP_CHECK: conntrack tracks this namespace: IPv4 SYNs by the raw socket, which it sees");
            } else {
                log::info!(
                    "TCP_CHECK: no connection tracking: IPv4 SYNs handed to their interfaces"
                );
            }
        }
        !tracked
    }

    /// The event socket, to watch for input.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.watch.fd()
    }

    /// Where a SYN from `src` to `dst` goes: (interface, link address), or
    /// `None` for the kernel's path.
    pub fn hop(&mut self, dst: Ipv4Addr, src: Ipv4Addr, now_us: u64) -> Option<(u32, Mac)> {
        let route = match self.routes.get(&(dst, src)) {
            Some((r, until)) if *until > now_us => *r,
            _ => {
                // An error (no such route: ENETUNREACH) is the kernel's to
                // report, on its own path.
                let r = self.nl.route_hop(dst, src).ok().flatten();
                self.routes
                    .insert((dst, src), (r, now_us.saturating_add(TTL_US)));
                r
            }
        }?;
        let key = (route.ifindex, route.via);
        let mac = match self.neigh.get(&key) {
            Some((m, until)) if *until > now_us => *m,
            _ => {
                let m = self.nl.neighbour(route.ifindex, route.via).ok().flatten();
                self.neigh.insert(key, (m, now_us.saturating_add(TTL_US)));
                m
            }
        }?;
        Some((route.ifindex, mac))
    }

    /// A send to `dst` from `src` failed: ask the kernel again next time.
    pub fn forget(&mut self, dst: Ipv4Addr, src: Ipv4Addr) {
        if let Some((Some(r), _)) = self.routes.remove(&(dst, src)) {
            self.neigh.remove(&(r.ifindex, r.via));
        }
    }

    /// Takes the events queued.
    pub fn readable(&mut self, now_us: u64) {
        self.events.clear();
        self.watch.drain(&mut self.events);
        for ev in self.events.drain(..) {
            match ev {
                HopEvent::Neigh(i, a, mac) => {
                    if let Some(e) = self.neigh.get_mut(&(i, a)) {
                        *e = (mac, now_us.saturating_add(TTL_US));
                    }
                }
                HopEvent::Routes => self.routes.clear(),
                HopEvent::Lost => {
                    self.routes.clear();
                    self.neigh.clear();
                }
            }
        }
    }
}
