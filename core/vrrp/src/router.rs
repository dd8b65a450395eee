//! The facade: all instances, tracked scripts and interfaces, sync groups.

use crate::prelude::*;
use alloc::collections::VecDeque;
use core::net::IpAddr;

use crate::action::Action;
use crate::config::{Family, InstanceConfig, RouterConfig, ScriptConfig, SyncGroupConfig};
use crate::counters::Counters;
use crate::id::{GroupId, InstanceId, ScriptId};
use crate::instance::{Instance, Tracker};
use crate::router_rx::VridTable;
use crate::state::{Reason, State};
use crate::sync_group::Group;
use crate::time::Instant;
use crate::timer_index::TimerIndex;
use crate::track::{contribution, holds_fault, ScriptResult, ScriptTracker, TrackStatus};
use crate::track_ext::Ext;
use crate::validate::runnable;

mod query;

/// What the router knows about one interface.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) name: String,
    pub(crate) up: bool,
    v4: Option<IpAddr>,
    v6: Option<IpAddr>,
}

impl Link {
    /// An interface not heard of yet: up, without addresses.
    pub(crate) fn new(name: &str) -> Link {
        Link {
            name: name.to_owned(),
            up: true,
            v4: None,
            v6: None,
        }
    }
}

/// The index of `name` in `links`, added if missing.
pub(crate) fn link_index(links: &mut Vec<Link>, name: &str) -> usize {
    if let Some(n) = links.iter().position(|l| l.name == name) {
        return n;
    }
    links.push(Link::new(name));
    links.len() - 1
}

/// An instance's trackers resolved against the link and script tables.
pub(crate) fn trackers(
    cfg: &InstanceConfig,
    scripts: &[ScriptConfig],
    links: &mut Vec<Link>,
) -> (Vec<Tracker<usize>>, Vec<Tracker<ScriptId>>) {
    let ifaces = cfg
        .track_interfaces
        .iter()
        .map(|t| Tracker {
            target: link_index(links, &t.name),
            weight: t.weight,
            reverse: t.reverse,
        })
        .collect();
    let scripts = cfg
        .track_scripts
        .iter()
        .filter_map(|t| {
            let pos = scripts.iter().position(|s| s.name == t.name)?;
            let script = scripts.get(pos)?;
            Some(Tracker {
                target: ScriptId(pos),
                weight: t.weight.unwrap_or(script.weight),
                reverse: t.reverse.unwrap_or(script.reverse),
            })
        })
        .collect();
    (ifaces, scripts)
}

/// Sync groups over `instances` (by member name), each member pointed at
/// its group; `state_of` gives a group's starting state.
pub(crate) fn build_groups(
    configs: Vec<SyncGroupConfig>,
    instances: &mut [Instance],
    state_of: impl Fn(&str) -> State,
) -> Vec<Group> {
    let mut groups = Vec::with_capacity(configs.len());
    for (g, group) in configs.into_iter().enumerate() {
        let members: Vec<InstanceId> = group
            .members
            .iter()
            .filter_map(|m| instances.iter().position(|i| &i.cfg.name == m))
            .map(InstanceId)
            .collect();
        for m in &members {
            if let Some(inst) = instances.get_mut(m.0) {
                inst.group = Some(GroupId(g));
            }
        }
        let mut built = Group::new(group.name, members);
        built.state = state_of(&built.name);
        groups.push(built);
    }
    groups
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Configured,
    Running,
    Stopped,
}

