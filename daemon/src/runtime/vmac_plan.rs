//! `use_vmac` planned: which VMACs a configuration asks for, which VIPs
//! go on them and where each instance's adverts go out (see `vmac` for
//! their life).
//!
//! An instance with `use_vmac` gets a private macvlan on its interface, MAC
//! 00-00-5E-00-01-VRID (IPv4) / 00-00-5E-00-02-VRID (IPv6) or the configured
//! one; its VIPs of its family that name no other interface go on the VMAC,
//! and its adverts go out from it unless `vmac_xmit_base`. `use_vmac_addr`
//! gives VIPs on another interface, or of the other family, a VMAC of their
//! own there, named as keepalived names them.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};

use vigil_model as model;
use vigil_vrrp as vrrp;

use super::plan::InstancePlan;

/// One VMAC the configuration asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacSpec {
    pub name: String,
    /// The parent interface.
    pub base: String,
    pub mac: [u8; 6],
    /// The family of the addresses it carries.
    pub family: vrrp::Family,
    /// IPv6 adverts go out from it: it needs a link-local source.
    pub link_local: bool,
    /// That source when configured (`unicast_src_ip` / `mcast_src_ip`).
    pub ll_source: Option<Ipv6Addr>,
    /// For the logs: the instance that asked first.
    pub instance: String,
}

/// RFC 5798's virtual MAC: 00-00-5E-00-01-VRID, or -02- for IPv6.
pub fn rfc_mac(vrid: u8, family: vrrp::Family) -> [u8; 6] {
    let f = if family == vrrp::Family::V6 { 2 } else { 1 };
    [0, 0, 0x5e, 0, f, vrid]
}

/// The modified EUI-64 link-local of `mac` (fe80::/64).
pub fn eui64_link_local(mac: [u8; 6]) -> Ipv6Addr {
    let b = [
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        mac[0] ^ 2,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ];
    Ipv6Addr::from(b)
}

fn family_of(a: IpAddr) -> vrrp::Family {
    if a.is_ipv6() {
        vrrp::Family::V6
    } else {
        vrrp::Family::V4
    }
}

/// Moves the VIPs of VMAC instances onto their VMACs and sets where their
/// adverts go out; returns every VMAC to create (one per name).
pub fn plan(
    instances: &[model::VrrpInstance],
    plans: &mut HashMap<String, InstancePlan>,
) -> Vec<VmacSpec> {
    let mut specs: Vec<VmacSpec> = Vec::new();
    // Primary VMACs first: their names are the configuration's.
    let mut taken: BTreeSet<String> = instances
        .iter()
        .filter_map(|i| i.use_vmac.clone())
        .collect();
    for i in instances {
        let Some(p) = plans.get_mut(&i.name) else {
            continue;
        };
        if let Some(name) = &i.use_vmac {
            let mac = i
                .vmac_mac
                .unwrap_or_else(|| rfc_mac(i.virtual_router_id, p.family));
            specs.push(VmacSpec {
                name: name.clone(),
                base: p.interface.clone(),
                mac,
                family: p.family,
                link_local: p.family == vrrp::Family::V6 && !i.vmac_xmit_base,
                ll_source: match i.src_ip {
                    Some(IpAddr::V6(a)) => Some(a),
                    _ => None,
                },
                instance: i.name.clone(),
            });
            for v in &mut p.vips {
                if v.dev == p.interface && family_of(v.addr) == p.family {
                    v.dev = name.clone();
                }
            }
            if !i.vmac_xmit_base {
                p.xmit = name.clone();
            }
        }
        if !i.use_vmac_addr {
            continue;
        }
        for v in &mut p.vips {
            let fam = family_of(v.addr);
            let on_base = v.dev == p.interface && fam == p.family;
            if on_base || i.use_vmac.as_deref() == Some(v.dev.as_str()) {
                continue;
            }
            let mac = i
                .vmac_mac
                .unwrap_or_else(|| rfc_mac(i.virtual_router_id, fam));
            let found = specs
                .iter()
                .find(|s| s.base == v.dev && s.mac == mac)
                .map(|s| s.name.clone());
            let name = found.unwrap_or_else(|| {
                let n =
                    vigil_config::vmac_name(i.virtual_router_id, fam == vrrp::Family::V6, &taken);
                taken.insert(n.clone());
                specs.push(VmacSpec {
                    name: n.clone(),
                    base: v.dev.clone(),
                    mac,
                    family: fam,
                    link_local: fam == vrrp::Family::V6,
                    ll_source: None,
                    instance: i.name.clone(),
                });
                n
            });
            v.dev = name;
        }
    }
    specs
}

