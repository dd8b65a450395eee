//! `show` for the LVS blocks: `virtual_server_group`, `virtual_server` with
//! its real servers and their checkers.

use alloc::format;
use alloc::string::String;
use core::net::IpAddr;

use vigil_model::{CheckKind, Checker, RealServer, VirtualServer, VsKey};
use vigil_model::{IpFamily, VsGroup, VsGroupEntry};

use super::{ip, quote, quote_always, Writer};
use crate::values::prefix_netmask;

fn virtual_server_key(w: &mut Writer, key: VsKey) {
    match key {
        VsKey::Addr { addr, port } => w.open(&["virtual_server", &ip(addr), &format!("{port}")]),
        VsKey::Fwmark(m) => w.open(&["virtual_server", "fwmark", &format!("{m}")]),
    }
}

pub(super) fn vs_group(w: &mut Writer, g: &VsGroup) {
    w.open(&["virtual_server_group", &quote(&g.name)]);
    for e in &g.entries {
        match *e {
            VsGroupEntry::Range { first, last, port } if first == last => {
                w.line(&[&ip(first), &format!("{port}")])
            }
            VsGroupEntry::Range { first, last, port } => {
                w.line(&[&format!("{}-{}", ip(first), ip(last)), &format!("{port}")])
            }
            VsGroupEntry::Fwmark { mark, family } => {
                let m = format!("{mark}");
                match family {
                    None => w.line(&["fwmark", &m]),
                    Some(IpFamily::V4) => w.line(&["fwmark", &m, "inet"]),
                    Some(IpFamily::V6) => w.line(&["fwmark", &m, "inet6"]),
                }
            }
        }
    }
    w.close();
}

pub(super) fn virtual_server(w: &mut Writer, vs: &VirtualServer) {
    match (&vs.group, vs.key) {
        (Some(g), _) => w.open(&["virtual_server", "group", &quote(&g.name)]),
        (None, key) => virtual_server_key(w, key),
    }
    w.duration("delay_loop", vs.delay_loop);
    w.value("lb_algo", vs.scheduler.name());
    w.value("lb_kind", vs.lb_kind.name());
    w.value("protocol", vs.protocol.name());
    if let Some(t) = vs.persistence_timeout {
        w.num("persistence_timeout", t);
    }
    if let Some(p) = vs.persistence_granularity {
        match vs.key {
            VsKey::Addr {
                addr: IpAddr::V4(_),
                ..
            } => w.value("persistence_granularity", &format!("{}", prefix_netmask(p))),
            _ => w.num("persistence_granularity", p),
        }
    }
    if let Some(s) = &vs.sorry_server {
        w.line(&["sorry_server", &ip(s.addr), &format!("{}", s.port)]);
        w.flag("sorry_server_inhibit", s.inhibit);
        if let Some(k) = s.lb_kind {
            w.line(&["sorry_server_lvs_method", k.name()]);
        }
    }
    w.num("quorum", vs.quorum);
    w.num("hysteresis", vs.hysteresis);
    if let Some(c) = &vs.quorum_up {
        w.command("quorum_up", c);
    }
    if let Some(c) = &vs.quorum_down {
        w.command("quorum_down", c);
    }
    w.flag("alpha", vs.alpha);
    w.flag("omega", vs.omega);
    w.flag("ha_suspend", vs.ha_suspend);
    w.opt_bool("smtp_alert", vs.smtp_alert);
    for rs in &vs.real_servers {
        real_server(w, rs);
    }
    w.close();
}

fn real_server(w: &mut Writer, rs: &RealServer) {
    w.open(&["real_server", &ip(rs.addr), &format!("{}", rs.port)]);
    w.num("weight", rs.weight);
    w.value("lb_kind", rs.lb_kind.name());
    w.flag("inhibit_on_failure", rs.inhibit_on_failure);
    if let Some(c) = &rs.notify_up {
        w.command("notify_up", c);
    }
    if let Some(c) = &rs.notify_down {
        w.command("notify_down", c);
    }
    w.num("uthreshold", rs.uthreshold);
    w.num("lthreshold", rs.lthreshold);
    w.opt_bool("smtp_alert", rs.smtp_alert);
    for c in &rs.checkers {
        checker(w, c);
    }
    w.close();
}

