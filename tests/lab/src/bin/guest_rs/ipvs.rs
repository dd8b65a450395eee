//! Is one destination in the director's IPVS table? One GET_DEST dump of one
//! service over generic netlink: reading /proc/net/ip_vs instead would format
//! all 1,000 destinations 50 times a second, CPU the daemons under test need.
//! The socket is made inside the director's namespace (setns there and back),
//! so this process can stay in the real servers' namespace.

use nix::libc;
use std::fs::File;
use std::net::SocketAddrV4;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

// linux/netlink.h, linux/genetlink.h, linux/ip_vs.h
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const IPVS_CMD_GET_DEST: u8 = 8;
const IPVS_CMD_ATTR_SERVICE: u16 = 1;
const IPVS_CMD_ATTR_DEST: u16 = 2;
const IPVS_SVC_ATTR_AF: u16 = 1;
const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
const IPVS_SVC_ATTR_ADDR: u16 = 3;
const IPVS_SVC_ATTR_PORT: u16 = 4;
const IPVS_DEST_ATTR_ADDR: u16 = 1;
const IPVS_DEST_ATTR_PORT: u16 = 2;

pub struct Ipvs {
    fd: OwnedFd,
    family: u16,
    seq: u32,
    request: Vec<u8>,
}

fn attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    out.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// A whole netlink message: header, genetlink header, attributes.
fn message(kind: u16, flags: u16, seq: u32, cmd: u8, attrs: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(20 + attrs.len());
    m.extend_from_slice(&((20 + attrs.len()) as u32).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[cmd, 1, 0, 0]);
    m.extend_from_slice(attrs);
    m
}

/// The attributes `(type, payload)` in `b`, cut at the first malformed one.
fn attrs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        let kind = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((kind, &b[4..len]));
        b = b.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    out
}

