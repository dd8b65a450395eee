//! The IPVS table the configuration asks for, given the checkers' verdicts
//! and the quorum states (keepalived 2.2.7, check/ipwrapper.c and
//! ipvswrapper.c).
//!
//! Per virtual server:
//! - the service is always present;
//! - a live real server is present with its weight (the checker's dynamic
//!   weight if it reports one, e.g. `misc_dynamic`);
//! - a failed one is removed, or kept with weight 0 if `inhibit_on_failure`;
//! - with the quorum lost and a sorry server configured, the sorry server is
//!   present with weight 1 and every real server is out (weight 0 for those
//!   with `inhibit_on_failure`); without a sorry server a lost quorum only
//!   fires the `quorum_down` script;
//! - with the quorum met, a `sorry_server_inhibit` sorry server stays present
//!   with weight 0, and any other sorry server is absent.
//!
//! `alpha` (servers start failed until checked) is the checkers' business:
//! it shows here as a real server reported down.

use alloc::string::String;
use alloc::vec::Vec;
use vigil_model::{Config, IpFamily, LbKind, VirtualServer, VsGroupEntry, VsKey};

use crate::quorum::QuorumState;
use crate::table::{Destination, Family, Forwarding, Service, ServiceKey, Table, FLAG_PERSISTENT};

/// A real server's verdict: `(up, dynamic weight)`. The weight, when given,
/// replaces the configured one.
pub type Health = (bool, Option<u32>);

/// keepalived's sorry server weight.
const SORRY_WEIGHT: u32 = 1;

/// Sum of the weights of the live real servers of virtual server `vs_index`:
/// what the quorum is compared with.
pub fn live_weight(
    vs_index: usize,
    vs: &VirtualServer,
    health: &impl Fn(usize, usize) -> Health,
) -> u64 {
    vs.real_servers
        .iter()
        .enumerate()
        .map(|(i, rs)| match health(vs_index, i) {
            (true, dynamic) => u64::from(dynamic.unwrap_or(rs.weight)),
            (false, _) => 0,
        })
        .sum()
}

/// The IPVS service of a virtual server, without destinations: for a
/// `virtual_server group`, its first kernel service.
pub fn service_of(vs: &VirtualServer) -> Service {
    let key = match (vs.key, &vs.group) {
        (VsKey::Fwmark(mark), Some(g)) => ServiceKey::Fwmark {
            mark,
            family: family_of(g.default_family()),
        },
        (VsKey::Fwmark(mark), None) => ServiceKey::Fwmark {
            mark,
            family: fwmark_family(vs),
        },
        (VsKey::Addr { addr, port }, _) => ServiceKey::Addr {
            addr,
            port,
            protocol: vs.protocol.into(),
        },
    };
    service_with(vs, key)
}

/// Every kernel service of a virtual server, in order: one, or one per
/// address and fwmark of its group (keepalived's `ipvs_group_cmd`).
pub fn services_of(vs: &VirtualServer) -> Vec<Service> {
    let Some(g) = &vs.group else {
        return alloc::vec![service_of(vs)];
    };
    let mut out = Vec::new();
    for e in &g.entries {
        match *e {
            VsGroupEntry::Range { port, .. } => {
                for addr in e.addrs() {
                    let key = ServiceKey::Addr {
                        addr,
                        port,
                        protocol: vs.protocol.into(),
                    };
                    out.push(service_with(vs, key));
                }
            }
            VsGroupEntry::Fwmark { mark, family } => {
                let family = family_of(family.unwrap_or(g.default_family()));
                out.push(service_with(vs, ServiceKey::Fwmark { mark, family }));
            }
        }
    }
    out
}

fn family_of(f: IpFamily) -> Family {
    match f {
        IpFamily::V4 => Family::V4,
        IpFamily::V6 => Family::V6,
    }
}

/// The service `key` with the virtual server's scheduler and persistence.
fn service_with(vs: &VirtualServer, key: ServiceKey) -> Service {
    let full = key.family().full_prefix();
    // keepalived treats a zero timeout as "not persistent".
    let (flags, timeout, netmask) = match vs.persistence_timeout {
        Some(t) if t > 0 => (
            FLAG_PERSISTENT,
            t,
            vs.persistence_granularity.map_or(full, |g| g.min(full)),
        ),
        _ => (0, 0, full),
    };
    Service {
        key,
        scheduler: String::from(vs.scheduler.name()),
        flags,
        timeout,
        netmask,
        pe_name: None,
    }
}

