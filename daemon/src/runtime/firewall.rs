//! no_accept in the running daemon: vigil's nf_tables table exists while any
//! instance needs it, and an instance's VIPs are in its drop sets while it
//! holds them (keepalived adds the rules on becoming master and removes
//! them on leaving). Without nf_tables this is logged once, and the VIPs
//! answer as with `accept`.

use std::net::IpAddr;

use super::plan::Plan;
use crate::os::nftables::Nft;

#[derive(Default)]
pub struct Firewall {
    nft: Option<Nft>,
    /// The table could not be made; not tried again until a reload.
    failed: bool,
}

impl Firewall {
    /// Makes the table if `plan` has an instance that drops its VIPs.
    pub fn ensure(&mut self, plan: &Plan) {
        if self.nft.is_some() || !plan.instances.values().any(|i| i.drop_vips) {
            return;
        }
        let made = Nft::open().and_then(|mut n| n.setup().map(|()| n));
        match made {
            Ok(n) => {
                log::info!(
                    "no_accept: traffic to non-owner VIPs is dropped (nftables table inet vigil)"
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

    /// VIPs of a no_accept instance were added (`add`) or removed.
    pub fn vips(&mut self, name: &str, add: bool, addrs: &[IpAddr]) {
        let Some(nft) = &mut self.nft else { return };
        if let Err(e) = nft.set_vips(add, addrs) {
            let verb = if add { "dropping" } else { "releasing" };
            log::warn!("({name}) no_accept: {verb} traffic to the VIPs: {e}");
        }
    }

    /// Stop: the table goes.
    pub fn stop(&mut self) {
        if let Some(mut nft) = self.nft.take() {
            if let Err(e) = nft.teardown() {
                log::warn!("no_accept: removing table inet vigil: {e}");
            }
        }
    }
}
