//! `virtual_server ... { real_server ... { CHECKER { ... } } }`.
//!
//! Checker options can be given on the checker, the real server or the
//! virtual server, in any order; they are collected first and resolved at the
//! end of the virtual server, nearest first, as keepalived does.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

use vigil_model::{LbKind, Protocol, RealServer, Scheduler, SorryServer, VirtualServer, VsKey};

use super::global::set;
use super::{lookup, Ctx};
use crate::error::Problem;
use crate::parser::Stmt;
use crate::span::Span;
use crate::values;

use super::lvs_checks::{checker, resolve_rs, CheckDraft, Defaults, MAX_TIMER_SECS};

/// keepalived's `LVS_MAX_TIMEOUT` for persistence (31 days).
const MAX_PERSISTENCE: i64 = 31 * 86_400;

/// A real server as read; its checkers are resolved by `lvs_checks`.
pub(super) struct RsDraft {
    pub rs: RealServer,
    pub lb_kind: Option<LbKind>,
    pub inhibit: Option<bool>,
    pub own: Defaults,
    pub checks: Vec<CheckDraft>,
}

/// A `virtual_server` read, with what is resolved once every block is read.
pub(super) struct Parsed {
    pub vs: VirtualServer,
    /// `virtual_server group NAME`: the name and where it is.
    pub group: Option<(String, Span)>,
    /// Where each of `vs.real_servers` is declared.
    pub rs_spans: Vec<Span>,
    /// Where the sorry server is declared.
    pub sorry_span: Option<Span>,
    /// Where the `virtual_server` keyword is.
    pub vs_span: Span,
}

