//! `global_defs { ... }`.

use alloc::string::String;
use core::net::IpAddr;

use vigil_model::{
    Command, FlushOnStop, GlobalDefs, NftSettings, NotifyFifo, SmtpServer, VrrpVersion,
};

use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;

/// Longest keepalived accepts for GARP delays and refreshes, in seconds.
const MAX_GARP_SECS: u64 = 86_400;

/// Reads the statements of a `global_defs` block into `g` (several blocks
/// add up, as in keepalived).
pub(super) fn parse(
    ctx: &mut Ctx,
    body: &[Stmt],
    mut g: GlobalDefs,
    sync: &mut Option<super::syncd::Draft>,
) -> GlobalDefs {
    // A `*_fifo_script` may come before its `*_fifo` (keepalived keeps
    // them apart until the end): held here, attached after the block.
    let mut scripts: (Option<Command>, Option<Command>, Option<Command>) = (None, None, None);
    let mut nft_seen = g.nftables != NftSettings::default();
    for stmt in body {
        let kw = stmt.keyword.text.as_str();
        match kw {
            "router_id" => g.router_id = ctx.text(stmt).or(g.router_id),
            "notification_email" => {
                if let Some(list) = ctx.block(stmt) {
                    for item in list {
                        ctx.at_most(item, 0);
                        g.notification_email.push(item.keyword.text.clone());
                    }
                }
            }
            "notification_email_from" => {
                g.notification_email_from = ctx.text(stmt).or(g.notification_email_from)
            }
            "smtp_server" => {
                ctx.at_most(stmt, 2);
                if let Some(host) = ctx.nth(stmt, 0) {
                    let port = match stmt.args.get(1) {
                        Some(w) => ctx.int_word(stmt, w, 1, 65535),
                        None => Some(25),
                    };
                    if let Some(port) = port {
                        g.smtp_server = Some(SmtpServer {
                            host: host.text.clone(),
                            port,
                        });
                    }
                }
            }
            "smtp_connect_timeout" => set(&mut g.smtp_connect_timeout, ctx.duration(stmt, 3600)),
            "smtp_helo_name" => g.smtp_helo_name = ctx.text(stmt).or(g.smtp_helo_name.take()),
            "smtp_alert" => g.smtp_alert = ctx.flag_bool(stmt).or(g.smtp_alert),
            "smtp_alert_vrrp" => g.smtp_alert_vrrp = ctx.flag_bool(stmt).or(g.smtp_alert_vrrp),
            "smtp_alert_checker" => {
                g.smtp_alert_checker = ctx.flag_bool(stmt).or(g.smtp_alert_checker)
            }
            "notify_fifo" => fifo(ctx, stmt, &mut g.notify_fifo),
            "vrrp_notify_fifo" => fifo(ctx, stmt, &mut g.vrrp_notify_fifo),
            "lvs_notify_fifo" => fifo(ctx, stmt, &mut g.lvs_notify_fifo),
            "notify_fifo_script" => fifo_script(ctx, stmt, &mut g.notify_fifo, &mut scripts.0),
            "vrrp_notify_fifo_script" => {
                fifo_script(ctx, stmt, &mut g.vrrp_notify_fifo, &mut scripts.1)
            }
            "lvs_notify_fifo_script" => {
                fifo_script(ctx, stmt, &mut g.lvs_notify_fifo, &mut scripts.2)
            }
            "no_email_faults" => set(&mut g.no_email_faults, ctx.flag_bool(stmt)),
            "vrrp_notify_priority_changes" => {
                set(&mut g.vrrp_notify_priority_changes, ctx.flag_bool(stmt))
            }
            "vrrp_mcast_group4" => {
                if let Some(w) = ctx.one(stmt) {
                    match ctx.ip_word(w) {
                        Some(IpAddr::V4(a)) => g.vrrp_mcast_group4 = a,
                        Some(IpAddr::V6(_)) => {
                            ctx.error(w.span, Problem::WrongFamily(w.text.clone()))
                        }
                        None => {}
                    }
                }
            }
            "vrrp_mcast_group6" => {
                if let Some(w) = ctx.one(stmt) {
                    match ctx.ip_word(w) {
                        Some(IpAddr::V6(a)) => g.vrrp_mcast_group6 = a,
                        Some(IpAddr::V4(_)) => {
                            ctx.error(w.span, Problem::WrongFamily(w.text.clone()))
                        }
                        None => {}
                    }
                }
            }
            "vrrp_garp_interval" => set(&mut g.vrrp_garp_interval, ctx.duration(stmt, 1000)),
            "vrrp_gna_interval" => set(&mut g.vrrp_gna_interval, ctx.duration(stmt, 1000)),
            "vrrp_garp_master_delay" => set(
                &mut g.vrrp_garp_master_delay,
                ctx.duration(stmt, MAX_GARP_SECS),
            ),
            "vrrp_garp_master_repeat" => {
                set(&mut g.vrrp_garp_master_repeat, ctx.int(stmt, 0, 10_000))
            }
            "vrrp_garp_master_refresh" => set(
                &mut g.vrrp_garp_master_refresh,
                ctx.duration(stmt, MAX_GARP_SECS),
            ),
            "vrrp_garp_master_refresh_repeat" => set(
                &mut g.vrrp_garp_master_refresh_repeat,
                ctx.int(stmt, 0, 10_000),
            ),
            kw if super::extra_if::is_keyword(kw) => {
                if let Some(v) = super::extra_if::parse(ctx, stmt, true) {
                    g.vrrp_garp_extra_if = v;
                }
            }
            "fifo_write_vrrp_states_on_reload" => {
                ctx.flag(stmt);
                g.fifo_write_vrrp_states_on_reload = true;
            }
            "max_auto_priority" => {
                ctx.no_block(stmt);
                if stmt.args.is_empty() {
                    g.vrrp_sched.max_auto_priority = 99;
                } else {
                    set(
                        &mut g.vrrp_sched.max_auto_priority,
                        lenient_int(ctx, stmt, -1, 99),
                    );
                }
            }
            "min_auto_priority_delay" => set(
                &mut g.vrrp_sched.min_auto_priority_delay_us,
                lenient_int(ctx, stmt, 1, 10_000_000),
            ),
            "vrrp_skip_check_adv_addr" => set(&mut g.vrrp_skip_check_adv_addr, ctx.flag_bool(stmt)),
            "vrrp_strict" => set(&mut g.vrrp_strict, ctx.flag_bool(stmt)),
            "vrrp_version" => set(&mut g.vrrp_version, version(ctx, stmt)),
            "vrrp_check_unicast_src" => set(&mut g.vrrp_check_unicast_src, ctx.flag_bool(stmt)),
            "v3_checksum_as_v2" => set(&mut g.v3_checksum_as_v2, ctx.flag_bool(stmt)),
            "enable_script_security" => set(&mut g.enable_script_security, ctx.flag_bool(stmt)),
            "script_user" => {
                if ctx.nth(stmt, 0).is_some() {
                    g.script_user = ctx.run_as(stmt, 0);
                }
            }
            "lvs_flush" => set(&mut g.lvs_flush, ctx.flag_bool(stmt)),
            "lvs_sync_daemon" => super::syncd::parse_global(ctx, stmt, sync),
            "lvs_timeouts" => super::syncd::parse_timeouts(ctx, stmt, &mut g.lvs_timeouts),
            // The VRRP process's scheduling, as keepalived's vrrp child.
            // keepalived warns about a bad value and keeps its default.
            "vrrp_rt_priority" => {
                if let Some(p) = lenient_int(ctx, stmt, 0, 99) {
                    g.vrrp_sched.rt_priority = Some(p);
                }
            }
            "vrrp_priority" => set(&mut g.vrrp_sched.nice, lenient_int(ctx, stmt, -20, 19)),
            "vrrp_no_swap" => set(&mut g.vrrp_sched.no_swap, ctx.flag_bool(stmt)),
            "vrrp_rlimit_rttime" | "vrrp_rlimit_rtime" => set(
                &mut g.vrrp_sched.rlimit_rttime_us,
                lenient_int(ctx, stmt, 1, 100_000_000),
            ),
            "control_socket_group" => {
                g.control_socket_group = ctx.text(stmt).or(g.control_socket_group.take())
            }
            "lvs_flush_on_stop" | "lvs_flush_onstop" => {
                ctx.at_most(stmt, 1);
                g.lvs_flush_on_stop = match stmt.args.first().map(|w| w.text.as_str()) {
                    None => FlushOnStop::All,
                    Some(v) if v.eq_ignore_ascii_case("VS") => FlushOnStop::VirtualServers,
                    Some(_) => {
                        ctx.unknown(stmt, "lvs_flush_on_stop");
                        g.lvs_flush_on_stop
                    }
                }
            }
            "no_checker_emails" => set(&mut g.no_checker_emails, ctx.flag_bool(stmt)),
            "checker_log_all_failures" => set(&mut g.checker_log_all_failures, ctx.flag_bool(stmt)),
            "umask" => g.umask = umask(ctx, stmt).or(g.umask),
            "random_seed" => {
                g.random_seed = ctx.int(stmt, 0, i64::from(u32::MAX)).or(g.random_seed)
            }
            "nftables" => nftables(ctx, stmt, &mut g.nftables, &mut nft_seen),
            "nftables_priority" => set(
                &mut g.nftables.priority,
                ctx.int(stmt, i64::from(i32::MIN), i64::from(i32::MAX)),
            ),
            "nftables_counters" => {
                ctx.at_most(stmt, 0);
                g.nftables.counters = true;
            }
            _ => ctx.unknown(stmt, "global_defs"),
        }
    }
    for (slot, script) in [
        (&mut g.notify_fifo, scripts.0),
        (&mut g.vrrp_notify_fifo, scripts.1),
        (&mut g.lvs_notify_fifo, scripts.2),
    ] {
        if let (Some(f), Some(c)) = (slot.as_mut(), script) {
            f.script = Some(c);
        }
    }
    g
}

