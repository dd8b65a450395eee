//! Configuration reload (SIGHUP): swap in a new [`RouterConfig`] and disturb
//! only what changed. An unchanged instance must not flap its addresses.

use crate::prelude::*;
use core::fmt;
use core::mem;

use crate::config::RouterConfig;
use crate::id::{InstanceId, ScriptId};
use crate::instance::Instance;
use crate::router::{build_groups, link_index, trackers, Phase, Router};
use crate::state::{Reason, State};
use crate::time::Instant;
use crate::track::ScriptTracker;
use crate::validate::runnable;

/// What a [`Router::reconfigure`] did, for the log and for the shell's
/// tables. Names are in configuration order (`removed`: the old one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Same configuration, same priority and faults: untouched, no action.
    pub kept: Vec<String>,
    /// New settings applied in place; the state was kept (see
    /// `Router::reconfigure` for what each setting does).
    pub updated: Vec<String>,
    /// Stopped and started again from INIT: its VRID, interface, family,
    /// version or addressing changed.
    pub restarted: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// `(old, new)` ids of the kept and updated instances.
    pub instance_ids: Vec<(InstanceId, InstanceId)>,
    /// `(old, new)` ids of the scripts found by name in both configurations.
    pub script_ids: Vec<(ScriptId, ScriptId)>,
}

impl ReloadReport {
    /// The new id of a script run started before the reload; `None` if the
    /// script is gone (drop its result).
    pub fn script_id(&self, old: ScriptId) -> Option<ScriptId> {
        self.script_ids
            .iter()
            .find(|(o, _)| *o == old)
            .map(|(_, n)| *n)
    }
}

impl fmt::Display for ReloadReport {
    /// One log line: `reload: 2 kept, 1 updated (VI_2), ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reload:")?;
        let parts = [
            ("kept", &self.kept),
            ("updated", &self.updated),
            ("restarted", &self.restarted),
            ("added", &self.added),
            ("removed", &self.removed),
        ];
        for (n, (word, names)) in parts.iter().enumerate() {
            let sep = if n == 0 { " " } else { ", " };
            write!(f, "{sep}{} {word}", names.len())?;
            // Kept instances are the quiet majority: count them only.
            if !names.is_empty() && *word != "kept" {
                write!(f, " ({})", names.join(" "))?;
            }
        }
        Ok(())
    }
}

/// What became of an instance of the new configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Same configuration; `Some` holds its (priority, fault) before the
    /// reload, to see whether changed scripts moved it.
    Unchanged(Option<(u8, Option<Reason>)>),
    Updated,
    Restarted,
    Added,
}

