//! The kernel's table as `/proc/net/ip_vs` prints it: every service with
//! each destination's address, forwarding method and weight, in one read.
//!
//! Generic netlink dumps destinations one service per request (two dumps
//! cannot share a datagram: the second finds the first still running and
//! gets EBUSY), so reading 1,000 services back after a reload takes 1,001
//! requests. This summary is the cheap consistency check instead: a service
//! whose destinations it shows as recorded is trusted, any other is dumped.
//! It lacks thresholds, tunnel types and the family of a fwmark service,
//! so it can only say "differs" or "looks the same", never fill a table.
//!
//! Lines (ip_vs_ctl.c, `ip_vs_info_seq_show`): `TCP  C0A84396:1F41 rr `,
//! `TCP  [2001:0db8:...:0001]:0050 wlc `, `FWM  00000007 rr `, each
//! followed by `  -> 0A000001:1F41      Route   1      0          0`.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::table::{Destination, Forwarding, IpProto, ServiceKey};

/// A service as the summary names it: fwmark services without family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Addr {
        addr: IpAddr,
        port: u16,
        protocol: IpProto,
    },
    Fwmark(u32),
}

impl Key {
    fn of(k: &ServiceKey) -> Key {
        match *k {
            ServiceKey::Addr {
                addr,
                port,
                protocol,
            } => Key::Addr {
                addr,
                port,
                protocol,
            },
            ServiceKey::Fwmark { mark, .. } => Key::Fwmark(mark),
        }
    }
}

/// One destination line: address, port, forwarding code, weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Line {
    addr: IpAddr,
    port: u16,
    fwd: u32,
    weight: u32,
}

/// The services of one read, each with its destination lines sorted.
/// `None` marks a key seen twice (a fwmark in both families): not judged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    services: BTreeMap<Key, Option<Vec<Line>>>,
}

/// A line the summary could not read (its number, from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryError {
    pub line: usize,
}

impl core::fmt::Display for SummaryError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "/proc/net/ip_vs line {}: not understood", self.line)
    }
}

fn hex_u32(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 16).ok()
}

fn hex_u16(s: &str) -> Option<u16> {
    u16::from_str_radix(s, 16).ok()
}

/// `C0A84396:1F41` or `[2001:0db8::1]:0050`.
fn addr_port(s: &str) -> Option<(IpAddr, u16)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (a, p) = rest.split_once("]:")?;
        return Some((IpAddr::V6(a.parse::<Ipv6Addr>().ok()?), hex_u16(p)?));
    }
    let (a, p) = s.split_once(':')?;
    Some((IpAddr::V4(Ipv4Addr::from(hex_u32(a)?)), hex_u16(p)?))
}

fn fwd_code(name: &str) -> Option<u32> {
    match name {
        "Masq" => Some(0),
        "Local" => Some(1),
        "Tunnel" => Some(2),
        "Route" => Some(3),
        _ => None,
    }
}

fn dest_line(rest: &str) -> Option<Line> {
    let mut w = rest.split_ascii_whitespace();
    let (addr, port) = addr_port(w.next()?)?;
    let fwd = fwd_code(w.next()?)?;
    let weight = w.next()?.parse().ok()?;
    Some(Line {
        addr,
        port,
        fwd,
        weight,
    })
}

/// A service line's key; `Ok(None)` for a protocol vigil never installs.
fn service_line(line: &str) -> Result<Option<Key>, ()> {
    let mut w = line.split_ascii_whitespace();
    let proto = w.next().ok_or(())?;
    let target = w.next().ok_or(())?;
    let protocol = match proto {
        "FWM" => return hex_u32(target).map(|m| Some(Key::Fwmark(m))).ok_or(()),
        "TCP" => IpProto::Tcp,
        "UDP" => IpProto::Udp,
        "SCTP" => IpProto::Sctp,
        _ => return Ok(None),
    };
    let (addr, port) = addr_port(target).ok_or(())?;
    Ok(Some(Key::Addr {
        addr,
        port,
        protocol,
    }))
}

