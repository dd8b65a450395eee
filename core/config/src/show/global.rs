//! `show` for `global_defs`, with the resolved `lvs_sync_daemon`.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use vigil_model::{FlushOnStop, GlobalDefs};

use super::{ip, quote, run_as, version, Writer};

pub(super) fn global(w: &mut Writer, g: &GlobalDefs) {
    w.open(&["global_defs"]);
    if let Some(r) = &g.router_id {
        w.value("router_id", &quote(r));
    }
    if !g.notification_email.is_empty() {
        w.open(&["notification_email"]);
        for e in &g.notification_email {
            w.line(&[&quote(e)]);
        }
        w.close();
    }
    if let Some(f) = &g.notification_email_from {
        w.value("notification_email_from", &quote(f));
    }
    if let Some(s) = &g.smtp_server {
        w.line(&["smtp_server", &quote(&s.host), &format!("{}", s.port)]);
    }
    w.duration("smtp_connect_timeout", g.smtp_connect_timeout);
    if let Some(h) = &g.smtp_helo_name {
        w.value("smtp_helo_name", &quote(h));
    }
    w.opt_bool("smtp_alert", g.smtp_alert);
    w.opt_bool("smtp_alert_vrrp", g.smtp_alert_vrrp);
    w.opt_bool("smtp_alert_checker", g.smtp_alert_checker);
    for (kw, f) in [
        ("notify_fifo", &g.notify_fifo),
        ("vrrp_notify_fifo", &g.vrrp_notify_fifo),
        ("lvs_notify_fifo", &g.lvs_notify_fifo),
    ] {
        let Some(f) = f else { continue };
        let mut words: Vec<Cow<'_, str>> = vec![Cow::Borrowed(kw), quote(&f.path)];
        if let Some(o) = &f.owner {
            let (u, g) = run_as(o);
            words.push(u);
            words.extend(g);
        }
        let words: Vec<&str> = words.iter().map(|c| c.as_ref()).collect();
        w.line(&words);
        if let Some(c) = &f.script {
            w.command(&format!("{kw}_script"), c);
        }
    }
    w.flag("no_email_faults", g.no_email_faults);
    w.flag(
        "vrrp_notify_priority_changes",
        g.vrrp_notify_priority_changes,
    );
    w.value("vrrp_mcast_group4", &format!("{}", g.vrrp_mcast_group4));
    w.value("vrrp_mcast_group6", &format!("{}", g.vrrp_mcast_group6));
    w.duration("vrrp_garp_interval", g.vrrp_garp_interval);
    w.duration("vrrp_gna_interval", g.vrrp_gna_interval);
    w.duration("vrrp_garp_master_delay", g.vrrp_garp_master_delay);
    w.num("vrrp_garp_master_repeat", g.vrrp_garp_master_repeat);
    w.duration("vrrp_garp_master_refresh", g.vrrp_garp_master_refresh);
    w.num(
        "vrrp_garp_master_refresh_repeat",
        g.vrrp_garp_master_refresh_repeat,
    );
    if let Some(e) = g.vrrp_garp_extra_if {
        super::vrrp::extra_if(w, "vrrp_garp_extra_if", e);
    }
    w.flag(
        "fifo_write_vrrp_states_on_reload",
        g.fifo_write_vrrp_states_on_reload,
    );
    w.flag("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
    w.flag("vrrp_strict", g.vrrp_strict);
    w.value("vrrp_version", version(g.vrrp_version));
    w.flag("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
    w.flag("v3_checksum_as_v2", g.v3_checksum_as_v2);
    w.flag("enable_script_security", g.enable_script_security);
    if let Some(u) = &g.script_user {
        w.user("script_user", u);
    }
    w.flag("lvs_flush", g.lvs_flush);
    let sched = &g.vrrp_sched;
    if let Some(p) = sched.rt_priority {
        w.num("vrrp_rt_priority", p);
    }
    if sched.nice != 0 {
        w.value("vrrp_priority", &format!("{}", sched.nice));
    }
    w.flag("vrrp_no_swap", sched.no_swap);
    if sched.rlimit_rttime_us != vigil_model::ProcessSched::default().rlimit_rttime_us {
        w.num("vrrp_rlimit_rttime", sched.rlimit_rttime_us);
    }
    if sched.max_auto_priority != 0 {
        w.num("max_auto_priority", sched.max_auto_priority);
    }
    if sched.min_auto_priority_delay_us
        != vigil_model::ProcessSched::default().min_auto_priority_delay_us
    {
        w.num("min_auto_priority_delay", sched.min_auto_priority_delay_us);
    }
    if let Some(grp) = &g.control_socket_group {
        w.line(&["control_socket_group", grp]);
    }
    w.flag("no_checker_emails", g.no_checker_emails);
    w.flag("checker_log_all_failures", g.checker_log_all_failures);
    if let Some(m) = g.umask {
        w.value("umask", &format!("0{m:o}"));
    }
    if let Some(n) = g.random_seed {
        w.num("random_seed", n);
    }
    if g.nftables != vigil_model::NftSettings::default() {
        w.value("nftables", &quote(&g.nftables.table));
        w.num("nftables_priority", g.nftables.priority);
        w.flag("nftables_counters", g.nftables.counters);
    }
    match g.lvs_flush_on_stop {
        FlushOnStop::Each => {}
        FlushOnStop::All => w.line(&["lvs_flush_on_stop"]),
        FlushOnStop::VirtualServers => w.line(&["lvs_flush_on_stop", "VS"]),
    }
    if let Some(d) = &g.lvs_sync_daemon {
        w.line(
            &sync_daemon(d)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
    }
    let t = &g.lvs_timeouts;
    if t.any() {
        let mut words = vec!["lvs_timeouts".to_string()];
        for (k, v) in [("tcp", t.tcp), ("tcpfin", t.tcp_fin), ("udp", t.udp)] {
            if v != 0 {
                words.extend([k.to_string(), v.to_string()]);
            }
        }
        w.line(&words.iter().map(String::as_str).collect::<Vec<_>>());
    }
    w.close();
}

/// `lvs_sync_daemon` in its keyword form, with the resolved sync id.
fn sync_daemon(d: &vigil_model::SyncDaemon) -> Vec<String> {
    let mut v = vec![
        "lvs_sync_daemon".to_string(),
        d.interface.clone(),
        d.instance.clone(),
        "id".to_string(),
        d.sync_id.to_string(),
    ];
    let opts = [
        ("maxlen", d.maxlen.map(|x| x.to_string())),
        ("port", d.port.map(|x| x.to_string())),
        ("ttl", d.ttl.map(|x| x.to_string())),
        ("group", d.group.map(ip)),
    ];
    for (k, x) in opts {
        if let Some(x) = x {
            v.extend([k.to_string(), x]);
        }
    }
    v
}