/// The sans-IO VRRP engine of one host.
///
/// It reads no clock and opens no socket: inputs come in through `handle_*`
/// calls, outputs go out through [`poll_action`](Router::poll_action).
///
/// Call order:
/// 1. [`Router::new`], then report what is known of the interfaces with
///    [`handle_link`](Router::handle_link) and
///    [`handle_address`](Router::handle_address) (interfaces start up with
///    no address; an instance without a source address stays in FAULT);
/// 2. [`handle_start`](Router::handle_start);
/// 3. loop: feed every input (`handle_packet`/`handle_advert`,
///    `handle_script_result`, `handle_link`, `handle_address`), call
///    [`handle_timeout`](Router::handle_timeout) when the deadline from
///    [`poll_timeout`](Router::poll_timeout) has passed, and after each call
///    drain [`poll_action`](Router::poll_action) until `None`, then re-read
///    `poll_timeout` (any call may change it);
/// 4. [`handle_shutdown`](Router::handle_shutdown), then drain the actions.
///
/// [`reconfigure`](Router::reconfigure) (SIGHUP) may be called at any point;
/// drain the actions after it as after any call.
///
/// Time: every `now` comes from one monotonic clock and never goes back; an
/// earlier `now` than already seen is treated as the latest one seen.
#[derive(Debug)]
pub struct Router {
    pub(crate) instances: Vec<Instance>,
    pub(crate) groups: Vec<Group>,
    pub(crate) actions: VecDeque<Action>,
    pub(crate) scripts: Vec<ScriptTracker>,
    /// Tracked files and processes (see `track_ext`).
    pub(crate) ext: Ext,
    pub(crate) links: Vec<Link>,
    /// Instances stopped by the last `reconfigure`, numbered after the live
    /// ones so that the actions they queued still resolve to a name.
    pub(crate) retired: Vec<Instance>,
    pub(crate) global: Counters,
    pub(crate) phase: Phase,
    latest: Instant,
    /// Each instance's next deadline, earliest first (see `router_timers`).
    pub(crate) index: TimerIndex,
    /// Instances by (link, VRID): [IPv4, IPv6] (see `router_rx`).
    pub(crate) by_vrid: VridTable,
}

impl Router {
    /// Build the router (all instances in INIT). `config` is taken as valid
    /// (the config crate refuses what is not); values outside what the wire
    /// carries are clamped (see `validate`).
    pub fn new(config: RouterConfig) -> Router {
        let config = runnable(config);
        let ext = Ext::new(&config.instances, &config.processes, None);
        let mut links: Vec<Link> = Vec::new();
        let mut instances = Vec::with_capacity(config.instances.len());
        for (n, cfg) in config.instances.into_iter().enumerate() {
            let link = link_index(&mut links, &cfg.interface);
            let (ifaces, scripts) = trackers(&cfg, &config.scripts, &mut links);
            let mut inst = Instance::new(InstanceId(n), cfg, link);
            inst.ifaces = ifaces;
            inst.scripts = scripts;
            (inst.files, inst.procs) = ext.trackers(&inst.cfg);
            instances.push(inst);
        }
        let groups = build_groups(config.sync_groups, &mut instances, |_| State::Init);
        let mut r = Router {
            instances,
            groups,
            actions: VecDeque::new(),
            scripts: config.scripts.into_iter().map(ScriptTracker::new).collect(),
            ext,
            links,
            retired: Vec::new(),
            global: Counters::default(),
            phase: Phase::Configured,
            latest: Instant::ZERO,
            index: TimerIndex::default(),
            by_vrid: VridTable::default(),
        };
        r.rebuild_tables();
        r
    }

    pub(crate) fn clock(&mut self, now: Instant) -> Instant {
        self.latest = self.latest.max(now);
        self.latest
    }

