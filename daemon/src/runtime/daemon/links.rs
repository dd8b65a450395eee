//! Interfaces: what the router is told of the links and addresses it uses,
//! at start-up and on every netlink event, and VIPs removed under a master.

use vigil_vrrp as vrrp;

use super::Daemon;
use crate::os::netlink::LinkEvent;
use crate::runtime::routes::kernel;

impl Daemon {
    /// Every interface the configuration names: its own and the tracked ones.
    pub(super) fn interfaces(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let groups = self.plan.router.sync_groups.iter();
        let group_ifs = groups.flat_map(|g| g.track_interfaces.iter().map(|t| &t.name));
        for i in &self.plan.router.instances {
            let own = i.track_interfaces.iter().map(|t| &t.name);
            for n in std::iter::once(&i.interface)
                .chain(own)
                .chain(group_ifs.clone())
            {
                if !v.contains(n) {
                    v.push(n.clone());
                }
            }
        }
        v
    }

    /// Tells the router the state and addresses of every interface it uses.
    pub(in crate::runtime) fn sync_links(&mut self, now: vrrp::Instant) {
        for name in self.interfaces() {
            self.sync_link(now, &name);
        }
    }

    /// The link table's state of `name` and its advert sources (one address
    /// dump) to the router; an interface that is not there is down and has
    /// no address.
    fn sync_link(&mut self, now: vrrp::Instant, name: &str) {
        let Some((index, usable)) = self.net.links.by_name(name).map(|l| (l.index, l.usable))
        else {
            log::debug!("interface {name}: not present");
            self.router.handle_link(now, name, false);
            self.router
                .handle_address(now, name, vrrp::Family::V4, None);
            self.router
                .handle_address(now, name, vrrp::Family::V6, None);
            return;
        };
        self.router.handle_link(now, name, usable);
        match self.net.nl.source_addresses(index) {
            Ok((v4, v6)) => {
                let (v4, v6) = (v4.map(Into::into), v6.map(Into::into));
                self.router.handle_address(now, name, vrrp::Family::V4, v4);
                self.router.handle_address(now, name, vrrp::Family::V6, v6);
            }
            Err(e) => log::warn!("addresses of {name}: {e}"),
        }
    }

    pub(super) fn link(&mut self, now: vrrp::Instant, ev: LinkEvent) {
        let watched = self.interfaces();
        match &ev {
            LinkEvent::Up { index, .. }
            | LinkEvent::Down { index, .. }
            | LinkEvent::Gone { index, .. } => {
                let index = *index;
                for name in self.net.links.apply(&ev) {
                    if !watched.contains(&name) {
                        continue;
                    }
                    let state = match self.net.links.by_name(&name) {
                        None => "gone",
                        Some(l) if l.usable => "up",
                        Some(_) => "down",
                    };
                    let index = self.net.links.index_of(&name).unwrap_or(index);
                    log::info!("interface {name} (index {index}) is {state}");
                    self.sync_link(now, &name);
                }
                self.open_sockets();
                if matches!(ev, LinkEvent::Up { .. }) {
                    // The kernel flushed the routes of a link that went down.
                    self.routes.reinstate(&kernel(&self.net));
                }
            }
            LinkEvent::AddressAdded { index, .. } => self.sync_index(now, *index, &watched),
            LinkEvent::AddressRemoved { index, addr, .. } => {
                self.sync_index(now, *index, &watched);
                self.vip_removed(*index, *addr);
                self.static_removed(*index, *addr);
            }
            LinkEvent::Resync => {
                match self.net.nl.links() {
                    Ok(l) => self.net.links.reset(&l),
                    Err(e) => log::warn!("netlink resync: {e}"),
                }
                self.sync_links(now);
                self.open_sockets();
            }
        }
        self.vmac_link_event(&ev);
    }

    fn sync_index(&mut self, now: vrrp::Instant, index: u32, watched: &[String]) {
        if let Some(name) = self.net.links.name_of(index).map(str::to_string) {
            if watched.contains(&name) {
                self.sync_link(now, &name);
            }
        }
    }

    /// A VIP removed from under a master (`ip addr del`) is put back at once:
    /// the master keeps advertising it, so its clients would lose it silently.
    /// Our own removals clear `installed` first, and an interface going down
    /// or away faults its instances first, so neither comes back.
    fn vip_removed(&mut self, index: u32, addr: std::net::IpAddr) {
        let usable = self.net.links.by_index(index).is_some_and(|l| l.usable);
        if !usable {
            return;
        }
        let mut lost = Vec::new();
        for id in self.router.instance_ids() {
            let master = self
                .router
                .instance(id)
                .is_some_and(|i| i.state == vrrp::State::Master);
            let Some(slot) = self.slots.get(id).filter(|_| master) else {
                continue;
            };
            for v in slot.installed.iter().flatten() {
                if v.addr == addr && self.net.links.index_of(&v.dev) == Some(index) {
                    lost.push((slot.name.clone(), v.clone()));
                }
            }
        }
        for (name, v) in lost {
            self.net.restore_vip(&name, &v);
        }
    }
}
