//! The next hop of an IPv4 destination as the kernel would send to it: the
//! route (RTM_GETROUTE: output interface, gateway) and the neighbour's link
//! address (RTM_GETNEIGH), and a non-blocking event socket that says when
//! either may have changed. The half-open TCP_CHECK hands its SYNs to the
//! interface directly with these (`os::probe::nexthop`).

use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;

use neli::consts::nl::NlmF;
use neli::consts::rtnl::Rtm;
use neli::socket::synchronous::NlSocketHandle;
use neli::types::Buffer;
use neli::utils::Groups;
use nix::errno::Errno;

use super::route::Attrs;
use super::vmac::parse_nla;
use super::{borrow, open_socket, socket_error, Netlink, NetlinkError};

const AF_INET: u8 = 2;
const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
/// An IPv6 next hop of an IPv4 route (RFC 5549): not resolved here.
const RTA_VIA: u16 = 18;
const RTN_UNICAST: u8 = 1;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// Neighbour states whose link address the kernel itself sends to:
/// REACHABLE, STALE, DELAY, PROBE, NOARP, PERMANENT.
const NUD_USABLE: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;

/// Groups: links, neighbours, IPv4 addresses and IPv4 routes.
const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_NEIGH: u32 = 0x4;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV4_ROUTE: u32 = 0x40;

/// Where the kernel routes a destination: out of `ifindex`, to `via`
/// (the destination itself when on link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteHop {
    pub ifindex: u32,
    pub via: Ipv4Addr,
}