    /// Leave INIT: every instance goes BACKUP, FAULT, or (address owner with
    /// `state MASTER`) MASTER; tracking scripts are due at once. Ignored
    /// after the first call.
    pub fn handle_start(&mut self, now: Instant) {
        if self.phase != Phase::Configured {
            return;
        }
        let now = self.clock(now);
        self.phase = Phase::Running;
        for s in &mut self.scripts {
            s.start(now);
        }
        for i in 0..self.instances.len() {
            self.refresh_src(i);
        }
        let faults: Vec<Option<Reason>> = (0..self.instances.len())
            .map(|i| self.fault_of(i))
            .collect();
        for i in 0..self.instances.len() {
            let prio = self.priority_of(i);
            if let Some(inst) = self.instances.get_mut(i) {
                inst.set_priority(prio, now, &mut self.actions);
            }
        }
        // A group starts FAULT if any member is, MASTER if all members are
        // owners starting as MASTER, BACKUP otherwise (keepalived).
        for g in 0..self.groups.len() {
            let members = self
                .groups
                .get(g)
                .map(|x| x.members.clone())
                .unwrap_or_default();
            let faulty = members
                .iter()
                .any(|m| faults.get(m.0).is_some_and(|f| f.is_some()));
            let all_owners = members.iter().all(|m| {
                self.instances
                    .get(m.0)
                    .is_some_and(|i| i.is_owner() && i.hint() == State::Master)
            });
            let state = if faulty {
                State::Fault
            } else if all_owners {
                State::Master
            } else {
                State::Backup
            };
            self.set_group_state(GroupId(g), state);
        }
        for (i, own) in faults.into_iter().enumerate() {
            let group_state = self
                .instances
                .get(i)
                .and_then(|inst| inst.group)
                .and_then(|g| self.groups.get(g.0))
                .map(|g| g.state);
            let fault = own.or((group_state == Some(State::Fault)).then_some(Reason::SyncGroup));
            let Some(inst) = self.instances.get_mut(i) else {
                continue;
            };
            let owner_now = inst.is_owner()
                && inst.hint() == State::Master
                && group_state.is_none_or(|s| s == State::Master);
            inst.start(now, fault, owner_now, &mut self.actions);
            inst.fault = own;
        }
        self.reindex_all();
    }

    /// A tracking script run finished (or timed out).
    pub fn handle_script_result(&mut self, now: Instant, script: ScriptId, result: ScriptResult) {
        if self.phase != Phase::Running {
            return;
        }
        let now = self.clock(now);
        let Some(s) = self.scripts.get_mut(script.0) else {
            return;
        };
        if s.record(result).is_none() {
            return;
        }
        let tracking: Vec<usize> = (0..self.instances.len())
            .filter(|i| {
                self.instances
                    .get(*i)
                    .is_some_and(|inst| inst.scripts.iter().any(|t| t.target == script))
            })
            .collect();
        for i in tracking {
            self.refresh(now, i);
        }
        self.reindex_all();
    }

    /// An interface went up or down. Unknown names are ignored.
    pub fn handle_link(&mut self, now: Instant, interface: &str, up: bool) {
        let now = self.clock(now);
        let Some(l) = self.links.iter().position(|x| x.name == interface) else {
            return;
        };
        if let Some(link) = self.links.get_mut(l) {
            if link.up == up {
                return;
            }
            link.up = up;
        }
        self.refresh_link(now, l);
    }

    /// The interface's primary address of `family` changed (`None`: it has
    /// none). It is the advert source without `unicast_src_ip` and breaks
    /// equal-priority ties; for IPv6 report the link-local address.
    pub fn handle_address(
        &mut self,
        now: Instant,
        interface: &str,
        family: Family,
        addr: Option<IpAddr>,
    ) {
        let now = self.clock(now);
        let addr = addr.filter(|a| Family::of(a) == family);
        let Some(l) = self.links.iter().position(|x| x.name == interface) else {
            return;
        };
        if let Some(link) = self.links.get_mut(l) {
            let slot = match family {
                Family::V4 => &mut link.v4,
                Family::V6 => &mut link.v6,
            };
            if *slot == addr {
                return;
            }
            *slot = addr;
        }
        self.refresh_link(now, l);
    }

    fn refresh_link(&mut self, now: Instant, l: usize) {
        let affected: Vec<usize> = (0..self.instances.len())
            .filter(|i| {
                self.instances
                    .get(*i)
                    .is_some_and(|inst| inst.link == l || inst.ifaces.iter().any(|t| t.target == l))
            })
            .collect();
        for i in affected {
            self.refresh_src(i);
            if self.phase == Phase::Running {
                self.refresh(now, i);
            }
        }
        self.reindex_all();
    }

    /// Graceful stop: masters send priority 0 and remove their addresses.
    /// Later inputs are ignored.
    pub fn handle_shutdown(&mut self, now: Instant) {
        if self.phase == Phase::Stopped {
            return;
        }
        let now = self.clock(now);
        self.phase = Phase::Stopped;
        for inst in &mut self.instances {
            inst.shutdown(now, Reason::Shutdown, &mut self.actions);
        }
        for s in &mut self.scripts {
            s.stop();
        }
        self.reindex_all();
    }

