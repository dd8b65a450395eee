//! Raw IPv4 protocol 51 (IPsec AH) sockets for `auth_type AH` adverts.
//!
//! keepalived 2.2.7 sends AH adverts through a raw socket of protocol 51 with
//! IP_HDRINCL, because the ICV covers the IP header: the identification, the
//! TTL (multicast) and the addresses must be what was hashed, so vigil writes
//! the header itself (`vigil_wire::ah::build`) and the kernel only fills the
//! header checksum (outside the ICV). Set up like the VRRP sockets: bound to
//! the interface, joined to the group on that interface only, multicast loop
//! off, outgoing interface pinned, and the receive time (SO_TIMESTAMPNS) of
//! each datagram reported. Received datagrams include their IP header, which
//! the ICV needs too.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn,
};
use smol::Async;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

use super::vrrp_socket::VrrpSocketError;

/// IP protocol number of AH.
pub const IPPROTO_AH: i32 = 51;
/// Receive buffer asked for (AH adverts come at most a few per second).
const RCVBUF: usize = 256 << 10;

/// A datagram read by [`AhSocket::try_recv`]: the bytes `..len` of the
/// caller's buffer, IP header included, cut at its Total Length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhDatagram {
    pub len: usize,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    /// Interface it arrived on (IP_PKTINFO; the socket's own if none).
    pub ifindex: u32,
    /// Kernel receive time on CLOCK_REALTIME, since the epoch.
    pub stamp: Option<Duration>,
}

fn errno(e: &io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

fn opt<T>(name: &'static str, r: io::Result<T>) -> Result<T, VrrpSocketError> {
    r.map_err(|e| VrrpSocketError::Option(name, errno(&e)))
}

/// A control-message buffer for [`AhSocket::try_recv`]; allocate once.
pub fn cmsg_buffer() -> Vec<u8> {
    nix::cmsg_space!(nix::libc::in_pktinfo, nix::libc::timespec)
}

/// IP_MULTICAST_IF by interface index (socket2 sets it by address only).
fn multicast_if(sock: &Socket, ifindex: u32) -> io::Result<()> {
    let mreqn = nix::libc::ip_mreqn {
        imr_multiaddr: nix::libc::in_addr { s_addr: 0 },
        imr_address: nix::libc::in_addr { s_addr: 0 },
        imr_ifindex: i32::try_from(ifindex).unwrap_or(0),
    };
    // SAFETY: mreqn is a live ip_mreqn of the given size for the call.
    let r = unsafe {
        nix::libc::setsockopt(
            sock.as_raw_fd(),
            nix::libc::IPPROTO_IP,
            nix::libc::IP_MULTICAST_IF,
            (&mreqn as *const nix::libc::ip_mreqn).cast(),
            core::mem::size_of::<nix::libc::ip_mreqn>() as nix::libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One raw AH socket on one interface.
pub struct AhSocket {
    sock: Async<Socket>,
    ifindex: u32,
}

impl AhSocket {
    /// Opens the socket on `ifname` and joins `group` there if given
    /// (multicast instances). Needs CAP_NET_RAW.
    pub fn open(
        ifname: &str,
        ifindex: u32,
        group: Option<Ipv4Addr>,
    ) -> Result<AhSocket, VrrpSocketError> {
        let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_AH)))
            .map_err(|e| VrrpSocketError::Open(errno(&e)))?;
        opt("SO_BINDTODEVICE", sock.bind_device(Some(ifname.as_bytes())))?;
        opt("IP_HDRINCL", sock.set_header_included_v4(true))?;
        opt("IP_MULTICAST_LOOP", sock.set_multicast_loop_v4(false))?;
        opt("IP_MULTICAST_ALL", sock.set_multicast_all_v4(false))?;
        opt("IP_MULTICAST_IF", multicast_if(&sock, ifindex))?;
        opt(
            "IP_PKTINFO",
            setsockopt(&sock, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from),
        )?;
        opt(
            "SO_TIMESTAMPNS",
            setsockopt(&sock, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from),
        )?;
        let _ = sock.set_recv_buffer_size(RCVBUF);
        if let Some(g) = group {
            sock.join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(ifindex))
                .map_err(|e| VrrpSocketError::Join(g.into(), errno(&e)))?;
        }
        let sock = Async::new(sock).map_err(|e| VrrpSocketError::Reactor(errno(&e)))?;
        Ok(AhSocket { sock, ifindex })
    }

    /// Ready once the socket has become readable since the last `Pending`.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.sock.poll_readable(cx).map(|_| ())
    }

    /// The next queued datagram without waiting, `None` when none is queued.
    /// A datagram whose IPv4 header does not hold together is
    /// `Err(BadIpHeader)`; the next call reads on.
    pub fn try_recv(
        &self,
        buf: &mut [u8],
        cmsg: &mut [u8],
    ) -> Result<Option<AhDatagram>, VrrpSocketError> {
        let s = self.sock.get_ref();
        let mut iov = [IoSliceMut::new(buf)];
        let msg = match recvmsg::<()>(s.as_raw_fd(), &mut iov, Some(cmsg), MsgFlags::empty()) {
            Ok(m) => m,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(VrrpSocketError::Recv(e)),
        };
        let got = msg.bytes;
        let mut ifindex = self.ifindex;
        let mut stamp = None;
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                match c {
                    ControlMessageOwned::Ipv4PacketInfo(pi) => {
                        if let Ok(i) = u32::try_from(pi.ipi_ifindex) {
                            if i != 0 {
                                ifindex = i;
                            }
                        }
                    }
                    ControlMessageOwned::ScmTimestampns(ts) => {
                        let secs = u64::try_from(ts.tv_sec()).unwrap_or(0);
                        let nanos = u32::try_from(ts.tv_nsec()).unwrap_or(0);
                        stamp = Some(Duration::new(secs, nanos.min(999_999_999)));
                    }
                    _ => {}
                }
            }
        }
        let data = buf.get(..got).unwrap_or_default();
        let (ip, _) = vigil_wire::ipv4::payload(data).map_err(VrrpSocketError::BadIpHeader)?;
        let total = data
            .get(2..4)
            .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        Ok(Some(AhDatagram {
            len: total.min(got),
            src: ip.src,
            dst: ip.dst,
            ttl: ip.ttl,
            ifindex,
            stamp,
        }))
    }

    /// Sends a whole datagram (IP header included) to `dst`, which must be
    /// the header's destination.
    pub async fn send_to(&self, datagram: &[u8], dst: Ipv4Addr) -> Result<usize, VrrpSocketError> {
        let addr = SockaddrIn::from(SocketAddrV4::new(dst, 0));
        self.sock
            .write_with(|s| {
                let iov = [IoSlice::new(datagram)];
                sendmsg(s.as_raw_fd(), &iov, &[], MsgFlags::empty(), Some(&addr))
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Send(errno(&e)))
    }
}
