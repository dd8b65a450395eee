//! `show` for the VRRP blocks: `vrrp_script`, `vrrp_instance`, the notify
//! hooks both instances and sync groups carry, and the address, route and
//! rule lists (the static ones at top level use the same writers).

use alloc::format;
use alloc::string::String;

use vigil_model::{
    Auth, GlobalDefs, InitialState, Notify, VirtualAddress, VrrpInstance, VrrpScript,
};

use super::{ip, on_off, quote, quote_always, track, version, Writer};

pub(super) fn script(w: &mut Writer, s: &VrrpScript) {
    w.open(&["vrrp_script", &quote(&s.name)]);
    w.value("script", &quote_always(&s.script.text));
    if let Some(u) = &s.script.run_as {
        w.user("user", u);
    }
    w.duration("interval", s.interval);
    w.duration("timeout", s.timeout);
    let weight = format!("{}", s.weight);
    if s.weight_reverse {
        w.line(&["weight", &weight, "reverse"]);
    } else {
        w.line(&["weight", &weight]);
    }
    w.num("fall", s.fall);
    w.num("rise", s.rise);
    w.flag("init_fail", s.init_fail);
    w.close();
}

pub(super) fn notify(w: &mut Writer, n: &Notify) {
    let hooks = [
        ("notify_master", &n.master),
        ("notify_backup", &n.backup),
        ("notify_fault", &n.fault),
        ("notify_stop", &n.stop),
        ("notify", &n.any),
    ];
    for (kw, c) in hooks {
        if let Some(c) = c {
            w.command(kw, c);
        }
    }
}

/// `g`: what the instance inherits, so that only a difference is written
/// for `strict_mode` and `garp_extra_if`.
pub(super) fn instance(w: &mut Writer, i: &VrrpInstance, g: &GlobalDefs) {
    w.open(&["vrrp_instance", &quote(&i.name)]);
    let state = match i.state {
        InitialState::Master => "MASTER",
        InitialState::Backup => "BACKUP",
    };
    w.value("state", state);
    if let Some(ifname) = &i.interface {
        w.value("interface", &quote(ifname));
    }
    w.num("virtual_router_id", i.virtual_router_id);
    w.num("priority", i.priority);
    w.duration("advert_int", i.advert_int);
    w.value("version", version(i.version));
    let auth = match &i.auth {
        Auth::None => None,
        Auth::Pass(p) => Some(("PASS", p)),
        Auth::Ah(p) => Some(("AH", p)),
    };
    if let Some((kind, p)) = auth {
        let len = p.iter().rposition(|&b| b != 0).map_or(0, |n| n + 1);
        let pass = String::from_utf8_lossy(p.get(..len).unwrap_or(&[])).into_owned();
        w.open(&["authentication"]);
        w.value("auth_type", kind);
        w.value("auth_pass", &quote(&pass));
        w.close();
    }
    addresses(w, "virtual_ipaddress", &i.virtual_addresses);
    addresses(w, "virtual_ipaddress_excluded", &i.excluded_addresses);
    displayed(w, "virtual_routes", &i.virtual_routes);
    displayed(w, "virtual_rules", &i.virtual_rules);
    if let Some(src) = i.src_ip {
        let kw = if i.unicast_peers.is_empty() {
            "mcast_src_ip"
        } else {
            "unicast_src_ip"
        };
        w.value(kw, &ip(src));
    }
    if !i.unicast_peers.is_empty() {
        w.open(&["unicast_peer"]);
        for p in &i.unicast_peers {
            w.line(&[&ip(*p)]);
        }
        w.close();
    }
    w.flag(if i.preempt { "preempt" } else { "nopreempt" }, true);
    w.duration("preempt_delay", i.preempt_delay);
    if !i.track_scripts.is_empty() {
        w.open(&["track_script"]);
        for t in &i.track_scripts {
            track(w, &t.name, t.weight, t.reverse);
        }
        w.close();
    }
    if !i.track_interfaces.is_empty() {
        w.open(&["track_interface"]);
        for t in &i.track_interfaces {
            track(w, &t.name, t.weight, t.reverse);
        }
        w.close();
    }
    track::refs(w, &i.track_files, &i.track_processes);
    notify(w, &i.notify);
    w.opt_bool("smtp_alert", i.smtp_alert);
    if i.notify_deleted {
        match &i.notify_deleted_script {
            Some(c) => w.command("notify_deleted", c),
            None => w.line(&["notify_deleted"]),
        }
    }
    if let Some(c) = &i.notify_master_rx_lower_pri {
        w.command("notify_master_rx_lower_pri", c);
    }
    w.opt_bool("notify_priority_changes", i.notify_priority_changes);
    w.duration("garp_master_delay", i.garp_master_delay);
    w.num("garp_master_repeat", i.garp_master_repeat);
    w.duration("garp_master_refresh", i.garp_master_refresh);
    w.num("garp_master_refresh_repeat", i.garp_master_refresh_repeat);
    w.flag(if i.accept { "accept" } else { "no_accept" }, true);
    if let Some(v) = &i.use_vmac {
        match i.vmac_mac {
            Some(m) => {
                let mac = alloc::format!(
                    "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    m[0],
                    m[1],
                    m[2],
                    m[3],
                    m[4],
                    m[5]
                );
                w.value("use_vmac", &alloc::format!("{} {mac}", quote(v)))
            }
            None => w.value("use_vmac", &quote(v)),
        }
    }
    w.flag("vmac_xmit_base", i.vmac_xmit_base);
    w.flag("use_vmac_addr", i.use_vmac_addr);
    w.flag("dont_track_primary", i.dont_track_primary);
    w.value("check_unicast_src", on_off(i.check_unicast_src));
    w.value("skip_check_adv_addr", on_off(i.skip_check_adv_addr));
    if i.strict != g.vrrp_strict {
        w.value("strict_mode", on_off(i.strict));
    }
    if let Some(t) = i.unicast_ttl {
        w.num("unicast_ttl", t);
    }
    match i.garp_extra_if {
        Some(e) => extra_if(w, "garp_extra_if", e),
        None if g.vrrp_garp_extra_if.is_some() => w.num("garp_extra_if", 0),
        None => {}
    }
    w.close();
}

