//! The operator's view of the engine, for `vigil status`.

use vigil_lvs::service_of;

use super::backend::Backend;
use super::engine::Engine;
use super::names::{dest_name, vs_name};
use crate::control::{RsView, VsView};

/// Every virtual server with its real servers, in configuration order.
pub fn views<B: Backend>(e: &Engine<B>) -> Vec<VsView> {
    let checkers = e.checkers();
    e.config()
        .virtual_servers
        .iter()
        .enumerate()
        .map(|(vi, vs)| {
            let key = service_of(vs).key;
            let sorry_active = vs.sorry_server.is_some_and(|s| {
                e.planner().quorum(vi).is_some_and(|q| !q.is_up())
                    && e.installed()
                        .dests(&key)
                        .any(|d| d.addr == s.addr && d.port == s.port)
            });
            let real_servers = vs
                .real_servers
                .iter()
                .enumerate()
                .map(|(ri, rs)| {
                    let view = checkers.server_view(vi, ri);
                    let last = checkers
                        .checkers_of(vi, ri)
                        .filter_map(|id| checkers.checker(id)?.last_result())
                        .max_by_key(|(t, _)| *t)
                        .map(|(t, r)| (t, r.to_string()));
                    RsView {
                        name: dest_name(rs.addr, rs.port),
                        up: view.is_some_and(|v| v.up),
                        weight: view.map_or(rs.weight, |v| v.weight),
                        installed: e
                            .installed()
                            .dests(&key)
                            .find(|d| d.addr == rs.addr && d.port == rs.port)
                            .map(|d| d.weight),
                        last,
                        changed: view.and_then(|v| v.changed),
                        reason: view.and_then(|v| v.reason).map(|r| r.to_string()),
                    }
                })
                .collect();
            VsView {
                name: vs_name(vs),
                scheduler: vs.scheduler.name().to_string(),
                quorum_up: e.planner().quorum(vi).is_some_and(|q| q.is_up()),
                suspended: checkers.checkers_of_vs(vi).any(|(_, c)| c.is_suspended()),
                sorry_active,
                real_servers,
            }
        })
        .collect()
}
