//! `virtual_routes`, `virtual_rules` (in a `vrrp_instance`) and the top-level
//! `static_routes`, `static_rules`, `static_ipaddress`: one route, rule or
//! address per line, in `ip route` / `ip rule` words as keepalived 2.2.7
//! reads them (keepalived/vrrp/vrrp_iproute.c, vrrp_iprule.c).
//!
//! keepalived drops a line it cannot read with a configuration error and
//! carries on; so does vigil, as a warning naming the line. What vigil does
//! not implement (`encap`, `vrf`) drops the line the same way rather than
//! install something other than what was written.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_model::{
    AddMode, Nexthop, Prefix, Route, RouteType, Rule, RuleAction, Table, VirtualAddress,
    PROTO_KEEPALIVED,
};

use super::Ctx;
use crate::parser::{Stmt, Word};
use crate::span::Span;

/// Reads a `virtual_routes` / `static_routes` block.
pub(super) fn routes(ctx: &mut Ctx, stmt: &Stmt) -> Vec<Route> {
    let kw = stmt.keyword.text.as_str();
    let Some(body) = ctx.block(stmt) else {
        return Vec::new();
    };
    body.iter().filter_map(|l| route_line(ctx, kw, l)).collect()
}

/// Reads a `virtual_rules` / `static_rules` block.
pub(super) fn rules(ctx: &mut Ctx, stmt: &Stmt) -> Vec<Rule> {
    let kw = stmt.keyword.text.as_str();
    let Some(body) = ctx.block(stmt) else {
        return Vec::new();
    };
    body.iter().filter_map(|l| rule_line(ctx, kw, l)).collect()
}

/// Reads `static_ipaddress`: the VIP syntax, where `dev` is required (there
/// is no instance interface to fall back on).
pub(super) fn static_addresses(ctx: &mut Ctx, stmt: &Stmt) -> Vec<VirtualAddress> {
    let Some(body) = ctx.block(stmt) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for l in body {
        let Some(a) = super::vip::vip(ctx, l) else {
            continue;
        };
        if a.dev.is_none() {
            let msg = format!("static_ipaddress: {} has no `dev`; skipped", a.addr);
            ctx.ignored(l.keyword.span, msg);
            continue;
        }
        out.push(a);
    }
    out
}

/// The words of one line and a cursor over them.
struct Words<'a> {
    all: Vec<&'a Word>,
    i: usize,
}

impl<'a> Words<'a> {
    fn of(line: &'a Stmt) -> Words<'a> {
        let mut all = Vec::with_capacity(line.args.len() + 1);
        all.push(&line.keyword);
        all.extend(line.args.iter());
        Words { all, i: 0 }
    }

    fn peek(&self) -> Option<&'a Word> {
        self.all.get(self.i).copied()
    }

    fn next(&mut self) -> Option<&'a Word> {
        let w = self.peek();
        self.i += 1;
        w
    }

    /// The value after an option; `Err` names the option when it is missing.
    fn value(&mut self, opt: &Word) -> Result<&'a Word, Bad> {
        self.next()
            .ok_or_else(|| Bad(opt.span, format!("`{}` needs a value", opt.text)))
    }

    /// An optional `lock` before a metric's value.
    fn lock(&mut self) -> bool {
        if self.peek().is_some_and(|w| w.text == "lock") {
            self.i += 1;
            return true;
        }
        false
    }
}

/// Why a line is dropped, and where.
struct Bad(Span, String);

fn bad<T>(w: &Word, why: &str) -> Result<T, Bad> {
    Err(Bad(w.span, format!("{why} ({})", w.text)))
}

/// keepalived's unsigned numbers: decimal or `0x` hexadecimal.
fn unsigned(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) if !h.is_empty() => u64::from_str_radix(h, 16).ok(),
        _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        _ => None,
    }
}

fn num<T: TryFrom<u64>>(w: &Word, max: u64) -> Result<T, Bad> {
    match unsigned(&w.text) {
        Some(v) if v <= max => T::try_from(v).or_else(|_| bad(w, "value out of range")),
        Some(_) => bad(w, "value out of range"),
        None => bad(w, "not a number"),
    }
}

