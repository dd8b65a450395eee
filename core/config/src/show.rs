//! Any [`Config`] back to canonical keepalived.conf text.
//!
//! Every resolved value is written explicitly (defaults included), so that
//! reading the text back gives the same model, whatever the inheritance rules.
//! Limits: a string containing `"` cannot be written (the grammar has no
//! escapes), and an `auth_pass` cut inside a UTF-8 character comes back
//! different.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{Command, Config, RunAs, VrrpVersion};

use crate::values::format_duration;

mod global;
mod lvs;
mod track;
mod vrrp;

use global::global;
use lvs::{virtual_server, vs_group};
use vrrp::{addresses, displayed, instance, notify, script};

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
        instance(&mut w, i, &config.global);
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

fn track(w: &mut Writer, name: &str, weight: i16, reverse: bool) {
    let n = format!("{weight}");
    let name = quote(name);
    if reverse {
        w.line(&[&name, "weight", &n, "reverse"]);
    } else {
        w.line(&[&name, "weight", &n]);
    }
}
