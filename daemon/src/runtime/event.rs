//! Everything that wakes the event loop, as one enum fed through one channel by
//! the tasks that wait on netlink, signals, child processes and the control
//! socket. VRRP packets do not come this way: the loop reads their sockets
//! itself (see `net`).

use crate::os::netlink::LinkEvent;
use crate::os::signals::Signal;
use vigil_vrrp::ScriptResult;

pub enum Event {
    Link(LinkEvent),
    Signal(Signal),
    /// A tracking script finished (by name: ids change across reloads).
    ScriptDone {
        script: String,
        result: ScriptResult,
    },
    /// A route or rule of ours left the kernel: put back the tracked ones.
    RoutesLost,
    /// The number of processes matching a `vrrp_track_process` changed.
    Process {
        name: String,
        count: u32,
        cause: vigil_vrrp::ProcessCause,
    },
    /// A tracked file holds a new number.
    File {
        name: String,
        value: i64,
    },
    /// A valid request on the control socket, waiting for its reply.
    Control(crate::control::Connection),
    /// The reload helper's result: a configuration and its plan to swap in,
    /// or `None` when it was refused (already logged).
    Loaded(Option<Box<super::reload::Loaded>>),
}