    /// The next action for the shell, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub(crate) fn refresh_src(&mut self, i: usize) {
        let Some(inst) = self.instances.get(i) else {
            return;
        };
        let Some(link) = self.links.get(inst.link) else {
            return;
        };
        let src = inst.cfg.unicast_src.or(match inst.cfg.family {
            Family::V4 => link.v4,
            Family::V6 => link.v6,
        });
        let up = link.up;
        if let Some(inst) = self.instances.get_mut(i) {
            inst.src = src;
            inst.can_send = up && src.is_some();
        }
    }

    fn link_status(&self, l: usize) -> TrackStatus {
        match self.links.get(l) {
            Some(link) if link.up => TrackStatus::Up,
            _ => TrackStatus::Down,
        }
    }

    fn script_status(&self, s: ScriptId) -> TrackStatus {
        self.scripts
            .get(s.0)
            .map(|s| s.status())
            .unwrap_or(TrackStatus::Unknown)
    }

    /// The instance's own fault condition, if any (its group aside).
    pub(crate) fn fault_of(&self, i: usize) -> Option<Reason> {
        let inst = self.instances.get(i)?;
        if self.link_status(inst.link) == TrackStatus::Down {
            return Some(Reason::InterfaceDown);
        }
        if inst.src.is_none() {
            return Some(Reason::NoSourceAddress);
        }
        let mut pending = false;
        let ifaces = inst
            .ifaces
            .iter()
            .filter(|t| t.weight == 0)
            .map(|t| holds_fault(t.reverse, self.link_status(t.target)));
        let scripts = inst
            .scripts
            .iter()
            .filter(|t| t.weight == 0)
            .map(|t| holds_fault(t.reverse, self.script_status(t.target)));
        let ext = self.ext_verdict(i).fault;
        for held in ifaces.chain(scripts).chain(core::iter::once(ext)) {
            match held {
                Some(true) => return Some(Reason::TrackerFailed),
                None => pending = true,
                Some(false) => {}
            }
        }
        pending.then_some(Reason::TrackerPending)
    }

    /// Base priority plus tracker weights within 1..=254; owners keep 255.
    pub(crate) fn priority_of(&self, i: usize) -> u8 {
        let Some(inst) = self.instances.get(i) else {
            return 1;
        };
        if inst.is_owner() {
            return inst.base_priority();
        }
        let ifaces = inst
            .ifaces
            .iter()
            .map(|t| contribution(t.weight, t.reverse, self.link_status(t.target)));
        let scripts = inst
            .scripts
            .iter()
            .map(|t| contribution(t.weight, t.reverse, self.script_status(t.target)));
        let ext = self.ext_verdict(i).delta;
        let total = i32::from(inst.base_priority()) + ifaces.chain(scripts).sum::<i32>() + ext;
        u8::try_from(total.clamp(1, 254)).unwrap_or(1)
    }

    /// Re-evaluate an instance after a tracker, link or address change.
    pub(crate) fn refresh(&mut self, now: Instant, i: usize) {
        let prio = self.priority_of(i);
        let fault = self.fault_of(i);
        let member_faulty = self.group_member_faulty(InstanceId(i));
        let Some(inst) = self.instances.get_mut(i) else {
            return;
        };
        match fault {
            Some(reason) => {
                let entering = inst.state != State::Fault;
                if entering || inst.fault != Some(reason) {
                    inst.enter_fault(now, reason, &mut self.actions);
                }
                inst.fault = Some(reason);
                inst.set_priority(prio, now, &mut self.actions);
                if entering {
                    self.sync_fault(now, InstanceId(i));
                }
            }
            None => {
                inst.fault = None;
                inst.set_priority(prio, now, &mut self.actions);
                if inst.state == State::Fault {
                    if member_faulty {
                        inst.want = State::Backup;
                    } else {
                        inst.leave_fault(now, Reason::Recovered, &mut self.actions);
                        self.sync_backup(now, InstanceId(i));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
