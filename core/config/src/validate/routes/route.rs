//! Route lines: `ip route` words, their metrics and nexthops.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_model::{AddMode, Nexthop, Prefix, Route, RouteType, PROTO_KEEPALIVED};

use super::words::{address, bad, num, prefix, protocol, realms, table, tos, unsigned};
use super::words::{Bad, Family, Words};
use crate::parser::{Stmt, Word};
use crate::validate::Ctx;

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
pub(super) fn route_line(ctx: &mut Ctx, block: &str, line: &Stmt) -> Option<Route> {
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
