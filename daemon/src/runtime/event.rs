//! Everything that wakes the event loop, as one enum fed through one channel by
//! the tasks that wait on sockets, netlink, signals and child processes.

use crate::os::netlink::LinkEvent;
use crate::os::signals::Signal;
use crate::os::vrrp_socket::Received;
use vigil_vrrp::ScriptResult;

pub enum Event {
    /// A VRRP message, IPv4 or IPv6 alike: the payload with the addresses and
    /// TTL of its IP header and the index of the interface it came in on.
    Packet(Received),
    Link(LinkEvent),
    Signal(Signal),
    /// A tracking script finished (by name: ids change across reloads).
    ScriptDone {
        script: String,
        result: ScriptResult,
    },
    /// A valid request on the control socket, waiting for its reply.
    Control(crate::control::Connection),
}