/// Netlink messages `(type, body after the 16-byte header)` in one datagram.
fn messages(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 16 {
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if len < 16 || len > b.len() {
            break;
        }
        out.push((u16::from_ne_bytes([b[4], b[5]]), &b[16..len]));
        b = b.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    out
}

/// Whether a GET_DEST reply body (genetlink header, then attributes) names `d`.
fn names_dest(body: &[u8], d: SocketAddrV4) -> bool {
    let Some(a) = body.get(4..) else { return false };
    attrs(a)
        .into_iter()
        .filter(|(k, _)| *k == IPVS_CMD_ATTR_DEST)
        .any(|(_, nest)| {
            let inner = attrs(nest);
            let addr = inner.iter().any(|(k, v)| {
                *k == IPVS_DEST_ATTR_ADDR && v.get(..4) == Some(&d.ip().octets()[..])
            });
            let port = inner
                .iter()
                .any(|(k, v)| *k == IPVS_DEST_ATTR_PORT && *v == d.port().to_be_bytes());
            addr && port
        })
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// A generic-netlink socket created inside the namespace `netns` (a path such
/// as /proc/PID/ns/net); this thread is back in its own namespace on return.
fn socket_in(netns: &str) -> Result<OwnedFd, String> {
    let own = File::open("/proc/self/ns/net").map_err(|e| format!("/proc/self/ns/net: {e}"))?;
    let there = File::open(netns).map_err(|e| format!("{netns}: {e}"))?;
    if unsafe { libc::setns(there.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        return Err(os_err(&format!("setns {netns}")));
    }
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_GENERIC,
        )
    };
    let made = if raw < 0 {
        Err(os_err("netlink socket"))
    } else {
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    };
    if unsafe { libc::setns(own.as_raw_fd(), libc::CLONE_NEWNET) } < 0 {
        return Err(os_err("setns back"));
    }
    made
}

impl Ipvs {
    /// Resolves the IPVS family in `netns` and prepares the dump of `service`.
    pub fn open(netns: &str, service: SocketAddrV4) -> Result<Ipvs, String> {
        let fd = socket_in(netns)?;
        let mut a = Vec::new();
        attr(&mut a, CTRL_ATTR_FAMILY_NAME, b"IPVS\0");
        let mut ipvs = Ipvs {
            fd,
            family: 0,
            seq: 1,
            request: Vec::new(),
        };
        let replies = ipvs.exchange(&message(
            GENL_ID_CTRL,
            NLM_F_REQUEST,
            1,
            CTRL_CMD_GETFAMILY,
            &a,
        ))?;
        for (kind, body) in &replies {
            if *kind == GENL_ID_CTRL {
                for (k, v) in attrs(body.get(4..).unwrap_or(&[])) {
                    if k == CTRL_ATTR_FAMILY_ID && v.len() >= 2 {
                        ipvs.family = u16::from_ne_bytes([v[0], v[1]]);
                    }
                }
            }
        }
        if ipvs.family == 0 {
            return Err(format!("no IPVS generic-netlink family in {netns}"));
        }
        let mut svc = Vec::new();
        attr(
            &mut svc,
            IPVS_SVC_ATTR_AF,
            &(libc::AF_INET as u16).to_ne_bytes(),
        );
        attr(
            &mut svc,
            IPVS_SVC_ATTR_PROTOCOL,
            &(libc::IPPROTO_TCP as u16).to_ne_bytes(),
        );
        attr(&mut svc, IPVS_SVC_ATTR_ADDR, &service.ip().octets());
        attr(&mut svc, IPVS_SVC_ATTR_PORT, &service.port().to_be_bytes());
        let mut req = Vec::new();
        attr(&mut req, IPVS_CMD_ATTR_SERVICE, &svc);
        ipvs.request = req;
        Ok(ipvs)
    }

    /// Whether `dest` is a destination of the service now. A missing service
    /// reads as "not there".
    pub fn has_dest(&mut self, dest: SocketAddrV4) -> Result<bool, String> {
        self.seq = self.seq.wrapping_add(1);
        let m = message(
            self.family,
            NLM_F_REQUEST | NLM_F_DUMP,
            self.seq,
            IPVS_CMD_GET_DEST,
            &self.request,
        );
        Ok(self
            .exchange(&m)?
            .iter()
            .any(|(k, body)| *k == self.family && names_dest(body, dest)))
    }

    /// Sends `m` and collects the replies until DONE, an error, or (for a
    /// plain request) the first datagram.
    fn exchange(&self, m: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, String> {
        if unsafe { libc::send(self.fd.as_raw_fd(), m.as_ptr().cast(), m.len(), 0) } < 0 {
            return Err(os_err("netlink send"));
        }
        let dump = u16::from_ne_bytes([m[6], m[7]]) & NLM_F_DUMP != 0;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(os_err("netlink recv"));
            }
            for (kind, body) in messages(&buf[..n as usize]) {
                match kind {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let errno = body
                            .get(..4)
                            .map_or(0, |e| i32::from_ne_bytes([e[0], e[1], e[2], e[3]]));
                        // ESRCH: no such service, i.e. no such dest either.
                        if errno == 0 || errno == -libc::ESRCH {
                            return Ok(out);
                        }
                        return Err(format!(
                            "netlink: {}",
                            std::io::Error::from_raw_os_error(-errno)
                        ));
                    }
                    _ => out.push((kind, body.to_vec())),
                }
            }
            if !dump {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dest_reply_parsing() {
        let d: SocketAddrV4 = "192.168.67.10:8001".parse().unwrap();
        let mut inner = Vec::new();
        let mut addr16 = [0u8; 16];
        addr16[..4].copy_from_slice(&[192, 168, 67, 10]);
        attr(&mut inner, IPVS_DEST_ATTR_ADDR, &addr16);
        attr(&mut inner, IPVS_DEST_ATTR_PORT, &8001u16.to_be_bytes());
        let mut a = Vec::new();
        attr(&mut a, IPVS_CMD_ATTR_DEST, &inner);
        let msg = message(30, 2, 5, IPVS_CMD_GET_DEST, &a);
        let ms = messages(&msg);
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].0, 30);
        assert!(names_dest(ms[0].1, d));
        assert!(!names_dest(ms[0].1, "192.168.67.10:8002".parse().unwrap()));
        assert!(!names_dest(ms[0].1, "192.168.67.11:8001".parse().unwrap()));
        // Truncated input is cut, never read past.
        assert!(!names_dest(&ms[0].1[..10], d));
        assert!(messages(&msg[..msg.len() - 1]).is_empty());
    }
}
