//! no_accept in the running daemon: the nf_tables table (`nftables TABLE`,
//! default `inet keepalived`) exists while any
//! instance needs it, and an instance's VIPs are in its drop sets while it
//! holds them (keepalived adds the rules on becoming master and removes
//! them on leaving). Without nf_tables this is logged once, and the VIPs
//! answer as with `accept`.

use std::collections::HashMap;
use std::net::IpAddr;

use super::plan::Plan;
use crate::os::nftables::{Nft, Table};

#[derive(Default)]
pub struct Firewall {
    nft: Option<Nft>,
    /// What is in the drop sets, by instance.
    dropped: HashMap<String, Vec<IpAddr>>,
    /// The table could not be made; not tried again until a reload.
    failed: bool,
    /// Its name, priority and counters (`global_defs`).
    table: Table,
}

impl Firewall {
    pub fn new(settings: &vigil_model::NftSettings) -> Firewall {
        Firewall {
            table: Table::of(settings),
            ..Default::default()
        }
    }

    /// A reload: a table of other settings replaces the live one (its sets
    /// are filled again by the `resync` that follows).
    pub fn configure(&mut self, settings: &vigil_model::NftSettings) {
        let table = Table::of(settings);
        if table != self.table {
            self.stop();
            self.dropped.clear();
            self.failed = false;
            self.table = table;
        }
    }

    /// Makes the table if `plan` has an instance that drops its VIPs.
    pub fn ensure(&mut self, plan: &Plan) {
        if self.nft.is_some() || !plan.instances.values().any(|i| i.drop_vips) {
            return;
        }
        let table = self.table.clone();
        let name = table.name.clone();
        let made = Nft::open(table).and_then(|mut n| n.setup().map(|()| n));
        match made {
            Ok(n) => {
                log::info!(
                    "no_accept: traffic to non-owner VIPs is dropped (nftables table inet {name})"
                );
                self.nft = Some(n);
                self.failed = false;
            }
            Err(e) => {
                if !self.failed {
                    log::warn!("no_accept cannot be enforced on this kernel: {e}; VIPs answer as with accept");
                }
                self.failed = true;
            }
        }
    }

    /// Makes the drop sets hold `want` for instance `name` (its VIPs while
    /// it holds them and is no_accept, else nothing).
    pub fn sync(&mut self, name: &str, want: Vec<IpAddr>) {
        let Some(nft) = &mut self.nft else { return };
        let have = self.dropped.remove(name).unwrap_or_default();
        let gone: Vec<IpAddr> = have.iter().filter(|a| !want.contains(a)).copied().collect();
        let new: Vec<IpAddr> = want.iter().filter(|a| !have.contains(a)).copied().collect();
        for (add, list) in [(false, gone), (true, new)] {
            if let Err(e) = nft.set_vips(add, &list) {
                let verb = if add { "dropping" } else { "releasing" };
                log::warn!("({name}) no_accept: {verb} traffic to the VIPs: {e}");
            }
        }
        if !want.is_empty() {
            self.dropped.insert(name.to_string(), want);
        }
    }

    /// After a reload: `held` is every instance holding VIPs with what it
    /// should drop; anything else is released (accept turned on, removed).
    pub fn resync(&mut self, held: Vec<(String, Vec<IpAddr>)>) {
        let stale: Vec<String> = self
            .dropped
            .keys()
            .filter(|k| !held.iter().any(|(n, _)| n == *k))
            .cloned()
            .collect();
        for name in stale {
            self.sync(&name, Vec::new());
        }
        for (name, want) in held {
            self.sync(&name, want);
        }
    }

    /// Stop: the table goes.
    pub fn stop(&mut self) {
        if let Some(mut nft) = self.nft.take() {
            if let Err(e) = nft.teardown() {
                log::warn!("no_accept: removing the nftables table: {e}");
            }
        }
    }
}
