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

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;

use super::rawsock::MixMap;
use crate::os::netlink::hop::{HopEvent, HopWatch, RouteHop};
use crate::os::netlink::Netlink;

/// How long an answer is trusted without an event confirming it.
const TTL_US: u64 = 30_000_000;

type Mac = [u8; 6];

pub(super) struct NextHops {
    nl: Netlink,
    watch: HopWatch,
    /// (destination, source) -> the route's hop, until when.
    routes: MixMap<(Ipv4Addr, Ipv4Addr), (Option<RouteHop>, u64)>,
    /// (interface, next hop) -> its link address, until when.
    neigh: MixMap<(u32, Ipv4Addr), (Option<Mac>, u64)>,
    events: Vec<HopEvent>,
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
        })
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
