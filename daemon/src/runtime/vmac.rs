//! `use_vmac`: the VMAC macvlans' life, as keepalived 2.2.7 leads it (the
//! plan, which VMACs and which VIPs on them, is `vmac_plan`).
//!
//! - Adverts are sent and received on the VMAC (unless `vmac_xmit_base`):
//!   a macvlan takes every multicast whose source MAC is its own, so the
//!   base of a backup never hears a master's VMAC adverts. The socket reports
//!   them as the base's (`Net`), and the router keeps judging the base's
//!   link and addresses.
//! - Start (and reload, for new instances): created, or adopted when an
//!   earlier run left a private macvlan with the right MAC on the right
//!   parent; then set up. Like keepalived, the link stays up in every
//!   state: a BACKUP's VMAC holds no address, so it answers nothing.
//! - IPv4 sysctls: on the VMAC arp_ignore=1, accept_local=1, rp_filter=0,
//!   promote_secondaries=1; on the parent arp_ignore=1 and arp_filter=1 as
//!   keepalived, and also arp_announce=2 (restored when its last VMAC
//!   goes); `all.rp_filter`, when set, moved onto every interface and
//!   `default` then cleared (restored at stop). Why arp_announce: a reply
//!   from the VIP leaves through the parent (its subnet route comes first),
//!   and the parent's ARP request for the client then names the VIP as its
//!   sender, which teaches the client the parent's MAC for the VIP; with
//!   keepalived 2.2.7 the lab sees exactly that on the first ping.
//! - IPv6: no EUI-64 link-local from the shared MAC (addr_gen_mode none); the
//!   VMAC gets the advert source: `unicast_src_ip`/`mcast_src_ip`, else the
//!   base's link-local, else the EUI-64 of the base's own MAC.
//! - Deleted by hand (or with its parent): the monitor's event brings it
//!   back at once, or as soon as the parent is back, with a master's VIPs.
//! - Stop, and a reload that drops the instance: deleted, sysctls restored.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use vigil_vrrp as vrrp;

use super::daemon::Daemon;
use super::vmac_plan::eui64_link_local;
use super::vmac_plan::VmacSpec;
use crate::os::netlink::vmac::LinkDetail;
use crate::os::netlink::{AddressSpec, LinkEvent, LinkTable, Netlink, Scope};
use crate::os::sysctl::{self, Tree};

fn fmt_mac(m: [u8; 6]) -> String {
    let p: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
    p.join(":")
}

/// What a parent of an IPv4 VMAC is set to.
const PARENT: [(&str, u32); 3] = [("arp_ignore", 1), ("arp_filter", 1), ("arp_announce", 2)];

/// Values found before we changed them, to put back.
#[derive(Debug, Default)]
struct Saved {
    /// Parent -> its values of [`PARENT`] and the VMACs that need them.
    bases: HashMap<String, (Vec<u32>, BTreeSet<String>)>,
    /// `all.rp_filter` when we cleared it, `default`'s if we raised it, and
    /// each interface's that we raised.
    rp_all: Option<u32>,
    rp_default: Option<u32>,
    rp_ifaces: Vec<(String, u32)>,
}

/// The VMACs this run owns.
#[derive(Debug, Default)]
pub struct Vmacs {
    specs: Vec<VmacSpec>,
    /// Created or adopted by this run: name -> index.
    ours: HashMap<String, u32>,
    saved: Saved,
}

fn set(tree: Tree, iface: &str, param: &str, v: u32) {
    if let Err(e) = sysctl::set(tree, iface, param, v) {
        log::warn!("VMAC: cannot set {e}");
    }
}

impl Vmacs {
    pub fn set_specs(&mut self, specs: Vec<VmacSpec>) {
        self.specs = specs;
    }

    pub fn is_ours(&self, name: &str) -> bool {
        self.ours.contains_key(name)
    }

