//! Sending VRRP messages on a raw socket: one at a time with an optional
//! source (IP_PKTINFO / IPV6_PKTINFO), or a batch in one sendmmsg. Used by
//! [`VrrpSocket`](super::vrrp_socket::VrrpSocket), which checks families.

use std::io::IoSlice;
use std::net::{IpAddr, SocketAddrV4, SocketAddrV6};
use std::ops::Range;
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrIn, SockaddrIn6};
use socket2::Socket;

/// One sendmsg of `payload` to `dst`, from `source` if given, with TTL /
/// hop limit `ttl` if given (`unicast_ttl`: an IP_TTL / IPV6_HOPLIMIT
/// control message, so that one socket serves instances of any TTL).
pub(super) fn send_once(
    s: &Socket,
    payload: &[u8],
    dst: IpAddr,
    source: Option<IpAddr>,
    ifindex: u32,
    ttl: Option<u8>,
) -> Result<usize, Errno> {
    let iov = [IoSlice::new(payload)];
    let ttl = ttl.map(nix::libc::c_int::from);
    match (dst, source) {
        (IpAddr::V4(d), src) => {
            let addr = SockaddrIn::from(SocketAddrV4::new(d, 0));
            let pi = match src {
                Some(IpAddr::V4(src)) => Some(nix::libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: nix::libc::in_addr {
                        s_addr: u32::from(src).to_be(),
                    },
                    ipi_addr: nix::libc::in_addr { s_addr: 0 },
                }),
                _ => None,
            };
            let mut c = Vec::with_capacity(2);
            if let Some(pi) = &pi {
                c.push(ControlMessage::Ipv4PacketInfo(pi));
            }
            if let Some(t) = &ttl {
                c.push(ControlMessage::Ipv4Ttl(t));
            }
            sendmsg(s.as_raw_fd(), &iov, &c, MsgFlags::empty(), Some(&addr))
        }
        (IpAddr::V6(d), src) => {
            // Link-scoped destinations need the interface as scope.
            let scope = if d.is_unicast_link_local() || d.is_multicast() {
                ifindex
            } else {
                0
            };
            let addr = SockaddrIn6::from(SocketAddrV6::new(d, 0, 0, scope));
            let pi = match src {
                Some(IpAddr::V6(src)) => Some(nix::libc::in6_pktinfo {
                    ipi6_addr: nix::libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: ifindex,
                }),
                _ => None,
            };
            let mut c = Vec::with_capacity(2);
            if let Some(pi) = &pi {
                c.push(ControlMessage::Ipv6PacketInfo(pi));
            }
            if let Some(t) = &ttl {
                c.push(ControlMessage::Ipv6HopLimit(t));
            }
            sendmsg(s.as_raw_fd(), &iov, &c, MsgFlags::empty(), Some(&addr))
        }
    }
}

/// Most messages one sendmmsg takes (UIO_MAXIOV).
const MAX_MMSG: usize = 1024;

/// sendmmsg of `msgs` (no control messages): the count the kernel took.
pub(super) fn send_many(
    s: &Socket,
    buf: &[u8],
    msgs: &[(Range<usize>, IpAddr)],
    ifindex: u32,
) -> Result<usize, Errno> {
    let msgs = msgs.get(..msgs.len().min(MAX_MMSG)).unwrap_or_default();
    if msgs.is_empty() {
        return Ok(0);
    }
    // SAFETY: all-zero is a valid sockaddr_storage, iovec and mmsghdr.
    let zero_addr: nix::libc::sockaddr_storage = unsafe { core::mem::zeroed() };
    let mut addrs = vec![zero_addr; msgs.len()];
    let mut iovs = Vec::with_capacity(msgs.len());
    for ((r, dst), a) in msgs.iter().zip(addrs.iter_mut()) {
        let payload = buf.get(r.clone()).unwrap_or_default();
        iovs.push(nix::libc::iovec {
            iov_base: payload.as_ptr() as *mut nix::libc::c_void,
            iov_len: payload.len(),
        });
        sockaddr_into(*dst, ifindex, a);
    }
    let len_of = |d: &IpAddr| match d {
        IpAddr::V4(_) => core::mem::size_of::<nix::libc::sockaddr_in>(),
        IpAddr::V6(_) => core::mem::size_of::<nix::libc::sockaddr_in6>(),
    };
    let mut hdrs: Vec<nix::libc::mmsghdr> = Vec::with_capacity(msgs.len());
    for (i, (_, dst)) in msgs.iter().enumerate() {
        // SAFETY: all-zero is a valid msghdr (no control data, no flags).
        let mut h: nix::libc::mmsghdr = unsafe { core::mem::zeroed() };
        h.msg_hdr.msg_name = (&mut addrs[i] as *mut nix::libc::sockaddr_storage).cast();
        h.msg_hdr.msg_namelen = len_of(dst) as nix::libc::socklen_t;
        h.msg_hdr.msg_iov = &mut iovs[i];
        h.msg_hdr.msg_iovlen = 1;
        hdrs.push(h);
    }
    // SAFETY: every header points into `addrs`, `iovs` and `buf`, which
    // outlive the call; the count is the length of `hdrs`.
    let r = unsafe {
        nix::libc::sendmmsg(
            s.as_raw_fd(),
            hdrs.as_mut_ptr(),
            hdrs.len() as nix::libc::c_uint,
            // An int in glibc, an unsigned in musl.
            nix::libc::MSG_DONTWAIT as _,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(usize::try_from(r).unwrap_or(0))
}

/// Writes `dst` (port 0; link-scoped IPv6 gets `ifindex` as its scope) into
/// a sockaddr_storage.
fn sockaddr_into(dst: IpAddr, ifindex: u32, out: &mut nix::libc::sockaddr_storage) {
    match dst {
        IpAddr::V4(d) => {
            let sin = nix::libc::sockaddr_in {
                sin_family: nix::libc::AF_INET as nix::libc::sa_family_t,
                sin_port: 0,
                sin_addr: nix::libc::in_addr {
                    s_addr: u32::from(d).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { core::ptr::write((out as *mut nix::libc::sockaddr_storage).cast(), sin) };
        }
        IpAddr::V6(d) => {
            let scope = if d.is_unicast_link_local() || d.is_multicast() {
                ifindex
            } else {
                0
            };
            // SAFETY: all-zero is a valid sockaddr_in6.
            let mut sin6: nix::libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
            sin6.sin6_family = nix::libc::AF_INET6 as nix::libc::sa_family_t;
            sin6.sin6_addr.s6_addr = d.octets();
            sin6.sin6_scope_id = scope;
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { core::ptr::write((out as *mut nix::libc::sockaddr_storage).cast(), sin6) };
        }
    }
}