pub(super) fn extra_if(w: &mut Writer, keyword: &str, e: vigil_model::ExtraIfGarp) {
    let secs = format!("{}", e.interval.as_secs());
    if e.all {
        w.line(&[keyword, &secs, "all"]);
    } else {
        w.line(&[keyword, &secs]);
    }
}

pub(super) fn addresses(w: &mut Writer, keyword: &str, list: &[VirtualAddress]) {
    if list.is_empty() {
        return;
    }
    w.open(&[keyword]);
    for v in list {
        let mut words = alloc::vec![format!("{}/{}", v.addr, v.prefix_len)];
        if let Some(b) = v.broadcast {
            words.push("brd".into());
            words.push(format!("{b}"));
        }
        if let Some(d) = &v.dev {
            words.push("dev".into());
            words.push(quote(d).into_owned());
        }
        if v.scope != vigil_model::AddrScope::Global {
            words.push("scope".into());
            words.push(v.scope.name().into());
        }
        if let Some(l) = &v.label {
            words.push("label".into());
            words.push(quote(l).into_owned());
        }
        if v.no_track {
            words.push("no_track".into());
        }
        let refs: alloc::vec::Vec<&str> = words.iter().map(String::as_str).collect();
        w.line(&refs);
    }
    w.close();
}

/// A block of routes or rules, each printed as the line it was read from.
pub(super) fn displayed<T: core::fmt::Display>(w: &mut Writer, keyword: &str, list: &[T]) {
    if list.is_empty() {
        return;
    }
    w.open(&[keyword]);
    for item in list {
        w.line(&[&format!("{item}")]);
    }
    w.close();
}