    /// Creates (or adopts) every wanted VMAC that is missing and whose parent
    /// exists; returns the names created.
    pub fn ensure(&mut self, nl: &Netlink) -> Vec<String> {
        if self.specs.is_empty() {
            return Vec::new();
        }
        let details = match nl.link_details() {
            Ok(d) => d,
            Err(e) => {
                log::error!("VMAC: cannot list links: {e}");
                return Vec::new();
            }
        };
        let mut made = Vec::new();
        for spec in self.specs.clone() {
            let Some(base) = details.iter().find(|d| d.link.name == spec.base) else {
                log::debug!("VMAC {}: parent {} is not present", spec.name, spec.base);
                continue;
            };
            let existing = details.iter().find(|d| d.link.name == spec.name);
            if existing.is_some_and(|e| self.ours.get(&spec.name) == Some(&e.link.index)) {
                continue;
            }
            match self.create(nl, &spec, base, existing, &details) {
                Ok(index) => {
                    self.ours.insert(spec.name.clone(), index);
                    made.push(spec.name.clone());
                }
                Err(e) => log::error!("({}) VMAC {}: {e}", spec.instance, spec.name),
            }
        }
        made
    }

    fn create(
        &mut self,
        nl: &Netlink,
        spec: &VmacSpec,
        base: &LinkDetail,
        existing: Option<&LinkDetail>,
        details: &[LinkDetail],
    ) -> Result<u32, String> {
        let parent = base.link.index;
        match existing {
            Some(e) if e.is_vmac_on(parent) && e.link.mac == spec.mac => {
                log::info!(
                    "({}) VMAC {} left by an earlier run: reused",
                    spec.instance,
                    spec.name
                );
            }
            Some(e) if e.kind.as_deref() == Some("macvlan") && e.parent == Some(parent) => {
                log::info!(
                    "({}) updating VMAC {} (wrong MAC or mode)",
                    spec.instance,
                    spec.name
                );
                nl.update_vmac(e.link.index, spec.mac)
                    .map_err(|e| format!("cannot update: {e}"))?;
            }
            Some(e) if e.kind.as_deref() == Some("macvlan") => {
                log::info!(
                    "({}) removing old VMAC {} on another interface",
                    spec.instance,
                    spec.name
                );
                nl.delete_link(e.link.index)
                    .map_err(|e| format!("cannot remove the old one: {e}"))?;
                nl.create_vmac(&spec.name, parent, spec.mac)
                    .map_err(|e| format!("cannot create: {e}"))?;
            }
            Some(_) => return Err("an interface of that name exists and is not a macvlan".into()),
            None => nl
                .create_vmac(&spec.name, parent, spec.mac)
                .map_err(|e| format!("cannot create on {}: {e}", spec.base))?,
        }
        let index = nl
            .ifindex(&spec.name)
            .map_err(|e| format!("created but not found: {e}"))?;
        if spec.family == vrrp::Family::V4 {
            self.ipv4_sysctls(spec, details);
        }
        let v6 = u32::from(spec.family == vrrp::Family::V4);
        set(Tree::Ipv6, &spec.name, "disable_ipv6", v6);
        if let Err(e) = nl.set_addr_gen_none(index) {
            log::warn!(
                "({}) VMAC {}: addr_gen_mode none: {e}",
                spec.instance,
                spec.name
            );
        }
        nl.set_link_up(index, true)
            .map_err(|e| format!("cannot set up: {e}"))?;
        if spec.link_local {
            let ll = spec
                .ll_source
                .or_else(|| nl.link_local_ipv6(parent).ok().flatten())
                .or_else(|| base.link.mac6().map(eui64_link_local));
            if let Some(ll) = ll {
                let mut a = AddressSpec::new(index, IpAddr::V6(ll), 64);
                a.scope = Scope::Link;
                if let Err(e) = nl.add_address(&a) {
                    log::warn!("({}) link-local {ll} on {}: {e}", spec.instance, spec.name);
                }
            }
        }
        log::info!(
            "({}) VMAC {} ({}, private macvlan on {}) is up",
            spec.instance,
            spec.name,
            fmt_mac(spec.mac),
            spec.base
        );
        Ok(index)
    }

