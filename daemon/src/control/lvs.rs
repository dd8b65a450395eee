//! The load-balancing part of the status reply: per virtual server, each
//! real server's verdict, weight, presence in the kernel table, last check
//! result, time since its last change and why it is down.

use core::fmt::{self, Write};

use vigil_vrrp::Instant;

use super::json::Writer;

/// One virtual server as the LVS thread last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsView {
    /// `[192.168.1.1]:tcp:80` or `FWM 7`.
    pub name: String,
    pub scheduler: String,
    pub quorum_up: bool,
    /// Checkers suspended (`ha_suspend` without the VIP).
    pub suspended: bool,
    /// The sorry server is in the table.
    pub sorry_active: bool,
    pub real_servers: Vec<RsView>,
}

/// One real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsView {
    /// `[10.0.0.1]:80`.
    pub name: String,
    /// Every checker passes.
    pub up: bool,
    /// Current weight (configured or `misc_dynamic`).
    pub weight: u32,
    /// Weight in the kernel table, if present there.
    pub installed: Option<u32>,
    /// The last result of each checker (`ok`, `failed: connection refused`),
    /// with when it came.
    pub last: Option<(Instant, String)>,
    /// When it last went up or down.
    pub changed: Option<Instant>,
    /// Why it is down.
    pub reason: Option<String>,
}

fn age(now: Instant, t: Option<Instant>) -> Option<f64> {
    t.map(|t| now.saturating_duration_since(t).as_secs_f64())
}

/// `Virtual server ...` blocks for the text view.
pub(crate) fn lvs_text(out: &mut String, vss: &[VsView], now: Instant) -> fmt::Result {
    for vs in vss {
        writeln!(
            out,
            "\nVirtual server {} {}, quorum {}{}{}",
            vs.name,
            vs.scheduler,
            if vs.quorum_up { "up" } else { "down" },
            if vs.sorry_active {
                ", sorry server active"
            } else {
                ""
            },
            if vs.suspended {
                ", checks suspended (VIP not held)"
            } else {
                ""
            },
        )?;
        for rs in &vs.real_servers {
            write!(
                out,
                "  {:<24}{:<5} weight {:<4} {}",
                rs.name,
                if rs.up { "UP" } else { "DOWN" },
                rs.weight,
                match rs.installed {
                    Some(w) => format!("in table (weight {w})"),
                    None => "not in table".to_string(),
                }
            )?;
            if let Some(a) = age(now, rs.changed) {
                write!(out, ", changed {a:.1} s ago")?;
            }
            if let Some(r) = &rs.reason {
                write!(out, ", down: {r}")?;
            }
            if let Some((t, text)) = &rs.last {
                write!(
                    out,
                    ", last check {text} {:.1} s ago",
                    now.saturating_duration_since(*t).as_secs_f64()
                )?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

/// The `virtual_servers` array of the JSON view.
pub(crate) fn lvs_json(w: &mut Writer, vss: &[VsView], now: Instant) {
    w.key("virtual_servers");
    w.begin_array();
    for vs in vss {
        w.begin_object();
        w.field_str("name", Some(&vs.name));
        w.field_str("scheduler", Some(&vs.scheduler));
        w.field("quorum_up", vs.quorum_up);
        w.field("sorry_active", vs.sorry_active);
        w.field("suspended", vs.suspended);
        w.key("real_servers");
        w.begin_array();
        for rs in &vs.real_servers {
            w.begin_object();
            w.field_str("name", Some(&rs.name));
            w.field_str("state", Some(if rs.up { "UP" } else { "DOWN" }));
            w.field("weight", rs.weight);
            w.key("installed_weight");
            match rs.installed {
                Some(v) => w.raw(v),
                None => w.raw("null"),
            }
            w.field_str("last_check", rs.last.as_ref().map(|(_, s)| s.as_str()));
            w.key("last_check_age_s");
            match age(now, rs.last.as_ref().map(|(t, _)| *t)) {
                Some(v) => w.raw(format!("{v:.3}")),
                None => w.raw("null"),
            }
            w.key("since_change_s");
            match age(now, rs.changed) {
                Some(v) => w.raw(format!("{v:.3}")),
                None => w.raw("null"),
            }
            w.field_str("down_reason", rs.reason.as_deref());
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
    w.end_array();
}