/// `ADDR[/LEN]`, or `default` / `any` / `all` (family decided later).
fn prefix(w: &Word) -> Result<(Prefix, bool), Bad> {
    if matches!(w.text.as_str(), "default" | "any" | "all") {
        let p = Prefix {
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            len: 0,
        };
        return Ok((p, false));
    }
    let (a, l) = match w.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (w.text.as_str(), None),
    };
    let Ok(addr) = a.parse::<IpAddr>() else {
        return bad(w, "bad address");
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        None => max,
        Some(l) => match unsigned(l) {
            Some(v) if v <= u64::from(max) => v as u8,
            _ => return bad(w, "bad prefix length"),
        },
    };
    Ok((Prefix { addr, len }, true))
}

fn address(w: &Word) -> Result<IpAddr, Bad> {
    w.text.parse().or_else(|_| bad(w, "bad address"))
}

/// The line's family: unset until a word decides it; a word of the other
/// family drops the line (keepalived: "Cannot mix IPv4 and IPv6").
struct Family(Option<bool>);

impl Family {
    fn set(&mut self, w: &Word, v6: bool) -> Result<(), Bad> {
        match self.0 {
            Some(f) if f != v6 => bad(w, "IPv4 and IPv6 mixed"),
            _ => {
                self.0 = Some(v6);
                Ok(())
            }
        }
    }
}

fn table(w: &Word) -> Table {
    match w.text.as_str() {
        "main" => Table::Id(254),
        "local" => Table::Id(255),
        "default" => Table::Id(253),
        t => match unsigned(t).and_then(|v| u32::try_from(v).ok()) {
            Some(n) => Table::Id(n),
            None => Table::Name(t.to_string()),
        },
    }
}

/// `protocol`: iproute2's built-in names or a number.
fn protocol(w: &Word) -> Result<u8, Bad> {
    const NAMES: &[(&str, u8)] = &[
        ("none", 0),
        ("redirect", 1),
        ("kernel", 2),
        ("boot", 3),
        ("static", 4),
        ("gated", 8),
        ("ra", 9),
        ("mrt", 10),
        ("zebra", 11),
        ("bird", 12),
        ("dnrouted", 13),
        ("xorp", 14),
        ("ntk", 15),
        ("dhcp", 16),
        ("keepalived", 18),
        ("babel", 42),
    ];
    match NAMES.iter().find(|n| n.0 == w.text) {
        Some(n) => Ok(n.1),
        None => num(w, 255),
    }
}

fn scope(w: &Word) -> Result<u8, Bad> {
    const NAMES: &[(&str, u8)] = &[
        ("global", 0),
        ("universe", 0),
        ("site", 200),
        ("link", 253),
        ("host", 254),
        ("nowhere", 255),
    ];
    match NAMES.iter().find(|n| n.0 == w.text) {
        Some(n) => Ok(n.1),
        None => num(w, 255),
    }
}

/// `tos` / `dsfield`: a number (names from rt_dsfield are not read).
fn tos(w: &Word) -> Result<u8, Bad> {
    let t = w.text.as_str();
    let v = if t.starts_with("0x") || t.starts_with("0X") {
        unsigned(t)
    } else {
        // iproute2 reads the dsfield as hexadecimal even without 0x.
        u64::from_str_radix(t, 16).ok()
    };
    match v {
        Some(v) if v <= 255 => Ok(v as u8),
        _ => bad(w, "bad TOS value"),
    }
}

/// `realms [FROM/]TO`, numbers (rt_realms names are not read).
fn realms(w: &Word) -> Result<u32, Bad> {
    let one = |t: &str| unsigned(t).filter(|&v| v <= 0xffff).map(|v| v as u32);
    let v = match w.text.split_once('/') {
        Some((a, b)) => one(a).zip(one(b)).map(|(a, b)| (a << 16) | b),
        None => one(&w.text),
    };
    v.map_or_else(|| bad(w, "bad realms"), Ok)
}

