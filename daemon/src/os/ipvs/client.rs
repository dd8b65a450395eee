//! The IPVS client: one generic netlink socket, synchronous requests.
//!
//! IPVS answers inside the sending syscall (under its mutex), so a reply is
//! queued by the time we read; the receive timeout only guards against the
//! unexpected. Table changes go in batches ([`Ipvs::apply_all`]: up to
//! [`batch::MAX_MESSAGES`] per datagram, one ack each). Not `Sync`: one per
//! task.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use nix::errno::Errno;
use vigil_lvs::{Command, ServiceKey, Table};

use super::batch::{self, BatchCollector};
use super::decode::{self, Collector, Refusal};
use super::describe;
use super::encode::{self, Request};
use super::error::{IpvsError, Op};
use super::family;
use super::uapi::{self, ctrl};
use super::{DestEntry, Info, ServiceEntry, Timeouts};

/// How long a request may wait for the kernel's answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// Dump datagrams stay under 32 KiB; twice that leaves room.
const RECV_BUFFER: usize = 64 * 1024;
/// The socket's receive buffer: a whole batch's acks queue before we read.
const SOCKET_RCVBUF: usize = 1024 * 1024;

/// A connection to the kernel's IPVS table of this network namespace.
pub struct Ipvs {
    sock: NlSocket,
    pid: u32,
    family: u16,
    seq: Cell<u32>,
    buf: RefCell<Vec<u8>>,
    /// Datagrams sent so far (every request, reads included).
    sent: Cell<u64>,
}

fn os_errno(e: &io::Error) -> Errno {
    match e.raw_os_error() {
        Some(n) => Errno::from_raw(n),
        None if e.kind() == io::ErrorKind::WouldBlock => Errno::EAGAIN,
        None => Errno::EIO,
    }
}

impl Ipvs {
    /// Opens the socket and finds the IPVS family, loading `ip_vs` once if
    /// it is absent. [`IpvsError::Unavailable`] means this kernel has none.
    pub fn open() -> Result<Ipvs, IpvsError> {
        let socket_err = |e: io::Error| IpvsError::Socket {
            what: "open",
            errno: os_errno(&e),
        };
        let sock =
            NlSocket::connect(NlFamily::Generic, None, Groups::empty()).map_err(socket_err)?;
        // SAFETY: the fd lives as long as `sock`, which outlives the borrow.
        let fd = unsafe { BorrowedFd::borrow_raw(sock.as_raw_fd()) };
        nix::sys::socket::setsockopt(
            &fd,
            nix::sys::socket::sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(REPLY_TIMEOUT.as_secs() as _, 0),
        )
        .map_err(|errno| IpvsError::Socket {
            what: "open",
            errno,
        })?;
        // Best effort: the caps of `batch` fit the default buffer too, and
        // an overflow is reported (ENOBUFS) and repaired by a resync.
        use nix::sys::socket::{setsockopt, sockopt};
        if setsockopt(&fd, sockopt::RcvBufForce, &SOCKET_RCVBUF).is_err() {
            let _ = setsockopt(&fd, sockopt::RcvBuf, &SOCKET_RCVBUF);
        }
        let pid = sock.pid().map_err(socket_err)?;
        let mut ipvs = Ipvs {
            sock,
            pid,
            family: ctrl::ID,
            seq: Cell::new(1),
            buf: RefCell::new(vec![0; RECV_BUFFER]),
            sent: Cell::new(0),
        };
        ipvs.family = match ipvs.resolve() {
            Err(e) if e.errno() == Some(Errno::ENOENT) => {
                let how = family::modprobe_ip_vs();
                match ipvs.resolve() {
                    Err(e) if e.errno() == Some(Errno::ENOENT) => {
                        return Err(IpvsError::Unavailable(format!(
                            "no \"{}\" generic netlink family; {how}",
                            uapi::FAMILY_NAME
                        )))
                    }
                    other => other?,
                }
            }
            other => other?,
        };
        Ok(ipvs)
    }

