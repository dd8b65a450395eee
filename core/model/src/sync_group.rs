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
}
