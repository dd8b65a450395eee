//! What the state machine asks the shell to do, drained with `Router::poll_action`.

use crate::prelude::*;
use core::fmt;
use core::net::IpAddr;
use core::time::Duration;

use vigil_wire::vrrp::{Repr, V3Checksum};

use crate::id::{GroupId, InstanceId, ScriptId};
use crate::state::{Reason, State};

/// The subject of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyTarget {
    Instance(InstanceId),
    Group(GroupId),
}

/// The state word passed to notify scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyState {
    Master,
    Backup,
    Fault,
    Stop,
}

impl fmt::Display for NotifyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotifyState::Master => "MASTER",
            NotifyState::Backup => "BACKUP",
            NotifyState::Fault => "FAULT",
            NotifyState::Stop => "STOP",
        })
    }
}

/// One thing for the shell to do, in the order the actions are polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send one advertisement: IP protocol 112, TTL/hop limit 255. One action
    /// per destination (the multicast group, or each unicast peer), since the
    /// v3 IPv4 checksum covers the destination.
    ///
    /// `ah_seq` is set for `auth_type AH`: send it in IP protocol 51 instead,
    /// sealed (`vigil_wire::ah::seal`) with this sequence number and the key
    /// `repr.auth` carries (`Auth::Ah`), `src` in the IP header. One number
    /// per advert, the same for every unicast peer, as keepalived sends.
    SendAdvert {
        instance: InstanceId,
        repr: Repr,
        src: IpAddr,
        dst: IpAddr,
        checksum: V3Checksum,
        ah_seq: Option<u32>,
    },
    /// Install the instance's virtual (and excluded) addresses.
    AddVips { instance: InstanceId },
    /// Remove them.
    RemoveVips { instance: InstanceId },
    /// One step of a burst: one gratuitous ARP (IPv4) or unsolicited
    /// neighbour advertisement with the router flag (IPv6) per address.
    SendGratuitous {
        instance: InstanceId,
        addrs: Vec<IpAddr>,
    },
    /// Start the tracking script and report with `handle_script_result`; the
    /// shell kills it after `timeout` and reports `ScriptResult::TimedOut`.
    RunScript { script: ScriptId, timeout: Duration },
    /// Run notify scripts: `notify_<state>` and `notify` with
    /// `INSTANCE|GROUP NAME STATE PRIORITY` (priority 0 for groups).
    Notify {
        target: NotifyTarget,
        state: NotifyState,
        priority: u8,
    },
    /// For the log: `(VI_1) Entering MASTER STATE`.
    StateChanged {
        instance: InstanceId,
        from: State,
        to: State,
        reason: Reason,
    },
}
