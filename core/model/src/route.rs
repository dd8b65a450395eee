//! Routes and policy rules: `virtual_routes` / `virtual_rules` of an instance
//! (installed while it is MASTER) and the top-level `static_routes` /
//! `static_rules` (installed for the daemon's whole life).
//!
//! Each type keeps what rtnetlink needs, already resolved, and prints back
//! as the keepalived line it came from (`Display`), which `show` and the
//! daemon's log lines both use.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;
use serde::{Deserialize, Serialize};

/// `RTPROT_KEEPALIVED`: the protocol tracked routes and rules carry, so
/// that they can be told apart from everybody else's.
pub const PROTO_KEEPALIVED: u8 = 18;

/// `ADDR/LEN` (or `default`: the zero address, length 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefix {
    /// The address (host bits as written; the kernel masks them).
    pub addr: IpAddr,
    /// Prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    pub len: u8,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 && self.addr.is_unspecified() {
            return f.write_str("default");
        }
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A routing table: `table N|NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Table {
    /// A number (`main` 254, `local` 255, `default` 253 are stored so).
    Id(u32),
    /// A name the daemon looks up in `/etc/iproute2/rt_tables` at start, as
    /// keepalived does when it reads its configuration.
    Name(String),
}

impl Table {
    /// `main`, the kernel's default.
    pub const MAIN: Table = Table::Id(254);
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Table::Id(n) => write!(f, "{n}"),
            Table::Name(n) => f.write_str(n),
        }
    }
}

/// Route type (`RTN_*`), written before the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteType {
    Unicast,
    Local,
    Broadcast,
    Anycast,
    Multicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
    Nat,
    Xresolve,
}

/// Names as `ip route` and keepalived accept them, with the kernel value.
const ROUTE_TYPES: &[(&str, RouteType, u8)] = &[
    ("unicast", RouteType::Unicast, 1),
    ("local", RouteType::Local, 2),
    ("broadcast", RouteType::Broadcast, 3),
    ("brd", RouteType::Broadcast, 3),
    ("anycast", RouteType::Anycast, 4),
    ("multicast", RouteType::Multicast, 5),
    ("blackhole", RouteType::Blackhole, 6),
    ("unreachable", RouteType::Unreachable, 7),
    ("prohibit", RouteType::Prohibit, 8),
    ("throw", RouteType::Throw, 9),
    ("nat", RouteType::Nat, 10),
    ("xresolve", RouteType::Xresolve, 11),
];

impl RouteType {
    /// The type of this name, if it is one.
    pub fn from_name(s: &str) -> Option<RouteType> {
        ROUTE_TYPES.iter().find(|e| e.0 == s).map(|e| e.1)
    }

    /// The keyword.
    pub fn name(self) -> &'static str {
        ROUTE_TYPES
            .iter()
            .find(|e| e.1 == self)
            .map_or("unicast", |e| e.0)
    }

    /// `RTN_*`.
    pub fn kernel_value(self) -> u8 {
        ROUTE_TYPES.iter().find(|e| e.1 == self).map_or(1, |e| e.2)
    }
}

/// How a route is added (`add`, `prepend`, `append` in keepalived's syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AddMode {
    /// The default: `NLM_F_CREATE` alone (what `ip route prepend` does).
    #[default]
    Prepend,
    /// `add`: fail if the route exists (`NLM_F_EXCL`).
    Add,
    /// `append`: another route of the same key (`NLM_F_APPEND`).
    Append,
}

/// The `RTA_METRICS` of a route; each `None` leaves the kernel's value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RouteMetrics {
    pub mtu: Option<u32>,
    pub advmss: Option<u32>,
    pub hoplimit: Option<u32>,
    /// `rtt`, `rttvar`, `rto_min` in the kernel's units (1/8, 1/4 and 1 ms),
    /// as keepalived converts `NNms` / `Ns` (a bare number is already so).
    pub rtt: Option<u32>,
    pub rttvar: Option<u32>,
    pub reordering: Option<u32>,
    pub window: Option<u32>,
    pub cwnd: Option<u32>,
    pub ssthresh: Option<u32>,
    pub rto_min: Option<u32>,
    pub initcwnd: Option<u32>,
    pub initrwnd: Option<u32>,
    /// `features ecn`.
    pub ecn: bool,
    pub quickack: Option<u32>,
    pub fastopen_no_cookie: Option<u32>,
    pub congctl: Option<String>,
    /// `RTAX_LOCK` bits: `mtu lock N` and the like (bit = RTAX index).
    pub lock: u32,
}

/// `nexthop via ADDR dev IF weight N onlink` of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nexthop {
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    /// `weight N`, 1..=256 as written (the kernel stores N - 1).
    pub weight: u16,
    pub onlink: bool,
    pub realms: Option<u32>,
}

/// One line of `virtual_routes` / `static_routes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// True for IPv6 (the family every address of the route shares).
    pub ipv6: bool,
    /// `[to] [TYPE] PREFIX`.
    pub dst: Prefix,
    /// `TYPE`, if written (a delete then names it too); default unicast.
    pub kind: Option<RouteType>,
    /// `src ADDR`: the preferred source (`RTA_PREFSRC`).
    pub src: Option<IpAddr>,
    /// `from PREFIX` (IPv6 only): source routing (`RTA_SRC`).
    pub from: Option<Prefix>,
    /// `via [inet|inet6] ADDR` / `gw ADDR`; may be of the other family
    /// (IPv4 via IPv6, `RTA_VIA`).
    pub via: Option<IpAddr>,
    /// `dev IF` / `oif IF`.
    pub dev: Option<String>,
    /// `table N|NAME`; default main.
    pub table: Table,
    /// `metric|priority|preference N`.
    pub metric: Option<u32>,
    /// `scope SCOPE` as `RT_SCOPE_*`; default global (the kernel fixes
    /// link/host for some types).
    pub scope: Option<u8>,
    /// `protocol P`; keepalived (18) unless `no_track` and written.
    pub protocol: u8,
    /// `tos|dsfield N`.
    pub tos: Option<u8>,
    /// `onlink`.
    pub onlink: bool,
    /// `realms [FROM/]TO` as the kernel's u32.
    pub realms: Option<u32>,
    /// `expires SECS` (IPv6 only).
    pub expires: Option<u32>,
    /// `pref low|medium|high` (IPv6 only) as the kernel's value.
    pub pref: Option<u8>,
    /// `ttl-propagate enabled|disabled`.
    pub ttl_propagate: Option<bool>,
    pub metrics: RouteMetrics,
    /// `nexthop ...` entries (multipath); empty = a single path.
    pub nexthops: Vec<Nexthop>,
    /// `no_track`: a route removed from outside stays removed.
    pub no_track: bool,
    pub mode: AddMode,
}

