//! Batched I/O on the half-open engine's raw and packet sockets: SYNs go
//! out with one sendmmsg() and replies come in with one recvmmsg() per batch. Under an
//! emulated CPU (a router image tested in QEMU TCG, or a slow SoC) each
//! syscall entry is dear next to the packet work, and a wake-up finds
//! about ten replies queued at 1,000 checks a second.
//!
//! No allocation: the caller owns the buffers; the headers are rebuilt on
//! the stack for each call.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;

use nix::libc;
use socket2::SockAddr;

/// Messages per sendmmsg / recvmmsg.
pub const BATCH: usize = 32;
/// Bytes kept of a received packet (the filter copies at most 80).
pub const RX_LEN: usize = 128;

/// One SYN to send: the segment, where to, and the source to force.
#[derive(Clone, Copy)]
pub struct Tx<'a> {
    pub seg: &'a [u8],
    pub dst: IpAddr,
    pub src: Option<IpAddr>,
}

/// Room for one IP_PKTINFO or IPV6_PKTINFO control message, aligned.
type Cbuf = [u64; 8];

/// Sends `msgs` (at most [`BATCH`]): the number sent, or the error of
/// the first one when none was. Only the headers of the messages sent are
/// filled: a wake-up sends a few SYNs, and building all BATCH was most of
/// a flush's instructions.
pub fn send(fd: RawFd, msgs: &[Tx<'_>]) -> io::Result<usize> {
    let n = msgs.len().min(BATCH);
    // SAFETY: plain C structs (and arrays of them); all-zero is valid.
    let mut addrs: [libc::sockaddr_in6; BATCH] = unsafe { zeroed() };
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; BATCH];
    let mut cbufs: [Cbuf; BATCH] = [[0; 8]; BATCH];
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
    for (i, m) in msgs.iter().take(n).enumerate() {
        let a = SockAddr::from(SocketAddr::new(m.dst, 0));
        let len = (a.len() as usize).min(size_of::<libc::sockaddr_in6>());
        // SAFETY: `len` bytes fit both the source and the destination.
        unsafe {
            std::ptr::copy_nonoverlapping(
                a.as_ptr().cast::<u8>(),
                (&mut addrs[i] as *mut libc::sockaddr_in6).cast::<u8>(),
                len,
            );
        }
        iovs[i].iov_base = m.seg.as_ptr() as *mut libc::c_void;
        iovs[i].iov_len = m.seg.len();
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_in6).cast();
        h.msg_namelen = len as _;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
        if let Some(src) = m.src {
            pktinfo(h, &mut cbufs[i], src);
        }
    }
    submit(fd, &mut hdrs[..n])
}

/// One IPv4 packet (our header and SYN) to hand to an interface.
#[derive(Clone, Copy)]
pub struct LinkTx<'a> {
    pub pkt: &'a [u8],
    pub ifindex: u32,
    pub mac: [u8; 6],
}

/// Sends `msgs` (at most [`BATCH`]) on a SOCK_DGRAM packet socket: the
/// kernel adds the interface's link header to `mac`. As [`send`]: the
/// number sent, or the first one's error when none was.
pub fn send_link(fd: RawFd, msgs: &[LinkTx<'_>]) -> io::Result<usize> {
    let n = msgs.len().min(BATCH);
    // SAFETY: plain C structs (and arrays of them); all-zero is valid.
    let mut addrs: [libc::sockaddr_ll; BATCH] = unsafe { zeroed() };
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; BATCH];
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
    for (i, m) in msgs.iter().take(n).enumerate() {
        let a = &mut addrs[i];
        a.sll_family = libc::AF_PACKET as u16;
        a.sll_protocol = (libc::ETH_P_IP as u16).to_be();
        a.sll_ifindex = i32::try_from(m.ifindex).unwrap_or(0);
        a.sll_halen = 6;
        a.sll_addr[..6].copy_from_slice(&m.mac);
        iovs[i].iov_base = m.pkt.as_ptr() as *mut libc::c_void;
        iovs[i].iov_len = m.pkt.len();
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (a as *mut libc::sockaddr_ll).cast();
        h.msg_namelen = size_of::<libc::sockaddr_ll>() as _;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
    }
    submit(fd, &mut hdrs[..n])
}

