//! `lvs_sync_daemon` (and the per-instance `lvs_sync_daemon_interface`)
//! and `lvs_timeouts`, read as keepalived 2.2.7 reads them: a bad option is
//! a warning and is ignored, the first sync daemon given wins, and the
//! sync id defaults to the VRID of the instance that drives it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vigil_model::{GlobalDefs, LvsTimeouts, SyncDaemon, VrrpInstance};

use super::Ctx;
use crate::parser::{Stmt, Word};
use crate::span::Span;
use crate::values;

/// IP_VS_IFNAME_MAXLEN: 16 with the NUL.
const IFNAME_MAX: usize = 15;
/// Largest keepalived accepts for a timeout (LVS_MAX_TIMEOUT, 86400 x 31).
const MAX_TIMEOUT: i64 = 86_400 * 31;

/// A sync daemon as read, before the instance is looked up.
pub(super) struct Draft {
    daemon: SyncDaemon,
    /// `id` given (else the instance's VRID).
    id_given: bool,
    at: Span,
}

/// An unsigned option value in `min..=max`, or a warning and `None`.
fn uint(ctx: &mut Ctx, what: &str, w: Option<&Word>, at: Span, min: i64, max: i64) -> Option<i64> {
    let Some(w) = w else {
        ctx.ignored(at, format!("no value for {what} - ignoring"));
        return None;
    };
    match values::int(&w.text) {
        Some(v) if (min..=max).contains(&v) => Some(v),
        _ => {
            ctx.ignored(
                w.span,
                format!("invalid {what} {} ({min}..{max}) - ignoring", w.text),
            );
            None
        }
    }
}

/// `lvs_sync_daemon INTERFACE [INSTANCE [SYNCID]] [inst I] [id N] [maxlen N]
/// [port N] [ttl N] [group ADDR]`.
pub(super) fn parse_global(ctx: &mut Ctx, stmt: &Stmt, draft: &mut Option<Draft>) {
    let at = stmt.keyword.span;
    if let Some(d) = draft {
        let msg = format!(
            "lvs_sync_daemon already given as {} {} - ignoring",
            d.daemon.interface, d.daemon.instance
        );
        return ctx.ignored(at, msg);
    }
    let Some(ifname) = ctx.nth(stmt, 0) else {
        return;
    };
    if ifname.text.len() > IFNAME_MAX {
        let msg = format!(
            "lvs_sync_daemon interface name {} too long - ignoring",
            ifname.text
        );
        return ctx.ignored(ifname.span, msg);
    }
    let mut d = Draft {
        daemon: daemon(ifname.text.clone(), String::new()),
        id_given: false,
        at,
    };
    let args = &stmt.args;
    let mut i = 1;
    while i < args.len() {
        let w = &args[i];
        let next = args.get(i + 1);
        let opt = |name: &str| format!("lvs_sync_daemon {name}");
        match w.text.as_str() {
            "inst" => {
                match next {
                    Some(n) if d.daemon.instance.is_empty() => d.daemon.instance = n.text.clone(),
                    Some(n) => ctx.ignored(n.span, "lvs_sync_daemon instance given twice".into()),
                    None => ctx.ignored(w.span, "no value for lvs_sync_daemon inst".into()),
                }
                i += 1;
            }
            "id" => {
                if let Some(v) = uint(ctx, &opt("id"), next, w.span, 0, 255) {
                    d.daemon.sync_id = v as u8;
                    d.id_given = true;
                }
                i += 1;
            }
            "maxlen" => {
                // An IPv4 datagram less its IP and UDP headers.
                let v = uint(ctx, &opt("maxlen"), next, w.span, 1, 65535 - 20 - 8);
                d.daemon.maxlen = v.map(|v| v as u16).or(d.daemon.maxlen);
                i += 1;
            }
            "port" => {
                let v = uint(ctx, &opt("port"), next, w.span, 1, 65535);
                d.daemon.port = v.map(|v| v as u16).or(d.daemon.port);
                i += 1;
            }
            "ttl" => {
                let v = uint(ctx, &opt("ttl"), next, w.span, 1, 255);
                d.daemon.ttl = v.map(|v| v as u8).or(d.daemon.ttl);
                i += 1;
            }
            "group" => {
                match next {
                    Some(n) => match values::ip(&n.text) {
                        Some(a) if a.is_multicast() => d.daemon.group = Some(a),
                        Some(_) => ctx.ignored(
                            n.span,
                            format!(
                                "lvs_sync_daemon group {} is not multicast - ignoring",
                                n.text
                            ),
                        ),
                        None => ctx.ignored(
                            n.span,
                            format!("invalid lvs_sync_daemon group {} - ignoring", n.text),
                        ),
                    },
                    None => ctx.ignored(w.span, "no value for lvs_sync_daemon group".into()),
                }
                i += 1;
            }
            // The older positional form: INTERFACE INSTANCE [SYNCID].
            _ if i == 1 => d.daemon.instance = w.text.clone(),
            _ if i == 2 => {
                if let Some(v) = uint(ctx, "sync id", Some(w), w.span, 0, 255) {
                    ctx.ignored(
                        w.span,
                        "write \"id\" before the lvs_sync_daemon sync id".into(),
                    );
                    d.daemon.sync_id = v as u8;
                    d.id_given = true;
                }
            }
            other => ctx.ignored(
                w.span,
                format!("unknown option {other} for lvs_sync_daemon - ignoring"),
            ),
        }
        i += 1;
    }
    *draft = Some(d);
}

