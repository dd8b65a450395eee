//! The status reply: a human view (one block per instance) and JSON with
//! stable key names. Pure functions of the router and [`StatusExtra`].

use core::fmt::{self, Write};
use std::time::Duration;

use vigil_vrrp::{Counters, DropReason, InstanceSnapshot, Router, TrackStatus};

use super::extra::{InstanceExtra, StatusExtra};
use super::json::Writer;
use super::protocol::Request;

/// The reply body for `request`.
pub fn render(request: &Request, router: &Router, extra: &StatusExtra) -> String {
    match request {
        Request::Status { json: true } => status_json(router, extra),
        Request::Status { json: false } => {
            let mut out = String::new();
            // Writing into a String cannot fail.
            let _ = status_text(&mut out, router, extra);
            out
        }
    }
}

/// The JSON key (and text label) of a drop reason.
pub fn drop_key(reason: DropReason) -> &'static str {
    // Exhaustive on purpose: a new reason must get a key here.
    match reason {
        DropReason::Ttl => "ttl",
        DropReason::Version => "version",
        DropReason::Type => "type",
        DropReason::UnknownVrid => "unknown_vrid",
        DropReason::Length => "length",
        DropReason::Checksum => "checksum",
        DropReason::AuthType => "auth_type",
        DropReason::AuthPassword => "auth_password",
        DropReason::Interval => "interval",
        DropReason::AddressList => "address_list",
        DropReason::UnicastSource => "unicast_source",
        DropReason::Family => "family",
        DropReason::Destination => "destination",
        DropReason::Malformed => "malformed",
        DropReason::AhIcv => "ah_icv",
        DropReason::AhSpi => "ah_spi",
        DropReason::AhReplay => "ah_replay",
    }
}

fn track_status(s: TrackStatus) -> &'static str {
    match s {
        TrackStatus::Unknown => "UNKNOWN",
        TrackStatus::Up => "UP",
        TrackStatus::Down => "DOWN",
    }
}

/// Every instance with its configured facts, in configuration order.
fn instances<'r, 'e>(
    router: &'r Router,
    extra: &'e StatusExtra,
) -> impl Iterator<Item = (InstanceSnapshot<'r>, Option<&'e InstanceExtra>)> {
    router.instance_ids().filter_map(move |id| {
        let snap = router.instance(id)?;
        Some((snap, extra.instances.get(id.index())))
    })
}

/// Time since the last transition, if there was one.
fn since_transition(snap: &InstanceSnapshot<'_>, extra: &StatusExtra) -> Option<Duration> {
    snap.last_transition
        .map(|at| extra.now.saturating_duration_since(at))
}

/// Seconds with millisecond precision, as in `12.345`.
struct Secs(Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0.as_secs(), self.0.subsec_millis())
    }
}

fn status_json(router: &Router, extra: &StatusExtra) -> String {
    let mut w = Writer::default();
    w.begin_object();
    w.field("pid", extra.pid);
    w.field("uptime_s", extra.uptime.as_secs());
    w.field_str("config", Some(&extra.config_path.to_string_lossy()));
    w.key("instances");
    w.begin_array();
    for (snap, conf) in instances(router, extra) {
        instance_json(&mut w, &snap, conf, extra);
    }
    w.end_array();
    super::lvs::lvs_json(&mut w, &extra.lvs, extra.now);
    w.key("sync_groups");
    w.begin_array();
    for name in &extra.sync_groups {
        let state = router
            .group_id(name)
            .and_then(|g| router.group(g))
            .map(|(_, s)| s.to_string());
        w.begin_object();
        w.field_str("name", Some(name));
        w.field_str("state", state.as_deref());
        w.end_object();
    }
    w.end_array();
    w.key("scripts");
    w.begin_array();
    for name in &extra.scripts {
        let status = router
            .script_id(name)
            .and_then(|s| router.script_status_of(s))
            .map(track_status);
        w.begin_object();
        w.field_str("name", Some(name));
        w.field_str("status", status);
        w.end_object();
    }
    w.end_array();
    w.key("global");
    w.begin_object();
    w.key("drops");
    drops_json(&mut w, &router.global_counters());
    w.end_object();
    w.end_object();
    let mut out = w.finish();
    out.push('\n');
    out
}