/// `rtt`-style times: a bare number in the kernel's unit, else `Nms` / `Ns`,
/// clamped to keepalived's 200 ms..120 s.
fn rtt(w: &Word, unit: u64) -> Result<u32, Bad> {
    let t = w.text.to_ascii_lowercase();
    let (n, mult) = if let Some(n) = t.strip_suffix("ms").or_else(|| t.strip_suffix("msec")) {
        (n.to_string(), unit)
    } else if let Some(n) = ["secs", "sec", "s"].iter().find_map(|s| t.strip_suffix(s)) {
        (n.to_string(), 1000 * unit)
    } else {
        (t.clone(), 0)
    };
    let Some(v) = unsigned(&n) else {
        return bad(w, "bad time");
    };
    if mult == 0 {
        return u32::try_from(v).or_else(|_| bad(w, "bad time"));
    }
    let v = v.saturating_mul(mult).clamp(200 * unit, 120_000 * unit);
    Ok(v as u32)
}

/// One route line; `None` (and a warning) if keepalived would drop it too.
fn route_line(ctx: &mut Ctx, block: &str, line: &Stmt) -> Option<Route> {
    if let Some(b) = &line.block {
        ctx.ignored(
            b.open,
            format!("{block}: a block inside a route is skipped"),
        );
    }
    match parse_route(ctx, block, line) {
        Ok(r) => Some(r),
        Err(Bad(at, why)) => {
            ctx.ignored(at, format!("{block}: {why}; route skipped"));
            None
        }
    }
}