/// One sendmmsg() of `hdrs`, each pointing at live buffers of the right
/// sizes (the callers' stack arrays): how many were sent.
fn submit(fd: RawFd, hdrs: &mut [libc::mmsghdr]) -> io::Result<usize> {
    // SAFETY: hdrs.len() valid headers, as the callers built them.
    let r = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), hdrs.len() as _, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// Fills `h`'s control data with a packet-info message choosing `src`.
fn pktinfo(h: &mut libc::msghdr, buf: &mut Cbuf, src: IpAddr) {
    let (level, ty, len) = match src {
        IpAddr::V4(_) => (
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            size_of::<libc::in_pktinfo>(),
        ),
        IpAddr::V6(_) => (
            libc::IPPROTO_IPV6,
            libc::IPV6_PKTINFO,
            size_of::<libc::in6_pktinfo>(),
        ),
    };
    h.msg_control = buf.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE/LEN are arithmetic; the buffer (64 bytes) holds
    // one header and either payload (12 or 20 bytes).
    unsafe {
        h.msg_controllen = libc::CMSG_SPACE(len as u32) as _;
        let c = libc::CMSG_FIRSTHDR(h);
        if c.is_null() {
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            return;
        }
        (*c).cmsg_level = level;
        (*c).cmsg_type = ty;
        (*c).cmsg_len = libc::CMSG_LEN(len as u32) as _;
        let data = libc::CMSG_DATA(c);
        match src {
            IpAddr::V4(a) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(a).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                std::ptr::write_unaligned(data.cast(), info);
            }
            IpAddr::V6(a) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: a.octets(),
                    },
                    ipi6_ifindex: 0,
                };
                std::ptr::write_unaligned(data.cast(), info);
            }
        }
    }
}

/// Receive buffers for one batch.
pub struct Rx {
    data: Box<[[u8; RX_LEN]; BATCH]>,
    addrs: Box<[libc::sockaddr_storage; BATCH]>,
    lens: [usize; BATCH],
}

impl Rx {
    pub fn new() -> Rx {
        Rx {
            data: Box::new([[0; RX_LEN]; BATCH]),
            // SAFETY: sockaddr_storage is plain data; zero is valid.
            addrs: Box::new(unsafe { zeroed() }),
            lens: [0; BATCH],
        }
    }

    /// Reads up to [`BATCH`] packets without blocking; how many (0 when
    /// none is queued or on an error).
    pub fn recv(&mut self, fd: RawFd) -> usize {
        let mut iovs = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; BATCH];
        // SAFETY: all-zero mmsghdrs are valid empty headers.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for i in 0..BATCH {
            iovs[i].iov_base = self.data[i].as_mut_ptr().cast();
            iovs[i].iov_len = RX_LEN;
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as _;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
        }
        // SAFETY: BATCH headers pointing at our own buffers; no timeout.
        let r = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                BATCH as _,
                libc::MSG_DONTWAIT as _,
                std::ptr::null_mut(),
            )
        };
        if r <= 0 {
            return 0;
        }
        let n = (r as usize).min(BATCH);
        for (len, h) in self.lens.iter_mut().zip(&hdrs).take(n) {
            *len = (h.msg_len as usize).min(RX_LEN);
        }
        n
    }

    /// Packet `i` of the last batch and its source address.
    pub fn get(&self, i: usize) -> Option<(&[u8], Option<IpAddr>)> {
        let data = self.data.get(i)?.get(..*self.lens.get(i)?)?;
        let a = self.addrs.get(i)?;
        let from = match i32::from(a.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let s: &libc::sockaddr_in =
                    unsafe { &*(a as *const _ as *const libc::sockaddr_in) };
                Some(IpAddr::from(u32::from_be(s.sin_addr.s_addr).to_be_bytes()))
            }
            libc::AF_INET6 => {
                // SAFETY: as above, a sockaddr_in6.
                let s: &libc::sockaddr_in6 =
                    unsafe { &*(a as *const _ as *const libc::sockaddr_in6) };
                Some(IpAddr::from(s.sin6_addr.s6_addr))
            }
            _ => None,
        };
        Some((data, from))
    }
}
