//! Routes: RTM_NEWROUTE / RTM_DELROUTE for `virtual_routes` and
//! `static_routes`, encoded as keepalived 2.2.7 encodes them (so that the
//! same line installs the same kernel route), and the table names of
//! `/etc/iproute2/rt_tables`.
//!
//! The messages are built byte by byte rather than with neli's typed
//! attributes: several of them (RTA_VIA, RTA_PREF, RTA_EXPIRES,
//! RTA_TTL_PROPAGATE) exist in neli only for glibc targets, and the static
//! musl build must send the same bytes.

use std::net::IpAddr;

use neli::consts::nl::NlmF;
use neli::consts::rtnl::Rtm;
use neli::types::Buffer;
use nix::errno::Errno;
use vigil_model::{AddMode, Route};

use super::{Change, Netlink, NetlinkError};

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const RT_SCOPE_NOWHERE: u8 = 255;
const RTN_UNICAST: u8 = 1;
const RTNH_F_ONLINK: u8 = 4;

const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_METRICS: u16 = 8;
const RTA_MULTIPATH: u16 = 9;
const RTA_FLOW: u16 = 11;
const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;
const RTA_PREF: u16 = 20;
const RTA_EXPIRES: u16 = 23;
const RTA_TTL_PROPAGATE: u16 = 26;

const RTAX_LOCK: u16 = 1;
const RTAX_FEATURES: u16 = 12;
const RTAX_CC_ALGO: u16 = 16;
const RTAX_FEATURE_ECN: u32 = 1;

/// rtnetlink attributes, appended in order, each padded to 4 bytes.
#[derive(Default)]
pub(super) struct Attrs(pub(super) Vec<u8>);

impl Attrs {
    pub(super) fn put(&mut self, ty: u16, data: &[u8]) {
        let len = 4 + data.len();
        // No attribute reaches 64 KiB: a configuration line, which holds
        // every nexthop and name of one route, is at most 16 KiB.
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(data);
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }

    pub(super) fn u32(&mut self, ty: u16, v: u32) {
        self.put(ty, &v.to_ne_bytes());
    }

    pub(super) fn u8(&mut self, ty: u16, v: u8) {
        self.put(ty, &[v]);
    }

    pub(super) fn addr(&mut self, ty: u16, a: IpAddr) {
        self.put(ty, &octets(a));
    }
}

pub(super) fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

pub(super) fn family(ipv6: bool) -> u8 {
    if ipv6 {
        AF_INET6
    } else {
        AF_INET
    }
}

/// What the daemon resolved for a route: its table number and interface
/// indexes (of `dev`, and of each nexthop's `dev`, in order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteTarget {
    pub table: u32,
    pub oif: Option<u32>,
    pub nexthop_oifs: Vec<Option<u32>>,
}

/// A gateway: RTA_GATEWAY in the route's family, else RTA_VIA (family + address).
fn gateway(a: &mut Attrs, route_v6: bool, via: IpAddr) {
    if via.is_ipv6() == route_v6 {
        a.addr(RTA_GATEWAY, via);
    } else {
        let mut d = u16::from(family(via.is_ipv6())).to_ne_bytes().to_vec();
        d.extend(octets(via));
        a.put(RTA_VIA, &d);
    }
}

fn metrics(r: &Route) -> Attrs {
    let m = &r.metrics;
    let mut a = Attrs::default();
    let plain = [
        (2, m.mtu),
        (3, m.window),
        (4, m.rtt),
        (5, m.rttvar),
        (6, m.ssthresh),
        (7, m.cwnd),
        (8, m.advmss),
        (9, m.reordering),
        (10, m.hoplimit),
        (11, m.initcwnd),
        (13, m.rto_min),
        (14, m.initrwnd),
        (15, m.quickack),
        (17, m.fastopen_no_cookie),
    ];
    if let Some(c) = &m.congctl {
        a.put(RTAX_CC_ALGO, c.as_bytes());
    }
    for (ty, v) in plain {
        if let Some(v) = v {
            a.u32(ty, v);
        }
    }
    if m.ecn {
        a.u32(RTAX_FEATURES, RTAX_FEATURE_ECN);
    }
    if !a.0.is_empty() && m.lock != 0 {
        a.u32(RTAX_LOCK, m.lock);
    }
    a
}

fn multipath(r: &Route, t: &RouteTarget) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, nh) in r.nexthops.iter().enumerate() {
        let mut a = Attrs::default();
        if let Some(v) = nh.via {
            gateway(&mut a, r.ipv6, v);
        }
        if let Some(realms) = nh.realms {
            a.u32(RTA_FLOW, realms);
        }
        let len = 8 + a.0.len();
        out.extend_from_slice(&(len as u16).to_ne_bytes());
        out.push(if nh.onlink { RTNH_F_ONLINK } else { 0 });
        // rtnh_hops is the weight minus one (weight 1..=256).
        out.push(nh.weight.saturating_sub(1).min(255) as u8);
        let ifindex = t.nexthop_oifs.get(i).copied().flatten().unwrap_or(0);
        out.extend_from_slice(&ifindex.to_ne_bytes());
        out.extend(a.0);
    }
    out
}