/// The request for `dst` from `src` (`ip route get DST from SRC`).
pub fn route_request(dst: Ipv4Addr, src: Ipv4Addr) -> Vec<u8> {
    let mut out = vec![AF_INET, 32, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut a = Attrs::default();
    a.put(RTA_DST, &dst.octets());
    a.put(RTA_SRC, &src.octets());
    out.extend(a.0);
    out
}

/// The hop of an RTM_NEWROUTE answer for `dst`; `None` unless it is a
/// unicast route out of one interface with an IPv4 next hop (local,
/// blackhole, unreachable, ... are left to the kernel's own path).
pub fn parse_route(dst: Ipv4Addr, payload: &[u8]) -> Option<RouteHop> {
    if payload.len() < 12 || payload[0] != AF_INET || payload[7] != RTN_UNICAST {
        return None;
    }
    let mut oif = None;
    let mut via = dst;
    for (ty, v) in parse_nla(&payload[12..]) {
        match ty {
            RTA_OIF => oif = v.try_into().ok().map(u32::from_ne_bytes),
            RTA_GATEWAY => via = ipv4(v)?,
            RTA_VIA => return None,
            _ => {}
        }
    }
    Some(RouteHop {
        ifindex: oif.filter(|i| *i != 0)?,
        via,
    })
}

/// The request for `addr`'s neighbour entry on `ifindex`.
pub fn neigh_request(ifindex: u32, addr: Ipv4Addr) -> Vec<u8> {
    let mut out = vec![AF_INET, 0, 0, 0];
    out.extend_from_slice(&ifindex.to_ne_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    let mut a = Attrs::default();
    a.put(NDA_DST, &addr.octets());
    out.extend(a.0);
    out
}

/// A neighbour message: (interface, address, the link address if the
/// state is one the kernel sends to). `None` if not IPv4 or malformed.
pub fn parse_neigh(payload: &[u8]) -> Option<(u32, Ipv4Addr, Option<[u8; 6]>)> {
    if payload.len() < 12 || payload[0] != AF_INET {
        return None;
    }
    let ifindex = u32::from_ne_bytes(payload[4..8].try_into().ok()?);
    let state = u16::from_ne_bytes([payload[8], payload[9]]);
    let mut dst = None;
    let mut mac = None;
    for (ty, v) in parse_nla(&payload[12..]) {
        match ty {
            NDA_DST => dst = ipv4(v),
            NDA_LLADDR => mac = <[u8; 6]>::try_from(v).ok(),
            _ => {}
        }
    }
    Some((ifindex, dst?, mac.filter(|_| state & NUD_USABLE != 0)))
}

fn ipv4(v: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(v).ok().map(Ipv4Addr::from)
}

impl Netlink {
    /// The kernel's route to `dst` from `src`; `Ok(None)` for a route the
    /// kernel would not send out of an interface to an IPv4 next hop.
    pub fn route_hop(
        &self,
        dst: Ipv4Addr,
        src: Ipv4Addr,
    ) -> Result<Option<RouteHop>, NetlinkError> {
        let msg = Buffer::from(route_request(dst, src));
        let answers = self.exchange::<_, Buffer>(Rtm::Getroute, NlmF::empty(), msg, false)?;
        Ok(answers.iter().find_map(|b| parse_route(dst, b.as_ref())))
    }

    /// The link address of `addr` on `ifindex`; `Ok(None)` while it has
    /// none the kernel would send to (absent, incomplete, failed).
    pub fn neighbour(&self, ifindex: u32, addr: Ipv4Addr) -> Result<Option<[u8; 6]>, NetlinkError> {
        let msg = Buffer::from(neigh_request(ifindex, addr));
        match self.exchange::<_, Buffer>(Rtm::Getneigh, NlmF::empty(), msg, false) {
            Ok(answers) => Ok(answers
                .iter()
                .find_map(|b| parse_neigh(b.as_ref()))
                .and_then(|(i, a, mac)| mac.filter(|_| i == ifindex && a == addr))),
            Err(NetlinkError::Kernel(Errno::ENOENT)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What an event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopEvent {
    /// A neighbour entry changed: its link address, or `None` if the kernel
    /// no longer has one it sends to.
    Neigh(u32, Ipv4Addr, Option<[u8; 6]>),
    /// A link, address or route changed: every route may differ.
    Routes,
    /// Events were lost: nothing known may be trusted.
    Lost,
}

/// The event socket, non-blocking, for an epoll loop.
pub struct HopWatch {
    sock: NlSocketHandle,
}

impl HopWatch {
    pub fn open() -> Result<HopWatch, NetlinkError> {
        let groups = Groups::new_bitmask(
            RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE,
        );
        let sock = open_socket(groups)?;
        nix::fcntl::fcntl(
            borrow(&sock),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .map_err(NetlinkError::Open)?;
        Ok(HopWatch { sock })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        borrow(&self.sock)
    }

    /// Every event queued, to `out`, until none is left.
    pub fn drain(&self, out: &mut Vec<HopEvent>) {
        // Bounded: a flood of neighbour changes cannot hold the loop.
        for _ in 0..64 {
            let (iter, _) = match self.sock.recv::<u16, Buffer>() {
                Ok(x) => x,
                Err(e) => {
                    if !matches!(
                        socket_error(e, NetlinkError::Recv),
                        NetlinkError::Recv(Errno::EAGAIN)
                    ) {
                        out.push(HopEvent::Lost);
                    }
                    return;
                }
            };
            for m in iter {
                let Ok(m) = m else {
                    out.push(HopEvent::Lost);
                    continue;
                };
                let ty = *m.nl_type();
                let p = m.get_payload().map_or(&[][..], |b| b.as_ref());
                if ty == u16::from(Rtm::Newneigh) || ty == u16::from(Rtm::Delneigh) {
                    if let Some((i, a, mac)) = parse_neigh(p) {
                        let mac = mac.filter(|_| ty == u16::from(Rtm::Newneigh));
                        out.push(HopEvent::Neigh(i, a, mac));
                    }
                } else {
                    out.push(HopEvent::Routes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 2);

    #[test]
    fn route_request_bytes() {
        let r = route_request(D, Ipv4Addr::new(10, 9, 0, 1));
        let mut want = vec![2, 32, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(&[8, 0, 1, 0, 10, 9, 0, 2, 8, 0, 2, 0, 10, 9, 0, 1]);
        assert_eq!(r, want);
    }

    fn answer(ty: u8, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut p = vec![2, 32, 0, 0, 254, 0, 0, ty, 0, 0, 0, 0];
        let mut a = Attrs::default();
        for (t, v) in attrs {
            a.put(*t, v);
        }
        p.extend(a.0);
        p
    }

    #[test]
    fn routes_on_link_via_a_gateway_and_not_unicast() {
        let oif = 7u32.to_ne_bytes();
        let on_link = answer(1, &[(RTA_DST, &D.octets()), (RTA_OIF, &oif)]);
        assert_eq!(
            parse_route(D, &on_link),
            Some(RouteHop { ifindex: 7, via: D })
        );
        let gw = [10, 9, 0, 254];
        let via = answer(1, &[(RTA_OIF, &oif), (RTA_GATEWAY, &gw)]);
        let hop = RouteHop {
            ifindex: 7,
            via: Ipv4Addr::from(gw),
        };
        assert_eq!(parse_route(D, &via), Some(hop));
        assert_eq!(
            parse_route(D, &answer(2, &[(RTA_OIF, &oif)])),
            None,
            "local"
        );
        assert_eq!(parse_route(D, &answer(1, &[])), None, "no interface");
        let v6 = answer(1, &[(RTA_OIF, &oif), (RTA_VIA, &[10, 0, 0xfe, 0x80])]);
        assert_eq!(parse_route(D, &v6), None, "IPv6 next hop");
        assert_eq!(parse_route(D, &[2, 32]), None, "truncated");
    }

    #[test]
    fn neighbour_request_and_states() {
        let r = neigh_request(7, D);
        assert_eq!(
            r,
            vec![2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 1, 0, 10, 9, 0, 2]
        );
        let mac = [2, 0, 0, 0, 0, 9];
        let msg = |state: u16| {
            let mut p = vec![2, 0, 0, 0];
            p.extend_from_slice(&7u32.to_ne_bytes());
            p.extend_from_slice(&state.to_ne_bytes());
            p.extend_from_slice(&[0, 1]);
            let mut a = Attrs::default();
            a.put(NDA_DST, &D.octets());
            a.put(NDA_LLADDR, &mac);
            p.extend(a.0);
            p
        };
        assert_eq!(
            parse_neigh(&msg(0x02)),
            Some((7, D, Some(mac))),
            "reachable"
        );
        assert_eq!(parse_neigh(&msg(0x04)), Some((7, D, Some(mac))), "stale");
        assert_eq!(parse_neigh(&msg(0x01)), Some((7, D, None)), "incomplete");
        assert_eq!(parse_neigh(&msg(0x20)), Some((7, D, None)), "failed");
        assert_eq!(parse_neigh(&[10, 0, 0, 0]), None);
    }
}
