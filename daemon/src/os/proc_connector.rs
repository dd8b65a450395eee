//! The kernel's process events connector (netlink `NETLINK_CONNECTOR`,
//! `CN_IDX_PROC`): fork, exec, comm change and exit of every process, as
//! keepalived's track_process follows them. Needs CAP_NET_ADMIN and a kernel
//! with CONFIG_PROC_EVENTS; `open` fails otherwise and the caller scans
//! /proc instead.

use std::io;
use std::os::fd::AsRawFd;

use nix::libc;
use nix::sys::socket::{bind, NetlinkAddr};
use socket2::{Domain, Protocol, Socket, Type};

/// `CN_IDX_PROC` / `CN_VAL_PROC` (linux/connector.h).
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN` (linux/cn_proc.h).
const MCAST_LISTEN: u32 = 1;
const NLMSG_HDR: usize = 16;
/// `struct cn_msg`: id (idx, val), seq, ack, len, flags.
const CN_MSG: usize = 20;
/// `struct proc_event` before its union: what, cpu, timestamp_ns.
const EVENT_HDR: usize = 16;
const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_COMM: u32 = 0x200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;
/// The kernel's `TASK_COMM_LEN`.
const COMM_LEN: usize = 16;

/// One process event; threads (pid != tgid) are the caller's to skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcEvent {
    Fork {
        parent_tgid: u32,
        child_pid: u32,
        child_tgid: u32,
    },
    Exec {
        pid: u32,
        tgid: u32,
    },
    Comm {
        pid: u32,
        tgid: u32,
        comm: String,
    },
    Exit {
        pid: u32,
        tgid: u32,
    },
    /// uid, gid, sid, ptrace, coredump, or the listen acknowledgement.
    Other,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

/// The listen request: nlmsghdr (NLMSG_DONE), cn_msg, the op.
pub fn listen_message(pid: u32) -> Vec<u8> {
    let len = NLMSG_HDR + CN_MSG + 4;
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&pid.to_ne_bytes());
    m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // ack
    m.extend_from_slice(&4u16.to_ne_bytes()); // len of the data
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&MCAST_LISTEN.to_ne_bytes());
    m
}

/// Every event in one datagram (several netlink messages may share it).
pub fn parse(datagram: &[u8], out: &mut Vec<ProcEvent>) {
    let mut rest = datagram;
    while let Some(len) = u32_at(rest, 0) {
        let len = len as usize;
        if len < NLMSG_HDR || len > rest.len() {
            return;
        }
        out.push(parse_one(&rest[..len]));
        let next = (len + 3) & !3;
        rest = rest.get(next..).unwrap_or(&[]);
    }
}

fn parse_one(msg: &[u8]) -> ProcEvent {
    let ev = NLMSG_HDR + CN_MSG;
    let data = ev + EVENT_HDR;
    let (Some(idx), Some(what)) = (u32_at(msg, NLMSG_HDR), u32_at(msg, ev)) else {
        return ProcEvent::Other;
    };
    if idx != CN_IDX_PROC {
        return ProcEvent::Other;
    }
    let at = |n: usize| u32_at(msg, data + 4 * n);
    let parsed = match what {
        PROC_EVENT_FORK => (|| {
            Some(ProcEvent::Fork {
                parent_tgid: at(1)?,
                child_pid: at(2)?,
                child_tgid: at(3)?,
            })
        })(),
        PROC_EVENT_EXEC => (|| {
            Some(ProcEvent::Exec {
                pid: at(0)?,
                tgid: at(1)?,
            })
        })(),
        PROC_EVENT_EXIT => (|| {
            Some(ProcEvent::Exit {
                pid: at(0)?,
                tgid: at(1)?,
            })
        })(),
        PROC_EVENT_COMM => (|| {
            let raw = msg.get(data + 8..data + 8 + COMM_LEN)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            Some(ProcEvent::Comm {
                pid: at(0)?,
                tgid: at(1)?,
                comm: String::from_utf8_lossy(&raw[..end]).into_owned(),
            })
        })(),
        _ => None,
    };
    parsed.unwrap_or(ProcEvent::Other)
}

/// A subscribed connector socket.
pub struct ProcConnector {
    sock: smol::Async<Socket>,
}

impl ProcConnector {
    /// Opens, binds to the proc events group and asks to listen.
    pub fn open() -> io::Result<ProcConnector> {
        let sock = Socket::new(
            Domain::from(libc::AF_NETLINK),
            Type::DGRAM,
            Some(Protocol::from(libc::NETLINK_CONNECTOR)),
        )?;
        sock.set_cloexec(true)?;
        // Bursts of forks must not overflow us between two reads.
        let _ = sock.set_recv_buffer_size(1 << 20);
        bind(sock.as_raw_fd(), &NetlinkAddr::new(0, CN_IDX_PROC)).map_err(io::Error::from)?;
        sock.send(&listen_message(std::process::id()))?;
        Ok(ProcConnector {
            sock: smol::Async::new(sock)?,
        })
    }

    /// Waits for the next datagram and parses its events. `ENOBUFS` means
    /// events were lost: the caller rescans /proc.
    pub async fn next(&self, buf: &mut [u8], out: &mut Vec<ProcEvent>) -> io::Result<()> {
        let n = self.sock.read_with(|s| recv_into(s, buf)).await?;
        parse(buf.get(..n).unwrap_or(&[]), out);
        Ok(())
    }
}

/// `recv` into an initialised buffer (socket2's `recv` wants `MaybeUninit`).
fn recv_into(s: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    let mut r: &Socket = s;
    r.read(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(what: u32, words: &[u32]) -> Vec<u8> {
        let mut m = listen_message(0);
        m.truncate(NLMSG_HDR + CN_MSG);
        m.extend_from_slice(&what.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&0u64.to_ne_bytes());
        for w in words {
            m.extend_from_slice(&w.to_ne_bytes());
        }
        let len = m.len() as u32;
        m[..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn listen_message_layout() {
        let m = listen_message(77);
        assert_eq!(m.len(), 40);
        assert_eq!(u32_at(&m, 0), Some(40));
        assert_eq!(u32_at(&m, 12), Some(77));
        assert_eq!(u32_at(&m, 16), Some(1), "CN_IDX_PROC");
        assert_eq!(u32_at(&m, 20), Some(1), "CN_VAL_PROC");
        assert_eq!(&m[32..34], &4u16.to_ne_bytes());
        assert_eq!(u32_at(&m, 36), Some(1), "PROC_CN_MCAST_LISTEN");
    }

    #[test]
    fn events_parse_and_share_a_datagram() {
        let mut d = event(PROC_EVENT_FORK, &[10, 10, 11, 11]);
        d.extend(event(PROC_EVENT_EXIT, &[11, 11, 0, 9]));
        d.extend(event(PROC_EVENT_EXEC, &[12, 12]));
        let mut comm = event(PROC_EVENT_COMM, &[13, 13]);
        comm.extend_from_slice(b"nginx\0\0\0\0\0\0\0\0\0\0\0");
        let len = comm.len() as u32;
        comm[..4].copy_from_slice(&len.to_ne_bytes());
        d.extend(comm);
        d.extend(event(0x4, &[1, 1, 0, 0]));
        let mut out = Vec::new();
        parse(&d, &mut out);
        assert_eq!(
            out,
            vec![
                ProcEvent::Fork {
                    parent_tgid: 10,
                    child_pid: 11,
                    child_tgid: 11
                },
                ProcEvent::Exit { pid: 11, tgid: 11 },
                ProcEvent::Exec { pid: 12, tgid: 12 },
                ProcEvent::Comm {
                    pid: 13,
                    tgid: 13,
                    comm: "nginx".into()
                },
                ProcEvent::Other,
            ]
        );
    }

    #[test]
    fn truncated_input_never_panics() {
        let d = event(PROC_EVENT_FORK, &[10, 10, 11, 11]);
        for n in 0..d.len() {
            let mut out = Vec::new();
            parse(&d[..n], &mut out);
            let mut bad = d[..n].to_vec();
            if bad.len() >= 4 {
                bad[..4].copy_from_slice(&(n as u32).to_ne_bytes());
            }
            parse(&bad, &mut out);
        }
    }
}