fn instance_json(
    w: &mut Writer,
    snap: &InstanceSnapshot<'_>,
    conf: Option<&InstanceExtra>,
    extra: &StatusExtra,
) {
    w.begin_object();
    w.field_str("name", Some(snap.name));
    w.field_str("interface", conf.map(|c| c.interface.as_str()));
    match conf {
        Some(c) => w.field("vrid", c.vrid),
        None => w.field("vrid", "null"),
    }
    w.field_str("state", Some(&snap.state.to_string()));
    w.field("base_priority", snap.base_priority);
    w.field("effective_priority", snap.effective_priority);
    w.field_str("master", snap.master.map(|m| m.to_string()).as_deref());
    match snap.master_priority {
        Some(p) => w.field("master_priority", p),
        None => w.field("master_priority", "null"),
    }
    w.field("advert_int_ms", u32::from(snap.advert_int_cs) * 10);
    match since_transition(snap, extra) {
        Some(d) => w.field("last_transition_s_ago", Secs(d)),
        None => w.field("last_transition_s_ago", "null"),
    }
    w.key("vips");
    w.begin_array();
    for (addr, len) in conf.map(|c| c.vips.as_slice()).unwrap_or_default() {
        w.string(&format!("{addr}/{len}"));
    }
    w.end_array();
    w.field("vips_installed", snap.vips_installed);
    let c = &snap.counters;
    w.key("counters");
    w.begin_object();
    w.field("adverts_sent", c.adverts_sent);
    w.field("adverts_received", c.adverts_received);
    w.field("became_master", c.became_master);
    w.field("released_master", c.released_master);
    w.field("priority0_sent", c.priority_zero_sent);
    w.field("priority0_received", c.priority_zero_received);
    w.key("drops");
    drops_json(w, c);
    w.end_object();
    w.end_object();
}

fn drops_json(w: &mut Writer, c: &Counters) {
    w.begin_object();
    for r in DropReason::ALL {
        w.field(drop_key(r), c.dropped(r));
    }
    w.end_object();
}

/// `s` with control characters, line separators and bidi overrides escaped,
/// so a strange name cannot forge lines, terminal sequences or reorder text
/// in the human view.
struct Clean<'a>(&'a str);

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            let odd = matches!(c, '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || odd {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// Uptime as `3d 04h 05m 06s`, leading zero units left out.
struct Uptime(Duration);

impl fmt::Display for Uptime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        let (d, h, m, s) = (s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
        if d > 0 {
            write!(f, "{d}d {h:02}h {m:02}m {s:02}s")
        } else if h > 0 {
            write!(f, "{h}h {m:02}m {s:02}s")
        } else if m > 0 {
            write!(f, "{m}m {s:02}s")
        } else {
            write!(f, "{s}s")
        }
    }
}

/// The non-zero drop counters as `ttl 2, checksum 1 (3 total)`, or `none`.
struct Drops<'a>(&'a Counters);

impl fmt::Display for Drops<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for r in DropReason::ALL {
            let n = self.0.dropped(r);
            if n > 0 {
                let sep = if first { "" } else { ", " };
                write!(f, "{sep}{} {n}", drop_key(r))?;
                first = false;
            }
        }
        if first {
            f.write_str("none")
        } else {
            write!(f, " ({} total)", self.0.dropped_total())
        }
    }
}

