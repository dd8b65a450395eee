//! The half-open engine's receive: replies read in batches from the raw
//! sockets (SYN-ACK: up, reset: refused) and the ICMP errors quoting our
//! SYNs from their error queues.

use std::io::{self, IoSliceMut};
use std::net::IpAddr;
use std::os::fd::AsRawFd;

use nix::libc;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
use vigil_check::{FailReason, ProbeResult};

use super::super::connect;
use super::super::rawio::BATCH;
use super::super::syn;
use super::{HalfOpen, READS};

impl HalfOpen {
    /// Reads every reply queued on the raw socket of one family, and with
    /// `err` its ICMP errors; decided checks go to `done`.
    pub fn readable(&mut self, v6: bool, err: bool, done: &mut Vec<(u64, ProbeResult)>) {
        for _ in 0..READS / BATCH {
            let fam = if v6 {
                self.v6.as_ref()
            } else {
                self.v4.as_ref()
            };
            let Some(fam) = fam else { return };
            let got = self.rx.recv(fam.raw.as_raw_fd());
            for i in 0..got {
                let Some((pkt, from)) = self.rx.get(i) else {
                    continue;
                };
                let (peer, tcp) = if v6 {
                    match from {
                        Some(a) => (a, pkt),
                        None => continue,
                    }
                } else {
                    match syn::tcp_of_v4(pkt) {
                        Some((s, tcp)) => (IpAddr::V4(s), tcp),
                        None => continue,
                    }
                };
                let Some(r) = syn::parse(tcp) else { continue };
                let Some(&n) = self.by_key.get(&(peer, r.peer_port, r.our_port)) else {
                    continue;
                };
                let Some(slot) = self.slots.get(n as usize) else {
                    continue;
                };
                let result = match syn::verdict(&r, slot.isn) {
                    Some(true) => ProbeResult::Ok,
                    Some(false) => ProbeResult::Failed(FailReason::Refused),
                    None => continue,
                };
                if let Some(token) = self.end(n) {
                    done.push((token, result));
                }
            }
            if got < BATCH {
                break;
            }
        }
        if err {
            self.errors(v6, done);
        }
    }

    /// ICMP errors quoting our SYNs (IP_RECVERR's error queue).
    fn errors(&mut self, v6: bool, done: &mut Vec<(u64, ProbeResult)>) {
        for _ in 0..READS {
            let fam = if v6 {
                self.v6.as_ref()
            } else {
                self.v4.as_ref()
            };
            let Some(fam) = fam else { return };
            let mut data = [0u8; 128];
            let mut iov = [IoSliceMut::new(&mut data)];
            let (errno, peer, len, fatal) = {
                let msg = match recvmsg::<SockaddrStorage>(
                    fam.raw.as_raw_fd(),
                    &mut iov,
                    Some(&mut self.cmsg),
                    MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
                ) {
                    Ok(m) => m,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => break,
                };
                let mut errno = None;
                let mut fatal = true;
                if let Ok(cmsgs) = msg.cmsgs() {
                    for c in cmsgs {
                        match c {
                            ControlMessageOwned::Ipv4RecvErr(e, _)
                                if e.ee_origin == libc::SO_EE_ORIGIN_ICMP =>
                            {
                                errno = Some(e.ee_errno as i32)
                            }
                            ControlMessageOwned::Ipv6RecvErr(e, _)
                                if e.ee_origin == libc::SO_EE_ORIGIN_ICMP6 =>
                            {
                                errno = Some(e.ee_errno as i32);
                                fatal = fatal6(e.ee_type, e.ee_code);
                            }
                            _ => {}
                        }
                    }
                }
                let peer = msg.address.and_then(|a| {
                    a.as_sockaddr_in()
                        .map(|s| IpAddr::V4(s.ip()))
                        .or_else(|| a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
                });
                (errno, peer, msg.bytes, fatal)
            };
            // TCP ignores "fragmentation needed" / "packet too big" in
            // SYN_SENT; so do we.
            let (Some(errno), Some(peer)) = (errno, peer) else {
                continue;
            };
            if errno == libc::EMSGSIZE || len < 8 {
                continue;
            }
            // The quoted SYN: our port, the server's, our ISN. With
            // IP_HDRINCL (IPv4) the kernel quotes from our IP header.
            let quoted = data.get(..len.min(data.len())).unwrap_or(&[]);
            let tcp = if v6 {
                quoted
            } else {
                match syn::tcp_of_v4(quoted) {
                    Some((_, t)) => t,
                    None => continue,
                }
            };
            let Some(q) = tcp.get(..8) else { continue };
            let ours = u16::from_be_bytes([q[0], q[1]]);
            let theirs = u16::from_be_bytes([q[2], q[3]]);
            let seq = u32::from_be_bytes([q[4], q[5], q[6], q[7]]);
            let Some(&n) = self.by_key.get(&(peer, theirs, ours)) else {
                continue;
            };
            let Some(slot) = self.slots.get_mut(n as usize).filter(|s| s.isn == seq) else {
                continue;
            };
            if !fatal {
                slot.soft = Some(errno);
                continue;
            }
            let result = connect::classify(&io::Error::from_raw_os_error(errno));
            if let Some(token) = self.end(n) {
                done.push((token, result));
            }
        }
    }
}

/// Whether an ICMPv6 error ends a connect() in SYN_SENT at once, as Linux
/// (6.18, measured) does: the "fatal" ones of its icmpv6_err_convert. No
/// route, address unreachable, beyond scope and hop limit exceeded are
/// soft: the SYN is retried and the error is the verdict at the deadline.
/// Over IPv4 every unreachable is final at once (measured the same).
fn fatal6(ty: u8, code: u8) -> bool {
    match ty {
        1 => !matches!(code, 0 | 2 | 3),
        3 => false,
        _ => true,
    }
}