/// A fwmark service has no address: take the family of its first server
/// that is not tunnelled (keepalived does the same when `ip_family` is not
/// given; a tunnelled one may be of either family), else of its first
/// server, else IPv4.
fn fwmark_family(vs: &VirtualServer) -> Family {
    let sorry = vs
        .sorry_server
        .map(|s| (s.addr, s.lb_kind.unwrap_or(vs.lb_kind)));
    let servers = || {
        vs.real_servers
            .iter()
            .map(|rs| (rs.addr, rs.lb_kind))
            .chain(sorry)
    };
    servers()
        .find(|(_, k)| *k != LbKind::Tun)
        .or_else(|| servers().next())
        .map_or(Family::V4, |(a, _)| Family::of(&a))
}

/// The destination port of a server on `service`: in a group, DR and TUN
/// take the service's port (0 on a fwmark), NAT keeps its own, as
/// keepalived's `ipvs_group_cmd` does; elsewhere the configured port.
fn dest_port(vs: &VirtualServer, service: &ServiceKey, kind: LbKind, port: u16) -> u16 {
    if vs.group.is_none() || kind == LbKind::Nat {
        return port;
    }
    match service {
        ServiceKey::Addr { port, .. } => *port,
        ServiceKey::Fwmark { .. } => 0,
    }
}

/// The desired table: every virtual server of `config`, with destinations
/// chosen by `health(vs_index, rs_index)` and `quorum[vs_index]`. A quorum
/// state missing from `quorum` or not yet updated is judged as at start: met
/// when the live weight reaches `quorum + hysteresis`.
pub fn desired(
    config: &Config,
    health: &impl Fn(usize, usize) -> Health,
    quorum: &[QuorumState],
) -> Table {
    let mut table = Table::new();
    for (vi, vs) in config.virtual_servers.iter().enumerate() {
        let quorum_up = match quorum.get(vi) {
            Some(q) if q.is_known() => q.is_up(),
            _ => live_weight(vi, vs, health) >= u64::from(vs.quorum) + u64::from(vs.hysteresis),
        };
        add_virtual_server(&mut table, vi, vs, health, quorum_up);
    }
    table
}

/// Adds one virtual server's services and destinations. The quorum is the
/// virtual server's, so a group's services gain or lose their real servers
/// and sorry server together.
fn add_virtual_server(
    table: &mut Table,
    vi: usize,
    vs: &VirtualServer,
    health: &impl Fn(usize, usize) -> Health,
    quorum_up: bool,
) {
    for service in services_of(vs) {
        let key = service.key;
        table.insert_service(service);
        add_dests(table, &key, vi, vs, health, quorum_up);
    }
}

