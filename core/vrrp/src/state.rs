//! Instance and sync group states, and why a transition happened.

use core::fmt;

/// The state of an instance (RFC 5798 section 6.4) plus keepalived's FAULT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or stopped by shutdown.
    Init,
    Backup,
    Master,
    /// Held down by its interface, a tracker or a missing source address.
    Fault,
}

impl fmt::Display for State {
    /// keepalived's spelling, as in `(VI_1) Entering MASTER STATE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// Why an instance changed state (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Leaving INIT at start.
    Startup,
    /// Address owner (priority 255) with `state MASTER`: master at once.
    AddressOwner,
    /// Master_Down_Timer expired: no usable advert from a master.
    MasterDown,
    /// A master heard a higher priority (or equal priority, higher address).
    HigherPriority,
    /// The instance's interface went down.
    InterfaceDown,
    /// No source address: neither `unicast_src_ip` nor one on the interface.
    NoSourceAddress,
    /// A weight-0 tracker (script or interface) failed.
    TrackerFailed,
    /// A weight-0 script has not reported yet (keepalived holds the instance).
    TrackerPending,
    /// Every fault condition cleared.
    Recovered,
    /// Another member of the sync group moved.
    SyncGroup,
    /// Graceful stop.
    Shutdown,
    /// Stopped by a configuration reload (removed, or restarted because its
    /// VRID, interface, family, version or addressing changed).
    Reload,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Startup => "startup",
            Reason::AddressOwner => "address owner",
            Reason::MasterDown => "master down timer expired",
            Reason::HigherPriority => "higher priority advert",
            Reason::InterfaceDown => "interface down",
            Reason::NoSourceAddress => "no source address",
            Reason::TrackerFailed => "tracker failed",
            Reason::TrackerPending => "waiting for tracking script",
            Reason::Recovered => "fault cleared",
            Reason::SyncGroup => "sync group",
            Reason::Shutdown => "shutdown",
            Reason::Reload => "configuration reload",
        })
    }
}
