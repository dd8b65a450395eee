//! `virtual_server_group NAME { ADDR[-END|/MASK] [PORT]; fwmark N [inet|inet6] }`
//! (keepalived 2.2.7, check_data.c `alloc_vsg_entry`).
//!
//! A bad entry is skipped with a warning, as keepalived skips it; a group
//! expanding to more kernel services than [`MAX_SERVICES`] is refused, since
//! the table would not fit a router's memory.

use alloc::format;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_model::{IpFamily, VsGroup, VsGroupEntry};

use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;
use crate::span::Span;
use crate::values;

/// Most kernel services one group may stand for.
pub const MAX_SERVICES: u64 = 4096;

/// Reads one `virtual_server_group` block; `None` if it is unusable.
pub(super) fn parse(ctx: &mut Ctx, stmt: &Stmt) -> Option<(VsGroup, Span)> {
    let (name, span) = ctx.name(stmt)?;
    let body = ctx.block(stmt)?;
    let mut entries = Vec::new();
    for s in body {
        if let Some(e) = entry(ctx, s) {
            entries.push(e);
        }
    }
    let group = VsGroup { name, entries };
    if group.entries.is_empty() {
        let what = format!(
            "virtual_server_group {} has no entries; removed",
            group.name
        );
        ctx.ignored(span, what);
        return None;
    }
    let no_family = group
        .entries
        .iter()
        .any(|e| matches!(e, VsGroupEntry::Fwmark { family: None, .. }));
    let v6 = group.entries.iter().any(|e| match e {
        VsGroupEntry::Range { first, .. } => first.is_ipv6(),
        VsGroupEntry::Fwmark { family, .. } => *family == Some(IpFamily::V6),
    });
    if no_family && v6 && group.has_v4() {
        let what = format!(
            "virtual_server_group {} has IPv4 and IPv6 entries and a fwmark without \
             inet/inet6; removed",
            group.name
        );
        ctx.ignored(span, what);
        return None;
    }
    let total: u64 = group.entries.iter().map(VsGroupEntry::len).sum();
    if total > MAX_SERVICES {
        let p = Problem::BadGroupEntry(
            format!("{} services", total),
            "a group may stand for at most 4096 kernel services",
        );
        ctx.error(span, p);
        return None;
    }
    Some((group, span))
}

fn entry(ctx: &mut Ctx, s: &Stmt) -> Option<VsGroupEntry> {
    let head = &s.keyword;
    if head.text == "fwmark" {
        ctx.at_most(s, 2);
        let w = ctx.nth(s, 0)?;
        let mark = ctx.int_word(s, w, 0, i64::from(u32::MAX))?;
        let family = match s.args.get(1).map(|w| (w, w.text.as_str())) {
            None => None,
            Some((_, "inet")) => Some(IpFamily::V4),
            Some((_, "inet6")) => Some(IpFamily::V6),
            Some((w, _)) => {
                let what = format!("fwmark {mark}: unknown family {}; entry skipped", w.text);
                ctx.ignored(w.span, what);
                return None;
            }
        };
        return Some(VsGroupEntry::Fwmark { mark, family });
    }
    ctx.at_most(s, 1);
    let port = match s.args.first() {
        Some(w) => ctx.int_word(s, w, 0, 65535)?,
        None => 0,
    };
    match range(&head.text) {
        Ok((first, last)) => Some(VsGroupEntry::Range { first, last, port }),
        Err(why) => {
            ctx.warn(head.span, Problem::BadGroupEntry(head.text.clone(), why));
            None
        }
    }
}

/// `ADDR`, `ADDR-LAST` (the last octet, or the last IPv6 group in hex),
/// `ADDR-ADDR` or `ADDR/PREFIX`, as the first and last address.
pub fn range(text: &str) -> Result<(IpAddr, IpAddr), &'static str> {
    if let Some((a, m)) = text.split_once('/') {
        let first = values::ip(a).ok_or("not an IP address")?;
        let bits = if first.is_ipv4() { 32 } else { 128 };
        let prefix = values::int(m)
            .filter(|p| (1..=bits).contains(p))
            .ok_or("bad prefix length")? as u32;
        return match first {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(prefix).unwrap_or(0);
                if u32::from(a) & host != 0 {
                    return Err("address mask bits not empty");
                }
                Ok((first, IpAddr::V4(Ipv4Addr::from(u32::from(a) | host))))
            }
            IpAddr::V6(a) => {
                if prefix < 112 {
                    return Err(
                        "an IPv6 range only varies the last 16-bit group (prefix /112 or longer)",
                    );
                }
                let host = u128::MAX.checked_shr(prefix).unwrap_or(0);
                if u128::from(a) & host != 0 {
                    return Err("address mask bits not empty");
                }
                Ok((first, IpAddr::V6(Ipv6Addr::from(u128::from(a) | host))))
            }
        };
    }
    let Some((a, end)) = text.split_once('-') else {
        let a = values::ip(text).ok_or("not an IP address")?;
        return Ok((a, a));
    };
    let first = values::ip(a).ok_or("not an IP address")?;
    let last = match first {
        IpAddr::V4(_) if end.contains('.') => values::ip(end).ok_or("bad range end")?,
        IpAddr::V6(f6) if end.contains(':') => {
            let l = values::ip(end).ok_or("bad range end")?;
            if let IpAddr::V6(l6) = l {
                if l6.segments()[..7] != f6.segments()[..7] {
                    return Err(
                        "an IPv6 range only varies the last 16-bit group; the prefixes differ",
                    );
                }
            }
            l
        }
        IpAddr::V4(f) => {
            let n: u8 = end
                .parse()
                .map_err(|_| "range end is not a number 0..255")?;
            let [a, b, c, _] = f.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, n))
        }
        IpAddr::V6(f) => {
            let n = u16::from_str_radix(end, 16).map_err(|_| "range end is not hex 0..ffff")?;
            let mut g = f.segments();
            g[7] = n;
            IpAddr::V6(Ipv6Addr::from(g))
        }
    };
    let ordered = match (first, last) {
        (IpAddr::V4(f), IpAddr::V4(l)) => f <= l,
        (IpAddr::V6(f), IpAddr::V6(l)) => f <= l,
        _ => return Err("range address families do not match"),
    };
    if !ordered {
        return Err("range end is less than its start");
    }
    // keepalived: the short form must end strictly above its start.
    if first == last && !end.contains(['.', ':']) {
        return Err("range end is not greater than its start");
    }
    Ok((first, last))
}
