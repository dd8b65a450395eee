//! Sync groups and virtual servers: what must be the same on both routers
//! for a failover to carry every address and service over.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vigil_model::{Config, RealServer, VirtualServer};

use super::spans::{join, vs_head};
use super::vrrp::Pairs;
use super::{Out, Rule, Side};
use crate::error::Severity::{Error, Warning};

/// A group's members as VRIDs (names may differ between routers).
fn members(c: &Config, names: &[String]) -> Vec<u8> {
    let mut v: Vec<u8> = names
        .iter()
        .filter_map(|n| c.instance(n))
        .map(|i| i.virtual_router_id)
        .collect();
    v.sort_unstable();
    v
}

/// Each sync group must have a group of the same VRIDs on the other side.
pub fn sync_groups(out: &mut Out, _pairs: &Pairs) {
    let (a, b) = (out.a, out.b);
    for (here, there) in [(a, b), (b, a)] {
        for g in &here.config.sync_groups {
            let mine = members(&here.config, &g.instances);
            let theirs: Vec<(Vec<u8>, &str)> = there
                .config
                .sync_groups
                .iter()
                .map(|o| (members(&there.config, &o.instances), o.name.as_str()))
                .collect();
            if theirs.iter().any(|(m, _)| *m == mine) {
                continue;
            }
            let near = theirs.iter().find(|(_, n)| *n == g.name);
            let peer = match near {
                Some((_, n)) => there.spans.loc(&[&format!("vrrp_sync_group {n}"), "group"]),
                None => there.spans.loc(&[]),
            };
            let msg = match near {
                Some((m, _)) => format!(
                    "vrrp_sync_group {} holds VRIDs {}, the peer's holds {}: the routers fail \
                     over different sets of addresses together",
                    g.name,
                    join(&mine),
                    join(m)
                ),
                None => format!(
                    "vrrp_sync_group {} (VRIDs {}) has no group of the same instances in the \
                     peer's configuration: the routers fail over different sets together",
                    g.name,
                    join(&mine)
                ),
            };
            let at = here
                .spans
                .loc(&[&format!("vrrp_sync_group {}", g.name), "group"]);
            out.push(Error, Rule::SyncGroup, (at, peer), msg);
        }
    }
}

/// Virtual servers paired by address and port (or fwmark).
pub fn virtual_servers(out: &mut Out) {
    let (a, b) = (out.a, out.b);
    for (here, there, first) in [(a, b, true), (b, a, false)] {
        for v in &here.config.virtual_servers {
            let h = vs_head(&v.key);
            match there.config.virtual_servers.iter().find(|o| o.key == v.key) {
                None => {
                    let at = (here.spans.loc(&[&h]), there.spans.loc(&[]));
                    let msg = format!(
                        "{h} is not in the peer's configuration: the service is lost when \
                         the addresses move"
                    );
                    out.push(Error, Rule::VirtualServer, at, msg);
                }
                // Pairs found from A are compared once.
                Some(o) if first => compare(out, here, there, v, o),
                Some(_) => {}
            }
        }
    }
}

fn rs_head(r: &RealServer) -> String {
    format!("real_server {} {}", r.addr, r.port)
}

fn compare(out: &mut Out, a: &Side, b: &Side, x: &VirtualServer, y: &VirtualServer) {
    let h = vs_head(&x.key);
    let at = |kw: &str| (a.spans.loc(&[&h, kw]), b.spans.loc(&[&h, kw]));
    let opts: [(&str, bool, String, String); 5] = [
        (
            "lb_algo",
            x.scheduler != y.scheduler,
            format!("{:?}", x.scheduler),
            format!("{:?}", y.scheduler),
        ),
        (
            "lb_kind",
            x.lb_kind != y.lb_kind,
            format!("{:?}", x.lb_kind),
            format!("{:?}", y.lb_kind),
        ),
        (
            "protocol",
            x.protocol != y.protocol,
            format!("{:?}", x.protocol),
            format!("{:?}", y.protocol),
        ),
        (
            "persistence_timeout",
            x.persistence_timeout != y.persistence_timeout,
            format!("{:?}", x.persistence_timeout),
            format!("{:?}", y.persistence_timeout),
        ),
        (
            "quorum",
            x.quorum != y.quorum,
            format!("{}", x.quorum),
            format!("{}", y.quorum),
        ),
    ];
    for (kw, differs, vx, vy) in opts {
        if differs {
            let msg = format!(
                "{kw} of {h} differs ({vx} here, {vy} in the peer): the service behaves \
                 differently after a failover"
            );
            out.push(Warning, Rule::ServiceOptions, at(kw), msg);
        }
    }
    for (here, there, xs, ys) in [(a, b, x, y), (b, a, y, x)] {
        for r in &xs.real_servers {
            let rh = rs_head(r);
            let Some(o) = ys
                .real_servers
                .iter()
                .find(|o| o.addr == r.addr && o.port == r.port)
            else {
                let at = (here.spans.loc(&[&h, &rh]), there.spans.loc(&[&h]));
                let msg = format!(
                    "{rh} of {h} is not in the peer's {h}: the other router balances over \
                     other servers"
                );
                out.push(Error, Rule::RealServers, at, msg);
                continue;
            };
            if !core::ptr::eq(here, a) {
                continue;
            }
            let kinds = |s: &RealServer| -> Vec<&'static str> {
                s.checkers.iter().map(|c| c.kind.keyword()).collect()
            };
            let (kx, ky) = (kinds(r), kinds(o));
            if kx != ky || r.weight != o.weight {
                let kw = kx.first().copied().unwrap_or("weight");
                let ok = ky.first().copied().unwrap_or("weight");
                let at = (
                    here.spans.loc(&[&h, &rh, kw]),
                    there.spans.loc(&[&h, &rh, ok]),
                );
                let msg = format!(
                    "{rh} of {h} differs: checkers {} weight {} here, checkers {} weight {} in \
                     the peer",
                    join(&kx),
                    r.weight,
                    join(&ky),
                    o.weight
                );
                out.push(Warning, Rule::Checkers, at, msg);
            }
        }
    }
}
