//! Instance pairs: what both routers must agree on for one virtual router.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vigil_model::{Auth, InitialState, VrrpInstance, VrrpVersion};

use super::spans::join;
use super::{Out, Rule, Side};
use crate::error::Severity::{Error, Warning};

/// Indexes of paired instances: (in A, in B).
pub type Pairs = Vec<(usize, usize)>;

fn key(i: &VrrpInstance) -> (u8, bool) {
    (i.virtual_router_id, i.is_ipv6())
}

fn family(v6: bool) -> &'static str {
    if v6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

fn head(i: &VrrpInstance) -> String {
    format!("vrrp_instance {}", i.name)
}

/// Pairs the instances, reports the unpaired ones and every mismatch of
/// the pairs; returns the pairs.
pub fn check(out: &mut Out) -> Pairs {
    let (a, b) = (out.a, out.b);
    let ai = &a.config.instances;
    let bi = &b.config.instances;
    let mut used = alloc::vec![false; bi.len()];
    let mut pairs = Pairs::new();
    let mut left_a = Vec::new();
    for (n, x) in ai.iter().enumerate() {
        let cands = |same_name: bool| {
            bi.iter().enumerate().position(|(m, y)| {
                !used.get(m).copied().unwrap_or(true)
                    && key(y) == key(x)
                    && (!same_name || y.name == x.name)
            })
        };
        match cands(true).or_else(|| cands(false)) {
            Some(m) => {
                if let Some(u) = used.get_mut(m) {
                    *u = true;
                }
                pairs.push((n, m));
            }
            None => left_a.push(n),
        }
    }
    let mut left_b: Vec<usize> = (0..bi.len())
        .filter(|m| !used.get(*m).copied().unwrap_or(true))
        .collect();
    // An instance of one name, or one VIP, on both sides: a VRID edited on
    // one router only, which is one finding rather than two unpaired.
    for &n in &left_a {
        let Some(x) = ai.get(n) else { continue };
        let same = left_b.iter().position(|&m| {
            bi.get(m).is_some_and(|y| {
                y.name == x.name
                    || y.virtual_addresses
                        .iter()
                        .any(|v| x.virtual_addresses.iter().any(|w| w.addr == v.addr))
            })
        });
        if let Some(p) = same {
            let m = left_b.remove(p);
            let Some(y) = bi.get(m) else { continue };
            let at = (
                a.spans.loc(&[&head(x), "virtual_router_id"]),
                b.spans.loc(&[&head(y), "virtual_router_id"]),
            );
            let msg = format!(
                "virtual_router_id {} here, {} in the peer's vrrp_instance {}: the routers do not \
                 hear each other and both become MASTER",
                x.virtual_router_id, y.virtual_router_id, y.name
            );
            out.push(Error, Rule::Vrid, at, msg);
            continue;
        }
        unpaired(out, a, b, x);
    }
    for &m in &left_b {
        if let Some(y) = bi.get(m) {
            unpaired(out, b, a, y);
        }
    }
    for &(n, m) in &pairs {
        if let (Some(x), Some(y)) = (ai.get(n), bi.get(m)) {
            compare(out, x, y);
        }
    }
    pairs
}

fn unpaired(out: &mut Out, here: &Side, there: &Side, x: &VrrpInstance) {
    let at = (here.spans.loc(&[&head(x)]), there.spans.loc(&[]));
    let (vrid, v6) = key(x);
    let msg = format!(
        "vrrp_instance {} (VRID {vrid}, {}) has no partner in the peer's configuration: its \
         addresses have no backup",
        x.name,
        family(v6)
    );
    out.push(Error, Rule::Unpaired, at, msg);
}

