//! Everything that wakes the event loop, as one enum fed through one channel by
//! the tasks that wait on sockets, netlink, signals and child processes.

use std::net::IpAddr;

use crate::os::netlink::LinkEvent;
use crate::os::signals::Signal;
use vigil_vrrp::ScriptResult;

pub enum Event {
    /// A VRRP packet: for IPv4 the whole datagram (IP header included), for
    /// IPv6 the payload with the addresses and hop limit from ancillary data.
    Packet {
        interface: String,
        v6: Option<(IpAddr, IpAddr, u8)>,
        bytes: Vec<u8>,
    },
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
