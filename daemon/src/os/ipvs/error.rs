//! What can go wrong talking to IPVS, each printed as one readable line.

use core::fmt;

use nix::errno::Errno;

/// A reply that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The buffer ends inside this structure.
    Truncated(&'static str),
    /// A fixed-size attribute has the wrong length.
    BadLength { attr: &'static str, len: usize },
    /// A mandatory attribute is absent.
    Missing(&'static str),
    /// A string is not UTF-8.
    BadString(&'static str),
    /// An address family other than AF_INET and AF_INET6.
    UnknownFamily(u16),
    /// A service protocol other than TCP, UDP and SCTP.
    UnknownProtocol(u16),
    /// A forwarding method outside 0..=3.
    UnknownForwarding(u32),
    /// A sync daemon state other than master (1) and backup (2).
    UnknownState(u32),
    /// A tunnel type or checksum mode this build does not know.
    UnknownTunnel { attr: &'static str, value: u16 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated(what) => write!(f, "truncated {what}"),
            DecodeError::BadLength { attr, len } => write!(f, "{attr} has {len} bytes"),
            DecodeError::Missing(what) => write!(f, "no {what} attribute"),
            DecodeError::BadString(what) => write!(f, "{what} is not UTF-8"),
            DecodeError::UnknownFamily(af) => write!(f, "unknown address family {af}"),
            DecodeError::UnknownProtocol(p) => write!(f, "unknown protocol {p}"),
            DecodeError::UnknownForwarding(m) => write!(f, "unknown forwarding method {m}"),
            DecodeError::UnknownState(s) => write!(f, "unknown sync daemon state {s}"),
            DecodeError::UnknownTunnel { attr, value } => write!(f, "unknown {attr} {value}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The kind of operation a kernel error answers: it decides what the errno
/// means (ENOENT is a missing scheduler for a service, a missing real server
/// for a destination).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AddService,
    EditService,
    DelService,
    AddDest,
    EditDest,
    DelDest,
    Flush,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    /// Info, timeouts, dumps.
    Read,
    /// The nlctrl family lookup.
    Family,
}

/// An IPVS operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsError {
    /// No IPVS in this kernel (family absent even after `modprobe ip_vs`).
    Unavailable(String),
    /// A socket call failed (`what`: open, send, receive).
    Socket { what: &'static str, errno: Errno },
    /// The kernel did not answer within the receive timeout.
    Timeout(String),
    /// The kernel refused the request.
    Kernel { op: Op, what: String, errno: Errno },
    /// The kernel's answer does not parse.
    Malformed { what: String, error: DecodeError },
}

impl IpvsError {
    /// The errno of a kernel refusal.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            IpvsError::Kernel { errno, .. } | IpvsError::Socket { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// What `errno` means for IPVS after `op`, if there is more to say than
/// strerror (after keepalived's and ipvsadm's `ipvs_strerror`).
pub fn meaning(op: Op, errno: Errno) -> Option<&'static str> {
    use Op::*;
    Some(match (errno, op) {
        (Errno::EEXIST, AddService) => "the virtual service already exists",
        (Errno::EEXIST, AddDest) => "the real server is already in this virtual service",
        (Errno::EEXIST, StartDaemon) => "a sync daemon in this role is already running",
        (Errno::ESRCH, StopDaemon) => "no sync daemon in this role is running",
        (Errno::ENODEV, StartDaemon) => "no such interface for the sync daemon",
        (Errno::EINVAL, StartDaemon) => {
            "invalid sync daemon settings (interface name, or a group that is not multicast)"
        }
        (Errno::ESRCH, _) => "the virtual service does not exist",
        (Errno::ENOENT, AddService | EditService) => {
            "no such scheduler or persistence engine in this kernel"
        }
        (Errno::ENOENT, EditDest | DelDest) => "the real server is not in this virtual service",
        (Errno::ENOENT, Family) => "the kernel has no IPVS netlink family",
        (Errno::EINVAL, SetTimeouts) => "a timeout is out of range",
        (Errno::EINVAL, _) => {
            "invalid request: a missing attribute, a bad address or an out-of-range value"
        }
        (Errno::ERANGE, _) => {
            "a value is out of range: negative weight, lower threshold above the upper one, or a name too long"
        }
        (Errno::EPERM, _) => "IPVS needs CAP_NET_ADMIN in the initial user namespace",
        (Errno::EAFNOSUPPORT, _) => "address family not supported (IPv6 disabled?)",
        (Errno::ENOPROTOOPT, _) => "the IPVS module is being unloaded",
        (Errno::EOPNOTSUPP, _) => "not supported by this kernel's IPVS",
        (Errno::EMSGSIZE, _) => "message size mismatch (IPVS module version?)",
        (Errno::ENOMEM, _) => "the kernel is out of memory",
        _ => return None,
    })
}

impl fmt::Display for IpvsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpvsError::Unavailable(why) => write!(f, "IPVS is not available in this kernel: {why}"),
            IpvsError::Socket { what, errno } => {
                write!(f, "IPVS netlink {what} failed: {}", errno.desc())
            }
            IpvsError::Timeout(what) => write!(f, "{what}: the kernel did not answer in time"),
            IpvsError::Kernel { op, what, errno } => {
                write!(f, "{what}: {}", errno.desc())?;
                match meaning(*op, *errno) {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            IpvsError::Malformed { what, error } => {
                write!(f, "{what}: malformed kernel reply: {error}")
            }
        }
    }
}

impl std::error::Error for IpvsError {}
