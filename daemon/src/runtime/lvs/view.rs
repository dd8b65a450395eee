//! The operator's view of the engine, for `vigil status`.
//!
//! Built once per configuration ([`views`]), then refreshed in place
//! ([`refresh`]): at 1,000 real servers the names (formatted addresses)
//! were most of a rebuild, and the LVS thread refreshes every second.

use core::fmt::Write;

use vigil_check::ProbeResult;
use vigil_lvs::{service_of, DestKey};

use super::backend::Backend;
use super::engine::Engine;
use super::names::{dest_name, vs_name};
use crate::control::{RsView, VsView};

/// Every virtual server with its real servers, in configuration order.
pub fn views<B: Backend>(e: &Engine<B>) -> Vec<VsView> {
    let mut out: Vec<VsView> = e
        .config()
        .virtual_servers
        .iter()
        .map(|vs| VsView {
            name: vs_name(vs),
            scheduler: vs.scheduler.name().to_string(),
            quorum_up: false,
            suspended: false,
            sorry_active: false,
            real_servers: vs
                .real_servers
                .iter()
                .map(|rs| RsView {
                    name: dest_name(rs.addr, rs.port),
                    up: false,
                    weight: rs.weight,
                    installed: None,
                    last: None,
                    changed: None,
                    reason: None,
                })
                .collect(),
        })
        .collect();
    refresh(e, &mut out);
    out
}

/// Brings `out` (built by [`views`] for the configuration in force) up to
/// date without formatting names; `false` (nothing done) if its shape is
/// not this configuration's.
pub fn refresh<B: Backend>(e: &Engine<B>, out: &mut [VsView]) -> bool {
    let vss = &e.config().virtual_servers;
    let same = out.len() == vss.len()
        && out
            .iter()
            .zip(vss)
            .all(|(o, v)| o.real_servers.len() == v.real_servers.len());
    if !same {
        return false;
    }
    let checkers = e.checkers();
    // One table look-up per service, not one per real server: the dests
    // come in key order, bisected below.
    let mut installed: Vec<(DestKey, u32)> = Vec::new();
    // Checkers are in configuration order: one walk, not a bisection per
    // real server.
    let mut walk = checkers.iter().peekable();
    for (vi, (vs, o)) in vss.iter().zip(out.iter_mut()).enumerate() {
        let key = service_of(vs).key;
        let quorum = e.planner().quorum(vi);
        o.quorum_up = quorum.is_some_and(|q| q.is_up());
        o.sorry_active = vs.sorry_server.is_some_and(|s| {
            quorum.is_some_and(|q| !q.is_up())
                && e.installed()
                    .dests(&key)
                    .any(|d| d.addr == s.addr && d.port == s.port)
        });
        o.suspended = checkers.checkers_of_vs(vi).any(|(_, c)| c.is_suspended());
        installed.clear();
        installed.extend(e.installed().dests(&key).map(|d| (d.key(), d.weight)));
        for (ri, (rs, r)) in vs.real_servers.iter().zip(&mut o.real_servers).enumerate() {
            let view = checkers.server_view(vi, ri);
            r.up = view.is_some_and(|v| v.up);
            r.weight = view.map_or(rs.weight, |v| v.weight);
            let dk = DestKey {
                addr: rs.addr,
                port: rs.port,
            };
            r.installed = installed
                .binary_search_by(|(k, _)| k.cmp(&dk))
                .ok()
                .and_then(|i| installed.get(i))
                .map(|(_, w)| *w);
            let at = |c: &vigil_check::Checker| (c.real_server().vs, c.real_server().rs);
            while walk.next_if(|(_, c)| at(c) < (vi, ri)).is_some() {}
            let mut last: Option<(vigil_check::Instant, ProbeResult)> = None;
            while let Some((_, c)) = walk.next_if(|(_, c)| at(c) == (vi, ri)) {
                if let Some(l) = c.last_result() {
                    if last.is_none_or(|m| l.0 >= m.0) {
                        last = Some(l);
                    }
                }
            }
            match (last, &mut r.last) {
                (Some((t, res)), Some((at, text))) => {
                    *at = t;
                    set_text(text, res);
                }
                (Some((t, res)), slot) => *slot = Some((t, res.to_string())),
                (None, slot) => *slot = None,
            }
            r.changed = view.and_then(|v| v.changed);
            match (view.and_then(|v| v.reason), &mut r.reason) {
                (Some(res), Some(text)) => set_text(text, res),
                (Some(res), slot) => *slot = Some(res.to_string()),
                (None, slot) => *slot = None,
            }
        }
    }
    true
}

/// Rewrites `text` with `r`, in the room it has.
fn set_text(text: &mut String, r: ProbeResult) {
    text.clear();
    let _ = write!(text, "{r}");
}