impl Route {
    /// A unicast route to `dst` in main, as the parser starts one.
    pub fn new(dst: Prefix) -> Route {
        Route {
            ipv6: dst.addr.is_ipv6(),
            dst,
            kind: None,
            src: None,
            from: None,
            via: None,
            dev: None,
            table: Table::MAIN,
            metric: None,
            scope: None,
            protocol: PROTO_KEEPALIVED,
            tos: None,
            onlink: false,
            realms: None,
            expires: None,
            pref: None,
            ttl_propagate: None,
            metrics: RouteMetrics::default(),
            nexthops: Vec::new(),
            no_track: false,
            mode: AddMode::Prepend,
        }
    }
}

fn lockable(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    v: Option<u32>,
    lock: u32,
    bit: u32,
) -> fmt::Result {
    if let Some(v) = v {
        let l = if lock & (1 << bit) != 0 { " lock" } else { "" };
        write!(f, " {name}{l} {v}")?;
    }
    Ok(())
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ipv6 && self.dst.len == 0 {
            f.write_str("inet6 ")?;
        }
        if let Some(k) = self.kind {
            write!(f, "{} ", k.name())?;
        }
        write!(f, "{}", self.dst)?;
        if let Some(a) = self.src {
            write!(f, " src {a}")?;
        }
        if let Some(p) = self.from {
            write!(f, " from {p}")?;
        }
        if let Some(a) = self.via {
            match (self.ipv6, a.is_ipv6()) {
                (false, true) => write!(f, " via inet6 {a}")?,
                (true, false) => write!(f, " via inet {a}")?,
                _ => write!(f, " via {a}")?,
            }
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        if self.table != Table::MAIN {
            write!(f, " table {}", self.table)?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        if let Some(s) = self.scope {
            write!(f, " scope {s}")?;
        }
        if self.protocol != PROTO_KEEPALIVED {
            write!(f, " protocol {}", self.protocol)?;
        }
        if let Some(t) = self.tos {
            write!(f, " tos {t:#x}")?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        if let Some(r) = self.realms {
            write!(f, " realms {}/{}", r >> 16, r & 0xffff)?;
        }
        if let Some(e) = self.expires {
            write!(f, " expires {e}")?;
        }
        if let Some(p) = self.pref {
            write!(f, " pref {p}")?;
        }
        if let Some(t) = self.ttl_propagate {
            let v = if t { "enabled" } else { "disabled" };
            write!(f, " ttl-propagate {v}")?;
        }
        let m = &self.metrics;
        lockable(f, "mtu", m.mtu, m.lock, 2)?;
        lockable(f, "window", m.window, m.lock, 3)?;
        lockable(f, "rtt", m.rtt, m.lock, 4)?;
        lockable(f, "rttvar", m.rttvar, m.lock, 5)?;
        lockable(f, "ssthresh", m.ssthresh, m.lock, 6)?;
        lockable(f, "cwnd", m.cwnd, m.lock, 7)?;
        lockable(f, "advmss", m.advmss, m.lock, 8)?;
        lockable(f, "reordering", m.reordering, m.lock, 9)?;
        lockable(f, "hoplimit", m.hoplimit, m.lock, 10)?;
        lockable(f, "initcwnd", m.initcwnd, m.lock, 11)?;
        if m.ecn {
            f.write_str(" features ecn")?;
        }
        lockable(f, "rto_min", m.rto_min, m.lock, 13)?;
        lockable(f, "initrwnd", m.initrwnd, m.lock, 14)?;
        lockable(f, "quickack", m.quickack, m.lock, 15)?;
        if let Some(c) = &m.congctl {
            let l = if m.lock & (1 << 16) != 0 { " lock" } else { "" };
            write!(f, " congctl{l} {c}")?;
        }
        lockable(f, "fastopen_no_cookie", m.fastopen_no_cookie, m.lock, 17)?;
        match self.mode {
            AddMode::Prepend => {}
            AddMode::Add => f.write_str(" add")?,
            AddMode::Append => f.write_str(" append")?,
        }
        if self.no_track {
            f.write_str(" no_track")?;
        }
        for nh in &self.nexthops {
            f.write_str(" nexthop")?;
            if let Some(a) = nh.via {
                if a.is_ipv6() != self.ipv6 {
                    write!(f, " via {} {a}", if a.is_ipv6() { "inet6" } else { "inet" })?;
                } else {
                    write!(f, " via {a}")?;
                }
            }
            if let Some(d) = &nh.dev {
                write!(f, " dev {d}")?;
            }
            if nh.weight != 1 {
                write!(f, " weight {}", nh.weight)?;
            }
            if nh.onlink {
                f.write_str(" onlink")?;
            }
            if let Some(r) = nh.realms {
                write!(f, " realms {}/{}", r >> 16, r & 0xffff)?;
            }
        }
        Ok(())
    }
}

/// What a rule does (`FR_ACT_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleAction {
    /// `table|lookup N|NAME`.
    Table(Table),
    /// `goto PRIORITY`.
    Goto(u32),
    /// `nop`.
    Nop,
    Blackhole,
    Unreachable,
    Prohibit,
    /// `l3mdev`: look the table up from the VRF device.
    L3mdev,
}

impl RuleAction {
    /// `FR_ACT_*`.
    pub fn kernel_value(&self) -> u8 {
        match self {
            RuleAction::Table(_) | RuleAction::L3mdev => 1,
            RuleAction::Goto(_) => 2,
            RuleAction::Nop => 3,
            RuleAction::Blackhole => 6,
            RuleAction::Unreachable => 7,
            RuleAction::Prohibit => 8,
        }
    }
}

/// One line of `virtual_rules` / `static_rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// True for IPv6; default IPv4 unless an address or `inet6` says so.
    pub ipv6: bool,
    /// `from PREFIX|all`.
    pub from: Option<Prefix>,
    /// `to PREFIX|all`.
    pub to: Option<Prefix>,
    /// `not`: match the opposite.
    pub invert: bool,
    /// `priority|preference|order N`.
    pub priority: Option<u32>,
    /// `tos|dsfield N`; 0 = any.
    pub tos: u8,
    /// `fwmark N[/MASK]`.
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    /// `realms [FROM/]TO`.
    pub realms: Option<u32>,
    /// `suppress_prefixlength N`.
    pub suppress_prefixlen: Option<u32>,
    /// `suppress_ifgroup N`.
    pub suppress_ifgroup: Option<u32>,
    /// `iif|dev IF`.
    pub iif: Option<String>,
    /// `oif IF`.
    pub oif: Option<String>,
    /// `tunnel-id N`.
    pub tunnel_id: Option<u64>,
    /// `uidrange START-END`.
    pub uidrange: Option<(u32, u32)>,
    /// `protocol P`; keepalived (18) unless `no_track` and written.
    pub protocol: Option<u8>,
    /// `ipproto tcp|udp|N`.
    pub ipproto: Option<u8>,
    /// `sport N[-M]`, `dport N[-M]`.
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
    pub action: RuleAction,
    /// `no_track`.
    pub no_track: bool,
}

