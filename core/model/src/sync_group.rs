//! `vrrp_sync_group NAME { ... }`: instances that change state together.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::command::Notify;

/// A set of instances that fail over as one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncGroup {
    /// The block's NAME.
    pub name: String,
    /// `group { INSTANCE ... }`: member `vrrp_instance` names, each defined
    /// and in at most one group.
    pub instances: Vec<String>,
    /// `notify_master|backup|fault|stop|notify` for the group as a whole.
    pub notify: Notify,
    /// `smtp_alert [BOOL]`: mail on group transitions; `None` = the global
    /// default.
    pub smtp_alert: Option<bool>,
    /// `notify_priority_changes [BOOL]`: the default of its members.
    pub notify_priority_changes: Option<bool>,
    /// `track_interface { ... }`: applied to every member (keepalived 2.2.7).
    pub track_interfaces: Vec<crate::TrackInterface>,
    /// `track_script { ... }`, applied to every member.
    pub track_scripts: Vec<crate::TrackScript>,
    /// `track_file { ... }`, applied to every member.
    pub track_files: Vec<crate::TrackRef>,
    /// `track_process { ... }`, applied to every member.
    pub track_processes: Vec<crate::TrackRef>,
    /// `sync_group_tracking_weight`: members' own weighted trackers count;
    /// without it keepalived ignores their weights.
    pub tracking_weight: bool,
}