/// The rtmsg and its attributes for adding (`del` false) or deleting `r`.
/// A delete carries the same keys (and our protocol), so it only ever
/// removes the route we installed.
pub fn encode(r: &Route, t: &RouteTarget, del: bool) -> Vec<u8> {
    let table_byte = if t.table < 256 { t.table as u8 } else { 0 };
    let scope = match (r.scope, del) {
        (Some(s), _) => s,
        (None, true) => RT_SCOPE_NOWHERE,
        (None, false) => 0,
    };
    let kind = match (r.kind, del) {
        (Some(k), _) => k.kernel_value(),
        (None, true) => 0,
        (None, false) => RTN_UNICAST,
    };
    let flags: u32 = if r.onlink {
        u32::from(RTNH_F_ONLINK)
    } else {
        0
    };
    let mut out = vec![
        family(r.ipv6),
        r.dst.len,
        r.from.map_or(0, |p| p.len),
        r.tos.unwrap_or(0),
        table_byte,
        r.protocol,
        scope,
        kind,
    ];
    out.extend_from_slice(&flags.to_ne_bytes());
    let mut a = Attrs::default();
    if t.table >= 256 {
        a.u32(RTA_TABLE, t.table);
    }
    if r.dst.len > 0 || !r.dst.addr.is_unspecified() {
        a.addr(RTA_DST, r.dst.addr);
    }
    if let Some(p) = r.from {
        a.addr(RTA_SRC, p.addr);
    }
    if let Some(s) = r.src {
        a.addr(RTA_PREFSRC, s);
    }
    if let Some(v) = r.via {
        gateway(&mut a, r.ipv6, v);
    }
    if let Some(i) = t.oif {
        a.u32(RTA_OIF, i);
    }
    if let Some(m) = r.metric {
        a.u32(RTA_PRIORITY, m);
    }
    if let Some(x) = r.realms {
        a.u32(RTA_FLOW, x);
    }
    if let Some(e) = r.expires {
        a.u32(RTA_EXPIRES, e);
    }
    if let Some(p) = r.pref {
        a.u8(RTA_PREF, p);
    }
    if let Some(t) = r.ttl_propagate {
        a.u8(RTA_TTL_PROPAGATE, u8::from(t));
    }
    let m = metrics(r);
    if !m.0.is_empty() {
        a.put(RTA_METRICS, &m.0);
    }
    if !r.nexthops.is_empty() {
        a.put(RTA_MULTIPATH, &multipath(r, t));
    }
    out.extend(a.0);
    out
}

impl Netlink {
    /// Install a route. Already there (EEXIST) is `Unchanged`.
    pub fn add_route(&self, r: &Route, t: &RouteTarget) -> Result<Change, NetlinkError> {
        let flags = NlmF::CREATE
            | match r.mode {
                AddMode::Prepend => NlmF::empty(),
                AddMode::Add => NlmF::EXCL,
                AddMode::Append => NlmF::APPEND,
            };
        let msg = Buffer::from(encode(r, t, false));
        match self.exchange::<_, Buffer>(Rtm::Newroute, flags, msg, false) {
            Ok(_) => Ok(Change::Applied),
            Err(NetlinkError::Kernel(Errno::EEXIST)) => Ok(Change::Unchanged),
            Err(e) => Err(e),
        }
    }

    /// Remove a route we installed. Absent (ESRCH, ENOENT) is `Unchanged`.
    pub fn del_route(&self, r: &Route, t: &RouteTarget) -> Result<Change, NetlinkError> {
        let msg = Buffer::from(encode(r, t, true));
        match self.exchange::<_, Buffer>(Rtm::Delroute, NlmF::empty(), msg, false) {
            Ok(_) => Ok(Change::Applied),
            Err(NetlinkError::Kernel(Errno::ESRCH | Errno::ENOENT)) => Ok(Change::Unchanged),
            Err(e) => Err(e),
        }
    }
}

/// Parses `rt_tables` text: `NUMBER NAME` lines, `#` comments. Numbers
/// may be hexadecimal (`0x..`) as iproute2 allows.
pub fn parse_rt_tables(text: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(n), Some(name)) = (words.next(), words.next()) else {
            continue;
        };
        let id = match n.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).ok(),
            None => n.parse().ok(),
        };
        if let Some(id) = id {
            out.push((name.to_string(), id));
        }
    }
    out
}