/// Adds the real and sorry servers of virtual server `vi` to `key`.
fn add_dests(
    table: &mut Table,
    key: &ServiceKey,
    vi: usize,
    vs: &VirtualServer,
    health: &impl Fn(usize, usize) -> Health,
    quorum_up: bool,
) {
    let sorry_active = !quorum_up && vs.sorry_server.is_some();
    for (ri, rs) in vs.real_servers.iter().enumerate() {
        let (up, dynamic) = health(vi, ri);
        let weight = if sorry_active || !up {
            if !rs.inhibit_on_failure {
                continue;
            }
            0
        } else {
            dynamic.unwrap_or(rs.weight)
        };
        let dest = Destination {
            addr: rs.addr,
            port: dest_port(vs, key, rs.lb_kind, rs.port),
            forwarding: rs.lb_kind.into(),
            weight,
            u_threshold: rs.uthreshold,
            l_threshold: rs.lthreshold,
        };
        // The service was inserted by the caller, so this cannot fail.
        let _ = table.insert_dest(key, dest);
    }
    if let Some(sorry) = vs.sorry_server {
        let weight = match (sorry_active, sorry.inhibit) {
            (true, _) => SORRY_WEIGHT,
            (false, true) => 0,
            (false, false) => return,
        };
        let kind = sorry.lb_kind.unwrap_or(vs.lb_kind);
        let dest = Destination {
            addr: sorry.addr,
            port: dest_port(vs, key, kind, sorry.port),
            forwarding: Forwarding::from(kind),
            weight,
            u_threshold: 0,
            l_threshold: 0,
        };
        // A sorry server that is also a real server: while the quorum holds,
        // the real server's entry stands; once it is lost, the sorry one.
        if sorry_active || table.dest(key, &dest.key()).is_none() {
            let _ = table.insert_dest(key, dest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use vigil_model::{LbKind, Protocol, RealServer, SorryServer};

    const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

    fn rs(addr: IpAddr, weight: u32) -> RealServer {
        RealServer {
            weight,
            lb_kind: LbKind::Dr,
            ..RealServer::new(addr, 80)
        }
    }

    fn vs(key: VsKey) -> VirtualServer {
        VirtualServer {
            protocol: Protocol::Udp,
            ..VirtualServer::new(key)
        }
    }

    #[test]
    fn persistence_sets_flag_timeout_and_granularity() {
        let mut v = vs(VsKey::Addr { addr: ANY, port: 0 });
        assert_eq!(
            (
                service_of(&v).flags,
                service_of(&v).timeout,
                service_of(&v).netmask
            ),
            (0, 0, 32)
        );
        v.persistence_timeout = Some(360);
        v.persistence_granularity = Some(24);
        let s = service_of(&v);
        assert_eq!((s.flags, s.timeout, s.netmask), (FLAG_PERSISTENT, 360, 24));
        assert_eq!(s.scheduler, "wlc");
        v.persistence_timeout = Some(0);
        assert_eq!(service_of(&v).flags, 0);
    }

    #[test]
    fn fwmark_family_follows_the_real_servers() {
        let mut v = vs(VsKey::Fwmark(3));
        assert_eq!(service_of(&v).key.family(), Family::V4);
        v.real_servers.push(rs(IpAddr::V6(Ipv6Addr::LOCALHOST), 1));
        let s = service_of(&v);
        assert_eq!(
            s.key,
            ServiceKey::Fwmark {
                mark: 3,
                family: Family::V6
            }
        );
        assert_eq!(s.netmask, 128);
    }

    #[test]
    fn dynamic_weight_counts_and_is_installed() {
        let mut v = vs(VsKey::Addr {
            addr: ANY,
            port: 53,
        });
        v.real_servers
            .push(rs(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 3));
        v.real_servers
            .push(rs(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 4));
        let health = |_: usize, ri: usize| {
            if ri == 0 {
                (true, Some(9))
            } else {
                (false, None)
            }
        };
        assert_eq!(live_weight(0, &v, &health), 9);
        let config = Config {
            virtual_servers: vec![v],
            ..Config::default()
        };
        let t = desired(&config, &health, &[]);
        let key = service_of(&config.virtual_servers[0]).key;
        let d: vec::Vec<_> = t
            .dests(&key)
            .map(|d| (d.addr, d.weight, d.forwarding))
            .collect();
        assert_eq!(
            d,
            vec![(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 9, Forwarding::Dr)]
        );
    }

    #[test]
    fn sorry_server_duplicating_a_real_server() {
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let mut v = vs(VsKey::Addr {
            addr: ANY,
            port: 80,
        });
        v.real_servers.push(rs(a, 5));
        v.sorry_server = Some(SorryServer {
            addr: a,
            port: 80,
            inhibit: true,
            lb_kind: None,
        });
        let config = Config {
            virtual_servers: vec![v],
            ..Config::default()
        };
        let key = service_of(&config.virtual_servers[0]).key;
        let up = desired(&config, &|_, _| (true, None), &[]);
        assert_eq!(
            up.dests(&key).map(|d| d.weight).collect::<vec::Vec<_>>(),
            vec![5]
        );
        let down = desired(&config, &|_, _| (false, None), &[]);
        assert_eq!(
            down.dests(&key).map(|d| d.weight).collect::<vec::Vec<_>>(),
            vec![1]
        );
    }
}
