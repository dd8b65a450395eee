//! The half-open engine's sockets: per family one raw IPPROTO_TCP socket
//! (error queue on, IPv6 checksums by the kernel, a large receive buffer,
//! the BPF filter) and the ordinary TCP sockets, bound and never listening,
//! that reserve our source ports; the packet socket IPv4 SYNs go out on;
//! plus the cheap hasher of its slot map.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

use nix::libc;
use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::syn;

/// Source ports per family, used in turn: the same 4-tuple comes back
/// only every PORTS checks of a server.
const PORTS: usize = 32;

/// Receive buffer for bursts of replies (1,000 checks a second).
const RCVBUF: usize = 2 << 20;

/// The slot map's hasher: the keys are ours (addresses of configured real
/// servers), so a multiply-xor hash does; SipHash is kept for the ISNs.
#[derive(Default, Clone, Copy)]
pub(super) struct Mix(u64);

impl std::hash::Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
}

pub(super) type MixMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Mix>>;

pub(super) struct Family {
    pub raw: Socket,
    /// Bound, never listening: they reserve `ports`.
    _reserve: Vec<Socket>,
    pub ports: Vec<u16>,
    pub next: usize,
    /// `bind_port` reservations, made on first use.
    fixed: HashMap<u16, Socket>,
}

pub(super) fn family(domain: Domain) -> io::Result<Family> {
    let raw = Socket::new(
        domain,
        Type::RAW.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )?;
    let v4 = domain == Domain::IPV4;
    if v4 {
        setsockopt(&raw, sockopt::Ipv4RecvErr, &true)?;
        // We write the IP header: the kernel's raw send then skips its
        // corked-datagram path (ip_append_data, ip_push_pending_frames),
        // a third of a SYN's transmit under TCG.
        int_opt(&raw, libc::IPPROTO_IP, libc::IP_HDRINCL, 1)?;
    } else {
        setsockopt(&raw, sockopt::Ipv6RecvErr, &true)?;
        // The kernel fills in the TCP checksum (offset 16) with the
        // source address it picks.
        int_opt(&raw, libc::IPPROTO_IPV6, libc::IPV6_CHECKSUM, 16)?;
    }
    if setsockopt(&raw, sockopt::RcvBufForce, &RCVBUF).is_err() {
        let _ = raw.set_recv_buffer_size(RCVBUF);
    }
    let mut reserve = Vec::with_capacity(PORTS);
    let mut ports = Vec::with_capacity(PORTS);
    let any: SocketAddr = if v4 {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    for _ in 0..PORTS {
        let s = Socket::new(domain, Type::STREAM.cloexec(), Some(Protocol::TCP))?;
        if !v4 {
            s.set_only_v6(true)?;
        }
        s.bind(&SockAddr::from(any))?;
        let port = s
            .local_addr()?
            .as_socket()
            .map(|a| a.port())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))?;
        ports.push(port);
        reserve.push(s);
    }
    let f = Family {
        raw,
        _reserve: reserve,
        ports,
        next: 0,
        fixed: HashMap::new(),
    };
    f.refilter()?;
    Ok(f)
}

/// The packet socket IPv4 SYNs are handed to interfaces on: SOCK_DGRAM
/// (the kernel writes the link header), protocol 0 (it receives nothing).
pub(super) fn link_socket() -> io::Result<Socket> {
    Socket::new(Domain::PACKET, Type::DGRAM.nonblocking().cloexec(), None)
}

/// Sets an int-valued socket option nix has no wrapper for.
fn int_opt(s: &Socket, level: libc::c_int, name: libc::c_int, v: libc::c_int) -> io::Result<()> {
    // SAFETY: a c_int option value of the right size on our own fd.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Family {
    fn refilter(&self) -> io::Result<()> {
        let mut all: Vec<u16> = self.ports.clone();
        all.extend(self.fixed.keys().copied());
        self.raw.attach_filter(&syn::filter(self.ports_v4(), &all))
    }

    fn ports_v4(&self) -> bool {
        matches!(self.raw.domain(), Ok(d) if d == Domain::IPV4)
    }

    /// Reserves `port` for `bind_port` checks; false if another program
    /// holds it.
    pub fn fix(&mut self, port: u16) -> bool {
        if self.fixed.contains_key(&port) {
            return true;
        }
        let v4 = self.ports_v4();
        let domain = if v4 { Domain::IPV4 } else { Domain::IPV6 };
        let any: SocketAddr = if v4 {
            (Ipv4Addr::UNSPECIFIED, port).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, port).into()
        };
        let made = Socket::new(domain, Type::STREAM.cloexec(), Some(Protocol::TCP)).and_then(|s| {
            if !v4 {
                s.set_only_v6(true)?;
            }
            // Other probes (HTTP_GET) may bind the same port, as they
            // would next to keepalived's checks.
            s.set_reuse_address(true)?;
            s.bind(&SockAddr::from(any))?;
            Ok(s)
        });
        match made {
            Ok(s) => {
                self.fixed.insert(port, s);
                if self.fixed.len() + self.ports.len() > 250 || self.refilter().is_err() {
                    self.fixed.remove(&port);
                    let _ = self.refilter();
                    return false;
                }
                true
            }
            Err(_) => false,
        }
    }
}