fn checker(w: &mut Writer, c: &Checker) {
    let name = c.kind.keyword();
    w.open(&[name]);
    if let CheckKind::File(f) = &c.kind {
        // Only these two keywords: the rest is fixed by the validator.
        w.value("track_file", &quote(&f.name));
        let n = format!("{}", f.weight);
        if f.reverse {
            w.line(&["weight", &n, "reverse"]);
        } else {
            w.line(&["weight", &n]);
        }
        w.close();
        return;
    }
    let k = &c.common;
    // MISC_CHECK has no connection options in keepalived; they resolve to
    // the real server's address anyway.
    if !matches!(c.kind, CheckKind::Misc(_)) {
        w.value("connect_ip", &ip(k.connect_ip));
        // 0 is what an unset port resolves to on a port-less (fwmark) real
        // server; it cannot be written, and leaving it out reads back as 0.
        if k.connect_port != 0 {
            w.num("connect_port", k.connect_port);
        }
        if let Some(b) = k.bindto {
            w.value("bindto", &ip(b));
        }
        if let Some(p) = k.bind_port {
            w.num("bind_port", p);
        }
    }
    w.duration("connect_timeout", k.connect_timeout);
    w.num("retry", k.retry);
    w.duration("delay_before_retry", k.delay_before_retry);
    w.duration("warmup", k.warmup);
    w.duration("delay_loop", k.delay_loop);
    w.flag("log_all_failures", k.log_all_failures);
    match &c.kind {
        CheckKind::HttpGet(h) | CheckKind::SslGet(h) => {
            if let Some(v) = &h.virtualhost {
                w.value("virtualhost", &quote(v));
            }
            w.value("http_protocol", h.protocol.name());
            for u in &h.urls {
                w.open(&["url"]);
                w.value("path", &quote(&u.path));
                let codes: alloc::vec::Vec<String> = u
                    .status_codes
                    .iter()
                    .map(|r| {
                        if r.first == r.last {
                            format!("{}", r.first)
                        } else {
                            format!("{}-{}", r.first, r.last)
                        }
                    })
                    .collect();
                let mut words = alloc::vec!["status_code"];
                words.extend(codes.iter().map(String::as_str));
                w.line(&words);
                if let Some(d) = &u.digest {
                    w.value("digest", &quote(d));
                }
                if let Some(v) = &u.virtualhost {
                    w.value("virtualhost", &quote(v));
                }
                w.close();
            }
        }
        CheckKind::Tcp => {}
        CheckKind::Misc(m) => {
            w.value("misc_path", &quote_always(&m.path.text));
            if let Some(u) = &m.path.run_as {
                w.user("user", u);
            }
            w.duration("misc_timeout", m.timeout);
            w.flag("misc_dynamic", m.dynamic);
        }
        CheckKind::Dns(d) => {
            w.value("type", d.query_type.name());
            w.value("name", &quote(&d.name));
        }
        CheckKind::Smtp(m) => w.value("helo_name", &quote(&m.helo_name)),
        CheckKind::Udp(u) => {
            if let Some(p) = &u.payload {
                let hex: String = p.iter().map(|b| format!("{b:02x}")).collect();
                w.value("payload", &hex);
            }
            match &u.reply {
                Some(p) if u.require_reply => w.value("require_reply", &pattern_hex(p)),
                _ => w.flag("require_reply", u.require_reply),
            }
            if u.min_reply_length != 0 {
                w.num("min_reply_length", u.min_reply_length);
            }
            if u.max_reply_length != u16::from(u8::MAX) {
                w.num("max_reply_length", u.max_reply_length);
            }
        }
        CheckKind::Ping | CheckKind::File(_) => {}
    }
    w.close();
}

/// A reply pattern as keepalived reads it back: two nibbles per octet,
/// `x` for a wildcard nibble.
fn pattern_hex(p: &vigil_model::ReplyPattern) -> String {
    let mut out = String::new();
    for (i, b) in p.data.iter().enumerate() {
        let m = p.mask.get(i).copied().unwrap_or(0);
        for shift in [4u8, 0] {
            if (m >> shift) & 0xf != 0 {
                out.push('x');
            } else {
                out.push(char::from_digit(u32::from((b >> shift) & 0xf), 16).unwrap_or('0'));
            }
        }
    }
    out
}
