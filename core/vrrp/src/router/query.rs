//! Read-only lookups of the router's state, by id or by name: the shell's
//! view for status output and for resolving names in actions.

use super::Router;
use crate::counters::Counters;
use crate::id::{GroupId, InstanceId, ScriptId};
use crate::instance::Instance;
use crate::snapshot::InstanceSnapshot;
use crate::state::State;
use crate::track::TrackStatus;

impl Router {
    /// A live instance, or one retired by the last
    /// [`reconfigure`](Router::reconfigure).
    fn any_instance(&self, id: InstanceId) -> Option<&Instance> {
        match id.0.checked_sub(self.instances.len()) {
            None => self.instances.get(id.0),
            Some(r) => self.retired.get(r),
        }
    }

    /// A snapshot of one instance (also of one stopped by the last
    /// [`reconfigure`](Router::reconfigure), in INIT).
    pub fn instance(&self, id: InstanceId) -> Option<InstanceSnapshot<'_>> {
        self.any_instance(id).map(|i| i.snapshot())
    }

    /// Every instance id, in configuration order.
    pub fn instance_ids(&self) -> impl Iterator<Item = InstanceId> + '_ {
        (0..self.instances.len()).map(InstanceId)
    }

    /// The instance called `name`.
    pub fn instance_id(&self, name: &str) -> Option<InstanceId> {
        self.instances
            .iter()
            .position(|i| i.cfg.name == name)
            .map(InstanceId)
    }

    /// An instance's name; ids of instances stopped by the last
    /// [`reconfigure`](Router::reconfigure) resolve too, so that the actions
    /// it queued for them can be carried out.
    pub fn instance_name(&self, id: InstanceId) -> Option<&str> {
        self.any_instance(id).map(|i| i.cfg.name.as_str())
    }

    /// The script called `name`.
    pub fn script_id(&self, name: &str) -> Option<ScriptId> {
        self.scripts
            .iter()
            .position(|s| s.cfg.name == name)
            .map(ScriptId)
    }

    /// A script's name.
    pub fn script_name(&self, id: ScriptId) -> Option<&str> {
        self.scripts.get(id.0).map(|s| s.cfg.name.as_str())
    }

    /// A script's debounced status.
    pub fn script_status_of(&self, id: ScriptId) -> Option<TrackStatus> {
        self.scripts.get(id.0).map(|s| s.status())
    }

    /// The sync group called `name`.
    pub fn group_id(&self, name: &str) -> Option<GroupId> {
        self.groups.iter().position(|g| g.name == name).map(GroupId)
    }

    /// A sync group's name and state.
    pub fn group(&self, id: GroupId) -> Option<(&str, State)> {
        self.groups.get(id.0).map(|g| (g.name.as_str(), g.state))
    }

    /// Drops of packets that matched no instance (unknown VRID or
    /// interface, or unparsable before the VRID).
    pub fn global_counters(&self) -> Counters {
        self.global
    }
}
