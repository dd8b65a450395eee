//! The IPVS changes [`crate::diff`] asks the shell to make.

use crate::table::{DestKey, Destination, Service, ServiceKey};

/// One IPVS operation, as the generic-netlink family offers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Remove every service (`IPVS_CMD_FLUSH`, `lvs_flush`).
    Flush,
    /// Create a service.
    AddService(Service),
    /// Change a service's scheduler, flags, timeout or netmask in place.
    EditService(Service),
    /// Remove a service (its destinations are removed first).
    DelService(ServiceKey),
    /// Add a destination to an existing service.
    AddDest(ServiceKey, Destination),
    /// Change a destination's forwarding, weight or thresholds in place, so
    /// its established connections survive.
    EditDest(ServiceKey, Destination),
    /// Remove a destination.
    DelDest(ServiceKey, DestKey),
}
