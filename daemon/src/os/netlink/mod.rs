//! rtnetlink through neli 0.7: interface addresses ([`addr`]), links
//! ([`link`]), routes and policy rules ([`route`], [`rule`], [`watch`]), the
//! link/address monitor ([`monitor`]) and the table of interfaces it keeps
//! current ([`table`]), VMAC macvlans ([`vmac`]), and IPv4 next hops for
//! the half-open TCP_CHECK ([`hop`]).
//!
//! [`Netlink`] is the request socket. Its calls are synchronous on purpose:
//! rtnetlink answers address and link requests inside the sending syscall, so
//! the reply is already queued when we read it and the event loop is never
//! held up waiting for the kernel. A receive timeout guards against the
//! unexpected anyway. The monitor, which does wait for events, is async.
//!
//! neli's router type is not used: it starts a thread per socket, which a
//! 64 MB router does not need; the plain socket handle is enough.

pub mod addr;
pub mod hop;
pub mod link;
pub mod monitor;
pub mod route;
pub mod rule;
pub mod table;
pub mod vmac;
pub mod watch;

use core::fmt;
use std::cell::Cell;
use std::fmt::Debug;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use neli::consts::nl::{NlmF, Nlmsg};
use neli::consts::rtnl::Rtm;
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::utils::Groups;
use neli::{FromBytesWithInput, Size, ToBytes};
use nix::errno::Errno;

pub use addr::{AddressInfo, AddressSpec, Change, Scope};
pub use link::LinkInfo;
pub use monitor::{LinkEvent, Monitor};
pub use table::{KnownLink, LinkTable};

/// How long a request may wait for the kernel's answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// A netlink operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetlinkError {
    /// Opening or binding the netlink socket failed.
    Open(Errno),
    /// Sending the request failed.
    Send(Errno),
    /// Receiving failed (EAGAIN here means the kernel did not answer in time).
    Recv(Errno),
    /// The kernel refused the request with this errno.
    Kernel(Errno),
    /// A message could not be built or parsed; the text says which.
    Codec(String),
    /// No interface has this name.
    NoSuchInterface(String),
    /// No interface has this index.
    NoSuchIndex(u32),
    /// The event socket overran: events were lost, state must be re-read.
    Overrun,
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetlinkError::Open(e) => write!(f, "cannot open netlink socket: {e}"),
            NetlinkError::Send(e) => write!(f, "netlink send failed: {e}"),
            NetlinkError::Recv(e) => write!(f, "netlink receive failed: {e}"),
            NetlinkError::Kernel(e) => write!(f, "kernel refused netlink request: {e}"),
            NetlinkError::Codec(s) => write!(f, "netlink message error: {s}"),
            NetlinkError::NoSuchInterface(n) => write!(f, "no interface named {n}"),
            NetlinkError::NoSuchIndex(i) => write!(f, "no interface with index {i}"),
            NetlinkError::Overrun => f.write_str("netlink event queue overrun"),
        }
    }
}

impl std::error::Error for NetlinkError {}

/// Map neli's socket error, keeping the errno when there is one.
fn socket_error(e: SocketError, io: fn(Errno) -> NetlinkError) -> NetlinkError {
    match e {
        SocketError::Io(e) => match e.raw_os_error() {
            Some(nix::libc::ENOBUFS) => NetlinkError::Overrun,
            Some(n) => io(Errno::from_raw(n)),
            None if e.kind() == std::io::ErrorKind::WouldBlock => io(Errno::EAGAIN),
            None => NetlinkError::Codec(e.to_string()),
        },
        other => NetlinkError::Codec(other.to_string()),
    }
}

fn open_socket(groups: Groups) -> Result<NlSocketHandle, NetlinkError> {
    NlSocketHandle::connect(NlFamily::Route, None, groups)
        .map_err(|e| socket_error(e, NetlinkError::Open))
}

fn borrow(sock: &NlSocketHandle) -> BorrowedFd<'_> {
    // SAFETY: the fd lives as long as `sock`, which outlives the borrow.
    unsafe { BorrowedFd::borrow_raw(sock.as_raw_fd()) }
}

/// The rtnetlink request socket. Not `Sync`: one per task.
pub struct Netlink {
    sock: NlSocketHandle,
    seq: Cell<u32>,
}

impl Netlink {
    /// Open a request socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink, NetlinkError> {
        let sock = open_socket(Groups::empty())?;
        nix::sys::socket::setsockopt(
            &borrow(&sock),
            nix::sys::socket::sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(REPLY_TIMEOUT.as_secs() as _, 0),
        )
        .map_err(NetlinkError::Open)?;
        Ok(Netlink {
            sock,
            seq: Cell::new(1),
        })
    }

    fn next_seq(&self) -> u32 {
        let s = self.seq.get();
        self.seq.set(s.wrapping_add(1).max(1));
        s
    }

    /// Send one request and collect the payloads of the answer. `dump`
    /// requests end with NLMSG_DONE; others are acknowledged.
    fn exchange<P, R>(
        &self,
        ty: Rtm,
        flags: NlmF,
        payload: P,
        dump: bool,
    ) -> Result<Vec<R>, NetlinkError>
    where
        P: Size + ToBytes + Debug,
        R: Size + FromBytesWithInput<Input = usize> + Debug + Clone,
    {
        let seq = self.next_seq();
        let flags = flags | NlmF::REQUEST | if dump { NlmF::DUMP } else { NlmF::ACK };
        let msg = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(flags)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(payload))
            .build()
            .map_err(|e| NetlinkError::Codec(e.to_string()))?;
        self.sock
            .send(&msg)
            .map_err(|e| socket_error(e, NetlinkError::Send))?;
        let mut out = Vec::new();
        loop {
            let (iter, _) = self
                .sock
                .recv::<Rtm, R>()
                .map_err(|e| socket_error(e, NetlinkError::Recv))?;
            for m in iter {
                let m = m.map_err(|e| socket_error(e, NetlinkError::Recv))?;
                if *m.nl_seq() != seq {
                    continue; // a stale answer to an earlier, timed-out request
                }
                if u16::from(*m.nl_type()) == u16::from(Nlmsg::Done) {
                    return Ok(out);
                }
                match m.nl_payload() {
                    NlPayload::Err(e) => {
                        return Err(NetlinkError::Kernel(Errno::from_raw(-*e.error())))
                    }
                    NlPayload::Ack(_) if !dump => return Ok(out),
                    NlPayload::Payload(p) => out.push(p.clone()),
                    _ => {}
                }
            }
        }
    }
}
