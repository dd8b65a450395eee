//! `virtual_server ... { real_server ... { CHECKER { ... } } }`.
//!
//! Checker options can be given on the checker, the real server or the
//! virtual server, in any order; they are collected first and resolved at the
//! end of the virtual server, nearest first, as keepalived does.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{
    CheckCommon, CheckKind, Checker, Command, DnsCheck, DnsType, FileCheck, HttpCheck,
    HttpProtocol, LbKind, MiscCheck, Protocol, RealServer, RunAs, Scheduler, SmtpCheck,
    SorryServer, UdpCheck, Url, VirtualServer, VsKey, SMTP_DEFAULT_HELO,
};

use super::checker::{self as ck, SmtpHost};
use super::global::set;
use super::{lookup, Ctx};
use crate::error::Problem;
use crate::parser::Stmt;
use crate::span::Span;
use crate::values;

/// Longest timer accepted (one year), against overflow.
const MAX_TIMER_SECS: u64 = 365 * 86_400;
/// keepalived's `LVS_MAX_TIMEOUT` for persistence (31 days).
const MAX_PERSISTENCE: i64 = 31 * 86_400;

/// The checker options that can be inherited.
#[derive(Default, Clone)]
struct Defaults {
    connect_timeout: Option<Duration>,
    retry: Option<u32>,
    delay_before_retry: Option<Duration>,
    warmup: Option<Duration>,
    delay_loop: Option<Duration>,
    virtualhost: Option<String>,
}

impl Defaults {
    /// Handles an inheritable option; false if `kw` is not one.
    fn keyword(&mut self, ctx: &mut Ctx, s: &Stmt, kw: &str) -> bool {
        match kw {
            "connect_timeout" => {
                self.connect_timeout = ctx.duration(s, MAX_TIMER_SECS).or(self.connect_timeout)
            }
            "retry" | "nb_get_retry" => {
                self.retry = ctx.int(s, 0, i64::from(u32::MAX)).or(self.retry)
            }
            "delay_before_retry" => {
                self.delay_before_retry =
                    ctx.duration(s, MAX_TIMER_SECS).or(self.delay_before_retry)
            }
            "warmup" => self.warmup = ctx.duration(s, MAX_TIMER_SECS).or(self.warmup),
            "delay_loop" => self.delay_loop = ctx.duration(s, MAX_TIMER_SECS).or(self.delay_loop),
            "virtualhost" => self.virtualhost = ctx.text(s).or(self.virtualhost.take()),
            _ => return false,
        }
        true
    }
}

enum KindDraft {
    Http {
        ssl: bool,
        urls: Vec<Url>,
        protocol: HttpProtocol,
    },
    Tcp,
    Misc {
        path: Option<Command>,
        timeout: Option<Duration>,
        dynamic: bool,
        user: Option<RunAs>,
    },
    Dns(DnsCheck),
    Smtp(SmtpCheck),
    Udp(UdpCheck),
    Ping,
    File(Option<FileCheck>),
}

struct CheckDraft {
    kind: KindDraft,
    connect_ip: Option<IpAddr>,
    connect_port: Option<u16>,
    bindto: Option<IpAddr>,
    bind_port: Option<u16>,
    own: Defaults,
}