fn daemon(interface: String, instance: String) -> SyncDaemon {
    SyncDaemon {
        interface,
        instance,
        sync_id: 0,
        maxlen: None,
        port: None,
        ttl: None,
        group: None,
    }
}

/// `lvs_sync_daemon_interface IF` inside a `vrrp_instance` (deprecated in
/// keepalived, still honoured): the daemon follows that instance.
pub(super) fn parse_instance(ctx: &mut Ctx, inst: &Stmt, draft: &mut Option<Draft>) {
    let (Some(name), Some(body)) = (inst.args.first(), inst.block.as_ref().map(|b| &b.stmts))
    else {
        return;
    };
    for s in body
        .iter()
        .filter(|s| s.keyword.text == "lvs_sync_daemon_interface")
    {
        let at = s.keyword.span;
        ctx.ignored(
            at,
            "lvs_sync_daemon_interface in a vrrp_instance is deprecated: use the global lvs_sync_daemon"
                .into(),
        );
        if let Some(d) = draft {
            let msg = format!(
                "lvs_sync_daemon already given as {} - ignoring",
                d.daemon.interface
            );
            ctx.ignored(at, msg);
            continue;
        }
        let Some(w) = ctx.one(s) else { continue };
        *draft = Some(Draft {
            daemon: daemon(w.text.clone(), name.text.clone()),
            id_given: false,
            at,
        });
    }
}

/// Looks the instance up: without one (or an unknown one) keepalived runs
/// no sync daemon; without `id` the instance's VRID is the sync id.
pub(super) fn resolve(
    ctx: &mut Ctx,
    draft: Option<Draft>,
    g: &mut GlobalDefs,
    insts: &[VrrpInstance],
) {
    let Some(mut d) = draft else { return };
    let found = insts.iter().find(|i| i.name == d.daemon.instance);
    match found {
        Some(inst) => {
            if !d.id_given {
                d.daemon.sync_id = inst.virtual_router_id;
            }
            g.lvs_sync_daemon = Some(d.daemon);
        }
        None if d.daemon.instance.is_empty() => ctx.ignored(
            d.at,
            "lvs_sync_daemon names no vrrp_instance: no sync daemon is run".into(),
        ),
        None => ctx.ignored(
            d.at,
            format!(
                "lvs_sync_daemon instance {} does not exist: no sync daemon is run",
                d.daemon.instance
            ),
        ),
    }
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`.
pub(super) fn parse_timeouts(ctx: &mut Ctx, stmt: &Stmt, t: &mut LvsTimeouts) {
    let args: &Vec<Word> = &stmt.args;
    if args.len() < 2 {
        return ctx.ignored(
            stmt.keyword.span,
            "lvs_timeouts needs at least one option".into(),
        );
    }
    let mut i = 0;
    while i < args.len() {
        let w = &args[i];
        let slot = match w.text.as_str() {
            "tcp" => &mut t.tcp,
            "tcpfin" => &mut t.tcp_fin,
            "udp" => &mut t.udp,
            other => {
                ctx.ignored(
                    w.span,
                    format!("unknown option {other} for lvs_timeouts - ignoring"),
                );
                i += 1;
                continue;
            }
        };
        let what = format!("lvs_timeouts {}", w.text);
        if let Some(v) = uint(ctx, &what, args.get(i + 1), w.span, 0, MAX_TIMEOUT) {
            *slot = v as u32;
        }
        i += 2;
    }
}