/// `[vrrp_|lvs_]notify_fifo PATH [USER [GROUP]]`: the first one counts, as
/// in keepalived (a second is ignored with a warning).
fn fifo(ctx: &mut Ctx, stmt: &Stmt, slot: &mut Option<NotifyFifo>) {
    let Some(path) = ctx.nth(stmt, 0).map(|w| w.text.clone()) else {
        return;
    };
    if slot.is_some() {
        ctx.ignored(
            stmt.keyword.span,
            alloc::format!("a second {}", stmt.keyword.text),
        );
        return;
    }
    let owner = ctx.run_as(stmt, 1);
    *slot = Some(NotifyFifo {
        path,
        owner,
        script: None,
    });
}

/// `[vrrp_|lvs_]notify_fifo_script CMD [USER [GROUP]]`.
fn fifo_script(
    ctx: &mut Ctx,
    stmt: &Stmt,
    fifo: &mut Option<NotifyFifo>,
    held: &mut Option<Command>,
) {
    let Some(c) = ctx.command(stmt) else { return };
    if held.is_some() || fifo.as_ref().is_some_and(|f| f.script.is_some()) {
        ctx.ignored(
            stmt.keyword.span,
            alloc::format!("a second {}", stmt.keyword.text),
        );
        return;
    }
    match fifo {
        Some(f) => f.script = Some(c),
        None => *held = Some(c),
    }
}