struct RsDraft {
    rs: RealServer,
    lb_kind: Option<LbKind>,
    inhibit: Option<bool>,
    own: Defaults,
    checks: Vec<CheckDraft>,
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
    let mut servers = Vec::new();
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
    for (d, span) in servers {
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
        rs: RealServer {
            addr,
            port,
            weight: 1,
            lb_kind: LbKind::Nat,
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            uthreshold: 0,
            lthreshold: 0,
            smtp_alert: None,
            checkers: Vec::new(),
        },
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
    Some(d)
}

/// One checker block; `SMTP_CHECK` gives one checker per `host` block
/// (plus its own connection when it has one, or no hosts).
fn checker(ctx: &mut Ctx, stmt: &Stmt) -> Vec<CheckDraft> {
    ctx.at_most(stmt, 0);
    let section = match stmt.keyword.text.as_str() {
        "HTTP_GET" => "HTTP_GET",
        "SSL_GET" => "SSL_GET",
        "TCP_CHECK" => "TCP_CHECK",
        "MISC_CHECK" => "MISC_CHECK",
        "SMTP_CHECK" => "SMTP_CHECK",
        "UDP_CHECK" => "UDP_CHECK",
        "PING_CHECK" => "PING_CHECK",
        "FILE_CHECK" => "FILE_CHECK",
        _ => "DNS_CHECK",
    };
    let own = |kind| CheckDraft {
        kind,
        connect_ip: None,
        connect_port: None,
        bindto: None,
        bind_port: None,
        own: Defaults::default(),
    };
    if section == "FILE_CHECK" {
        // Only track_file and weight: no connection, no timers.
        return ck::file_check(ctx, stmt)
            .map(|f| own(KindDraft::File(Some(f))))
            .into_iter()
            .collect();
    }
    let Some(body) = ctx.block(stmt) else {
        return Vec::new();
    };
    let mut hosts: Vec<SmtpHost> = Vec::new();
    let mut kind = match section {
        "HTTP_GET" | "SSL_GET" => KindDraft::Http {
            ssl: section == "SSL_GET",
            urls: Vec::new(),
            protocol: HttpProtocol::V10,
        },
        "TCP_CHECK" => KindDraft::Tcp,
        "MISC_CHECK" => KindDraft::Misc {
            path: None,
            timeout: None,
            dynamic: false,
            user: None,
        },
        "SMTP_CHECK" => KindDraft::Smtp(SmtpCheck {
            helo_name: SMTP_DEFAULT_HELO.into(),
        }),
        "UDP_CHECK" => KindDraft::Udp(UdpCheck {
            payload: None,
            require_reply: false,
        }),
        "PING_CHECK" => KindDraft::Ping,
        _ => KindDraft::Dns(DnsCheck {
            query_type: DnsType::Soa,
            name: ".".into(),
        }),
    };
    let mut d = CheckDraft {
        kind: KindDraft::Tcp,
        connect_ip: None,
        connect_port: None,
        bindto: None,
        bind_port: None,
        own: Defaults::default(),
    };
    for s in body {
        let kw = s.keyword.text.as_str();
        let misc = matches!(kind, KindDraft::Misc { .. });
        match (kw, &mut kind) {
            ("connect_ip", _) if !misc => d.connect_ip = ctx.ip(s).or(d.connect_ip),
            ("connect_port", _) if !misc => {
                d.connect_port = ctx.int(s, 1, 65535).or(d.connect_port)
            }
            ("bindto", _) if !misc => d.bindto = ctx.ip(s).or(d.bindto),
            ("bind_port", _) if !misc => d.bind_port = ctx.int(s, 1, 65535).or(d.bind_port),
            ("http_protocol", KindDraft::Http { protocol, .. }) => {
                let p = |x: &str| {
                    HttpProtocol::ALL
                        .into_iter()
                        .find(|p| p.name().eq_ignore_ascii_case(x))
                };
                set(protocol, ctx.choice(s, p, "1.0|1.0C|1.1"));
            }
            ("url", KindDraft::Http { urls, .. }) => urls.extend(ck::url(ctx, s)),
            ("misc_path", KindDraft::Misc { path, .. }) => *path = ctx.command(s).or(path.take()),
            ("misc_timeout", KindDraft::Misc { timeout, .. }) => {
                *timeout = ctx.duration(s, MAX_TIMER_SECS).or(*timeout)
            }
            ("misc_dynamic", KindDraft::Misc { dynamic, .. }) => set(dynamic, ctx.flag_bool(s)),
            ("user", KindDraft::Misc { user, .. }) => {
                if ctx.nth(s, 0).is_some() {
                    *user = ctx.run_as(s, 0);
                }
            }
            ("type", KindDraft::Dns(dns)) => {
                let t = |x: &str| {
                    DnsType::ALL
                        .into_iter()
                        .find(|t| t.name().eq_ignore_ascii_case(x))
                };
                set(
                    &mut dns.query_type,
                    ctx.choice(s, t, "A|NS|CNAME|SOA|MX|TXT|AAAA"),
                );
            }
            ("name", KindDraft::Dns(dns)) => set(&mut dns.name, ck::dns_name(ctx, s)),
            ("helo_name", KindDraft::Smtp(smtp)) => set(&mut smtp.helo_name, ctx.text(s)),
            ("host", KindDraft::Smtp(_)) => hosts.extend(ck::smtp_host(ctx, s, MAX_TIMER_SECS)),
            ("payload", KindDraft::Udp(udp)) => {
                udp.payload = ck::hex_payload(ctx, s).or(udp.payload.take())
            }
            ("require_reply", KindDraft::Udp(udp)) => {
                udp.require_reply = true;
                if !s.args.is_empty() {
                    // Matching the reply's bytes is not implemented.
                    ctx.not_acted_on(s);
                }
            }
            ("min_reply_length" | "max_reply_length", KindDraft::Udp(_)) => ctx.not_acted_on(s),
            ("virtualhost", KindDraft::Http { .. }) => {
                d.own.keyword(ctx, s, kw);
            }
            ("virtualhost", _) => ctx.unknown(s, section),
            _ => {
                if !d.own.keyword(ctx, s, kw) {
                    ctx.unknown(s, section);
                }
            }
        }
    }
    match &kind {
        KindDraft::Http { urls, .. } if urls.is_empty() => {
            ctx.error(stmt.keyword.span, Problem::MissingKeyword(section, "url"));
            return Vec::new();
        }
        KindDraft::Misc { path: None, .. } => {
            // keepalived skips the checker.
            let what = "MISC_CHECK without misc_path; checker skipped".into();
            ctx.ignored(stmt.keyword.span, what);
            return Vec::new();
        }
        _ => {}
    }
    let KindDraft::Smtp(smtp) = kind else {
        d.kind = kind;
        return alloc::vec![d];
    };
    // keepalived 2.2.7: the checker's own connection counts when any of it
    // is set or there are no hosts; every host is a checker of its own,
    // whose connect_timeout falls back to the real/virtual server's.
    let has_own = d.connect_ip.is_some()
        || d.connect_port.is_some()
        || d.bindto.is_some()
        || d.bind_port.is_some()
        || d.own.connect_timeout.is_some();
    let mut out = Vec::new();
    for h in &hosts {
        let mut own = d.own.clone();
        own.connect_timeout = h.connect_timeout;
        out.push(CheckDraft {
            kind: KindDraft::Smtp(smtp.clone()),
            connect_ip: h.connect_ip,
            connect_port: h.connect_port,
            bindto: h.bindto,
            bind_port: h.bind_port,
            own,
        });
    }
    if has_own || hosts.is_empty() {
        d.kind = KindDraft::Smtp(smtp);
        out.insert(0, d);
    }
    out
}

/// Resolves one real server and its checkers: checker, else real server,
/// else virtual server, else the kind's default.
fn resolve_rs(
    ctx: &mut Ctx,
    d: RsDraft,
    vs: &VirtualServer,
    vs_own: &Defaults,
    vs_inhibit: bool,
) -> RealServer {
    let _ = ctx;
    let mut rs = d.rs;
    rs.lb_kind = d.lb_kind.unwrap_or(vs.lb_kind);
    rs.inhibit_on_failure = d.inhibit.unwrap_or(vs_inhibit);
    let pick =
        |c: &Defaults, f: fn(&Defaults) -> Option<Duration>| f(c).or(f(&d.own)).or(f(vs_own));
    for c in d.checks {
        let own = &c.own;
        let delay_loop = pick(own, |x| x.delay_loop).unwrap_or(vs.delay_loop);
        let (retry_default, dbr_default) = match c.kind {
            KindDraft::Http { .. } => (1, Duration::from_secs(3)),
            KindDraft::Dns(_) => (3, delay_loop),
            KindDraft::Misc { .. } => (0, Duration::from_secs(1)),
            KindDraft::Tcp | KindDraft::Smtp(_) | KindDraft::Udp(_) | KindDraft::Ping => {
                (1, Duration::from_secs(1))
            }
            KindDraft::File(_) => (0, Duration::ZERO),
        };
        let file = matches!(c.kind, KindDraft::File(_));
        let common = CheckCommon {
            connect_ip: c.connect_ip.unwrap_or(rs.addr),
            connect_port: c.connect_port.unwrap_or(rs.port),
            bindto: c.bindto,
            bind_port: c.bind_port,
            connect_timeout: pick(own, |x| x.connect_timeout).unwrap_or(Duration::from_secs(5)),
            retry: own
                .retry
                .or(d.own.retry)
                .or(vs_own.retry)
                .unwrap_or(retry_default),
            delay_before_retry: pick(own, |x| x.delay_before_retry).unwrap_or(dbr_default),
            warmup: pick(own, |x| x.warmup).unwrap_or(delay_loop),
            delay_loop,
        };
        // FILE_CHECK takes no timers: keepalived watches the file; vigil
        // reads it every delay_loop of the virtual server, at once at start.
        let common = if file {
            CheckCommon {
                connect_timeout: Duration::from_secs(1),
                retry: 0,
                delay_before_retry: Duration::ZERO,
                warmup: Duration::ZERO,
                delay_loop: vs.delay_loop,
                ..common
            }
        } else {
            common
        };
        let virtualhost = own
            .virtualhost
            .clone()
            .or(d.own.virtualhost.clone())
            .or(vs_own.virtualhost.clone());
        let kind = match c.kind {
            KindDraft::Http {
                ssl,
                urls,
                protocol,
            } => {
                let h = HttpCheck {
                    urls,
                    virtualhost,
                    protocol,
                };
                if ssl {
                    CheckKind::SslGet(Box::new(h))
                } else {
                    CheckKind::HttpGet(Box::new(h))
                }
            }
            KindDraft::Tcp => CheckKind::Tcp,
            KindDraft::Dns(dns) => CheckKind::Dns(dns),
            KindDraft::Smtp(smtp) => CheckKind::Smtp(smtp),
            KindDraft::Udp(udp) => CheckKind::Udp(udp),
            KindDraft::Ping => CheckKind::Ping,
            KindDraft::File(f) => {
                let Some(f) = f else { continue };
                CheckKind::File(Box::new(f))
            }
            KindDraft::Misc {
                path,
                timeout,
                dynamic,
                user,
            } => {
                let Some(mut path) = path else { continue };
                if user.is_some() {
                    path.run_as = user;
                }
                CheckKind::Misc(Box::new(MiscCheck {
                    path,
                    timeout: timeout.unwrap_or(vs.delay_loop),
                    dynamic,
                }))
            }
        };
        rs.checkers.push(Checker { common, kind });
    }
    rs
}
