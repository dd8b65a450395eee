//! Rule lines: `ip rule` selectors and the one action each rule takes.

use alloc::format;
use core::net::{IpAddr, Ipv6Addr};

use vigil_model::{RouteType, Rule, RuleAction, Table, PROTO_KEEPALIVED};

use super::words::{bad, num, prefix, protocol, realms, table, tos, unsigned};
use super::words::{Bad, Family, Words};
use crate::parser::{Stmt, Word};
use crate::validate::Ctx;

/// One rule line; `None` (and a warning) if keepalived would drop it too.
pub(super) fn rule_line(ctx: &mut Ctx, block: &str, line: &Stmt) -> Option<Rule> {
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