    fn ipv4_sysctls(&mut self, spec: &VmacSpec, details: &[LinkDetail]) {
        self.clear_rp_filter(details);
        for (p, v) in [
            ("arp_ignore", 1),
            ("accept_local", 1),
            ("rp_filter", 0),
            ("promote_secondaries", 1),
        ] {
            set(Tree::Ipv4, &spec.name, p, v);
        }
        if let Some((_, users)) = self.saved.bases.get_mut(&spec.base) {
            users.insert(spec.name.clone());
            return;
        }
        let old: Result<Vec<u32>, _> = PARENT
            .iter()
            .map(|(p, _)| sysctl::get(Tree::Ipv4, &spec.base, p))
            .collect();
        let old = match old {
            Ok(o) => o,
            Err(e) => {
                log::warn!("VMAC {}: cannot read {e}", spec.name);
                return;
            }
        };
        for ((p, v), was) in PARENT.iter().zip(&old) {
            if was != v {
                set(Tree::Ipv4, &spec.base, p, *v);
            }
        }
        let users = BTreeSet::from([spec.name.clone()]);
        self.saved.bases.insert(spec.base.clone(), (old, users));
    }

    /// A VMAC needs rp_filter 0, which `all.rp_filter` overrides: move that
    /// value onto each interface (and `default`), then clear `all`.
    fn clear_rp_filter(&mut self, details: &[LinkDetail]) {
        if self.saved.rp_all.is_some() {
            return;
        }
        let Ok(all) = sysctl::get(Tree::Ipv4, "all", "rp_filter") else {
            log::warn!("cannot read net.ipv4.conf.all.rp_filter");
            return;
        };
        if all == 0 {
            return;
        }
        if let Ok(d) = sysctl::get(Tree::Ipv4, "default", "rp_filter") {
            if d < all {
                log::info!("NOTICE: setting net.ipv4.conf.default.rp_filter from {d} to {all}");
                set(Tree::Ipv4, "default", "rp_filter", all);
                self.saved.rp_default = Some(d);
            }
        }
        for l in details {
            if let Ok(v) = sysctl::get(Tree::Ipv4, &l.link.name, "rp_filter") {
                if v < all {
                    set(Tree::Ipv4, &l.link.name, "rp_filter", all);
                    self.saved.rp_ifaces.push((l.link.name.clone(), v));
                }
            }
        }
        log::info!("NOTICE: setting net.ipv4.conf.all.rp_filter from {all} to 0");
        set(Tree::Ipv4, "all", "rp_filter", 0);
        self.saved.rp_all = Some(all);
    }

    /// Deletes one VMAC of ours and gives its parent back its ARP sysctls
    /// when it was the last one there.
    fn remove(&mut self, nl: &Netlink, name: &str) {
        let Some(index) = self.ours.remove(name) else {
            return;
        };
        match nl.delete_link(index) {
            Ok(()) => log::info!("VMAC {name} removed"),
            Err(crate::os::netlink::NetlinkError::Kernel(nix::errno::Errno::ENODEV)) => {}
            Err(e) => log::error!("cannot remove VMAC {name}: {e}"),
        }
        let emptied: Vec<String> = self
            .saved
            .bases
            .iter_mut()
            .filter_map(|(base, (_, users))| {
                (users.remove(name) && users.is_empty()).then(|| base.clone())
            })
            .collect();
        for base in emptied {
            if let Some((old, _)) = self.saved.bases.remove(&base) {
                for ((p, _), v) in PARENT.iter().zip(old) {
                    set(Tree::Ipv4, &base, p, v);
                }
            }
        }
    }

    /// After a reload: deletes the VMACs the configuration no longer has.
    pub fn prune(&mut self, nl: &Netlink) {
        let stale: Vec<String> = self
            .ours
            .keys()
            .filter(|n| !self.specs.iter().any(|s| &s.name == *n))
            .cloned()
            .collect();
        for n in stale {
            self.remove(nl, &n);
        }
    }

    /// At stop: every VMAC deleted, every sysctl put back (rp_filter only
    /// where it still holds what we set, as keepalived does).
    pub fn remove_all(&mut self, nl: &Netlink) {
        self.specs.clear();
        self.prune(nl);
        let s = std::mem::take(&mut self.saved);
        let Some(all) = s.rp_all else { return };
        if sysctl::get(Tree::Ipv4, "all", "rp_filter").ok() == Some(0) {
            log::info!("NOTICE: resetting net.ipv4.conf.all.rp_filter to {all}");
            set(Tree::Ipv4, "all", "rp_filter", all);
        }
        if let Some(d) = s.rp_default {
            if sysctl::get(Tree::Ipv4, "default", "rp_filter").ok() == Some(all) {
                set(Tree::Ipv4, "default", "rp_filter", d);
            }
        }
        for (iface, v) in s.rp_ifaces {
            if sysctl::get(Tree::Ipv4, &iface, "rp_filter").ok() == Some(all) {
                set(Tree::Ipv4, &iface, "rp_filter", v);
            }
        }
    }