impl Rule {
    /// A rule of family `ipv6` with action `action` and nothing else.
    pub fn new(ipv6: bool, action: RuleAction) -> Rule {
        Rule {
            ipv6,
            from: None,
            to: None,
            invert: false,
            priority: None,
            tos: 0,
            fwmark: None,
            fwmask: None,
            realms: None,
            suppress_prefixlen: None,
            suppress_ifgroup: None,
            iif: None,
            oif: None,
            tunnel_id: None,
            uidrange: None,
            protocol: Some(PROTO_KEEPALIVED),
            ipproto: None,
            sport: None,
            dport: None,
            action,
            no_track: false,
        }
    }
}

fn range(f: &mut fmt::Formatter<'_>, name: &str, r: Option<(u16, u16)>) -> fmt::Result {
    match r {
        Some((a, b)) if a == b => write!(f, " {name} {a}"),
        Some((a, b)) => write!(f, " {name} {a}-{b}"),
        None => Ok(()),
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.ipv6 { "inet6" } else { "inet" })?;
        if self.invert {
            f.write_str(" not")?;
        }
        if let Some(p) = self.from {
            write!(f, " from {p}")?;
        }
        if let Some(p) = self.to {
            write!(f, " to {p}")?;
        }
        if let Some(p) = self.priority {
            write!(f, " priority {p}")?;
        }
        if self.tos != 0 {
            write!(f, " tos {:#x}", self.tos)?;
        }
        if let Some(m) = self.fwmark {
            write!(f, " fwmark {m:#x}")?;
            if let Some(k) = self.fwmask {
                write!(f, "/{k:#x}")?;
            }
        }
        if let Some(r) = self.realms {
            write!(f, " realms {}/{}", r >> 16, r & 0xffff)?;
        }
        if let Some(n) = self.suppress_prefixlen {
            write!(f, " suppress_prefixlength {n}")?;
        }
        if let Some(n) = self.suppress_ifgroup {
            write!(f, " suppress_ifgroup {n}")?;
        }
        if let Some(d) = &self.iif {
            write!(f, " iif {d}")?;
        }
        if let Some(d) = &self.oif {
            write!(f, " oif {d}")?;
        }
        if let Some(t) = self.tunnel_id {
            write!(f, " tunnel-id {t}")?;
        }
        if let Some((a, b)) = self.uidrange {
            write!(f, " uidrange {a}-{b}")?;
        }
        match self.protocol {
            Some(PROTO_KEEPALIVED) | None => {}
            Some(p) => write!(f, " protocol {p}")?,
        }
        if let Some(p) = self.ipproto {
            write!(f, " ipproto {p}")?;
        }
        range(f, "sport", self.sport)?;
        range(f, "dport", self.dport)?;
        match &self.action {
            RuleAction::Table(t) => write!(f, " table {t}")?,
            RuleAction::Goto(n) => write!(f, " goto {n}")?,
            RuleAction::Nop => f.write_str(" nop")?,
            RuleAction::Blackhole => f.write_str(" blackhole")?,
            RuleAction::Unreachable => f.write_str(" unreachable")?,
            RuleAction::Prohibit => f.write_str(" prohibit")?,
            RuleAction::L3mdev => f.write_str(" l3mdev")?,
        }
        if self.no_track {
            f.write_str(" no_track")?;
        }
        Ok(())
    }
}
