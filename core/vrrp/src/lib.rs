//! Sans-IO VRRP (RFC 3768 v2, RFC 5798 / RFC 9568 v3) with keepalived 2.2.7's
//! behaviour: events and a monotonic `now` in, [`Action`]s out.
//!
//! The crate reads no clock, opens no socket and draws no random numbers;
//! [`Router`] documents the call order. The shell maps keepalived's
//! configuration into [`RouterConfig`], carries out the actions, and feeds
//! back packets, link changes and script results.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

/// `alloc`'s names that `std` would have brought into scope.
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::string::String;
    pub use alloc::vec::Vec;
}

mod action;
mod config;
mod counters;
mod extra_if;
mod group_track;
mod id;
mod instance;
mod reload;
mod router;
mod router_ah;
mod router_rx;
mod router_timers;
mod rx;
mod snapshot;
mod state;
mod strict;
mod sync_group;
mod time;
mod timer;
mod timer_index;
mod timing;
mod track;
mod track_ext;
mod validate;

pub use action::{Action, NotifyState, NotifyTarget};
pub use config::{
    Family, GarpConfig, InitialState, InstanceConfig, ProcessConfig, RouterConfig, ScriptConfig,
    SyncGroupConfig, TrackedFile, TrackedInterface, TrackedProcess, TrackedScript, MCAST_GROUP_V4,
    MCAST_GROUP_V6,
};
pub use counters::{Counters, DropReason};
pub use id::{GroupId, InstanceId, ScriptId};
pub use instance::PRIORITY_OWNER;
pub use reload::ReloadReport;
pub use router::Router;
pub use rx::{RxMeta, VRRP_TTL};
pub use snapshot::InstanceSnapshot;
pub use state::{Reason, State};
pub use time::Instant;
pub use track::{ScriptResult, TrackStatus};
pub use track_ext::ProcessCause;
pub use vigil_wire::vrrp::{Auth, Repr, V3Checksum, Version};
