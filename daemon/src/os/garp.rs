//! Gratuitous ARP and unsolicited neighbour advertisements, written as whole
//! Ethernet frames to an AF_PACKET socket bound to the interface.
//!
//! The frames come from `vigil_wire::arp::gratuitous_frame` and
//! `vigil_wire::ndisc::unsolicited_na_frame`, byte-for-byte what keepalived
//! 2.2.7 sends. The socket is opened with protocol 0 so that it never
//! receives: it exists only to send.

use core::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::libc;
use smol::Async;
use vigil_wire::arp;
use vigil_wire::ethernet::{Address, EtherType};
use vigil_wire::ndisc;

/// Sending announcements failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GarpError {
    /// socket(AF_PACKET) failed (EPERM without CAP_NET_RAW).
    Open(Errno),
    /// Binding to the interface failed (ENODEV: no such index).
    Bind(Errno),
    Reactor(Errno),
    Send(Errno),
}

impl fmt::Display for GarpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GarpError::Open(e) => write!(f, "cannot open packet socket: {e}"),
            GarpError::Bind(e) => write!(f, "cannot bind packet socket to interface: {e}"),
            GarpError::Reactor(e) => write!(f, "cannot register packet socket: {e}"),
            GarpError::Send(e) => write!(f, "sending announcement failed: {e}"),
        }
    }
}

impl std::error::Error for GarpError {}

fn errno(e: &io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

fn sockaddr(ifindex: u32, protocol: u16, dst: Address) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex as i32;
    sll.sll_halen = 6;
    sll.sll_addr[..6].copy_from_slice(&dst.0);
    sll
}

/// A send-only packet socket on one interface.
pub struct AnnounceSocket {
    fd: Async<OwnedFd>,
    ifindex: u32,
    mac: Address,
}

impl AnnounceSocket {
    /// Open on `ifindex`, announcing `mac` (the interface's, or a VMAC).
    pub fn open(ifindex: u32, mac: [u8; 6]) -> Result<AnnounceSocket, GarpError> {
        // SAFETY: plain socket(2); the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        };
        if raw < 0 {
            return Err(GarpError::Open(Errno::last()));
        }
        // SAFETY: raw is a fresh descriptor that we now own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let sll = sockaddr(ifindex, 0, Address::BROADCAST);
        // SAFETY: sll is a valid sockaddr_ll and its size is passed.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(GarpError::Bind(Errno::last()));
        }
        let fd = Async::new_nonblocking(fd).map_err(|e| GarpError::Reactor(errno(&e)))?;
        Ok(AnnounceSocket {
            fd,
            ifindex,
            mac: Address(mac),
        })
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac.0
    }

    /// Announce with another source MAC from now on (VMAC).
    pub fn set_mac(&mut self, mac: [u8; 6]) {
        self.mac = Address(mac);
    }

    async fn send_frame(
        &self,
        frame: &[u8],
        ethertype: EtherType,
        dst: Address,
    ) -> Result<(), GarpError> {
        let sll = sockaddr(self.ifindex, u16::from(ethertype), dst);
        self.fd
            .write_with(|fd| {
                // SAFETY: frame and sll are valid for the call's duration.
                let n = unsafe {
                    libc::sendto(
                        fd.as_raw_fd(),
                        frame.as_ptr().cast(),
                        frame.len(),
                        0,
                        (&sll as *const libc::sockaddr_ll).cast(),
                        core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            })
            .await
            .map_err(|e| GarpError::Send(errno(&e)))
    }

    /// Broadcast a gratuitous ARP for `vip`.
    pub async fn send_garp(&self, vip: Ipv4Addr) -> Result<(), GarpError> {
        let frame = arp::gratuitous_frame(self.mac, vip);
        self.send_frame(&frame, EtherType::Arp, Address::BROADCAST)
            .await
    }

    /// Multicast an unsolicited NA for `vip` to all nodes; `router` sets the R
    /// flag (see [`ipv6_forwarding`]).
    pub async fn send_na(&self, vip: Ipv6Addr, router: bool) -> Result<(), GarpError> {
        let frame = ndisc::unsolicited_na_frame(self.mac, vip, router);
        let dst = Address::from_ipv6_multicast(ndisc::ALL_NODES);
        self.send_frame(&frame, EtherType::Ipv6, dst).await
    }
}

/// Whether `ifname` forwards IPv6 (keepalived sets the NA Router flag then).
/// Unreadable means no.
pub fn ipv6_forwarding(ifname: &str) -> bool {
    if ifname.contains('/') || ifname.starts_with('.') {
        return false;
    }
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{ifname}/forwarding"))
        .map(|s| s.trim() == "1")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_layout() {
        let s = sockaddr(7, 0x0806, Address::BROADCAST);
        assert_eq!(s.sll_ifindex, 7);
        assert_eq!(u16::from_be(s.sll_protocol), 0x0806);
        assert_eq!(&s.sll_addr[..6], &[0xff; 6]);
    }

    #[test]
    fn forwarding_lookup_is_safe() {
        assert!(!ipv6_forwarding("../../../etc"));
        assert!(!ipv6_forwarding("no-such-if-vigil"));
    }
}