/// Reads one `virtual_server` block.
pub(super) fn parse(ctx: &mut Ctx, stmt: &Stmt) -> Option<Parsed> {
    let (key, group) = match stmt.args.first() {
        Some(w) if w.text == "group" => {
            ctx.at_most(stmt, 2);
            let n = ctx.nth(stmt, 1)?;
            // A placeholder until the group is linked (see vs_link.rs).
            (VsKey::Fwmark(0), Some((n.text.clone(), n.span)))
        }
        _ => (key(ctx, stmt)?, None),
    };
    let body = ctx.block(stmt)?;
    let mut vs = VirtualServer::new(key);
    let mut sorry_span = None;
    let mut rs_spans = Vec::new();
    let mut own = Defaults::default();
    let mut inhibit = false;
    let mut sorry_inhibit = false;
    let mut sorry_kind = None;
    let n = body
        .iter()
        .filter(|s| s.keyword.text == "real_server")
        .count();
    let mut servers = Vec::with_capacity(n);
    for s in body {
        let kw = s.keyword.text.as_str();
        match kw {
            "delay_loop" => set(&mut vs.delay_loop, ctx.duration(s, MAX_TIMER_SECS)),
            "lb_algo" | "lvs_sched" => set(&mut vs.scheduler, scheduler(ctx, s)),
            "lb_kind" | "lvs_method" => set(&mut vs.lb_kind, lb_kind(ctx, s)),
            "protocol" => {
                let t = [
                    ("TCP", Protocol::Tcp),
                    ("UDP", Protocol::Udp),
                    ("SCTP", Protocol::Sctp),
                ];
                set(
                    &mut vs.protocol,
                    ctx.choice(s, |x| lookup(&t, x), "TCP|UDP|SCTP"),
                );
            }
            "persistence_timeout" => {
                ctx.at_most(s, 1);
                vs.persistence_timeout = match s.args.first() {
                    None => Some(360),
                    // keepalived: "persistence_timeout invalid", ignored.
                    Some(_) => ctx
                        .int_or_ignore(s, 1, MAX_PERSISTENCE)
                        .or(vs.persistence_timeout),
                };
            }
            "persistence_granularity" => {
                if let Some(w) = ctx.one(s) {
                    let max = if matches!(
                        vs.key,
                        VsKey::Addr {
                            addr: IpAddr::V6(_),
                            ..
                        }
                    ) {
                        128
                    } else {
                        32
                    };
                    let p = values::netmask_prefix(&w.text).or_else(|| {
                        values::int(&w.text)
                            .filter(|v| (1..=max).contains(v))
                            .map(|v| v as u8)
                    });
                    match p {
                        Some(p) => vs.persistence_granularity = Some(p),
                        None => ctx.error(w.span, Problem::BadPrefix(w.text.clone())),
                    }
                }
            }
            "sorry_server" => {
                ctx.at_most(s, 2);
                if let Some((addr, port)) = addr_port(ctx, s) {
                    sorry_span = Some(s.keyword.span);
                    vs.sorry_server = Some(SorryServer {
                        addr,
                        port,
                        inhibit: false,
                        lb_kind: None,
                    });
                }
            }
            "sorry_server_inhibit" => set(&mut sorry_inhibit, ctx.flag_bool(s)),
            "sorry_server_lvs_method" | "sorry_server_lb_kind" => {
                sorry_kind = lb_kind(ctx, s).or(sorry_kind)
            }
            "inhibit_on_failure" => set(&mut inhibit, ctx.flag_bool(s)),
            "quorum" => {
                // keepalived turns 0 into 1, with a warning.
                let q = ctx.int_or_ignore(s, 1, i64::from(u32::MAX));
                let zero = s
                    .args
                    .first()
                    .is_some_and(|w| values::int(&w.text) == Some(0));
                set(&mut vs.quorum, q.or(zero.then_some(1)));
            }
            "hysteresis" => set(&mut vs.hysteresis, ctx.int(s, 0, i64::from(u32::MAX))),
            "quorum_up" => vs.quorum_up = ctx.command(s).map(Box::new).or(vs.quorum_up.take()),
            "quorum_down" => {
                vs.quorum_down = ctx.command(s).map(Box::new).or(vs.quorum_down.take())
            }
            "alpha" => set(&mut vs.alpha, ctx.flag_bool(s)),
            "omega" => set(&mut vs.omega, ctx.flag_bool(s)),
            "ha_suspend" => set(&mut vs.ha_suspend, ctx.flag_bool(s)),
            "smtp_alert" => vs.smtp_alert = ctx.flag_bool(s).or(vs.smtp_alert),
            "real_server" => servers.extend(real_server(ctx, s).map(|d| (d, s.keyword.span))),
            _ => {
                if !own.keyword(ctx, s, kw) {
                    ctx.unknown(s, "virtual_server");
                }
            }
        }
    }
    if let Some(sorry) = &mut vs.sorry_server {
        sorry.inhibit = sorry_inhibit;
        sorry.lb_kind = sorry_kind;
    }
    // Consumed front first with the buffer shrunk as it empties: drafts and
    // resolved servers are not both whole at the peak (tests/mem_peak.rs).
    servers.reverse();
    vs.real_servers.reserve_exact(servers.len());
    rs_spans.reserve_exact(servers.len());
    while let Some((d, span)) = servers.pop() {
        if servers.len() < servers.capacity() / 2 {
            servers.shrink_to_fit();
        }
        let rs = resolve_rs(ctx, d, &vs, &own, inhibit);
        vs.real_servers.push(rs);
        rs_spans.push(span);
    }
    Some(Parsed {
        vs,
        group,
        rs_spans,
        sorry_span,
        vs_span: stmt.keyword.span,
    })
}

/// `virtual_server ADDR [PORT]` or `virtual_server fwmark N`.
fn key(ctx: &mut Ctx, stmt: &Stmt) -> Option<VsKey> {
    let first = ctx.nth(stmt, 0)?;
    match first.text.as_str() {
        "fwmark" => {
            ctx.at_most(stmt, 2);
            let n = ctx.nth(stmt, 1)?;
            Some(VsKey::Fwmark(ctx.int_word(
                stmt,
                n,
                1,
                i64::from(u32::MAX),
            )?))
        }
        _ => {
            ctx.at_most(stmt, 2);
            let (addr, port) = addr_port(ctx, stmt)?;
            Some(VsKey::Addr { addr, port })
        }
    }
}

