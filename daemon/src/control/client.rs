//! The `vigil status` end: a blocking query with an overall deadline.

use core::fmt;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use socket2::{Domain, SockAddr, Socket, Type};

use super::protocol::{Request, ERROR_PREFIX};
use super::server::errno;

/// How long [`query`] waits for the whole exchange.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest reply accepted (a status of hundreds of instances fits easily).
pub const MAX_REPLY_LEN: usize = 1 << 20;

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// No socket file at the path.
    NoSocket(PathBuf),
    /// The socket file exists but nobody listens on it.
    NotListening(PathBuf),
    /// We may not connect to the socket (it is root's, mode 0600).
    PermissionDenied(PathBuf),
    /// The path does not fit in `sockaddr_un`.
    PathTooLong(PathBuf),
    /// The daemon did not answer in time.
    Timeout(Duration),
    /// Another socket error, with the step that failed.
    Io(&'static str, Errno),
    /// The reply exceeded [`MAX_REPLY_LEN`].
    ReplyTooLong,
    /// The reply was not UTF-8.
    NotUtf8,
    /// The daemon refused the request, with its reason.
    Rejected(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::NoSocket(p) => {
                write!(f, "no control socket at {}: is vigil running?", p.display())
            }
            QueryError::NotListening(p) => write!(
                f,
                "nothing listens on {} (stale socket): is vigil running?",
                p.display()
            ),
            QueryError::PermissionDenied(p) => {
                write!(f, "permission denied on {}: run as root", p.display())
            }
            QueryError::PathTooLong(p) => {
                write!(f, "control socket path {} is too long", p.display())
            }
            QueryError::Timeout(t) => {
                write!(f, "vigil did not answer within {} ms", t.as_millis())
            }
            QueryError::Io(op, e) => write!(f, "control socket {op}: {e}"),
            QueryError::ReplyTooLong => {
                write!(f, "reply longer than {MAX_REPLY_LEN} bytes")
            }
            QueryError::NotUtf8 => f.write_str("reply is not UTF-8"),
            QueryError::Rejected(why) => write!(f, "vigil refused the request: {why}"),
        }
    }
}

impl std::error::Error for QueryError {}

/// Send `request` to the daemon at `path` and return its reply, waiting at
/// most [`QUERY_TIMEOUT`].
pub fn query(path: impl AsRef<Path>, request: Request) -> Result<String, QueryError> {
    query_with_timeout(path, request, QUERY_TIMEOUT)
}

/// [`query`] with a chosen overall timeout.
pub fn query_with_timeout(
    path: impl AsRef<Path>,
    request: Request,
    timeout: Duration,
) -> Result<String, QueryError> {
    let path = path.as_ref();
    let deadline = Instant::now() + timeout;
    let mut stream = connect(path, timeout).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => QueryError::NoSocket(path.to_owned()),
        io::ErrorKind::ConnectionRefused => QueryError::NotListening(path.to_owned()),
        io::ErrorKind::PermissionDenied => QueryError::PermissionDenied(path.to_owned()),
        io::ErrorKind::InvalidInput => QueryError::PathTooLong(path.to_owned()),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => QueryError::Timeout(timeout),
        _ => QueryError::Io("connect", errno(&e)),
    })?;
    let io_err = |op: &'static str| {
        move |e: io::Error| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => QueryError::Timeout(timeout),
            _ => QueryError::Io(op, errno(&e)),
        }
    };
    stream
        .write_all(request.line().as_bytes())
        .map_err(io_err("send"))?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // The socket timeout bounds one read; the deadline bounds them all,
        // so a daemon that dribbles bytes cannot keep us waiting.
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(QueryError::Timeout(timeout))?;
        stream
            .set_read_timeout(Some(left))
            .map_err(io_err("set timeout"))?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("receive")(e)),
        };
        if n == 0 {
            break;
        }
        reply.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if reply.len() > MAX_REPLY_LEN {
            return Err(QueryError::ReplyTooLong);
        }
    }
    let reply = String::from_utf8(reply).map_err(|_| QueryError::NotUtf8)?;
    match reply.strip_prefix(ERROR_PREFIX) {
        Some(why) => Err(QueryError::Rejected(why.trim_end().to_owned())),
        None => Ok(reply),
    }
}

/// Connect to `path`, waiting at most `timeout` (a full backlog would
/// otherwise block `connect`), and bound the first send by it too.
pub(crate) fn connect(path: &Path, timeout: Duration) -> io::Result<UnixStream> {
    let addr = SockAddr::unix(path)?;
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    // Linux bounds a blocking unix-socket connect by SO_SNDTIMEO.
    sock.set_write_timeout(Some(timeout))?;
    sock.set_read_timeout(Some(timeout))?;
    sock.connect(&addr)?;
    Ok(sock.into())
}
