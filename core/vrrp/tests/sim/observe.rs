//! Questions about a run: the invariant checked after every step, and the
//! states, adverts, notifies and VIP changes read back from the log.

use vigil_vrrp::{Instant, State};

use super::{Sim, What};

impl Sim {
    /// VIPs installed iff MASTER, for every instance of a running node.
    pub fn check_invariants(&self, node: usize) {
        let n = &self.nodes[node];
        if !n.alive {
            return;
        }
        for id in n.router.instance_ids() {
            let snap = n.router.instance(id).expect("instance");
            let held = n.vips.contains(snap.name);
            assert_eq!(
                held,
                snap.state == State::Master,
                "{}: {} is {} but VIPs held = {held} at {}",
                n.name,
                snap.name,
                snap.state,
                self.now
            );
            assert_eq!(held, snap.vips_installed);
        }
    }

    /// The state of `instance` on `node`.
    pub fn state(&self, node: usize, instance: &str) -> State {
        let r = &self.nodes[node].router;
        r.instance(r.instance_id(instance).expect("instance"))
            .expect("instance")
            .state
    }

    /// Running nodes where `instance` is MASTER.
    pub fn masters(&self, instance: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].alive)
            .filter(|n| {
                let r = &self.nodes[*n].router;
                r.instance_id(instance).is_some() && self.state(*n, instance) == State::Master
            })
            .collect()
    }

    /// Times `node` entered `to` for `instance`.
    pub fn entered(&self, node: usize, instance: &str, to: State) -> Vec<Instant> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::State {
                    instance: i, to: t, ..
                } if i == instance && *t == to => Some(r.at),
                _ => None,
            })
            .collect()
    }

    /// Times `node` sent an advert for `instance`.
    pub fn adverts(&self, node: usize, instance: &str) -> Vec<(Instant, u8)> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::Advert {
                    instance: i,
                    priority,
                    ..
                } if i == instance => Some((r.at, *priority)),
                _ => None,
            })
            .collect()
    }

    /// Notify lines of `node`, in order.
    pub fn notifies(&self, node: usize) -> Vec<String> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::Notify { line } => Some(line.clone()),
                _ => None,
            })
            .collect()
    }

    /// Times at which the VIPs of `instance` were added on `node`.
    pub fn vips_added(&self, node: usize, instance: &str) -> Vec<Instant> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::VipsAdded { instance: i } if i == instance => Some(r.at),
                _ => None,
            })
            .collect()
    }
}