/// `ADDR [PORT]` as the first two values (port 0 when absent).
fn addr_port(ctx: &mut Ctx, s: &Stmt) -> Option<(IpAddr, u16)> {
    let a = ctx.nth(s, 0)?;
    let addr = ctx.ip_word(a)?;
    let port = match s.args.get(1) {
        Some(p) => ctx.int_word(s, p, 0, 65535)?,
        None => 0,
    };
    Some((addr, port))
}

/// keepalived matches names exactly and keeps its default (with a warning)
/// for any other.
fn scheduler(ctx: &mut Ctx, s: &Stmt) -> Option<Scheduler> {
    ctx.choice_or_default(
        s,
        |t| Scheduler::ALL.into_iter().find(|x| x.name() == t),
        "rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh (keeping wlc or the earlier value)",
    )
}

fn lb_kind(ctx: &mut Ctx, s: &Stmt) -> Option<LbKind> {
    // TUN may be followed by tunnel options, which vigil does not use.
    let tun = s.args.first().is_some_and(|w| w.text == "TUN");
    ctx.at_most(s, if tun { usize::MAX } else { 1 });
    let w = ctx.nth(s, 0)?;
    let t = [
        ("NAT", LbKind::Nat),
        ("DR", LbKind::Dr),
        ("TUN", LbKind::Tun),
    ];
    let v = t.iter().find(|(n, _)| *n == w.text).map(|&(_, k)| k);
    if v.is_none() {
        // keepalived: "unknown routing method", the default (NAT) stays.
        let p = Problem::BadChoice {
            keyword: s.keyword.text.clone(),
            value: w.text.clone(),
            expected: "NAT|DR|TUN, exactly (keeping NAT or the earlier value)",
        };
        ctx.warn(w.span, p);
    }
    v
}

fn real_server(ctx: &mut Ctx, stmt: &Stmt) -> Option<RsDraft> {
    ctx.at_most(stmt, 2);
    let (addr, port) = addr_port(ctx, stmt)?;
    let mut d = RsDraft {
        rs: RealServer::new(addr, port),
        lb_kind: None,
        inhibit: None,
        own: Defaults::default(),
        checks: Vec::new(),
    };
    // A real server without a block is allowed (no checkers).
    let body = stmt
        .block
        .as_ref()
        .map(|b| b.stmts.as_slice())
        .unwrap_or(&[]);
    for s in body {
        let kw = s.keyword.text.as_str();
        match kw {
            "weight" => set(&mut d.rs.weight, ctx.int(s, 0, 65535)),
            "lb_kind" | "lvs_method" => d.lb_kind = lb_kind(ctx, s).or(d.lb_kind),
            "inhibit_on_failure" => d.inhibit = ctx.flag_bool(s).or(d.inhibit),
            "notify_up" => d.rs.notify_up = ctx.command(s).map(Box::new).or(d.rs.notify_up.take()),
            "notify_down" => {
                d.rs.notify_down = ctx.command(s).map(Box::new).or(d.rs.notify_down.take())
            }
            "uthreshold" => set(&mut d.rs.uthreshold, ctx.int(s, 0, i64::from(i32::MAX))),
            "lthreshold" => set(&mut d.rs.lthreshold, ctx.int(s, 0, i64::from(i32::MAX))),
            "smtp_alert" => d.rs.smtp_alert = ctx.flag_bool(s).or(d.rs.smtp_alert),
            "SSL_GET" => {
                ctx.error(s.keyword.span, Problem::SslGetUnsupported);
                d.checks.extend(checker(ctx, s))
            }
            "HTTP_GET" | "TCP_CHECK" | "MISC_CHECK" | "DNS_CHECK" | "SMTP_CHECK" | "UDP_CHECK"
            | "PING_CHECK" | "FILE_CHECK" => d.checks.extend(checker(ctx, s)),
            _ => {
                if !d.own.keyword(ctx, s, kw) {
                    ctx.unknown(s, "real_server");
                }
            }
        }
    }
    // A Vec grown by one push holds four drafts (1.2 KiB): held per real
    // server until the virtual server is resolved.
    d.checks.shrink_to_fit();
    Some(d)
}