impl Router {
    /// Replace the configuration (SIGHUP), keeping whatever did not change.
    ///
    /// `config` is checked exactly as by [`Router::new`]; if it is refused,
    /// nothing changes. Otherwise:
    ///
    /// - instances are matched by name. One with the same configuration (and
    ///   the same priority and faults once trackers are re-resolved) keeps
    ///   its state, timers, master, counters and addresses, and no action is
    ///   queued for it: adverts keep their rhythm;
    /// - one whose VRID, interface, family, version, `unicast_src_ip`,
    ///   multicast group or unicast-vs-multicast mode changed is a different
    ///   virtual router on the wire: it is stopped as at shutdown (priority 0
    ///   advert if master, `RemoveVips`, notify STOP, reason
    ///   [`Reason::Reload`]) and started again from INIT as at start;
    /// - any other change is applied in place, keeping the state, then
    ///   priority and faults are re-evaluated as after a tracker change:
    ///   - priority, tracker weights: a master advertises the new priority
    ///     at once (if now lower, it steps down once a better backup takes
    ///     over); a backup's down timer moves by the change of its skew;
    ///   - advert_int, auth, virtual addresses: a master advertises at once;
    ///     advert_int or down_timer_adverts restart a backup's down timer
    ///     from now (a takeover is delayed, never hastened);
    ///   - virtual or excluded addresses of a master: `RemoveVips`, then
    ///     `AddVips` and a fresh gratuitous burst; no state change or notify;
    ///   - garp_master_refresh restarts a master's refresh timer; a running
    ///     preempt delay ends when nopreempt or preempt_delay change;
    ///   - peers, `state`, `accept` and the receive checks apply to the next
    ///     packet or start;
    /// - removed instances are stopped as at shutdown, added ones start as
    ///   at start (in FAULT if their interface's address is not known yet:
    ///   report it with `handle_address`);
    /// - scripts are matched by name and keep their status, any run in
    ///   progress and their next run time; their rise/fall counter too,
    ///   unless rise or fall changed (then it is set fully up or fully down,
    ///   as the status is); new scripts are due now;
    /// - sync groups are rebuilt; a group keeps its state when its name,
    ///   members and their instances are unchanged, otherwise it takes its
    ///   members' (FAULT if one has a fault of its own, pulling the others
    ///   in; else MASTER if one is MASTER, else BACKUP).
    ///
    /// Ids: live ids follow the new configuration order, so an id may now
    /// name another instance or script. The shell maps its tables with
    /// [`ReloadReport::instance_ids`]/[`ReloadReport::script_ids`] or looks
    /// names up again; results of script runs started before the reload
    /// must be reported under their new id ([`ReloadReport::script_id`]).
    /// The actions of stopped instances carry ids numbered after the live
    /// ones, which [`instance_name`](Router::instance_name) and
    /// [`instance`](Router::instance) resolve until the next reload: drain
    /// the actions before reloading again. `RemoveVips` means "remove what
    /// you installed for this instance", not the new configuration's list.
    ///
    /// Before [`handle_start`](Router::handle_start) or after
    /// [`handle_shutdown`](Router::handle_shutdown) the tables are replaced
    /// and no action is queued.
    pub fn reconfigure(&mut self, now: Instant, config: RouterConfig) -> ReloadReport {
        let config = runnable(config);
        let now = self.clock(now);
        let running = self.phase == Phase::Running;
        self.ext = crate::track_ext::Ext::new(
            &config.instances,
            &config.processes,
            Some(core::mem::take(&mut self.ext)),
        );
        let RouterConfig {
            instances: configs,
            scripts: script_cfgs,
            sync_groups,
            ..
        } = config;
        let mut report = ReloadReport::default();
        let before: Vec<(u8, Option<Reason>)> = (0..self.instances.len())
            .map(|i| (self.priority_of(i), self.fault_of(i)))
            .collect();
        let old_groups: Vec<(String, Vec<String>, State)> = self
            .groups
            .iter()
            .map(|g| {
                let names = g
                    .members
                    .iter()
                    .filter_map(|m| self.instances.get(m.0))
                    .map(|i| i.cfg.name.clone())
                    .collect();
                (g.name.clone(), names, g.state)
            })
            .collect();

        // Stops first, so that their addresses are gone before any other
        // instance installs the same ones.
        let live = configs.len();
        let mut old: Vec<Option<Instance>> = mem::take(&mut self.instances)
            .into_iter()
            .map(Some)
            .collect();
        let mut retired: Vec<Instance> = Vec::new();
        let mut restarting: Vec<String> = Vec::new();
        for slot in &mut old {
            let Some(inst) = slot.as_ref() else {
                continue;
            };
            match configs.iter().find(|c| c.name == inst.cfg.name) {
                None => report.removed.push(inst.cfg.name.clone()),
                Some(c) if !Instance::same_router(&inst.cfg, c) => {
                    restarting.push(inst.cfg.name.clone())
                }
                Some(_) => continue,
            }
            if let Some(mut inst) = slot.take() {
                inst.id = InstanceId(live + retired.len());
                inst.group = None;
                inst.shutdown(now, Reason::Reload, &mut self.actions);
                retired.push(inst);
            }
        }

        let mut old_scripts: Vec<Option<ScriptTracker>> =
            mem::take(&mut self.scripts).into_iter().map(Some).collect();
        let mut scripts = Vec::with_capacity(script_cfgs.len());
        for (n, cfg) in script_cfgs.iter().enumerate() {
            let prev = old_scripts
                .iter()
                .position(|s| s.as_ref().is_some_and(|s| s.cfg.name == cfg.name));
            let tracker = match prev.and_then(|p| old_scripts.get_mut(p)?.take().map(|s| (p, s))) {
                Some((p, mut s)) => {
                    report.script_ids.push((ScriptId(p), ScriptId(n)));
                    s.reconfigure(cfg.clone());
                    s
                }
                None => {
                    let mut s = ScriptTracker::new(cfg.clone());
                    if running {
                        s.start(now);
                    }
                    s
                }
            };
            scripts.push(tracker);
        }

        let mut links = Vec::new();
        let mut instances = Vec::with_capacity(live);
        let mut kinds = Vec::with_capacity(live);
        for (n, cfg) in configs.into_iter().enumerate() {
            let link = link_index(&mut links, &cfg.interface);
            let (ifaces, tracked) = trackers(&cfg, &script_cfgs, &mut links);
            let prev = old
                .iter()
                .position(|o| o.as_ref().is_some_and(|i| i.cfg.name == cfg.name));
            let mut inst = match prev.and_then(|p| old.get_mut(p)?.take().map(|i| (p, i))) {
                Some((p, mut inst)) => {
                    report.instance_ids.push((InstanceId(p), InstanceId(n)));
                    inst.id = InstanceId(n);
                    inst.link = link;
                    inst.group = None;
                    if inst.cfg == cfg {
                        kinds.push(Kind::Unchanged(before.get(p).copied()));
                    } else {
                        inst.reconfigure(now, cfg, &mut self.actions);
                        kinds.push(Kind::Updated);
                    }
                    inst
                }
                None => {
                    kinds.push(if restarting.contains(&cfg.name) {
                        Kind::Restarted
                    } else {
                        Kind::Added
                    });
                    Instance::new(InstanceId(n), cfg, link)
                }
            };
            inst.ifaces = ifaces;
            inst.scripts = tracked;
            (inst.files, inst.procs) = self.ext.trackers(&inst.cfg);
            instances.push(inst);
        }
        // Interfaces keep what the shell reported about them.
        let old_links = mem::take(&mut self.links);
        for l in &mut links {
            if let Some(o) = old_links.iter().find(|o| o.name == l.name) {
                *l = o.clone();
            }
        }

        self.instances = instances;
        self.links = links;
        self.scripts = scripts;
        self.retired = retired;
        let group_state = |name: &str| {
            old_groups
                .iter()
                .find(|g| g.0 == name)
                .map_or(State::Init, |g| g.2)
        };
        self.groups = build_groups(sync_groups, &mut self.instances, group_state);
        for i in 0..self.instances.len() {
            self.refresh_src(i);
        }

        if running {
            for (n, kind) in kinds.iter_mut().enumerate() {
                match *kind {
                    Kind::Unchanged(was) => {
                        if was != Some((self.priority_of(n), self.fault_of(n))) {
                            // A script's weight or status changed under it.
                            *kind = Kind::Updated;
                            self.refresh(now, n);
                        }
                    }
                    Kind::Updated => self.refresh(now, n),
                    Kind::Restarted | Kind::Added => {}
                }
            }
            for (n, kind) in kinds.iter().enumerate() {
                if matches!(kind, Kind::Restarted | Kind::Added) {
                    self.start_one(now, n);
                }
            }
            for g in 0..self.groups.len() {
                let untouched = self.groups.get(g).is_some_and(|grp| {
                    let names: Vec<String> = grp
                        .members
                        .iter()
                        .filter_map(|m| self.instances.get(m.0))
                        .map(|i| i.cfg.name.clone())
                        .collect();
                    let same = old_groups.iter().any(|o| o.0 == grp.name && o.1 == names);
                    same && grp
                        .members
                        .iter()
                        .all(|m| matches!(kinds.get(m.0), Some(Kind::Unchanged(_))))
                });
                if !untouched {
                    self.reconcile_group(now, g);
                }
            }
        }

        for (inst, kind) in self.instances.iter().zip(&kinds) {
            let list = match kind {
                Kind::Unchanged(_) => &mut report.kept,
                Kind::Updated => &mut report.updated,
                Kind::Restarted => &mut report.restarted,
                Kind::Added => &mut report.added,
            };
            list.push(inst.cfg.name.clone());
        }
        self.rebuild_tables();
        report
    }

    /// Start one instance added by a reload, as `handle_start` would: its
    /// group's other members are already running.
    fn start_one(&mut self, now: Instant, n: usize) {
        let own = self.fault_of(n);
        let prio = self.priority_of(n);
        let held = self.group_member_faulty(InstanceId(n));
        let group_state = self
            .instances
            .get(n)
            .and_then(|i| i.group)
            .and_then(|g| self.groups.get(g.0))
            .map(|g| g.state);
        let Some(inst) = self.instances.get_mut(n) else {
            return;
        };
        inst.set_priority(prio, now, &mut self.actions);
        let fault = own.or(held.then_some(Reason::SyncGroup));
        let owner_now = inst.is_owner()
            && inst.hint() == State::Master
            && group_state.is_none_or(|s| matches!(s, State::Master | State::Init));
        inst.start(now, fault, owner_now, &mut self.actions);
        inst.fault = own;
        if own.is_some() {
            self.sync_fault(now, InstanceId(n));
        }
    }
}
