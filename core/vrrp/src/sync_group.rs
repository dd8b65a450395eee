//! Sync groups (keepalived `vrrp_sync_group`): members move together. A
//! member going MASTER pulls the others to MASTER, but only once every member
//! wants it (keepalived prefers BACKUP to avoid thrashing); a member going
//! BACKUP or FAULT takes the others along; the group leaves FAULT when no
//! member has a fault of its own left.

use crate::action::{Action, NotifyState, NotifyTarget};
use crate::id::{GroupId, InstanceId};
use crate::prelude::*;
use crate::router::Router;
use crate::state::{Reason, State};
use crate::time::Instant;

/// A sync group's members and common state.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) members: Vec<InstanceId>,
    pub(crate) state: State,
}

impl Group {
    pub(crate) fn new(name: String, members: Vec<InstanceId>) -> Group {
        Group {
            name,
            members,
            state: State::Init,
        }
    }
}

impl Router {
    fn others(&self, g: GroupId, except: InstanceId) -> Vec<InstanceId> {
        self.groups
            .get(g.0)
            .map(|grp| {
                grp.members
                    .iter()
                    .copied()
                    .filter(|m| *m != except)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn set_group_state(&mut self, g: GroupId, state: State) {
        let Some(grp) = self.groups.get_mut(g.0) else {
            return;
        };
        if grp.state == state {
            return;
        }
        grp.state = state;
        let notify = match state {
            State::Master => NotifyState::Master,
            State::Backup => NotifyState::Backup,
            State::Fault => NotifyState::Fault,
            State::Init => NotifyState::Stop,
        };
        self.actions.push_back(Action::Notify {
            target: NotifyTarget::Group(g),
            state: notify,
            priority: 0,
        });
    }

    fn group_state(&self, g: GroupId) -> Option<State> {
        self.groups.get(g.0).map(|grp| grp.state)
    }

    /// A BACKUP's Master_Down_Timer expired: become MASTER, with the group if
    /// every other member wants MASTER too, else keep waiting in BACKUP.
    pub(crate) fn goto_master(&mut self, now: Instant, id: InstanceId, reason: Reason) {
        let group = self.instances.get(id.0).and_then(|i| i.group);
        let Some(g) = group.filter(|g| self.group_state(*g) != Some(State::Master)) else {
            if let Some(inst) = self.instances.get_mut(id.0) {
                inst.become_master(now, reason, &mut self.actions);
            }
            return;
        };
        let others = self.others(g, id);
        let ready = others.iter().all(|m| {
            self.instances
                .get(m.0)
                .is_none_or(|i| i.want == State::Master)
        });
        let Some(inst) = self.instances.get_mut(id.0) else {
            return;
        };
        if !ready {
            inst.hold_backup(now);
            return;
        }
        inst.become_master(now, reason, &mut self.actions);
        for m in others {
            if let Some(inst) = self.instances.get_mut(m.0) {
                if inst.state == State::Backup {
                    inst.become_master(now, Reason::SyncGroup, &mut self.actions);
                }
            }
        }
        self.set_group_state(g, State::Master);
    }

    /// A member is now BACKUP: the others leave MASTER (or FAULT) too.
    pub(crate) fn sync_backup(&mut self, now: Instant, id: InstanceId) {
        let Some(g) = self.instances.get(id.0).and_then(|i| i.group) else {
            return;
        };
        if self.group_state(g) == Some(State::Backup) {
            return;
        }
        for m in self.others(g, id) {
            if let Some(inst) = self.instances.get_mut(m.0) {
                inst.follow_backup(now, &mut self.actions);
            }
        }
        self.set_group_state(g, State::Backup);
    }

    /// A member is now FAULT: the others follow it.
    pub(crate) fn sync_fault(&mut self, now: Instant, id: InstanceId) {
        let Some(g) = self.instances.get(id.0).and_then(|i| i.group) else {
            return;
        };
        if self.group_state(g) == Some(State::Fault) {
            return;
        }
        for m in self.others(g, id) {
            if let Some(inst) = self.instances.get_mut(m.0) {
                if inst.state != State::Fault {
                    inst.enter_fault(now, Reason::SyncGroup, &mut self.actions);
                }
            }
        }
        self.set_group_state(g, State::Fault);
    }

    /// Bring a group rebuilt by a reload in line with its members: FAULT if
    /// one has a fault of its own (the others follow it); otherwise members
    /// held in FAULT by the old group recover, and the group is MASTER if a
    /// member is (its transitions then pull the others, as a running group
    /// does), else BACKUP. A consistent group is left as it is.
    pub(crate) fn reconcile_group(&mut self, now: Instant, g: usize) {
        let members = self
            .groups
            .get(g)
            .map(|x| x.members.clone())
            .unwrap_or_default();
        let faulty = members
            .iter()
            .copied()
            .find(|m| self.instances.get(m.0).is_some_and(|i| i.fault.is_some()));
        if let Some(f) = faulty {
            for m in members.iter().filter(|m| **m != f) {
                if let Some(inst) = self.instances.get_mut(m.0) {
                    if matches!(inst.state, State::Backup | State::Master) {
                        inst.enter_fault(now, Reason::SyncGroup, &mut self.actions);
                    }
                }
            }
            self.set_group_state(GroupId(g), State::Fault);
            return;
        }
        for m in &members {
            if let Some(inst) = self.instances.get_mut(m.0) {
                inst.leave_fault(now, Reason::Recovered, &mut self.actions);
            }
        }
        let any = |s: State| {
            members
                .iter()
                .any(|m| self.instances.get(m.0).is_some_and(|i| i.state == s))
        };
        let state = if any(State::Master) {
            State::Master
        } else if any(State::Backup) {
            State::Backup
        } else {
            return;
        };
        self.set_group_state(GroupId(g), state);
    }

    /// Whether another member of `id`'s group still has a fault of its own.
    pub(crate) fn group_member_faulty(&self, id: InstanceId) -> bool {
        let Some(g) = self.instances.get(id.0).and_then(|i| i.group) else {
            return false;
        };
        self.others(g, id)
            .iter()
            .any(|m| self.instances.get(m.0).is_some_and(|i| i.fault.is_some()))
    }
}
