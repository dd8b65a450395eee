//! Reload: a new configuration's checkers take over the state of the old
//! ones that check the same thing, so unchanged real servers neither flap nor
//! start probing from scratch (keepalived's `migrate_checkers`, without its
//! edge-event pitfalls: every verdict is recomputed from checker states).

use alloc::vec::Vec;
use core::time::Duration;

use vigil_model::{Config, RealServer, VirtualServer};

use crate::checker::Checker;
use crate::checkers::{Checkers, Server, BOOTSTRAP_DELAY};
use crate::id::{CheckerId, RsId};
use crate::time::{micros, Instant};

/// Whether two virtual servers are the same kernel service.
fn same_service(a: &VirtualServer, b: &VirtualServer) -> bool {
    a.key == b.key && a.protocol == b.protocol
}

fn same_server(a: &RealServer, b: &RealServer) -> bool {
    a.addr == b.addr && a.port == b.port
}

/// `(vs, rs)` of `rs` of `vs` within `config`, by identity.
fn find(config: &Config, vs: &VirtualServer, rs: &RealServer) -> Option<(usize, usize)> {
    let (vi, old_vs) = config
        .virtual_servers
        .iter()
        .enumerate()
        .find(|(_, o)| same_service(o, vs))?;
    let ri = old_vs
        .real_servers
        .iter()
        .position(|o| same_server(o, rs))?;
    Some((vi, ri))
}

impl Checkers {
    /// Replaces the configuration `old` (the one these checkers were built
    /// from) with `new`. A checker of a real server present in both, with
    /// the same probe and timing, keeps its verdict, retry series, schedule
    /// and probe in flight; other checkers start as at start-up (first probe
    /// 1 s + random warmup from `now`; down under `alpha`).
    ///
    /// Drain [`poll_action`](Checkers::poll_action) before calling: pending
    /// actions name the old indices and are dropped. Returns `(old, new)`
    /// ids of every checker carried over, so the shell can route the results
    /// of probes in flight.
    pub fn reconfigure(
        &mut self,
        now: Instant,
        old: &Config,
        new: &Config,
    ) -> Vec<(CheckerId, CheckerId)> {
        let now = self.clock(now);
        while self.poll_action().is_some() {}
        let mut taken = alloc::vec![false; self.checkers.len()];
        let mut checkers = Vec::new();
        let mut servers = Vec::with_capacity(new.virtual_servers.len());
        let mut remap = Vec::new();
        for (v, vs) in new.virtual_servers.iter().enumerate() {
            let mut row = Vec::with_capacity(vs.real_servers.len());
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let id = RsId { vs: v, rs: r };
                let before = find(old, vs, rs);
                let mut dynamic_kept = false;
                for cfg in &rs.checkers {
                    let mut c = Checker::new(id, cfg, vs.alpha);
                    let twin = before.and_then(|(ov, or)| {
                        self.checkers.iter().enumerate().position(|(n, o)| {
                            !taken.get(n).copied().unwrap_or(true)
                                && o.real_server() == RsId { vs: ov, rs: or }
                                && c.same_as(o)
                        })
                    });
                    match twin.and_then(|n| self.checkers.get(n).map(|o| (n, o))) {
                        Some((n, o)) => {
                            c.inherit(o);
                            if let Some(t) = taken.get_mut(n) {
                                *t = true;
                            }
                            dynamic_kept |= c.probe().dynamic();
                            remap.push((CheckerId(n), CheckerId(checkers.len())));
                        }
                        None if self.started => {
                            let spread = self.rng.up_to(micros(c.warmup()));
                            c.schedule(now + BOOTSTRAP_DELAY + Duration::from_micros(spread));
                        }
                        None => {}
                    }
                    checkers.push(c);
                }
                let mut server = Server::new(rs, vs.alpha);
                let first = checkers.len() - rs.checkers.len();
                server.failed = checkers
                    .get(first..)
                    .map_or(0, |cs| cs.iter().filter(|c| !c.is_up()).count());
                if let Some(o) = before.and_then(|(ov, or)| self.servers.get(ov)?.get(or)) {
                    server.changed = o.changed;
                    server.reason = if server.failed > 0 { o.reason } else { None };
                    // A dynamic weight survives; a configured one follows the
                    // new configuration.
                    if dynamic_kept && o.weight != o.configured {
                        server.weight = o.weight;
                    }
                }
                row.push(server);
            }
            servers.push(row);
        }
        self.checkers = checkers;
        self.servers = servers;
        self.refile_all();
        remap
    }
}