impl Summary {
    /// Reads the file's lines (the three heading lines included).
    pub fn parse<S: AsRef<str>>(
        lines: impl IntoIterator<Item = S>,
    ) -> Result<Summary, SummaryError> {
        let mut s = Summary::default();
        // The service the destination lines belong to; `None` for a
        // foreign protocol, whose lines are skipped.
        let mut current: Option<Key> = None;
        for (i, line) in lines.into_iter().enumerate() {
            let line = line.as_ref();
            let bad = SummaryError { line: i + 1 };
            if i < 3 {
                continue; // version, and the two column headings
            }
            if let Some(rest) = line.strip_prefix("  -> ") {
                let d = dest_line(rest).ok_or(bad)?;
                if let Some(Some(v)) = current.and_then(|k| s.services.get_mut(&k)) {
                    v.push(d);
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            current = service_line(line).map_err(|()| bad)?;
            if let Some(k) = current {
                match s.services.get_mut(&k) {
                    Some(slot) => *slot = None,
                    None => {
                        s.services.insert(k, Some(Vec::new()));
                    }
                }
            }
        }
        for v in s.services.values_mut().flatten() {
            v.sort_unstable();
        }
        Ok(s)
    }

    /// What the kernel would print for `table` (a fake kernel's summary).
    pub fn of_table(table: &crate::table::Table) -> Summary {
        let mut s = Summary::default();
        for svc in table.services() {
            let k = Key::of(&svc.key);
            let mut lines: Vec<Line> = table
                .dests(&svc.key)
                .map(|d| Line {
                    addr: d.addr,
                    port: d.port,
                    fwd: d.forwarding.code(),
                    weight: d.weight,
                })
                .collect();
            lines.sort_unstable();
            match s.services.get_mut(&k) {
                Some(slot) => *slot = None,
                None => {
                    s.services.insert(k, Some(lines));
                }
            }
        }
        s
    }

    /// Number of services read.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether no service was read.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// Whether the kernel shows the service `key` with exactly `dests`
    /// (address, port, forwarding method, weight; a DR destination may
    /// show as Local). `false` when the summary cannot tell.
    pub fn agrees<'a>(
        &self,
        key: &ServiceKey,
        dests: impl IntoIterator<Item = &'a Destination>,
    ) -> bool {
        let Some(Some(have)) = self.services.get(&Key::of(key)) else {
            return false;
        };
        let mut n = 0;
        for d in dests {
            n += 1;
            let found = have
                .iter()
                .filter(|l| l.addr == d.addr && l.port == d.port)
                .any(|l| {
                    let fwd = l.fwd == d.forwarding.code()
                        || (l.fwd == Forwarding::Local.code() && d.forwarding == Forwarding::Dr);
                    fwd && l.weight == d.weight
                });
            if !found {
                return false;
            }
        }
        n == have.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Family, Tunnel};

    /// As a 6.1 kernel prints it (trailing blanks kept).
    const PROC: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0A84396:1F41 rr 
  -> C0A8430B:1F41      Route   1      0          0         
  -> C0A8430A:1F41      Route   2      0          0         
UDP  C0A84396:0035 wlc persistent 360 FFFFFFFF
  -> 0A000001:0035      Masq    1      3          12        
TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB sh 
  -> [2001:0db8:0000:0000:0000:0000:0000:0011]:01BB      Tunnel  1      0          0         
FWM  00000007 rr 
  -> 0A000031:0000      Local   1      0          0         
FWM  00000009 rr 
FWM  00000009 rr 
ESP  0A000001:0000 rr 
  -> 0A000002:0000      Route   1      0          0         
";

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    fn tcp(addr: IpAddr, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            addr,
            port,
            protocol: IpProto::Tcp,
        }
    }

    fn dest(addr: IpAddr, port: u16, forwarding: Forwarding, weight: u32) -> Destination {
        Destination {
            addr,
            port,
            forwarding,
            weight,
            u_threshold: 0,
            l_threshold: 0,
        }
    }

    #[test]
    fn reads_what_the_kernel_prints() {
        let s = Summary::parse(PROC.lines()).unwrap();
        assert_eq!(s.len(), 5, "ESP is not ours: skipped with its line");
        let vip = v4("192.168.67.150");
        let k = tcp(vip, 8001);
        let d10 = dest(v4("192.168.67.10"), 8001, Forwarding::Dr, 2);
        let d11 = dest(v4("192.168.67.11"), 8001, Forwarding::Dr, 1);
        assert!(s.agrees(&k, [&d10, &d11]), "order does not matter");
        assert!(!s.agrees(&k, [&d10]), "one missing here");
        let heavier = Destination { weight: 3, ..d10 };
        assert!(!s.agrees(&k, [&heavier, &d11]), "weight");
        let nat = Destination {
            forwarding: Forwarding::Nat,
            ..d10
        };
        assert!(!s.agrees(&k, [&nat, &d11]), "forwarding");
        assert!(!s.agrees(&tcp(vip, 8002), []), "absent service");

        let udp = ServiceKey::Addr {
            addr: vip,
            port: 53,
            protocol: IpProto::Udp,
        };
        assert!(s.agrees(&udp, [&dest(v4("10.0.0.1"), 53, Forwarding::Nat, 1)]));
        let v6 = |s: &str| IpAddr::V6(s.parse().unwrap());
        let tun = Forwarding::Tun(Tunnel::ipip());
        assert!(s.agrees(
            &tcp(v6("2001:db8::1"), 443),
            [&dest(v6("2001:db8::11"), 443, tun, 1)]
        ));
        let fwm = |mark| ServiceKey::Fwmark {
            mark,
            family: Family::V4,
        };
        let local_dr = dest(v4("10.0.0.49"), 0, Forwarding::Dr, 1);
        assert!(s.agrees(&fwm(7), [&local_dr]), "DR shown as Local");
        assert!(
            !s.agrees(&fwm(9), []),
            "a mark in both families: cannot tell"
        );
    }

    #[test]
    fn an_empty_table_and_garbage() {
        let s = Summary::parse(PROC.lines().take(3)).unwrap();
        assert!(s.is_empty());
        let bad = "h\nh\nh\nTCP  nothex:1F41 rr\n";
        assert_eq!(Summary::parse(bad.lines()), Err(SummaryError { line: 4 }));
        let bad = "h\nh\nh\nTCP  C0A84396:1F41 rr\n  -> C0A8430B:1F41      Sideways 1 0 0\n";
        assert_eq!(Summary::parse(bad.lines()), Err(SummaryError { line: 5 }));
    }
}