fn parse_route(ctx: &mut Ctx, block: &str, line: &Stmt) -> Result<Route, Bad> {
    let mut ws = Words::of(line);
    let mut fam = Family(None);
    let mut r = Route::new(Prefix {
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        len: 0,
    });
    let mut dst: Option<(Prefix, bool)> = None;
    let mut protocol_given = false;
    let mut via_family: Option<bool> = None;
    while let Some(w) = ws.next() {
        let m = &mut r.metrics;
        match w.text.as_str() {
            "inet" => fam.set(w, false)?,
            "inet6" => fam.set(w, true)?,
            "src" => {
                let v = ws.value(w)?;
                let a = address(v)?;
                fam.set(v, a.is_ipv6())?;
                r.src = Some(a);
            }
            "as" => {
                let v = ws.value(w)?;
                if v.text == "to" {
                    ws.value(v)?;
                }
                ctx.ignored(
                    w.span,
                    format!("{block}: \"as to\" is for MPLS only; ignored"),
                );
            }
            "via" | "gw" => {
                if w.text == "gw" {
                    let msg = format!("{block}: \"gw\" is deprecated, use \"via\"");
                    ctx.ignored(w.span, msg);
                }
                let mut v = ws.value(w)?;
                let explicit = match v.text.as_str() {
                    "inet" => Some(false),
                    "inet6" => Some(true),
                    _ => None,
                };
                if explicit.is_some() {
                    v = ws.value(v)?;
                }
                let a = address(v)?;
                if explicit.is_some_and(|f| f != a.is_ipv6()) {
                    return bad(v, "address of the other family than its inet/inet6");
                }
                match explicit {
                    // `via inet6 ADDR` on an IPv4 route: RTA_VIA.
                    Some(_) => via_family = Some(a.is_ipv6()),
                    None => fam.set(v, a.is_ipv6())?,
                }
                r.via = Some(a);
            }
            "from" => {
                let v = ws.value(w)?;
                let (p, _) = prefix(v)?;
                if !p.addr.is_ipv6() {
                    return bad(v, "route `from` is IPv6 only");
                }
                fam.set(v, true)?;
                r.from = Some(p);
            }
            "tos" | "dsfield" => r.tos = Some(tos(ws.value(w)?)?),
            "table" => r.table = table(ws.value(w)?),
            "protocol" | "proto" => {
                r.protocol = protocol(ws.value(w)?)?;
                protocol_given = true;
            }
            "scope" => r.scope = Some(scope(ws.value(w)?)?),
            "metric" | "priority" | "preference" => {
                r.metric = Some(num(ws.value(w)?, u64::from(u32::MAX))?)
            }
            "dev" | "oif" => r.dev = Some(ws.value(w)?.text.clone()),
            "onlink" => r.onlink = true,
            "expires" => {
                fam.set(w, true)?;
                r.expires = Some(num(ws.value(w)?, u64::from(u32::MAX))?);
            }
            "mtu" | "advmss" | "reordering" | "cwnd" | "ssthresh" | "hoplimit" | "window"
            | "initcwnd" | "initrwnd" | "rtt" | "rttvar" | "rto_min" => {
                let (bit, lockable) = metric_bit(&w.text);
                let locked = lockable && ws.lock();
                let v = ws.value(w)?;
                let val = match w.text.as_str() {
                    "rtt" => rtt(v, 8)?,
                    "rttvar" => rtt(v, 4)?,
                    "rto_min" => rtt(v, 1)?,
                    "hoplimit" => num(v, 255)?,
                    _ => num(v, u64::from(u32::MAX))?,
                };
                if locked {
                    m.lock |= 1 << bit;
                }
                *metric_slot(m, &w.text) = Some(val);
            }
            "features" => {
                let v = ws.value(w)?;
                if v.text != "ecn" {
                    return bad(v, "unknown feature");
                }
                m.ecn = true;
            }
            "quickack" => m.quickack = Some(num(ws.value(w)?, 1)?),
            "fastopen_no_cookie" => m.fastopen_no_cookie = Some(num(ws.value(w)?, 1)?),
            "congctl" => {
                if ws.lock() {
                    m.lock |= 1 << 16;
                }
                m.congctl = Some(ws.value(w)?.text.clone());
            }
            "realms" => {
                fam.set(w, false)?;
                r.realms = Some(realms(ws.value(w)?)?);
            }
            "pref" => {
                fam.set(w, true)?;
                let v = ws.value(w)?;
                r.pref = Some(match v.text.as_str() {
                    "low" => 3,
                    "medium" => 0,
                    "high" => 1,
                    _ => num(v, 255)?,
                });
            }
            "ttl-propagate" => {
                let v = ws.value(w)?;
                r.ttl_propagate = Some(match v.text.as_str() {
                    "enabled" => true,
                    "disabled" => false,
                    _ => return bad(v, "expected enabled|disabled"),
                });
            }
            "add" => r.mode = AddMode::Add,
            "prepend" => r.mode = AddMode::Prepend,
            "append" => r.mode = AddMode::Append,
            "no_track" => r.no_track = true,
            "track_group" => {
                let v = ws.value(w)?;
                let msg = format!("{block}: track_group {} is not acted on by vigil", v.text);
                ctx.ignored(w.span, msg);
            }
            "encap" | "vrf" => return bad(w, "not supported by vigil"),
            "or" => {
                let msg = format!("{block}: \"or\" is deprecated, use \"nexthop\"");
                ctx.ignored(w.span, msg);
                let v = ws.value(w)?;
                if !r.nexthops.is_empty() {
                    let msg = format!("{block}: a second \"or\" is ignored");
                    ctx.ignored(w.span, msg);
                    continue;
                }
                // keepalived's old syntax: `via A or B` is two nexthops.
                let b = address(v)?;
                fam.set(v, b.is_ipv6())?;
                r.nexthops = [r.via.take(), Some(b)]
                    .into_iter()
                    .map(|via| Nexthop {
                        via,
                        dev: None,
                        weight: 1,
                        onlink: false,
                        realms: None,
                    })
                    .collect();
            }
            "nexthop" => {
                if !r.nexthops.is_empty() {
                    return bad(w, "nexthops after \"or\"");
                }
                ws.i -= 1;
                r.nexthops = nexthops(&mut ws, &mut fam)?;
            }
            _ => {
                let mut w = w;
                if w.text == "to" {
                    w = ws.value(w)?;
                }
                if let Some(k) = RouteType::from_name(&w.text) {
                    r.kind = Some(k);
                    w = ws.value(w)?;
                }
                let (p, has_family) = prefix(w).or_else(|_| bad(w, "unknown route keyword"))?;
                if has_family {
                    fam.set(w, p.addr.is_ipv6())?;
                }
                dst = Some((p, has_family));
            }
        }
    }
    let Some((mut p, _)) = dst else {
        return Err(Bad(line.keyword.span, "a route needs a destination".into()));
    };
    r.ipv6 = fam.0.unwrap_or(false);
    if r.ipv6 && p.addr.is_ipv4() {
        p.addr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    }
    r.dst = p;
    if via_family == Some(r.ipv6) {
        via_family = None;
    }
    if via_family == Some(true) && r.ipv6 {
        return Err(Bad(
            line.keyword.span,
            "IPv6 route via an IPv4 address".into(),
        ));
    }
    if !r.no_track {
        if protocol_given && r.protocol != PROTO_KEEPALIVED {
            let msg = format!("{block}: a tracked route's protocol is keepalived (18); reset");
            ctx.ignored(line.keyword.span, msg);
        }
        r.protocol = PROTO_KEEPALIVED;
        if r.dev.is_none() {
            // keepalived's warning: removal is only watched per interface.
            let msg = format!("{block}: route {} has no `dev`: not tracked", r.dst);
            ctx.ignored(line.keyword.span, msg);
        }
    }
    Ok(r)
}

