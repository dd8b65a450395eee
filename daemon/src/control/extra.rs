//! What the status view needs beyond the router: facts about the process
//! and the configuration that the sans-IO core does not keep or expose.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use vigil_vrrp::Instant;

/// The daemon's side of a status reply, filled by the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusExtra {
    /// Our process id.
    pub pid: u32,
    /// Time since the daemon started.
    pub uptime: Duration,
    /// The configuration file in use.
    pub config_path: PathBuf,
    /// The current time on the router's clock, for "seconds since the last
    /// transition".
    pub now: Instant,
    /// Per instance, indexed by `InstanceId::index()` (configuration order).
    pub instances: Vec<InstanceExtra>,
    /// `vrrp_script` names to list with their status (may be empty).
    pub scripts: Vec<String>,
    /// `vrrp_sync_group` names to list with their state (may be empty).
    pub sync_groups: Vec<String>,
    /// The virtual servers, as the LVS thread last published them (empty
    /// without `virtual_server` blocks).
    pub lvs: Vec<super::lvs::VsView>,
}

/// The configured facts of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceExtra {
    /// The `interface` the instance runs on.
    pub interface: String,
    /// `virtual_router_id`.
    pub vrid: u8,
    /// `virtual_ipaddress` entries as configured: address and prefix length.
    pub vips: Vec<(IpAddr, u8)>,
}
