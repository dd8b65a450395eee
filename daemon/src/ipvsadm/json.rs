//! `vigil ipvs --json`: the same table with stable keys, in ipvsadm's order.
//!
//! ```text
//! {"version":"1.2.1","conn_tab_size":4096,"services":[{"family":"ipv4",
//!  "protocol":"TCP","address":"192.168.1.1","port":80,"fwmark":null,
//!  "scheduler":"wlc","flags":["persistent"],"timeout":360,"netmask":32,
//!  "pe":null,"stats":{...},"dests":[{"address":"10.0.0.1","port":80,
//!  "forward":"route","tunnel":null,"weight":1,"u_threshold":0,
//!  "l_threshold":0,"active_conns":0,"inact_conns":0,"persist_conns":0,
//!  "stats":{...}}]}]}
//! ```

use vigil_lvs::{
    Family, Forwarding, ServiceKey, TunCsum, TunType, FLAG_ONEPACKET, FLAG_PERSISTENT, FLAG_SCHED1,
    FLAG_SCHED2, FLAG_SCHED3,
};

use super::sorted;
use crate::control::json::Writer;
use crate::os::ipvs::describe::protocol;
use crate::os::ipvs::{DestEntry, Info, ServiceEntry, Stats};

fn stats(w: &mut Writer, s: &Stats) {
    w.key("stats");
    w.begin_object();
    for (k, v) in [
        ("conns", s.conns),
        ("inpkts", s.inpkts),
        ("outpkts", s.outpkts),
        ("inbytes", s.inbytes),
        ("outbytes", s.outbytes),
        ("cps", s.cps),
        ("inpps", s.inpps),
        ("outpps", s.outpps),
        ("inbps", s.inbps),
        ("outbps", s.outbps),
    ] {
        w.field(k, v);
    }
    w.end_object();
}

fn family(f: Family) -> &'static str {
    match f {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

fn flag_names(scheduler: &str, flags: u32) -> Vec<&'static str> {
    let s1 = match scheduler {
        "sh" => ["sh-fallback", "sh-port"],
        "mh" => ["mh-fallback", "mh-port"],
        _ => ["flag-1", "flag-2"],
    };
    [
        (FLAG_PERSISTENT, "persistent"),
        (FLAG_ONEPACKET, "ops"),
        (FLAG_SCHED1, s1[0]),
        (FLAG_SCHED2, s1[1]),
        (FLAG_SCHED3, "flag-3"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, n)| n)
    .collect()
}

fn dest(w: &mut Writer, d: &DestEntry) {
    let x = &d.dest;
    w.begin_object();
    w.field_str("address", Some(&x.addr.to_string()));
    w.field("port", x.port);
    let forward = match x.forwarding {
        Forwarding::Nat => "masq",
        Forwarding::Local => "local",
        Forwarding::Tun(_) => "tunnel",
        Forwarding::Dr => "route",
    };
    w.field_str("forward", Some(forward));
    w.key("tunnel");
    match x.forwarding {
        Forwarding::Tun(t) => {
            w.begin_object();
            let kind = match t.kind {
                TunType::Ipip => "ipip",
                TunType::Gue => "gue",
                TunType::Gre => "gre",
            };
            w.field_str("type", Some(kind));
            w.field("port", t.port);
            let csum = match t.csum {
                TunCsum::NoCsum => "nocsum",
                TunCsum::Csum => "csum",
                TunCsum::RemCsum => "remcsum",
            };
            w.field_str("csum", Some(csum));
            w.end_object();
        }
        _ => w.raw("null"),
    }
    w.field("weight", x.weight);
    w.field("u_threshold", x.u_threshold);
    w.field("l_threshold", x.l_threshold);
    w.field("active_conns", d.active_conns);
    w.field("inact_conns", d.inact_conns);
    w.field("persist_conns", d.persist_conns);
    stats(w, &d.stats);
    w.end_object();
}

fn service(w: &mut Writer, e: &ServiceEntry) {
    let s = &e.service;
    w.begin_object();
    w.field_str("family", Some(family(s.key.family())));
    match &s.key {
        ServiceKey::Addr {
            addr,
            port,
            protocol: p,
        } => {
            w.field_str("protocol", Some(protocol(*p)));
            w.field_str("address", Some(&addr.to_string()));
            w.field("port", port);
            w.field("fwmark", "null");
        }
        ServiceKey::Fwmark { mark, .. } => {
            w.field("protocol", "null");
            w.field("address", "null");
            w.field("port", "null");
            w.field("fwmark", mark);
        }
    }
    w.field_str("scheduler", Some(&s.scheduler));
    w.key("flags");
    w.begin_array();
    for n in flag_names(&s.scheduler, s.flags) {
        w.string(n);
    }
    w.end_array();
    w.field("timeout", s.timeout);
    w.field("netmask", s.netmask);
    w.field_str("pe", s.pe_name.as_deref());
    stats(w, &e.stats);
    w.key("dests");
    w.begin_array();
    for d in &e.dests {
        dest(w, d);
    }
    w.end_array();
    w.end_object();
}

/// The document, one line plus a newline.
pub fn render_json(info: &Info, services: &[ServiceEntry]) -> String {
    let mut w = Writer::default();
    w.begin_object();
    w.field_str("version", Some(&info.version_string()));
    w.field("conn_tab_size", info.conn_tab_size);
    w.key("services");
    w.begin_array();
    for e in sorted(services) {
        service(&mut w, &e);
    }
    w.end_array();
    w.end_object();
    let mut out = w.finish();
    out.push('\n');
    out
}