/// The table names of `/etc/iproute2/rt_tables` (none if it is missing).
pub fn rt_tables() -> Vec<(String, u32)> {
    std::fs::read_to_string("/etc/iproute2/rt_tables")
        .map(|t| parse_rt_tables(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::{Nexthop, Prefix, RouteType};

    fn route(dst: &str, len: u8) -> Route {
        Route::new(Prefix {
            addr: dst.parse().unwrap(),
            len,
        })
    }

    /// Attribute (type, payload) pairs after the 12-byte rtmsg.
    fn attrs(b: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        let mut i = 12;
        while i + 4 <= b.len() {
            let len = u16::from_ne_bytes([b[i], b[i + 1]]) as usize;
            let ty = u16::from_ne_bytes([b[i + 2], b[i + 3]]);
            out.push((ty, b[i + 4..i + len].to_vec()));
            i += (len + 3) & !3;
        }
        out
    }

    #[test]
    fn unicast_via_dev_in_a_small_table() {
        let mut r = route("10.1.0.0", 16);
        r.via = Some("10.0.0.254".parse().unwrap());
        r.metric = Some(7);
        let t = RouteTarget {
            table: 100,
            oif: Some(3),
            nexthop_oifs: vec![],
        };
        let b = encode(&r, &t, false);
        assert_eq!(&b[..8], &[AF_INET, 16, 0, 0, 100, 18, 0, RTN_UNICAST]);
        let a = attrs(&b);
        assert_eq!(a[0], (RTA_DST, vec![10, 1, 0, 0]));
        assert_eq!(a[1], (RTA_GATEWAY, vec![10, 0, 0, 254]));
        assert_eq!(a[2], (RTA_OIF, 3u32.to_ne_bytes().to_vec()));
        assert_eq!(a[3], (RTA_PRIORITY, 7u32.to_ne_bytes().to_vec()));
        // A delete names the same route, any scope, any type.
        let d = encode(&r, &t, true);
        assert_eq!(&d[..8], &[AF_INET, 16, 0, 0, 100, 18, RT_SCOPE_NOWHERE, 0]);
        assert_eq!(attrs(&d), a);
    }

    #[test]
    fn big_table_ipv6_blackhole_default_and_v4_via_v6() {
        let mut r = route("::", 0);
        r.ipv6 = true;
        r.kind = Some(RouteType::Blackhole);
        let t = RouteTarget {
            table: 1000,
            ..Default::default()
        };
        let b = encode(&r, &t, false);
        assert_eq!(&b[..8], &[AF_INET6, 0, 0, 0, 0, 18, 0, 6]);
        assert_eq!(attrs(&b), vec![(RTA_TABLE, 1000u32.to_ne_bytes().to_vec())]);
        let mut v = route("10.7.0.0", 16);
        v.via = Some("fe80::2".parse().unwrap());
        let a = attrs(&encode(&v, &RouteTarget::default(), false));
        assert_eq!(a[1].0, RTA_VIA);
        assert_eq!(&a[1].1[..2], &u16::from(AF_INET6).to_ne_bytes());
        assert_eq!(a[1].1.len(), 18);
    }

    #[test]
    fn metrics_and_multipath() {
        let mut r = route("10.8.0.0", 16);
        r.metrics.mtu = Some(1400);
        r.metrics.lock = 1 << 2;
        r.metrics.congctl = Some("cubic".into());
        r.nexthops = vec![
            Nexthop {
                via: Some("10.0.0.1".parse().unwrap()),
                dev: None,
                weight: 3,
                onlink: true,
                realms: None,
            },
            Nexthop {
                via: Some("10.0.0.2".parse().unwrap()),
                dev: None,
                weight: 1,
                onlink: false,
                realms: None,
            },
        ];
        let t = RouteTarget {
            table: 254,
            oif: None,
            nexthop_oifs: vec![Some(5), Some(6)],
        };
        let a = attrs(&encode(&r, &t, false));
        let (_, m) = a.iter().find(|x| x.0 == RTA_METRICS).unwrap();
        // CC_ALGO "cubic" (4 + 5, padded to 12), MTU, LOCK.
        assert_eq!(m.len(), 12 + 8 + 8);
        assert_eq!(&m[12..20], &[8, 0, 2, 0, 0x78, 0x05, 0, 0]);
        let (_, mp) = a.iter().find(|x| x.0 == RTA_MULTIPATH).unwrap();
        // Two rtnexthops of 8 bytes + an 8-byte RTA_GATEWAY each.
        assert_eq!(mp.len(), 32);
        assert_eq!(&mp[..8], &[16, 0, RTNH_F_ONLINK, 2, 5, 0, 0, 0]);
        assert_eq!(&mp[16..24], &[16, 0, 0, 0, 6, 0, 0, 0]);
    }

    #[test]
    fn rt_tables_file() {
        let t = parse_rt_tables(
            "# comment\n255\tlocal\n254 main\n100 vigil # ours\n0x200 hex\nbad line\n",
        );
        assert_eq!(
            t,
            vec![
                ("local".to_string(), 255),
                ("main".to_string(), 254),
                ("vigil".to_string(), 100),
                ("hex".to_string(), 512),
            ]
        );
    }
}