    /// The family id the kernel gave IPVS.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    fn resolve(&self) -> Result<u16, IpvsError> {
        let what = || "looking up the IPVS netlink family".to_string();
        let seq = self.next_seq();
        let replies = self.exchange(
            &family::request(seq, uapi::FAMILY_NAME),
            seq,
            ctrl::ID,
            Op::Family,
            what,
        )?;
        let first = replies.first().ok_or_else(|| IpvsError::Malformed {
            what: what(),
            error: super::DecodeError::Missing("GETFAMILY reply"),
        })?;
        decode::family_id(first).map_err(|error| IpvsError::Malformed {
            what: what(),
            error,
        })
    }

    fn next_seq(&self) -> u32 {
        self.next_seqs(1)
    }

    /// The first of `n` consecutive sequence numbers.
    fn next_seqs(&self, n: u32) -> u32 {
        let s = self.seq.get();
        self.seq.set(s.wrapping_add(n).max(1));
        s
    }

    /// Datagrams sent so far on this socket (requests and batches).
    pub fn datagrams_sent(&self) -> u64 {
        self.sent.get()
    }

    fn send(&self, msg: &[u8]) -> Result<(), IpvsError> {
        loop {
            match self.sock.send(msg, Msg::empty()) {
                Ok(_) => {
                    self.sent.set(self.sent.get() + 1);
                    return Ok(());
                }
                Err(e) if os_errno(&e) == Errno::EINTR => continue,
                Err(e) => {
                    return Err(IpvsError::Socket {
                        what: "send",
                        errno: os_errno(&e),
                    })
                }
            }
        }
    }

    /// Sends `msg` and gathers the answer (see [`Collector`]).
    fn exchange(
        &self,
        msg: &[u8],
        seq: u32,
        family: u16,
        op: Op,
        what: impl Fn() -> String,
    ) -> Result<Vec<Vec<u8>>, IpvsError> {
        self.send(msg)?;
        let mut collector = Collector::new(seq, self.pid, family);
        let mut buf = self.buf.borrow_mut();
        loop {
            let n = match self.sock.recv(&mut buf[..], Msg::empty()) {
                Ok((n, _)) => n,
                Err(e) => match os_errno(&e) {
                    Errno::EINTR => continue,
                    Errno::EAGAIN => return Err(IpvsError::Timeout(what())),
                    errno => {
                        return Err(IpvsError::Socket {
                            what: "receive",
                            errno,
                        })
                    }
                },
            };
            match collector.feed(&buf[..n.min(buf.len())]) {
                Ok(true) => return Ok(collector.into_replies()),
                Ok(false) => {}
                Err(Refusal::Kernel(errno)) => {
                    return Err(IpvsError::Kernel {
                        op,
                        what: what(),
                        errno,
                    })
                }
                Err(Refusal::Malformed(error)) => {
                    return Err(IpvsError::Malformed {
                        what: what(),
                        error,
                    })
                }
            }
        }
    }

    fn ask(
        &self,
        req: &Request,
        op: Op,
        what: impl Fn() -> String,
    ) -> Result<Vec<Vec<u8>>, IpvsError> {
        let seq = self.next_seq();
        let msg = encode::request(self.family, seq, req);
        self.exchange(&msg, seq, self.family, op, what)
    }

    /// Sends a request built elsewhere (the sync daemon commands): attributes
    /// `attrs` for `command`, as a dump or an acknowledged doit.
    pub(super) fn ask_raw(
        &self,
        command: u8,
        attrs: &[u8],
        dump: bool,
        op: Op,
        what: impl Fn() -> String,
    ) -> Result<Vec<Vec<u8>>, IpvsError> {
        let seq = self.next_seq();
        let flags = uapi::nlm::REQUEST
            | if dump {
                uapi::nlm::DUMP
            } else {
                uapi::nlm::ACK
            };
        let msg = encode::message(self.family, flags, seq, command, uapi::VERSION, attrs);
        self.exchange(&msg, seq, self.family, op, what)
    }

    /// Parses the first reply of a doit with `parse`.
    fn ask_one<T>(
        &self,
        req: &Request,
        what: &'static str,
        parse: fn(&[u8]) -> Result<T, super::DecodeError>,
    ) -> Result<T, IpvsError> {
        let replies = self.ask(req, Op::Read, || what.to_string())?;
        let malformed = |error| IpvsError::Malformed {
            what: what.to_string(),
            error,
        };
        let first = replies
            .first()
            .ok_or_else(|| malformed(super::DecodeError::Missing("reply")))?;
        parse(first).map_err(malformed)
    }

    /// GET_INFO: version and connection table size.
    pub fn info(&self) -> Result<Info, IpvsError> {
        self.ask_one(&Request::Info, "reading IPVS info", decode::info)
    }

    /// Every service with its destinations and counters, in the kernel's
    /// order. Do not change the table meanwhile: IPVS dumps resume by index.
    pub fn dump(&self) -> Result<Vec<ServiceEntry>, IpvsError> {
        let mut out = self.services()?;
        for entry in &mut out {
            entry.dests = self.dests(&entry.service.key)?;
        }
        Ok(out)
    }

    /// Every service with its counters, without destinations: one dump.
    pub fn services(&self) -> Result<Vec<ServiceEntry>, IpvsError> {
        let what = "dumping IPVS services";
        let mut out = Vec::new();
        for attrs in self.ask(&Request::Services, Op::Read, || what.to_string())? {
            out.push(
                decode::service(&attrs).map_err(|error| IpvsError::Malformed {
                    what: what.to_string(),
                    error,
                })?,
            );
        }
        Ok(out)
    }

    /// The destinations of one service: one dump (none for a service that
    /// is not there).
    pub fn dests(&self, key: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError> {
        let what = || format!("dumping real servers of {}", describe::service(key));
        let mut out = Vec::new();
        for attrs in self.ask(&Request::Dests(key), Op::Read, what)? {
            out.push(
                decode::dest(&attrs, key.family()).map_err(|error| IpvsError::Malformed {
                    what: what(),
                    error,
                })?,
            );
        }
        Ok(out)
    }

    /// The dump as a [`Table`] (counters dropped).
    pub fn table(&self) -> Result<Table, IpvsError> {
        let mut t = Table::new();
        for e in self.dump()? {
            let key = e.service.key;
            t.insert_service(e.service);
            for d in e.dests {
                // Cannot fail: the service was inserted just above.
                let _ = t.insert_dest(&key, d.dest);
            }
        }
        Ok(t)
    }

    /// One table change, acknowledged by the kernel.
    pub fn apply(&self, cmd: &Command) -> Result<(), IpvsError> {
        let (op, what) = describe::command(cmd);
        self.ask(&Request::Apply(cmd), op, || what.clone())
            .map(drop)
    }

    /// Table changes in order, several per datagram: one result per
    /// command, the kernel's refusal of one mapped back to it (the commands
    /// after a refused one still run, as they would one by one). A failed
    /// send or receive fails the commands it left unanswered; the kernel
    /// may have carried them out, so the caller should read the table.
    pub fn apply_all(&self, cmds: &[Command]) -> Vec<Result<(), IpvsError>> {
        let mut out = Vec::with_capacity(cmds.len());
        while out.len() < cmds.len() {
            let rest = &cmds[out.len()..];
            let first = self.seq.get();
            let (msg, n) = batch::frame(self.family, first, rest);
            self.next_seqs(n as u32);
            let answers = self.send(&msg).and_then(|()| self.collect(first, n));
            for (i, cmd) in rest[..n].iter().enumerate() {
                let (op, what) = describe::command(cmd);
                out.push(match &answers {
                    Err(e) => Err(e.clone()),
                    Ok(r) => match r.get(i).copied().flatten() {
                        Some(Ok(())) => Ok(()),
                        Some(Err(errno)) => Err(IpvsError::Kernel { op, what, errno }),
                        None => Err(IpvsError::Timeout(what)),
                    },
                });
            }
        }
        out
    }

    /// The acks of a batch of `n` from `first`; a receive timeout leaves
    /// the missing ones `None`.
    fn collect(&self, first: u32, n: usize) -> Result<Vec<Option<Result<(), Errno>>>, IpvsError> {
        let mut c = BatchCollector::new(first, self.pid, n);
        let mut buf = self.buf.borrow_mut();
        loop {
            let got = match self.sock.recv(&mut buf[..], Msg::empty()) {
                Ok((got, _)) => got,
                Err(e) => match os_errno(&e) {
                    Errno::EINTR => continue,
                    Errno::EAGAIN => break,
                    errno => {
                        return Err(IpvsError::Socket {
                            what: "receive",
                            errno,
                        })
                    }
                },
            };
            match c.feed(&buf[..got.min(buf.len())]) {
                Ok(true) => break,
                Ok(false) => {}
                Err(error) => {
                    return Err(IpvsError::Malformed {
                        what: "acknowledgements of a batch of IPVS changes".into(),
                        error,
                    })
                }
            }
        }
        Ok(c.results().collect())
    }

    /// Removes every service of the namespace (also foreign ones).
    pub fn flush(&self) -> Result<(), IpvsError> {
        self.apply(&Command::Flush)
    }

    /// GET_CONFIG: the TCP, TCP FIN and UDP timeouts.
    pub fn timeouts(&self) -> Result<Timeouts, IpvsError> {
        self.ask_one(
            &Request::Timeouts,
            "reading IPVS timeouts",
            decode::timeouts,
        )
    }

    /// SET_CONFIG; a 0 leaves that timeout as it is.
    pub fn set_timeouts(&self, t: &Timeouts) -> Result<(), IpvsError> {
        self.ask(&Request::SetTimeouts(t), Op::SetTimeouts, || {
            format!(
                "setting IPVS timeouts (tcp {}, tcpfin {}, udp {})",
                t.tcp, t.tcp_fin, t.udp
            )
        })
        .map(drop)
    }
}
