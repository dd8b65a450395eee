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
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use smol::Async;
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};

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

/// setsockopt for options neither socket2 nor nix wrap with an ifindex form.
fn setsockopt_raw<T>(sock: &Socket, level: i32, name: i32, val: &T) -> io::Result<()> {
    // SAFETY: val points to a live T of the given size for the call.
    let r = unsafe {
        nix::libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (val as *const T).cast(),
            core::mem::size_of::<T>() as nix::libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
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

    fn setup_v4(sock: &Socket, c: &Config) -> Result<(), VrrpSocketError> {
        opt("IP_TTL", sock.set_ttl_v4(TTL))?;
        opt("IP_MULTICAST_TTL", sock.set_multicast_ttl_v4(TTL))?;
        opt("IP_MULTICAST_LOOP", sock.set_multicast_loop_v4(false))?;
        opt("IP_MULTICAST_ALL", sock.set_multicast_all_v4(false))?;
        opt("IP_TOS", sock.set_tos_v4(TOS_INTERNETCONTROL))?;
        let mreqn = nix::libc::ip_mreqn {
            imr_multiaddr: nix::libc::in_addr { s_addr: 0 },
            imr_address: nix::libc::in_addr { s_addr: 0 },
            imr_ifindex: c.ifindex as i32,
        };
        opt(
            "IP_MULTICAST_IF",
            setsockopt_raw(
                sock,
                nix::libc::IPPROTO_IP,
                nix::libc::IP_MULTICAST_IF,
                &mreqn,
            ),
        )?;
        opt(
            "IP_PKTINFO",
            setsockopt(sock, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from),
        )?;
        opt(
            "IP_RECVTTL",
            setsockopt(sock, sockopt::Ipv4RecvTtl, &true).map_err(io::Error::from),
        )?;
        if let Some(IpAddr::V4(g)) = c.group {
            sock.join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(c.ifindex))
                .map_err(|e| VrrpSocketError::Join(IpAddr::V4(g), errno(&e)))?;
        }
        Ok(())
    }

    fn setup_v6(sock: &Socket, c: &Config) -> Result<(), VrrpSocketError> {
        opt("IPV6_UNICAST_HOPS", sock.set_unicast_hops_v6(TTL))?;
        opt("IPV6_MULTICAST_HOPS", sock.set_multicast_hops_v6(TTL))?;
        opt("IPV6_MULTICAST_LOOP", sock.set_multicast_loop_v6(false))?;
        // IPV6_MULTICAST_ALL appeared in Linux 4.20: older kernels lack it and
        // the interface binding still limits what we see.
        let _ = sock.set_multicast_all_v6(false);
        opt("IPV6_MULTICAST_IF", sock.set_multicast_if_v6(c.ifindex))?;
        opt("IPV6_TCLASS", sock.set_tclass_v6(TOS_INTERNETCONTROL))?;
        opt(
            "IPV6_CHECKSUM",
            setsockopt_raw(
                sock,
                nix::libc::IPPROTO_IPV6,
                nix::libc::IPV6_CHECKSUM,
                &VRRP_CHECKSUM_OFFSET,
            ),
        )?;
        opt(
            "IPV6_RECVPKTINFO",
            setsockopt(sock, sockopt::Ipv6RecvPacketInfo, &true).map_err(io::Error::from),
        )?;
        opt(
            "IPV6_RECVHOPLIMIT",
            setsockopt(sock, sockopt::Ipv6RecvHopLimit, &true).map_err(io::Error::from),
        )?;
        if let Some(IpAddr::V6(g)) = c.group {
            sock.join_multicast_v6(&g, c.ifindex)
                .map_err(|e| VrrpSocketError::Join(IpAddr::V6(g), errno(&e)))?;
        }
        Ok(())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Receive one datagram into `buf`.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<Meta, VrrpSocketError> {
        let family = self.config.family;
        let mut cmsg = cmsg_buffer();
        self.sock
            .read_with(|s| {
                recv_once(s, family, buf, &mut cmsg)
                    .map(|(m, _)| m)
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Recv(errno(&e)))
    }

    /// Ready once the socket has become readable since the last `Pending`
    /// (then read with [`try_recv`](Self::try_recv) until it gives `None`).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.sock.poll_readable(cx).map(|_| ())
    }

    /// The next queued datagram without waiting, `None` when none is queued.
    /// `buf` must hold a datagram (4 KiB does); `cmsg` comes from
    /// [`cmsg_buffer`]. A datagram whose IPv4 header does not parse is
    /// `Err(BadIpHeader)`; the next call reads on.
    pub fn try_recv(
        &self,
        buf: &mut [u8],
        cmsg: &mut Vec<u8>,
    ) -> Result<Option<Datagram>, VrrpSocketError> {
        let (meta, stamp) = match recv_once(self.sock.get_ref(), self.config.family, buf, cmsg) {
            Ok(r) => r,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(VrrpSocketError::Recv(e)),
        };
        let data = buf.get(..meta.len).unwrap_or_default();
        let ifindex = if meta.ifindex == 0 {
            self.config.ifindex
        } else {
            meta.ifindex
        };
        let d = match self.config.family {
            Family::V4 => {
                let (ip, payload) =
                    vigil_wire::ipv4::payload(data).map_err(VrrpSocketError::BadIpHeader)?;
                // The payload is a sub-slice of `data`: its offset is the header length.
                let start = (payload.as_ptr() as usize).saturating_sub(data.as_ptr() as usize);
                Datagram {
                    src: IpAddr::V4(ip.src),
                    dst: IpAddr::V4(ip.dst),
                    ttl: ip.ttl,
                    ifindex,
                    payload: start..start + payload.len(),
                    stamp,
                }
            }
            Family::V6 => Datagram {
                src: meta.src,
                dst: meta.dst,
                ttl: meta.ttl,
                ifindex,
                payload: 0..data.len(),
                stamp,
            },
        };
        Ok(Some(d))
    }

    /// Receive one VRRP message, for either family: see [`Received`]. `buf`
    /// is scratch space, large enough for the datagram.
    pub async fn recv_vrrp(&self, buf: &mut [u8]) -> Result<Received, VrrpSocketError> {
        let meta = self.recv(buf).await?;
        let data = buf.get(..meta.len).unwrap_or_default();
        let ifindex = if meta.ifindex == 0 {
            self.config.ifindex
        } else {
            meta.ifindex
        };
        match self.config.family {
            Family::V4 => {
                let (ip, payload) =
                    vigil_wire::ipv4::payload(data).map_err(VrrpSocketError::BadIpHeader)?;
                Ok(Received {
                    src: IpAddr::V4(ip.src),
                    dst: IpAddr::V4(ip.dst),
                    ttl: ip.ttl,
                    ifindex,
                    payload: payload.to_vec(),
                })
            }
            Family::V6 => Ok(Received {
                src: meta.src,
                dst: meta.dst,
                ttl: meta.ttl,
                ifindex,
                payload: data.to_vec(),
            }),
        }
    }

    /// Send `payload` (a VRRP message, no IP header) to the configured group.
    pub async fn send(&self, payload: &[u8]) -> Result<usize, VrrpSocketError> {
        let group = self.config.group.ok_or(VrrpSocketError::NoGroup)?;
        self.send_to(payload, group).await
    }

    /// Send `payload` to `dst` (a unicast peer or a group).
    pub async fn send_to(&self, payload: &[u8], dst: IpAddr) -> Result<usize, VrrpSocketError> {
        if Family::of(dst) != self.config.family {
            return Err(VrrpSocketError::FamilyMismatch(dst));
        }
        let source = self.config.source;
        let ifindex = self.config.ifindex;
        self.sock
            .write_with(|s| {
                super::vrrp_send::send_once(s, payload, dst, source, ifindex, None)
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Send(errno(&e)))
    }
}

impl VrrpSocket {
    /// Send `payload` to `dst` from `source`, whatever source the socket was
    /// opened with: a VMAC sends with its base interface's address.
    pub async fn send_from(
        &self,
        payload: &[u8],
        dst: IpAddr,
        source: IpAddr,
    ) -> Result<usize, VrrpSocketError> {
        if Family::of(dst) != self.config.family || Family::of(source) != self.config.family {
            return Err(VrrpSocketError::FamilyMismatch(source));
        }
        let ifindex = self.config.ifindex;
        self.sock
            .write_with(|s| {
                super::vrrp_send::send_once(s, payload, dst, Some(source), ifindex, None)
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Send(errno(&e)))
    }

    /// Send `payload` to `dst` with TTL / hop limit `ttl` (`unicast_ttl`),
    /// from `source` if given, else the socket's.
    pub async fn send_with_ttl(
        &self,
        payload: &[u8],
        dst: IpAddr,
        source: Option<IpAddr>,
        ttl: u8,
    ) -> Result<usize, VrrpSocketError> {
        let source = source.or(self.config.source);
        if Family::of(dst) != self.config.family
            || source.is_some_and(|a| Family::of(a) != self.config.family)
        {
            return Err(VrrpSocketError::FamilyMismatch(dst));
        }
        let ifindex = self.config.ifindex;
        self.sock
            .write_with(|s| {
                super::vrrp_send::send_once(s, payload, dst, source, ifindex, Some(ttl))
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Send(errno(&e)))
    }

    /// Sends the messages `msgs` (each a range of `buf` and a destination)
    /// without waiting: one sendmmsg for as many as the kernel takes when
    /// the kernel picks the source, one sendmsg each with a configured
    /// source (its IP_PKTINFO). Returns how many went out, in order; fewer
    /// than asked when the send buffer filled up (send the rest with
    /// [`send_to`](Self::send_to), which waits), or when a message failed
    /// (its error is the `Err` of a call for it alone).
    pub fn try_send_batch(
        &self,
        buf: &[u8],
        msgs: &[(Range<usize>, IpAddr)],
    ) -> Result<usize, VrrpSocketError> {
        if let Some(&(_, dst)) = msgs
            .iter()
            .find(|(_, d)| Family::of(*d) != self.config.family)
        {
            return Err(VrrpSocketError::FamilyMismatch(dst));
        }
        let s = self.sock.get_ref();
        if self.config.source.is_some() {
            let mut sent = 0;
            for (r, dst) in msgs {
                let payload = buf.get(r.clone()).unwrap_or_default();
                match super::vrrp_send::send_once(
                    s,
                    payload,
                    *dst,
                    self.config.source,
                    self.config.ifindex,
                    None,
                ) {
                    Ok(_) => sent += 1,
                    Err(_) if sent > 0 => break,
                    Err(e) => return Err(VrrpSocketError::Send(e)),
                }
            }
            return Ok(sent);
        }
        super::vrrp_send::send_many(s, buf, msgs, self.config.ifindex)
            .map_err(VrrpSocketError::Send)
    }
}

/// One recvmsg: the datagram's [`Meta`] and its SO_TIMESTAMPNS time.
fn recv_once(
    s: &Socket,
    family: Family,
    buf: &mut [u8],
    cmsg: &mut Vec<u8>,
) -> Result<(Meta, Option<Duration>), Errno> {
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(s.as_raw_fd(), &mut iov, Some(cmsg), MsgFlags::empty())?;
    let unspecified = match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let src = msg
        .address
        .as_ref()
        .and_then(|a| {
            a.as_sockaddr_in()
                .map(|a| IpAddr::V4(a.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
        })
        .unwrap_or(unspecified);
    let mut meta = Meta {
        len: msg.bytes,
        truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
        src,
        dst: unspecified,
        ttl: 0,
        ifindex: 0,
    };
    let mut stamp = None;
    for c in msg.cmsgs().map_err(|_| Errno::EINVAL)? {
        match c {
            ControlMessageOwned::Ipv4PacketInfo(pi) => {
                meta.dst = IpAddr::V4(Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr)));
                meta.ifindex = u32::try_from(pi.ipi_ifindex).unwrap_or(0);
            }
            ControlMessageOwned::Ipv6PacketInfo(pi) => {
                meta.dst = IpAddr::V6(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
                meta.ifindex = pi.ipi6_ifindex;
            }
            ControlMessageOwned::Ipv4Ttl(t) | ControlMessageOwned::Ipv6HopLimit(t) => {
                meta.ttl = u8::try_from(t).unwrap_or(0);
            }
            ControlMessageOwned::ScmTimestampns(ts) => {
                let secs = u64::try_from(ts.tv_sec()).unwrap_or(0);
                let nanos = u32::try_from(ts.tv_nsec()).unwrap_or(0);
                stamp = Some(Duration::new(secs, nanos.min(999_999_999)));
            }
            _ => {}
        }
    }
    Ok((meta, stamp))
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
