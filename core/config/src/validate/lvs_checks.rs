//! The health checkers of a real server (`HTTP_GET`, `TCP_CHECK`, ... blocks)
//! and the options they inherit: read as drafts, resolved nearest first
//! (checker, real server, virtual server, the kind's default) once the
//! virtual server is read.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{
    CheckCommon, CheckKind, Checker, Command, DnsCheck, DnsType, FileCheck, HttpCheck,
    HttpProtocol, MiscCheck, RealServer, RunAs, SmtpCheck, UdpCheck, Url, VirtualServer,
    SMTP_DEFAULT_HELO,
};

use super::checker::{self as ck, SmtpHost};
use super::global::set;
use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;

use super::lvs::RsDraft;

/// Longest timer accepted (one year), against overflow.
pub(super) const MAX_TIMER_SECS: u64 = 365 * 86_400;

/// The checker options that can be inherited.
#[derive(Default, Clone)]
pub(super) struct Defaults {
    connect_timeout: Option<Duration>,
    retry: Option<u32>,
    delay_before_retry: Option<Duration>,
    warmup: Option<Duration>,
    delay_loop: Option<Duration>,
    virtualhost: Option<String>,
}

impl Defaults {
    /// Handles an inheritable option; false if `kw` is not one.
    pub(super) fn keyword(&mut self, ctx: &mut Ctx, s: &Stmt, kw: &str) -> bool {
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

pub(super) enum KindDraft {
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

pub(super) struct CheckDraft {
    kind: KindDraft,
    connect_ip: Option<IpAddr>,
    connect_port: Option<u16>,
    bindto: Option<IpAddr>,
    bind_port: Option<u16>,
    own: Defaults,
    /// `log_all_failures` (a checker's own keyword in keepalived).
    log_all_failures: bool,
}

impl CheckDraft {
    /// A checker of `kind` with nothing of its own set yet.
    fn new(kind: KindDraft) -> CheckDraft {
        CheckDraft {
            kind,
            connect_ip: None,
            connect_port: None,
            bindto: None,
            bind_port: None,
            own: Defaults::default(),
            log_all_failures: false,
        }
    }
}

/// One checker block; `SMTP_CHECK` gives one checker per `host` block
/// (plus its own connection when it has one, or no hosts).
pub(super) fn checker(ctx: &mut Ctx, stmt: &Stmt) -> Vec<CheckDraft> {
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
    let own = CheckDraft::new;
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
            reply: None,
            min_reply_length: 0,
            max_reply_length: u16::from(u8::MAX),
        }),
        "PING_CHECK" => KindDraft::Ping,
        _ => KindDraft::Dns(DnsCheck {
            query_type: DnsType::Soa,
            name: ".".into(),
        }),
    };
    let mut d = CheckDraft::new(KindDraft::Tcp);
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
            ("log_all_failures", _) => set(&mut d.log_all_failures, ctx.flag_bool(s)),
            ("payload", KindDraft::Udp(udp)) => {
                udp.payload = ck::hex_payload(ctx, s).or(udp.payload.take())
            }
            ("require_reply", KindDraft::Udp(udp)) => {
                udp.require_reply = true;
                if !s.args.is_empty() {
                    udp.reply = ck::reply_pattern(ctx, s).or(udp.reply.take());
                }
            }
            ("min_reply_length", KindDraft::Udp(udp)) => {
                set(&mut udp.min_reply_length, ctx.int(s, 0, 65535))
            }
            ("max_reply_length", KindDraft::Udp(udp)) => {
                set(&mut udp.max_reply_length, ctx.int(s, 0, 65535))
            }
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
        KindDraft::Udp(u) if u.min_reply_length > u.max_reply_length => {
            // keepalived reports it and keeps the checker.
            let what = alloc::format!(
                "UDP_CHECK min_reply_length {} > max_reply_length {}: a reply always fails",
                u.min_reply_length,
                u.max_reply_length
            );
            ctx.ignored(stmt.keyword.span, what);
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
            log_all_failures: d.log_all_failures,
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
pub(super) fn resolve_rs(
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
    // Exact: a Vec grown by one push holds four checkers.
    rs.checkers.reserve_exact(d.checks.len());
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
            log_all_failures: c.log_all_failures,
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
            KindDraft::Udp(udp) => CheckKind::Udp(Box::new(udp)),
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
