//! Socket options and group membership, per family, as keepalived sets
//! them (see the parent module's doc).

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{InterfaceIndexOrAddress, Socket};

use super::{
    errno, opt, Config, VrrpSocket, VrrpSocketError, TOS_INTERNETCONTROL, TTL, VRRP_CHECKSUM_OFFSET,
};

/// setsockopt for options neither socket2 nor nix wrap with an ifindex form.
pub(super) fn setsockopt_raw<T>(sock: &Socket, level: i32, name: i32, val: &T) -> io::Result<()> {
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

impl VrrpSocket {
    pub(super) fn setup_v4(sock: &Socket, c: &Config) -> Result<(), VrrpSocketError> {
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

    pub(super) fn setup_v6(sock: &Socket, c: &Config) -> Result<(), VrrpSocketError> {
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
}
