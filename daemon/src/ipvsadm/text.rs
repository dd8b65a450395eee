//! The text layouts, column for column as ipvsadm 1.31 prints them
//! (`print_title`, `print_service_entry`, `print_largenum`), trailing
//! spaces included.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

use vigil_lvs::{
    Family, Forwarding, ServiceKey, FLAG_ONEPACKET, FLAG_PERSISTENT, FLAG_SCHED1, FLAG_SCHED2,
    FLAG_SCHED3,
};

use super::{sorted, version_line, Layout};
use crate::os::ipvs::describe::{addr_port, protocol};
use crate::os::ipvs::{Info, ServiceEntry, Stats};

/// A counter in 9 columns, scaled K/M/G/T from 10^8 upwards.
pub fn largenum(i: u64) -> String {
    match i {
        0..=99_999_999 => format!("{i:>9}"),
        100_000_000..=999_999_999 => format!("{:>8}K", i / 1_000),
        1_000_000_000..=99_999_999_999 => format!("{:>8}M", i / 1_000_000),
        100_000_000_000..=99_999_999_999_999 => format!("{:>8}G", i / 1_000_000_000),
        _ => format!("{:>8}T", i / 1_000_000_000_000),
    }
}

/// Cuts an ASCII column like ipvsadm's `buf[n] = '\0'`.
fn cut(mut s: String, n: usize) -> String {
    s.truncate(n);
    s
}

/// `TCP  192.168.1.1:80` (IPv4 cut at 33), `FWM  7`, `FWM  7 IPv6`.
fn service_name(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Fwmark { mark, family } => match family {
            Family::V4 => format!("FWM  {mark}"),
            Family::V6 => format!("FWM  {mark} IPv6"),
        },
        ServiceKey::Addr {
            addr,
            port,
            protocol: p,
        } => {
            let s = format!("{:<4} {}", protocol(*p), addr_port(addr, *port));
            match addr {
                IpAddr::V4(_) => cut(s, 33),
                IpAddr::V6(_) => s,
            }
        }
    }
}

fn dest_name(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(_) => cut(addr_port(addr, port), 28),
        IpAddr::V6(_) => addr_port(addr, port),
    }
}

fn fwd_name(f: Forwarding) -> &'static str {
    match f {
        Forwarding::Nat => "Masq",
        Forwarding::Local => "Local",
        Forwarding::Tun(_) => "Tunnel",
        Forwarding::Dr => "Route",
    }
}

/// `sh-fallback,sh-port`, `mh-...` or `flag-1,flag-2,flag-3`.
fn sched_flags(scheduler: &str, flags: u32) -> String {
    let names: [(u32, &str); 3] = match scheduler {
        "sh" => [
            (FLAG_SCHED1, "sh-fallback"),
            (FLAG_SCHED2, "sh-port"),
            (0, ""),
        ],
        "mh" => [
            (FLAG_SCHED1, "mh-fallback"),
            (FLAG_SCHED2, "mh-port"),
            (0, ""),
        ],
        _ => [
            (FLAG_SCHED1, "flag-1"),
            (FLAG_SCHED2, "flag-2"),
            (FLAG_SCHED3, "flag-3"),
        ],
    };
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| *bit != 0 && flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    set.join(",")
}

fn service_line(out: &mut String, e: &ServiceEntry, layout: Layout) {
    let s = &e.service;
    let name = service_name(&s.key);
    let st = &e.stats;
    match layout {
        Layout::Stats => counters(out, &format!("{name:<33}"), st),
        Layout::Rate => rates(out, &format!("{name:<33}"), st, false),
        Layout::List => {
            let _ = write!(out, "{name} {}", s.scheduler);
            if s.flags & (FLAG_SCHED1 | FLAG_SCHED2 | FLAG_SCHED3) != 0 {
                let _ = write!(out, " ({})", sched_flags(&s.scheduler, s.flags));
            }
            if s.flags & FLAG_PERSISTENT != 0 {
                let _ = write!(out, " persistent {}", s.timeout);
                match s.key.family() {
                    Family::V4 if s.netmask < 32 => {
                        let mask = u32::MAX.checked_shl(32 - u32::from(s.netmask)).unwrap_or(0);
                        let _ = write!(out, " mask {}", Ipv4Addr::from(mask));
                    }
                    Family::V6 if s.netmask != 128 => {
                        let _ = write!(out, " mask {}", s.netmask);
                    }
                    _ => {}
                }
                if let Some(pe) = &s.pe_name {
                    let _ = write!(out, " pe {pe}");
                }
            }
            if s.flags & FLAG_ONEPACKET != 0 {
                out.push_str(" ops");
            }
            out.push('\n');
        }
    }
}

fn counters(out: &mut String, lead: &str, st: &Stats) {
    out.push_str(lead);
    for v in [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes] {
        out.push_str(&largenum(v));
    }
    out.push('\n');
}

/// Rates: a service scales all five, a destination only the byte rates
/// (ipvsadm prints its CPS and packet rates with a plain `%8llu`).
fn rates(out: &mut String, lead: &str, st: &Stats, dest: bool) {
    out.push_str(lead);
    if dest {
        let _ = write!(out, " {:>8} {:>8} {:>8}", st.cps, st.inpps, st.outpps);
    } else {
        for v in [st.cps, st.inpps, st.outpps] {
            out.push_str(&largenum(v));
        }
    }
    out.push_str(&largenum(st.inbps));
    out.push_str(&largenum(st.outbps));
    out.push('\n');
}

fn title(out: &mut String, layout: Layout) {
    let columns = |c: [&str; 5]| {
        format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", c[0], c[1], c[2], c[3], c[4]
        )
    };
    out.push_str(&match layout {
        Layout::Stats => columns(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]),
        Layout::Rate => columns(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]),
        Layout::List => "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_string(),
    });
}

/// The whole `ipvsadm -Ln [--stats|--rate]` output.
pub fn render(info: &Info, services: &[ServiceEntry], layout: Layout) -> String {
    let mut out = version_line(info);
    title(&mut out, layout);
    for e in sorted(services) {
        service_line(&mut out, &e, layout);
        for d in &e.dests {
            let name = dest_name(&d.dest.addr, d.dest.port);
            match layout {
                Layout::Stats => counters(&mut out, &format!("  -> {name:<28}"), &d.stats),
                Layout::Rate => rates(&mut out, &format!("  -> {name:<28}"), &d.stats, true),
                Layout::List => {
                    let _ = writeln!(
                        out,
                        "  -> {name:<28} {:<7} {:<6} {:<10} {:<10}",
                        fwd_name(d.dest.forwarding),
                        d.dest.weight as i32,
                        d.active_conns,
                        d.inact_conns
                    );
                }
            }
        }
    }
    out
}