fn status_text(out: &mut String, router: &Router, extra: &StatusExtra) -> fmt::Result {
    writeln!(
        out,
        "vigil pid {}, up {}, config {}",
        extra.pid,
        Uptime(extra.uptime),
        Clean(&extra.config_path.to_string_lossy())
    )?;
    for (snap, conf) in instances(router, extra) {
        writeln!(out)?;
        instance_text(out, &snap, conf, extra)?;
    }
    super::lvs::lvs_text(out, &extra.lvs, extra.now)?;
    if !extra.sync_groups.is_empty() {
        writeln!(out, "\nSync groups")?;
        for name in &extra.sync_groups {
            let state = router
                .group_id(name)
                .and_then(|g| router.group(g))
                .map(|(_, s)| s.to_string());
            let state = state.as_deref().unwrap_or("unknown");
            writeln!(out, "  {:<18}{state}", Clean(name).to_string())?;
        }
    }
    if !extra.scripts.is_empty() {
        writeln!(out, "\nScripts")?;
        for name in &extra.scripts {
            let status = router
                .script_id(name)
                .and_then(|s| router.script_status_of(s))
                .map_or("unknown", track_status);
            writeln!(out, "  {:<18}{status}", Clean(name).to_string())?;
        }
    }
    writeln!(
        out,
        "\nUnmatched packets dropped: {}",
        Drops(&router.global_counters())
    )
}

fn instance_text(
    out: &mut String,
    snap: &InstanceSnapshot<'_>,
    conf: Option<&InstanceExtra>,
    extra: &StatusExtra,
) -> fmt::Result {
    writeln!(out, "VRRP instance {}", Clean(snap.name))?;
    write!(out, "  state             {}", snap.state)?;
    match since_transition(snap, extra) {
        Some(d) => writeln!(out, " for {} s", Secs(d))?,
        None => writeln!(out)?,
    }
    match conf {
        Some(c) => writeln!(
            out,
            "  interface         {}, vrid {}",
            Clean(&c.interface),
            c.vrid
        )?,
        None => writeln!(out, "  interface         unknown")?,
    }
    writeln!(
        out,
        "  priority          {} (base {})",
        snap.effective_priority, snap.base_priority
    )?;
    match (snap.master, snap.master_priority) {
        (Some(m), Some(p)) => writeln!(out, "  master            {m} (priority {p})")?,
        (Some(m), None) => writeln!(out, "  master            {m}")?,
        (None, _) => writeln!(out, "  master            none")?,
    }
    writeln!(
        out,
        "  advert interval   {} ms",
        u32::from(snap.advert_int_cs) * 10
    )?;
    write!(out, "  virtual IPs      ")?;
    let vips = conf.map(|c| c.vips.as_slice()).unwrap_or_default();
    for (addr, len) in vips {
        write!(out, " {addr}/{len}")?;
    }
    if vips.is_empty() {
        write!(out, " none")?;
    }
    let installed = if snap.vips_installed {
        "installed"
    } else {
        "not installed"
    };
    writeln!(out, " ({installed})")?;
    let c = &snap.counters;
    writeln!(
        out,
        "  adverts           sent {}, received {}",
        c.adverts_sent, c.adverts_received
    )?;
    writeln!(
        out,
        "  mastership        became {}, released {}",
        c.became_master, c.released_master
    )?;
    writeln!(
        out,
        "  priority 0        sent {}, received {}",
        c.priority_zero_sent, c.priority_zero_received
    )?;
    writeln!(out, "  drops             {}", Drops(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drop_reason_has_a_distinct_key() {
        let mut keys: Vec<&str> = DropReason::ALL.iter().map(|r| drop_key(*r)).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), DropReason::ALL.len());
    }

    #[test]
    fn durations_print_compactly() {
        assert_eq!(
            Secs(Duration::from_micros(12_345_999)).to_string(),
            "12.345"
        );
        assert_eq!(Uptime(Duration::from_secs(59)).to_string(), "59s");
        assert_eq!(Uptime(Duration::from_secs(3_723)).to_string(), "1h 02m 03s");
        assert_eq!(
            Uptime(Duration::from_secs(2 * 86_400 + 5)).to_string(),
            "2d 00h 00m 05s"
        );
    }

    #[test]
    fn control_characters_are_escaped_in_text() {
        assert_eq!(Clean("a\nb\u{1b}[2J").to_string(), "a\\nb\\u{1b}[2J");
        assert_eq!(Clean("VI_é").to_string(), "VI_é");
        assert_eq!(Clean("a\u{202e}b").to_string(), "a\\u{202e}b");
    }
}
