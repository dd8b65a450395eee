//! Raw IP protocol 112 sockets for VRRP adverts, IPv4 and IPv6.
//!
//! One socket per (interface, family), set up as keepalived does: bound to the
//! interface (SO_BINDTODEVICE), joined to the VRRP group on that interface only
//! (IP_MULTICAST_ALL off), TTL / hop limit 255 for both multicast and unicast
//! (RFC 5798 section 5.1.1.3: receivers drop anything else), multicast loop off
//! (we must not hear ourselves), outgoing interface pinned, TOS/TCLASS 0xc0
//! (internetwork control). For IPv6 the kernel fills and verifies the VRRP
//! checksum at offset 6 (IPV6_CHECKSUM), since the core cannot know which
//! link-local source the kernel will pick.
//!
//! [`VrrpSocket::recv`] returns the datagram (for IPv4 including its IP
//! header, which the kernel always delivers on raw sockets; for IPv6 the VRRP
//! message only) plus [`Meta`] read from ancillary data: source, destination
//! (IP_PKTINFO / IPV6_PKTINFO), TTL or hop limit (IP_RECVTTL /
//! IPV6_RECVHOPLIMIT), ifindex. [`VrrpSocket::recv_vrrp`] gives both families
//! the same shape, [`Received`]: the VRRP message alone with the addresses and
//! TTL of its IP header.
//!
//! The event loop reads with [`VrrpSocket::try_recv`] instead: non-blocking,
//! into the caller's reused buffers (no allocation per packet), with the
//! kernel's receive time (SO_TIMESTAMPNS), so that a loop that wakes up late
//! still knows when each advert really arrived.
//!
//! Sending from a given source (`mcast_src_ip` / `unicast_src_ip`) uses
//! IP_PKTINFO's `ipi_spec_dst` / IPV6_PKTINFO per message; `unicast_ttl`
//! an IP_TTL / IPV6_HOPLIMIT control message per message.

use core::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt};
use smol::Async;
use socket2::{Domain, Protocol, Socket, Type};

mod recv;
mod send;
mod setup;

use setup::setsockopt_raw;

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;
/// The VRRP IPv4 multicast group (RFC 5798 section 5.1.1.2).
pub const GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The VRRP IPv6 multicast group (RFC 5798 section 5.1.2.2).
pub const GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit of every advert.
pub const TTL: u32 = 255;
/// Offset of the checksum in a VRRP message, for IPV6_CHECKSUM.
const VRRP_CHECKSUM_OFFSET: i32 = 6;
/// Receive buffer asked for (the kernel doubles it for its bookkeeping).
const RCVBUF: i32 = 1 << 20;
/// IPTOS_PREC_INTERNETCONTROL, as keepalived sets.
const TOS_INTERNETCONTROL: u32 = 0xc0;

/// Address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(a: IpAddr) -> Family {
        match a {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// How to set up a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub ifname: String,
    pub ifindex: u32,
    pub family: Family,
    /// Group to join and send to by default; `None` for unicast-only instances.
    pub group: Option<IpAddr>,
    /// Source address for sent adverts (`mcast_src_ip` / `unicast_src_ip`);
    /// `None` lets the kernel choose (primary address / link-local).
    pub source: Option<IpAddr>,
}

impl Config {
    /// Multicast on `ifname` with the standard group of `family`.
    pub fn multicast(ifname: &str, ifindex: u32, family: Family) -> Config {
        Config {
            ifname: ifname.to_string(),
            ifindex,
            family,
            group: Some(match family {
                Family::V4 => IpAddr::V4(GROUP_V4),
                Family::V6 => IpAddr::V6(GROUP_V6),
            }),
            source: None,
        }
    }

    /// Unicast only on `ifname`: no group joined.
    pub fn unicast(ifname: &str, ifindex: u32, family: Family) -> Config {
        Config {
            group: None,
            ..Self::multicast(ifname, ifindex, family)
        }
    }
}

/// What was received along with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Bytes written to the caller's buffer.
    pub len: usize,
    /// The datagram was longer than the buffer and was cut.
    pub truncated: bool,
    pub src: IpAddr,
    /// Destination address of the IP header (the group for multicast).
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6) as received; 0 if the kernel gave none.
    pub ttl: u8,
    /// Interface the datagram arrived on; 0 if the kernel gave none.
    pub ifindex: u32,
}

/// A received VRRP message, the same for IPv4 and IPv6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Source and destination of the IP header (IPv4: read from the header
    /// itself; IPv6: from the socket address and IPV6_PKTINFO).
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL (IPv4 header) or hop limit (IPV6_HOPLIMIT; 0 if the kernel gave none).
    pub ttl: u8,
    /// The interface it arrived on (the socket's own if the kernel gave none).
    pub ifindex: u32,
    /// The VRRP message: the IPv4 header stripped, cut at its Total Length.
    pub payload: Vec<u8>,
}