/// RTAX_* index of a metric and whether `lock` may precede its value.
fn metric_bit(name: &str) -> (u32, bool) {
    match name {
        "mtu" => (2, true),
        "window" => (3, false),
        "rtt" => (4, true),
        "rttvar" => (5, true),
        "ssthresh" => (6, true),
        "cwnd" => (7, true),
        "advmss" => (8, true),
        "reordering" => (9, true),
        "hoplimit" => (10, false),
        "initcwnd" => (11, false),
        "rto_min" => (13, true),
        _ => (14, false), // initrwnd
    }
}

fn metric_slot<'m>(m: &'m mut vigil_model::RouteMetrics, name: &str) -> &'m mut Option<u32> {
    match name {
        "mtu" => &mut m.mtu,
        "window" => &mut m.window,
        "rtt" => &mut m.rtt,
        "rttvar" => &mut m.rttvar,
        "ssthresh" => &mut m.ssthresh,
        "cwnd" => &mut m.cwnd,
        "advmss" => &mut m.advmss,
        "reordering" => &mut m.reordering,
        "hoplimit" => &mut m.hoplimit,
        "initcwnd" => &mut m.initcwnd,
        "rto_min" => &mut m.rto_min,
        _ => &mut m.initrwnd,
    }
}

/// `nexthop [via [inet|inet6] ADDR] [dev IF] [weight N] [onlink] [realms R]`...
/// to the end of the line.
fn nexthops(ws: &mut Words, fam: &mut Family) -> Result<Vec<Nexthop>, Bad> {
    let mut out = Vec::new();
    while let Some(w) = ws.next() {
        if w.text != "nexthop" {
            return bad(w, "trailing words after the nexthops");
        }
        let mut nh = Nexthop {
            via: None,
            dev: None,
            weight: 1,
            onlink: false,
            realms: None,
        };
        while let Some(o) = ws.peek() {
            match o.text.as_str() {
                "via" => {
                    ws.i += 1;
                    let mut v = ws.value(o)?;
                    let explicit = matches!(v.text.as_str(), "inet" | "inet6");
                    if explicit {
                        v = ws.value(v)?;
                    }
                    let a = address(v)?;
                    if !explicit {
                        fam.set(v, a.is_ipv6())?;
                    }
                    nh.via = Some(a);
                }
                "dev" => {
                    ws.i += 1;
                    nh.dev = Some(ws.value(o)?.text.clone());
                }
                "weight" => {
                    ws.i += 1;
                    let v = ws.value(o)?;
                    nh.weight = num(v, 256)?;
                    if nh.weight == 0 {
                        return bad(v, "weight 0");
                    }
                }
                "onlink" => {
                    ws.i += 1;
                    nh.onlink = true;
                }
                "realms" => {
                    ws.i += 1;
                    fam.set(o, false)?;
                    nh.realms = Some(realms(ws.value(o)?)?);
                }
                "encap" | "as" => return bad(o, "not supported by vigil in a nexthop"),
                _ => break,
            }
        }
        out.push(nh);
    }
    Ok(out)
}

