//! Handles to the objects a [`Router`](crate::Router) owns; they index its
//! tables in configuration order, so the shell can keep parallel tables.
//! A [`Router::reconfigure`](crate::Router::reconfigure) renumbers them in
//! the new order (its report maps old to new); instances it stopped get ids
//! after the live ones until the next reload.

/// A `vrrp_instance`, numbered in `RouterConfig::instances` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub(crate) usize);

/// A `vrrp_script`, numbered in `RouterConfig::scripts` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScriptId(pub(crate) usize);

/// A `vrrp_sync_group`, numbered in `RouterConfig::sync_groups` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub(crate) usize);

impl InstanceId {
    /// Position in `RouterConfig::instances` (past its end: an instance
    /// stopped by the last reload).
    pub fn index(self) -> usize {
        self.0
    }
}

impl ScriptId {
    /// Position in `RouterConfig::scripts`.
    pub fn index(self) -> usize {
        self.0
    }
}

impl GroupId {
    /// Position in `RouterConfig::sync_groups`.
    pub fn index(self) -> usize {
        self.0
    }
}