/// The single integer value of `stmt` within `min..=max`; anything else is
/// a warning and `None` (the default stays), as keepalived reads its
/// scheduling keywords.
fn lenient_int<T: TryFrom<i64>>(ctx: &mut Ctx, stmt: &Stmt, min: i64, max: i64) -> Option<T> {
    let w = ctx.one(stmt)?;
    match crate::values::int(&w.text) {
        Some(v) if (min..=max).contains(&v) => T::try_from(v).ok(),
        _ => {
            let what = alloc::format!(
                "{} {}: not in {min}..={max}, the default is kept",
                stmt.keyword.text,
                w.text
            );
            ctx.ignored(w.span, what);
            None
        }
    }
}

/// keepalived's longest nf_tables table name, its terminating NUL included.
const NFT_TABLE_MAXNAMELEN: usize = 32;

/// `nftables [TABLE]`: the first one counts; as in keepalived it resets
/// the chain priority to -1 (a `nftables_priority` must follow it).
fn nftables(ctx: &mut Ctx, stmt: &Stmt, nft: &mut NftSettings, seen: &mut bool) {
    ctx.at_most(stmt, 1);
    if *seen {
        ctx.ignored(stmt.keyword.span, "a second nftables".into());
        return;
    }
    let name = match stmt.args.first() {
        Some(w) if w.text.len() >= NFT_TABLE_MAXNAMELEN => {
            let what = alloc::format!("nftables table name {} too long", w.text);
            ctx.ignored(w.span, what);
            return;
        }
        Some(w) => w.text.clone(),
        None => NftSettings::default().table,
    };
    *seen = true;
    nft.table = name;
    nft.priority = -1;
}

