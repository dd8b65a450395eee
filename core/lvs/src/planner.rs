//! The quorum states of every virtual server, kept between evaluations.

use alloc::vec::Vec;
use vigil_model::Config;

use crate::desired::{desired, live_weight, Health};
use crate::quorum::{QuorumEvent, QuorumState};
use crate::table::Table;

/// One evaluation: the table to reach and the quorum changes to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The desired IPVS table.
    pub table: Table,
    /// `(virtual server index, event)` for each quorum change, in index order.
    pub events: Vec<(usize, QuorumEvent)>,
}

/// Holds a [`QuorumState`] per virtual server (by index in
/// `config.virtual_servers`).
///
/// Call [`Planner::plan`] whenever a verdict or weight changes, then apply
/// `diff(current, &plan.table)` and run the scripts of `plan.events`. After a
/// reload that reorders virtual servers, call [`Planner::reset`] (the states
/// are then judged afresh, as keepalived does at start).
#[derive(Debug, Clone, Default)]
pub struct Planner {
    quorum: Vec<QuorumState>,
}

impl Planner {
    /// No state yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every quorum state.
    pub fn reset(&mut self) {
        self.quorum.clear();
    }

    /// The quorum state of virtual server `vs_index`, if evaluated.
    pub fn quorum(&self, vs_index: usize) -> Option<&QuorumState> {
        self.quorum.get(vs_index)
    }

    /// Updates the quorum states from `health`, then computes the table.
    pub fn plan(&mut self, config: &Config, health: &impl Fn(usize, usize) -> Health) -> Plan {
        self.quorum
            .resize(config.virtual_servers.len(), QuorumState::new());
        let mut events = Vec::new();
        for (vi, (vs, q)) in config
            .virtual_servers
            .iter()
            .zip(self.quorum.iter_mut())
            .enumerate()
        {
            if let Some(ev) = q.update(live_weight(vi, vs, health), vs.quorum, vs.hysteresis) {
                events.push((vi, ev));
            }
        }
        Plan {
            table: desired(config, health, &self.quorum),
            events,
        }
    }
}