/// One rule line; `None` (and a warning) if keepalived would drop it too.
fn rule_line(ctx: &mut Ctx, block: &str, line: &Stmt) -> Option<Rule> {
    if let Some(b) = &line.block {
        ctx.ignored(b.open, format!("{block}: a block inside a rule is skipped"));
    }
    match parse_rule(ctx, block, line) {
        Ok(r) => Some(r),
        Err(Bad(at, why)) => {
            ctx.ignored(at, format!("{block}: {why}; rule skipped"));
            None
        }
    }
}

fn port_range(w: &Word) -> Result<(u16, u16), Bad> {
    let (a, b) = match w.text.split_once('-') {
        Some((a, b)) => (a, b),
        None => (w.text.as_str(), w.text.as_str()),
    };
    let one = |t: &str| unsigned(t).filter(|&v| v <= 65535).map(|v| v as u16);
    match (one(a), one(b)) {
        (Some(a), Some(b)) if a <= b => Ok((a, b)),
        _ => bad(w, "bad port range"),
    }
}

fn parse_rule(ctx: &mut Ctx, block: &str, line: &Stmt) -> Result<Rule, Bad> {
    let mut ws = Words::of(line);
    let mut fam = Family(None);
    let mut r = Rule::new(false, RuleAction::Nop);
    let mut action: Option<RuleAction> = None;
    let mut table_option: Option<&Word> = None;
    let mut protocol_given = None;
    let set_action = |a: &mut Option<RuleAction>, w: &Word, v: RuleAction| {
        if a.is_some() {
            return bad(
                w,
                "more than one of table/goto/nop/blackhole/prohibit/unreachable/l3mdev",
            );
        }
        *a = Some(v);
        Ok(())
    };
    while let Some(w) = ws.next() {
        match w.text.as_str() {
            "inet" => fam.set(w, false)?,
            "inet6" => fam.set(w, true)?,
            "from" | "to" => {
                let v = ws.value(w)?;
                let (p, has_family) = prefix(v)?;
                if has_family {
                    fam.set(v, p.addr.is_ipv6())?;
                }
                if w.text == "from" {
                    r.from = Some(p);
                } else {
                    r.to = Some(p);
                }
            }
            "table" | "lookup" => {
                let v = ws.value(w)?;
                let t = table(v);
                if t == Table::Id(0) {
                    return bad(v, "table 0 is not valid");
                }
                set_action(&mut action, w, RuleAction::Table(t))?;
            }
            "not" => r.invert = true,
            "preference" | "order" | "priority" | "pref" | "prio" => {
                r.priority = Some(num(ws.value(w)?, u64::from(u32::MAX))?)
            }
            "tos" | "dsfield" => r.tos = tos(ws.value(w)?)?,
            "fwmark" => {
                let v = ws.value(w)?;
                let (m, k) = match v.text.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (v.text.as_str(), None),
                };
                let n = |t: &str| unsigned(t).and_then(|x| u32::try_from(x).ok());
                r.fwmark = Some(n(m).map_or_else(|| bad(v, "bad fwmark"), Ok)?);
                r.fwmask = match k {
                    Some(k) => Some(n(k).map_or_else(|| bad(v, "bad fwmark mask"), Ok)?),
                    None => None,
                };
            }
            "realms" => {
                fam.set(w, false)?;
                r.realms = Some(realms(ws.value(w)?)?);
                table_option = Some(w);
            }
            "suppress_prefixlength" | "sup_pl" => {
                r.suppress_prefixlen = Some(num(ws.value(w)?, 128)?);
                table_option = Some(w);
            }
            "suppress_ifgroup" | "sup_group" => {
                r.suppress_ifgroup = Some(num(ws.value(w)?, u64::from(u32::MAX))?);
                table_option = Some(w);
            }
            "dev" | "iif" => r.iif = Some(ws.value(w)?.text.clone()),
            "oif" => r.oif = Some(ws.value(w)?.text.clone()),
            "tunnel-id" => r.tunnel_id = Some(num(ws.value(w)?, u64::MAX)?),
            "uidrange" => {
                let v = ws.value(w)?;
                let n = |t: &str| unsigned(t).and_then(|x| u32::try_from(x).ok());
                let pair = v.text.split_once('-').and_then(|(a, b)| n(a).zip(n(b)));
                match pair {
                    Some((a, b)) if a <= b => r.uidrange = Some((a, b)),
                    _ => return bad(v, "bad uidrange"),
                }
            }
            "l3mdev" => set_action(&mut action, w, RuleAction::L3mdev)?,
            "protocol" => {
                let v = ws.value(w)?;
                protocol_given = Some(protocol(v)?);
            }
            "ipproto" => {
                let v = ws.value(w)?;
                r.ipproto = Some(match v.text.as_str() {
                    "tcp" => 6,
                    "udp" => 17,
                    "sctp" => 132,
                    "dccp" => 33,
                    "icmp" => 1,
                    "ipv6-icmp" | "icmpv6" => 58,
                    _ => num(v, 255)?,
                });
            }
            "sport" => r.sport = Some(port_range(ws.value(w)?)?),
            "dport" => r.dport = Some(port_range(ws.value(w)?)?),
            "no_track" => r.no_track = true,
            "track_group" => {
                let v = ws.value(w)?;
                let msg = format!("{block}: track_group {} is not acted on by vigil", v.text);
                ctx.ignored(w.span, msg);
            }
            _ => {
                let mut w = w;
                if w.text == "type" {
                    w = ws.value(w)?;
                }
                let a = match w.text.as_str() {
                    "goto" => RuleAction::Goto(num(ws.value(w)?, u64::from(u32::MAX))?),
                    "nop" => RuleAction::Nop,
                    "blackhole" => RuleAction::Blackhole,
                    "unreachable" => RuleAction::Unreachable,
                    "prohibit" => RuleAction::Prohibit,
                    _ if RouteType::from_name(&w.text).is_some() => {
                        return bad(w, "not a rule action")
                    }
                    _ => return bad(w, "unknown rule option"),
                };
                set_action(&mut action, w, a)?;
            }
        }
    }
    let at = line.keyword.span;
    let Some(action) = action else {
        return Err(Bad(at, "no action (table, goto, nop, ...)".into()));
    };
    if let RuleAction::Goto(t) = action {
        match r.priority {
            Some(p) if p >= t => return Err(Bad(at, format!("priority {p} >= goto {t}"))),
            None => return Err(Bad(at, "goto without a priority".into())),
            _ => {}
        }
    }
    if let (Some(w), false) = (table_option, matches!(action, RuleAction::Table(_))) {
        return bad(w, "only valid with a table action");
    }
    r.action = action;
    r.ipv6 = fam.0.unwrap_or(false);
    for p in [&mut r.from, &mut r.to].into_iter().flatten() {
        if r.ipv6 && p.addr.is_ipv4() {
            p.addr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        }
    }
    if r.priority.is_none() {
        // keepalived numbers them down from 16384 per family, in file
        // order, so that rules keep their order across transitions.
        let next = &mut ctx.next_rule_priority[usize::from(r.ipv6)];
        r.priority = Some(*next);
        let msg =
            format!("{block}: rule without priority: priority {next} given, as keepalived does");
        *next = next.saturating_sub(1);
        ctx.ignored(at, msg);
    }
    r.protocol = if r.no_track {
        protocol_given
    } else {
        if protocol_given.is_some_and(|p| p != PROTO_KEEPALIVED) {
            let msg = format!("{block}: a tracked rule's protocol is keepalived (18); reset");
            ctx.ignored(at, msg);
        }
        Some(PROTO_KEEPALIVED)
    };
    Ok(r)
}