/// A datagram read by [`VrrpSocket::try_recv`]: like [`Received`], but the
/// VRRP message stays in the caller's buffer at `payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    pub ifindex: u32,
    pub payload: Range<usize>,
    /// Kernel receive time on CLOCK_REALTIME (SO_TIMESTAMPNS), since the
    /// epoch; `None` if the kernel gave none.
    pub stamp: Option<Duration>,
}

/// A control-message buffer big enough for what our sockets deliver
/// (packet info, TTL, timestamp); allocate once and reuse.
pub fn cmsg_buffer() -> Vec<u8> {
    nix::cmsg_space!(
        nix::libc::in6_pktinfo,
        nix::libc::c_int,
        nix::libc::timespec
    )
}

/// A socket operation failed; each variant carries the errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VrrpSocketError {
    /// socket() failed (EPERM without CAP_NET_RAW).
    Open(Errno),
    /// Setting this socket option failed.
    Option(&'static str, Errno),
    /// Joining the group on the interface failed.
    Join(IpAddr, Errno),
    /// The group or source address is of the other family.
    FamilyMismatch(IpAddr),
    /// Registering with the smol reactor failed.
    Reactor(Errno),
    Recv(Errno),
    /// An IPv4 datagram whose header does not parse (the packet is dropped,
    /// the socket is fine).
    BadIpHeader(vigil_wire::Error),
    Send(Errno),
    /// `send` without a destination on a unicast-only socket.
    NoGroup,
}

impl fmt::Display for VrrpSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VrrpSocketError::Open(e) => write!(f, "cannot open raw VRRP socket: {e}"),
            VrrpSocketError::Option(o, e) => write!(f, "cannot set {o}: {e}"),
            VrrpSocketError::Join(g, e) => write!(f, "cannot join multicast group {g}: {e}"),
            VrrpSocketError::FamilyMismatch(a) => {
                write!(f, "address {a} is not of the socket's family")
            }
            VrrpSocketError::Reactor(e) => write!(f, "cannot register socket with reactor: {e}"),
            VrrpSocketError::Recv(e) => write!(f, "receiving VRRP failed: {e}"),
            VrrpSocketError::BadIpHeader(e) => write!(f, "dropped a datagram: {e}"),
            VrrpSocketError::Send(e) => write!(f, "sending VRRP failed: {e}"),
            VrrpSocketError::NoGroup => f.write_str("no multicast group configured"),
        }
    }
}

impl std::error::Error for VrrpSocketError {}

fn errno(e: &io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

fn opt<T>(name: &'static str, r: io::Result<T>) -> Result<T, VrrpSocketError> {
    r.map_err(|e| VrrpSocketError::Option(name, errno(&e)))
}

/// A raw VRRP socket registered with smol.
pub struct VrrpSocket {
    sock: Async<Socket>,
    config: Config,
}

impl VrrpSocket {
    /// Open and configure. Needs CAP_NET_RAW.
    pub fn open(config: &Config) -> Result<VrrpSocket, VrrpSocketError> {
        for a in config.group.iter().chain(config.source.iter()) {
            if Family::of(*a) != config.family {
                return Err(VrrpSocketError::FamilyMismatch(*a));
            }
        }
        let domain = match config.family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let sock = Socket::new(domain, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))
            .map_err(|e| VrrpSocketError::Open(errno(&e)))?;
        opt(
            "SO_BINDTODEVICE",
            sock.bind_device(Some(config.ifname.as_bytes())),
        )?;
        match config.family {
            Family::V4 => Self::setup_v4(&sock, config)?,
            Family::V6 => Self::setup_v6(&sock, config)?,
        }
        // Room for about 100 ms of 10,000 adverts/s (plus a flood): when the
        // loop is starved of CPU the kernel queues adverts instead of dropping
        // them, and their timestamps still count (see `try_recv`). FORCE
        // passes net.core.rmem_max as root; without it the capped size stays.
        let rcvbuf: nix::libc::c_int = RCVBUF;
        if setsockopt_raw(
            &sock,
            nix::libc::SOL_SOCKET,
            nix::libc::SO_RCVBUFFORCE,
            &rcvbuf,
        )
        .is_err()
        {
            let _ = sock.set_recv_buffer_size(RCVBUF as usize);
        }
        opt(
            "SO_TIMESTAMPNS",
            setsockopt(&sock, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from),
        )?;
        let sock = Async::new(sock).map_err(|e| VrrpSocketError::Reactor(errno(&e)))?;
        Ok(VrrpSocket {
            sock,
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs() {
        let c = Config::multicast("eth0", 2, Family::V4);
        assert_eq!(c.group, Some(IpAddr::V4(GROUP_V4)));
        let c = Config::multicast("eth0", 2, Family::V6);
        assert_eq!(c.group, Some(IpAddr::V6(GROUP_V6)));
        assert_eq!(Config::unicast("eth0", 2, Family::V6).group, None);
    }

    #[test]
    fn family_mismatch_is_refused_before_any_syscall() {
        let mut c = Config::multicast("lo", 1, Family::V4);
        c.source = Some("::1".parse().unwrap());
        assert_eq!(
            VrrpSocket::open(&c).err(),
            Some(VrrpSocketError::FamilyMismatch("::1".parse().unwrap()))
        );
    }
}