    /// True when `ev` may need a VMAC (re)created: one of ours went, or a
    /// parent of one came (back).
    fn concerns(&self, ev: &LinkEvent) -> bool {
        match ev {
            LinkEvent::Gone { name, .. } => self.is_ours(name),
            LinkEvent::Up { name, .. } | LinkEvent::Down { name, .. } => self
                .specs
                .iter()
                .any(|s| &s.base == name && !self.is_ours(&s.name)),
            LinkEvent::Resync => true,
            _ => false,
        }
    }
}

impl Daemon {
    /// Creates the missing VMACs; the link table learns them at once (the
    /// sockets and VIPs that follow need their index), and a re-created
    /// VMAC gets its master's VIPs back.
    pub(super) fn vmac_ensure(&mut self) {
        let made = self.vmacs.ensure(&self.net.nl);
        if made.is_empty() {
            return;
        }
        match self.net.nl.links() {
            Ok(l) => self.net.links = LinkTable::from_links(&l),
            Err(e) => log::warn!("netlink: {e}"),
        }
        let mut lost = Vec::new();
        for id in self.router.instance_ids() {
            let Some(slot) = self.slots.get(id) else {
                continue;
            };
            for v in slot.installed.iter().flatten() {
                if made.contains(&v.dev) {
                    lost.push((slot.name.clone(), v.clone()));
                }
            }
        }
        for (name, v) in lost {
            self.net.restore_vip(&name, &v);
        }
        self.open_sockets();
    }

    /// The link monitor's hook: a VMAC of ours deleted under us is created
    /// again (now, or when its parent is back).
    pub(super) fn vmac_link_event(&mut self, ev: &LinkEvent) {
        if !self.vmacs.concerns(ev) {
            return;
        }
        if let LinkEvent::Gone { name, .. } = ev {
            log::warn!("VMAC {name} was deleted: re-creating it");
            self.vmacs.forget(name);
        }
        self.vmac_ensure();
    }

    /// A reload: the new configuration's VMACs before its instances start.
    pub(super) fn vmac_reload(&mut self) {
        self.vmacs.set_specs(self.plan.vmacs.clone());
        self.vmac_ensure();
    }

    /// After a reload's last adverts: the dropped instances' VMACs go, and
    /// a kept master whose VIPs changed place (`use_vmac` added, removed or
    /// renamed: the router sees no change there) has them moved.
    pub(super) async fn vmac_prune(&mut self) {
        self.vmacs.prune(&self.net.nl);
        let mut moved = Vec::new();
        let ids: Vec<_> = self.router.instance_ids().collect();
        for id in ids {
            let Some(slot) = self.slots.get_mut(id) else {
                continue;
            };
            let Some(installed) = &slot.installed else {
                continue;
            };
            let addrs = |v: &[super::plan::Vip]| v.iter().map(|v| v.addr).collect::<Vec<_>>();
            if installed == &slot.plan.vips || addrs(installed) != addrs(&slot.plan.vips) {
                continue;
            }
            log::info!("({}) VIPs moved to follow use_vmac", slot.name);
            self.net.del_vips(&slot.name, installed, false);
            self.net.add_vips(&slot.name, &slot.plan.vips);
            slot.installed = Some(slot.plan.vips.clone());
            moved.push(slot.plan.clone());
        }
        // Clients learn the new MAC at once (one gratuitous ARP / NA each).
        for inst in moved {
            let addrs: Vec<IpAddr> = inst.vips.iter().map(|v| v.addr).collect();
            self.net.announce(&inst, &addrs).await;
        }
    }

    pub(super) fn vmac_stop(&mut self) {
        self.vmacs.remove_all(&self.net.nl);
    }
}

impl Vmacs {
    /// A VMAC of ours is gone (deleted by hand or with its parent): the
    /// next `ensure` creates it again.
    fn forget(&mut self, name: &str) {
        self.ours.remove(name);
    }
}