fn compare(out: &mut Out, x: &VrrpInstance, y: &VrrpInstance) {
    let (a, b) = (out.a, out.b);
    let (hx, hy) = (head(x), head(y));
    let at = |kw: &str| (a.spans.loc(&[&hx, kw]), b.spans.loc(&[&hy, kw]));
    let vips = |i: &VrrpInstance, excluded: bool| {
        let list = if excluded {
            &i.excluded_addresses
        } else {
            &i.virtual_addresses
        };
        let mut v: Vec<String> = list
            .iter()
            .map(|v| format!("{}/{}", v.addr, v.prefix_len))
            .collect();
        v.sort();
        v
    };
    for (kw, excluded, rule) in [
        ("virtual_ipaddress", false, Rule::Vips),
        ("virtual_ipaddress_excluded", true, Rule::ExcludedVips),
    ] {
        let (vx, vy) = (vips(x, excluded), vips(y, excluded));
        if vx != vy {
            let only_x: Vec<&String> = vx.iter().filter(|s| !vy.contains(s)).collect();
            let only_y: Vec<&String> = vy.iter().filter(|s| !vx.contains(s)).collect();
            let msg = format!(
                "{kw} of vrrp_instance {} differs: only here {}; only in the peer {}: a \
                 failover moves other addresses",
                x.name,
                join(&only_x),
                join(&only_y)
            );
            out.push(Error, rule, at(kw), msg);
        }
    }
    if x.auth != y.auth {
        let name = |au: &Auth| match au {
            Auth::None => "none",
            Auth::Pass(_) => "PASS",
            Auth::Ah(_) => "AH",
        };
        let what = if name(&x.auth) == name(&y.auth) {
            String::from("a different auth_pass")
        } else {
            format!(
                "auth_type {} here, {} in the peer",
                name(&x.auth),
                name(&y.auth)
            )
        };
        let msg = format!(
            "authentication of vrrp_instance {} differs ({what}): each router drops the \
             other's adverts and both become MASTER",
            x.name
        );
        out.push(Error, Rule::Auth, at("authentication"), msg);
    }
    if x.advert_int != y.advert_int {
        let msg = format!(
            "advert_int of vrrp_instance {} differs ({:?} here, {:?} in the peer): adverts \
             with another interval are dropped",
            x.name, x.advert_int, y.advert_int
        );
        out.push(Error, Rule::AdvertInt, at("advert_int"), msg);
    }
    if x.version != y.version {
        let v = |v: VrrpVersion| if v == VrrpVersion::V2 { 2 } else { 3 };
        let msg = format!(
            "VRRP version of vrrp_instance {} differs ({} here, {} in the peer): the \
             routers do not understand each other's adverts",
            x.name,
            v(x.version),
            v(y.version)
        );
        out.push(Error, Rule::Version, at("version"), msg);
    }
    if x.priority == y.priority {
        let msg = format!(
            "priority {} on both routers for vrrp_instance {}: the higher primary address, \
             not the configuration, decides the master",
            x.priority, x.name
        );
        out.push(Warning, Rule::EqualPriority, at("priority"), msg);
    }
    if x.state == InitialState::Master
        && y.state == InitialState::Master
        && !x.preempt
        && !y.preempt
    {
        let msg = format!(
            "both routers start vrrp_instance {} as state MASTER with nopreempt: a restarted \
             router takes the addresses at once, which nopreempt is meant to prevent (use \
             state BACKUP on both)",
            x.name
        );
        out.push(Warning, Rule::MasterNopreempt, at("state"), msg);
    }
    unicast(out, x, y);
    super::vrrp_track::weights(out, x, y);
}

fn unicast(out: &mut Out, x: &VrrpInstance, y: &VrrpInstance) {
    let (a, b) = (out.a, out.b);
    let (hx, hy) = (head(x), head(y));
    let (ux, uy) = (!x.unicast_peers.is_empty(), !y.unicast_peers.is_empty());
    if ux != uy {
        let (here, peer) = if ux {
            (a.spans.loc(&[&hx, "unicast_peer"]), b.spans.loc(&[&hy]))
        } else {
            (b.spans.loc(&[&hy, "unicast_peer"]), a.spans.loc(&[&hx]))
        };
        let msg = format!(
            "vrrp_instance {} uses unicast_peer here and multicast on the other router: \
             the adverts never meet and both become MASTER",
            if ux { &x.name } else { &y.name }
        );
        out.push(Error, Rule::Unicast, (here, peer), msg);
        return;
    }
    if !ux {
        return;
    }
    // Each side's peer list must name the other's source address.
    for (lister, lh, ls, src_of, sh, ss) in [(y, &hy, b, x, &hx, a), (x, &hx, a, y, &hy, b)] {
        let Some(src) = src_of.src_ip else { continue };
        if lister.unicast_peers.contains(&src) {
            continue;
        }
        let here = ls.spans.loc(&[lh.as_str(), "unicast_peer"]);
        let peer = ss.spans.loc(&[sh.as_str(), "unicast_src_ip"]);
        let msg = format!(
            "unicast_peer of vrrp_instance {} ({}) does not list the other router's \
             unicast_src_ip {src}: its adverts go elsewhere",
            lister.name,
            join(&lister.unicast_peers)
        );
        out.push(Error, Rule::Unicast, (here, peer), msg);
    }
}