/// `garp_extra_if`'s addresses: the first VIP on each interface other
/// than the instance's own (its VMAC, else its interface), limited to
/// VMACs unless `all`, as keepalived 2.2.7's `vrrp_send_vmac_update` picks
/// them; the own VMAC joins them under `vmac_xmit_base` (its adverts then
/// do not refresh the VMAC's MAC). Empty when keepalived's
/// `vrrp_complete_instance` turns the timer off: no VIP on another
/// interface, or only on non-VMACs without `all`.
pub fn extra_if_addrs(
    i: &model::VrrpInstance,
    p: &InstancePlan,
    specs: &[VmacSpec],
    all: bool,
) -> Vec<IpAddr> {
    let own = i.use_vmac.as_deref().unwrap_or(p.interface.as_str());
    let is_vmac = |dev: &str| specs.iter().any(|s| s.name == dev);
    let others = || p.vips.iter().filter(|v| v.dev != own);
    let extra_vmac = others().any(|v| is_vmac(&v.dev));
    let extra_if = others().any(|v| !is_vmac(&v.dev));
    if !extra_vmac && (!extra_if || !all) {
        return Vec::new();
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for v in &p.vips {
        if !is_vmac(&v.dev) && !all {
            continue;
        }
        if v.dev == own && !i.vmac_xmit_base {
            continue;
        }
        if seen.insert(v.dev.as_str()) {
            out.push(v.addr);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(text: &str) -> super::super::plan::Plan {
        let l = vigil_config::MemoryLoader::new();
        let (c, _) = vigil_config::parse_text("t.conf", text, &l, Default::default())
            .unwrap_or_else(|d| panic!("{d:?}"));
        super::super::plan::Plan::new(&c).unwrap()
    }

    #[test]
    fn vips_move_to_the_vmac_and_adverts_leave_from_it() {
        let p = plan_of(
            "vrrp_instance A {\n interface eth0\n virtual_router_id 51\n use_vmac\n \
             virtual_ipaddress {\n  10.0.0.1/24\n  10.0.1.1/24 dev eth1\n }\n \
             virtual_ipaddress_excluded {\n  fd00::1/64\n }\n}\n",
        );
        let a = &p.instances["A"];
        assert_eq!(a.xmit, "vrrp.51");
        let devs: Vec<&str> = a.vips.iter().map(|v| v.dev.as_str()).collect();
        assert_eq!(
            devs,
            ["vrrp.51", "eth1", "eth0"],
            "other interface and family stay"
        );
        assert_eq!(p.vmacs.len(), 1);
        assert_eq!(p.vmacs[0].mac, [0, 0, 0x5e, 0, 1, 51]);
        assert!(!p.vmacs[0].link_local);
    }

    #[test]
    fn use_vmac_addr_gives_other_interfaces_their_own() {
        let p = plan_of(
            "vrrp_instance A {\n interface eth0\n virtual_router_id 7\n use_vmac\n \
             vmac_xmit_base\n use_vmac_addr\n virtual_ipaddress {\n  10.0.0.1/24\n  \
             10.0.1.1/24 dev eth1\n  10.0.1.2/24 dev eth1\n }\n \
             virtual_ipaddress_excluded {\n  fd00::1/64\n }\n}\n",
        );
        let a = &p.instances["A"];
        assert_eq!(a.xmit, "eth0", "vmac_xmit_base");
        let devs: Vec<&str> = a.vips.iter().map(|v| v.dev.as_str()).collect();
        assert_eq!(devs, ["vrrp.7", "vrrp1.7", "vrrp1.7", "vrrp6.7"]);
        let specs: Vec<(&str, &str, u8)> = p
            .vmacs
            .iter()
            .map(|s| (s.name.as_str(), s.base.as_str(), s.mac[4]))
            .collect();
        assert_eq!(
            specs,
            [
                ("vrrp.7", "eth0", 1),
                ("vrrp1.7", "eth1", 1),
                ("vrrp6.7", "eth0", 2)
            ]
        );
        assert!(p.vmacs[2].link_local, "an IPv6 VMAC gets a link-local");
    }

    /// `garp_extra_if`: one address per extra interface, VMACs only unless
    /// `all`, the instance's own VMAC only under `vmac_xmit_base`.
    #[test]
    fn extra_interfaces_get_one_address_each() {
        let text = |extra: &str| {
            format!(
                "vrrp_instance A {{\n interface eth0\n virtual_router_id 7\n use_vmac\n \
                 use_vmac_addr\n {extra}\n virtual_ipaddress {{\n  10.0.0.1/24\n  \
                 10.0.1.1/24 dev eth1\n  10.0.1.2/24 dev eth1\n }}\n}}\n"
            )
        };
        let addrs = |p: &super::super::plan::Plan| {
            let r = &p.router.instances[0].garp;
            (r.extra_if_interval.as_secs(), r.extra_if_addrs.clone())
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let p = plan_of(&text("garp_extra_if 10"));
        assert_eq!(addrs(&p), (10, vec![ip("10.0.1.1")]), "vrrp1.7 only");
        let p = plan_of(&text("garp_extra_if 10\n vmac_xmit_base"));
        assert_eq!(addrs(&p), (10, vec![ip("10.0.0.1"), ip("10.0.1.1")]));
        // Only its own VMAC: keepalived turns it off, xmit_base or not.
        let p = plan_of(
            "vrrp_instance A {\n interface eth0\n virtual_router_id 7\n use_vmac\n \
             vmac_xmit_base\n garp_extra_if 10 all\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n",
        );
        assert_eq!(addrs(&p), (0, vec![]));
        // No extra VMAC and no `all`: off too.
        let p = plan_of(
            "vrrp_instance A {\n interface eth0\n virtual_router_id 7\n use_vmac\n \
             garp_extra_if 10\n virtual_ipaddress {\n  10.0.0.1/24\n  10.0.2.1/24 dev eth2\n }\n}\n",
        );
        assert_eq!(addrs(&p), (0, vec![]), "eth2 is no VMAC and no `all`");
        let p = plan_of(
            "vrrp_instance A {\n interface eth0\n virtual_router_id 7\n use_vmac\n \
             garp_extra_if 10 all\n virtual_ipaddress {\n  10.0.0.1/24\n  10.0.2.1/24 dev eth2\n }\n}\n",
        );
        assert_eq!(addrs(&p), (10, vec![ip("10.0.2.1")]));
    }

    #[test]
    fn macs_and_link_locals() {
        assert_eq!(rfc_mac(51, vrrp::Family::V4), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(rfc_mac(1, vrrp::Family::V6), [0, 0, 0x5e, 0, 2, 1]);
        let ll = eui64_link_local([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(ll.to_string(), "fe80::5054:ff:fe12:3456");
    }
}