/// `umask NUMBER|BITS`: a number (decimal, 0octal or 0xhex, as strtol
/// base 0) within 0777, or `IRUSR|IWGRP|...` words; keepalived reports a
/// bad one and keeps the umask it had.
fn umask(ctx: &mut Ctx, stmt: &Stmt) -> Option<u16> {
    let first = ctx.nth(stmt, 0)?;
    let bad = |ctx: &mut Ctx, text: &str| {
        let p = Problem::BadChoice {
            keyword: stmt.keyword.text.clone(),
            value: text.into(),
            expected: "a mode within 0777, or I{R|W|X}{USR|GRP|OTH} bits joined by |",
        };
        ctx.error(first.span, p);
        None
    };
    if first.text.starts_with(|c: char| c.is_ascii_digit()) {
        // keepalived refuses extra words here (and keeps its umask).
        if stmt.args.len() != 1 {
            ctx.at_most(stmt, 1);
            return None;
        }
        return match parse_c_uint(&first.text) {
            Some(v) if v <= 0o777 => u16::try_from(v).ok(),
            _ => bad(ctx, &first.text),
        };
    }
    let text: String = stmt.args.iter().map(|w| w.text.as_str()).collect();
    let mut bits = 0u16;
    let mut need_or = false;
    let mut rest = text.as_str();
    while !rest.is_empty() {
        if need_or {
            let Some(r) = rest.strip_prefix('|') else {
                return bad(ctx, &text);
            };
            rest = r;
            need_or = false;
            continue;
        }
        let Some(bit) = UMASK_BITS
            .iter()
            .find(|(n, _)| rest.starts_with(n))
            .map(|(_, b)| *b)
        else {
            return bad(ctx, &text);
        };
        bits |= bit;
        rest = &rest[5..];
        need_or = true;
    }
    if !need_or {
        return bad(ctx, &text);
    }
    Some(bits)
}

const UMASK_BITS: [(&str, u16); 9] = [
    ("IRUSR", 0o400),
    ("IWUSR", 0o200),
    ("IXUSR", 0o100),
    ("IRGRP", 0o040),
    ("IWGRP", 0o020),
    ("IXGRP", 0o010),
    ("IROTH", 0o004),
    ("IWOTH", 0o002),
    ("IXOTH", 0o001),
];

/// A number as strtol with base 0 reads it (all of the text): `0x` hex,
/// a leading `0` octal, else decimal.
fn parse_c_uint(t: &str) -> Option<u32> {
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if t.len() > 1 && t.starts_with('0') {
        u32::from_str_radix(&t[1..], 8).ok()
    } else {
        t.parse().ok()
    }
}

/// `version 2|3` / `vrrp_version 2|3`.
pub(super) fn version(ctx: &mut Ctx, stmt: &Stmt) -> Option<VrrpVersion> {
    ctx.int::<u8>(stmt, 2, 3).map(|v| {
        if v == 2 {
            VrrpVersion::V2
        } else {
            VrrpVersion::V3
        }
    })
}

/// Assigns a value that was read correctly (errors are already reported).
pub(super) fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}
