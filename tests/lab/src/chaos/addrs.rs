//! The IPv4 addresses of a lab namespace, read over an rtnetlink socket opened
//! inside it: a dump takes well under a millisecond, where `ip netns exec ... ip
//! addr` costs a process and a mount namespace per sample.

use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};

const NLMSG_HDR: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const IFADDRMSG: usize = 8;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const AF_INET: u8 = 2;

/// An rtnetlink socket bound to one network namespace.
pub struct NsAddrs {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl NsAddrs {
    /// Opens the socket inside namespace `ns` (by name, /run/netns/NS). A thread
    /// of its own enters the namespace, so the caller's stays where it is; the
    /// socket keeps the namespace it was made in.
    pub fn open(ns: &str) -> Result<NsAddrs, String> {
        let path = format!("/run/netns/{ns}");
        let made = std::thread::spawn(move || -> Result<OwnedFd, String> {
            let f = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
            setns(&f, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns {path}: {e}"))?;
            socket::socket(
                AddressFamily::Netlink,
                SockType::Raw,
                SockFlag::SOCK_CLOEXEC,
                SockProtocol::NetlinkRoute,
            )
            .map_err(|e| format!("rtnetlink socket in {path}: {e}"))
        })
        .join()
        .map_err(|_| "namespace thread panicked".to_string())??;
        Ok(NsAddrs {
            fd: made,
            seq: 0,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Every IPv4 address of the namespace, on any interface.
    pub fn v4(&mut self) -> Result<Vec<Ipv4Addr>, String> {
        self.seq = self.seq.wrapping_add(1);
        let mut req = Vec::with_capacity(NLMSG_HDR + IFADDRMSG);
        req.extend_from_slice(&((NLMSG_HDR + IFADDRMSG) as u32).to_ne_bytes());
        req.extend_from_slice(&RTM_GETADDR.to_ne_bytes());
        req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        req.extend_from_slice(&self.seq.to_ne_bytes());
        req.extend_from_slice(&0u32.to_ne_bytes());
        req.extend_from_slice(&[AF_INET, 0, 0, 0, 0, 0, 0, 0]);
        // An unconnected netlink socket sends to the kernel (port id 0).
        socket::send(self.fd.as_raw_fd(), &req, MsgFlags::empty())
            .map_err(|e| format!("RTM_GETADDR: {e}"))?;
        let mut out = Vec::new();
        loop {
            let n = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())
                .map_err(|e| format!("RTM_GETADDR reply: {e}"))?;
            if parse(&self.buf[..n], self.seq, &mut out)? {
                return Ok(out);
            }
        }
    }
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Adds the addresses of one datagram of the dump to `out`; true at NLMSG_DONE.
/// Messages of another sequence (a late reply to an earlier dump) are skipped.
fn parse(mut b: &[u8], seq: u32, out: &mut Vec<Ipv4Addr>) -> Result<bool, String> {
    while b.len() >= NLMSG_HDR {
        let bad = || "truncated rtnetlink message".to_string();
        let len = u32_at(b, 0).ok_or_else(bad)? as usize;
        let kind = u16_at(b, 4).ok_or_else(bad)?;
        if len < NLMSG_HDR || len > b.len() {
            return Err(bad());
        }
        let msg = &b[..len];
        if u32_at(msg, 8) == Some(seq) {
            match kind {
                NLMSG_DONE => return Ok(true),
                NLMSG_ERROR => {
                    let errno = u32_at(msg, NLMSG_HDR).map_or(0, |e| e as i32);
                    if errno != 0 {
                        return Err(format!("RTM_GETADDR refused: errno {}", -errno));
                    }
                }
                RTM_NEWADDR => {
                    if let Some(a) = address(&msg[NLMSG_HDR..]) {
                        out.push(a);
                    }
                }
                _ => {}
            }
        }
        b = &b[align4(len).min(b.len())..];
    }
    Ok(false)
}

/// IFA_LOCAL of one ifaddrmsg (IFA_ADDRESS when there is none) if IPv4.
fn address(body: &[u8]) -> Option<Ipv4Addr> {
    if *body.first()? != AF_INET {
        return None;
    }
    let mut attrs = body.get(IFADDRMSG..)?;
    let mut found = None;
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0)?);
        let kind = u16_at(attrs, 2)?;
        if len < 4 || len > attrs.len() {
            return found;
        }
        if len == 8 && (kind == IFA_LOCAL || (kind == IFA_ADDRESS && found.is_none())) {
            let o: [u8; 4] = attrs[4..8].try_into().ok()?;
            found = Some(Ipv4Addr::from(o));
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDR + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(body);
        m
    }

    fn attr(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(data);
        while a.len() % 4 != 0 {
            a.push(0);
        }
        a
    }

    fn newaddr(local: [u8; 4], address: [u8; 4]) -> Vec<u8> {
        let mut body = vec![AF_INET, 24, 0, 0, 2, 0, 0, 0];
        body.extend(attr(IFA_ADDRESS, &address));
        body.extend(attr(IFA_LOCAL, &local));
        body.extend(attr(3, b"eth0:1\0"));
        body
    }

    #[test]
    fn dump_datagrams() {
        let mut d = msg(
            RTM_NEWADDR,
            5,
            &newaddr([192, 168, 67, 150], [192, 168, 67, 150]),
        );
        d.extend(msg(RTM_NEWADDR, 4, &newaddr([10, 0, 0, 1], [10, 0, 0, 1])));
        d.extend(msg(RTM_NEWADDR, 5, &newaddr([10, 0, 0, 2], [10, 0, 0, 9])));
        let mut out = Vec::new();
        assert_eq!(parse(&d, 5, &mut out), Ok(false));
        assert_eq!(
            out,
            vec![Ipv4Addr::new(192, 168, 67, 150), Ipv4Addr::new(10, 0, 0, 2)]
        );
        assert_eq!(parse(&msg(NLMSG_DONE, 5, &[0; 4]), 5, &mut out), Ok(true));
        assert_eq!(parse(&msg(NLMSG_DONE, 4, &[0; 4]), 5, &mut out), Ok(false));
    }

    #[test]
    fn errors_and_truncation() {
        let e = msg(NLMSG_ERROR, 1, &(-1i32).to_ne_bytes());
        assert!(parse(&e, 1, &mut Vec::new()).is_err());
        let ack = msg(NLMSG_ERROR, 1, &0i32.to_ne_bytes());
        assert_eq!(parse(&ack, 1, &mut Vec::new()), Ok(false));
        let mut cut = msg(RTM_NEWADDR, 1, &newaddr([1, 2, 3, 4], [1, 2, 3, 4]));
        cut.truncate(cut.len() - 3);
        assert!(parse(&cut, 1, &mut Vec::new()).is_err());
        // A bad attribute length ends the attributes, it does not panic.
        let mut body = vec![AF_INET, 24, 0, 0, 2, 0, 0, 0];
        body.extend_from_slice(&[200, 0, 2, 0, 1, 2, 3, 4]);
        let mut out = Vec::new();
        assert_eq!(parse(&msg(RTM_NEWADDR, 1, &body), 1, &mut out), Ok(false));
        assert!(out.is_empty());
    }
}
