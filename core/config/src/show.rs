//! Any [`Config`] back to canonical keepalived.conf text.
//!
//! Every resolved value is written explicitly (defaults included), so that
//! reading the text back gives the same model, whatever the inheritance rules.
//! Limits: a string containing `"` cannot be written (the grammar has no
//! escapes), and an `auth_pass` cut inside a UTF-8 character comes back
//! different.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{
    Auth, CheckKind, Checker, Command, Config, FlushOnStop, GlobalDefs, InitialState, Notify,
    RealServer, RunAs, VirtualAddress, VirtualServer, VrrpInstance, VrrpScript, VrrpVersion, VsKey,
};
use vigil_model::{IpFamily, VsGroup, VsGroupEntry};

use crate::values::{format_duration, prefix_netmask};

mod track;

/// The configuration as keepalived.conf text.
pub fn show(config: &Config) -> String {
    let mut out = String::new();
    show_each(config, &mut |block| out.push_str(block));
    out
}

/// [`show`] one top-level block at a time (`global_defs`, the tracking
/// blocks together, then each script, sync group, instance, static list,
/// group and virtual server), in the order `show` writes them: what a
/// binary configuration is checked through without holding all its text.
pub fn show_each(config: &Config, each: &mut dyn FnMut(&str)) {
    let mut w = Writer {
        out: String::new(),
        depth: 0,
    };
    let mut flush = |w: &mut Writer| {
        if !w.out.is_empty() {
            each(&w.out);
            w.out.clear();
        }
    };
    global(&mut w, &config.global);
    flush(&mut w);
    track::blocks(&mut w, config);
    flush(&mut w);
    for s in &config.scripts {
        script(&mut w, s);
        flush(&mut w);
    }
    for g in &config.sync_groups {
        w.open(&["vrrp_sync_group", &quote(&g.name)]);
        w.open(&["group"]);
        for m in &g.instances {
            w.line(&[&quote(m)]);
        }
        w.close();
        notify(&mut w, &g.notify);
        w.opt_bool("smtp_alert", g.smtp_alert);
        w.opt_bool("notify_priority_changes", g.notify_priority_changes);
        track::group(&mut w, g);
        w.close();
        flush(&mut w);
    }
    for i in &config.instances {
        instance(&mut w, i);
        flush(&mut w);
    }
    addresses(&mut w, "static_ipaddress", &config.static_addresses);
    displayed(&mut w, "static_routes", &config.static_routes);
    displayed(&mut w, "static_rules", &config.static_rules);
    flush(&mut w);
    let mut shown: alloc::vec::Vec<&str> = alloc::vec::Vec::new();
    for g in config
        .virtual_servers
        .iter()
        .filter_map(|v| v.group.as_ref())
    {
        if !shown.contains(&g.name.as_str()) {
            shown.push(&g.name);
            vs_group(&mut w, g);
            flush(&mut w);
        }
    }
    for vs in &config.virtual_servers {
        virtual_server(&mut w, vs);
        flush(&mut w);
    }
}

struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn line(&mut self, words: &[&str]) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            self.out.push_str(word);
        }
        self.out.push('\n');
    }

    fn open(&mut self, head: &[&str]) {
        let mut words = alloc::vec::Vec::from(head);
        words.push("{");
        self.line(&words);
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line(&["}"]);
        if self.depth == 0 {
            self.out.push('\n');
        }
    }

    fn flag(&mut self, keyword: &str, on: bool) {
        if on {
            self.line(&[keyword]);
        }
    }

    /// A `KEYWORD on|off` that was written, or nothing if it was not (the
    /// global default applies).
    fn opt_bool(&mut self, keyword: &str, v: Option<bool>) {
        if let Some(v) = v {
            self.value(keyword, on_off(v));
        }
    }

    fn value(&mut self, keyword: &str, v: &str) {
        self.line(&[keyword, v]);
    }

    fn duration(&mut self, keyword: &str, d: Duration) {
        self.value(keyword, &format_duration(d));
    }

    fn num(&mut self, keyword: &str, n: impl core::fmt::Display) {
        self.value(keyword, &format!("{n}"));
    }

    fn command(&mut self, keyword: &str, c: &Command) {
        let text = quote_always(&c.text);
        match &c.run_as {
            Some(r) => {
                let (u, g) = run_as(r);
                let mut words = alloc::vec![keyword, text.as_str(), u.as_ref()];
                if let Some(g) = &g {
                    words.push(g);
                }
                self.line(&words);
            }
            None => self.line(&[keyword, &text]),
        }
    }

    fn user(&mut self, keyword: &str, r: &RunAs) {
        let (u, g) = run_as(r);
        match &g {
            Some(g) => self.line(&[keyword, &u, g]),
            None => self.line(&[keyword, &u]),
        }
    }
}

fn run_as(r: &RunAs) -> (Cow<'_, str>, Option<Cow<'_, str>>) {
    (quote(&r.user), r.group.as_deref().map(quote))
}

/// Quotes a word when it would not read back as itself.
fn quote(s: &str) -> Cow<'_, str> {
    let plain = !s.is_empty()
        && s != "include"
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '#' | '!' | '{' | '}' | '"' | '\\'));
    if plain {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("\"{s}\""))
    }
}

fn quote_always(s: &str) -> String {
    format!("\"{s}\"")
}

fn ip(a: IpAddr) -> String {
    format!("{a}")
}

fn global(w: &mut Writer, g: &GlobalDefs) {
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
    if let Some(grp) = &g.control_socket_group {
        w.line(&["control_socket_group", grp]);
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

fn version(v: VrrpVersion) -> &'static str {
    match v {
        VrrpVersion::V2 => "2",
        VrrpVersion::V3 => "3",
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn script(w: &mut Writer, s: &VrrpScript) {
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

fn notify(w: &mut Writer, n: &Notify) {
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

fn instance(w: &mut Writer, i: &VrrpInstance) {
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
    w.close();
}

fn track(w: &mut Writer, name: &str, weight: i16, reverse: bool) {
    let n = format!("{weight}");
    let name = quote(name);
    if reverse {
        w.line(&[&name, "weight", &n, "reverse"]);
    } else {
        w.line(&[&name, "weight", &n]);
    }
}

fn addresses(w: &mut Writer, keyword: &str, list: &[VirtualAddress]) {
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
fn displayed<T: core::fmt::Display>(w: &mut Writer, keyword: &str, list: &[T]) {
    if list.is_empty() {
        return;
    }
    w.open(&[keyword]);
    for item in list {
        w.line(&[&format!("{item}")]);
    }
    w.close();
}

fn virtual_server_key(w: &mut Writer, key: VsKey) {
    match key {
        VsKey::Addr { addr, port } => w.open(&["virtual_server", &ip(addr), &format!("{port}")]),
        VsKey::Fwmark(m) => w.open(&["virtual_server", "fwmark", &format!("{m}")]),
    }
}

fn vs_group(w: &mut Writer, g: &VsGroup) {
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

fn virtual_server(w: &mut Writer, vs: &VirtualServer) {
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
            w.flag("require_reply", u.require_reply);
        }
        CheckKind::Ping | CheckKind::File(_) => {}
    }
    w.close();
}
