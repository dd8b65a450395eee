//! The daemon's end: a unix stream socket that hands the event loop one
//! parsed request at a time.
//!
//! Requests are read concurrently inside [`Server::accept`], each under its
//! own timeout, so a client that connects and says nothing delays nobody:
//! the loop only ever sees complete, valid requests. Replies are written by
//! [`Connection::reply`], which the loop spawns so that a slow reader cannot
//! hold it up either.

use core::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{send, MsgFlags};
use nix::sys::stat::{fchmod, Mode};
use smol::io::AsyncReadExt;
use smol::{future, Async, Timer};
use socket2::{Domain, SockAddr, Socket, Type};

use super::client::connect;
use super::protocol::{Request, ERROR_PREFIX, MAX_REQUEST_LEN};

/// How long a client has to send its request line.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a client has to take in the whole reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Clients whose request is still being read; more are turned away at once,
/// which bounds the memory a flood of idle connections can take.
pub const MAX_PENDING: usize = 8;
/// Connections the kernel queues for us before `accept`.
const BACKLOG: i32 = 16;
/// Connections taken per `accept` poll before the pending reads get a turn.
const ACCEPTS_PER_POLL: usize = 16;
/// Pause after an `accept` failure such as EMFILE, which would otherwise
/// report readiness again at once and spin the loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long the stale-socket probe waits for a live daemon to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the control socket could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    /// The directory that should hold the socket does not exist.
    NoParentDir(PathBuf),
    /// The path does not fit in `sockaddr_un` (107 bytes).
    PathTooLong(PathBuf),
    /// Something other than a socket sits at the path; it is left alone.
    NotASocket(PathBuf),
    /// Another process answers on the socket (a second daemon?).
    InUse(PathBuf),
    /// The path could not be examined.
    Inspect(PathBuf, Errno),
    /// The stale socket file could not be removed.
    RemoveStale(PathBuf, Errno),
    /// `socket`, `bind` or `listen` failed.
    Socket(&'static str, Errno),
    /// The socket's mode could not be set to 0600.
    Chmod(Errno),
    /// The listener could not be registered with the reactor.
    Reactor(Errno),
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::NoParentDir(p) => {
                write!(f, "control socket directory {} does not exist", p.display())
            }
            BindError::PathTooLong(p) => {
                write!(f, "control socket path {} is too long", p.display())
            }
            BindError::NotASocket(p) => {
                write!(
                    f,
                    "{} exists and is not a socket; not replacing it",
                    p.display()
                )
            }
            BindError::InUse(p) => write!(
                f,
                "control socket {} is in use: is another vigil running?",
                p.display()
            ),
            BindError::Inspect(p, e) => write!(f, "cannot examine {}: {e}", p.display()),
            BindError::RemoveStale(p, e) => {
                write!(f, "cannot remove stale socket {}: {e}", p.display())
            }
            BindError::Socket(op, e) => write!(f, "control socket {op}: {e}"),
            BindError::Chmod(e) => write!(f, "control socket chmod 0600: {e}"),
            BindError::Reactor(e) => write!(f, "control socket reactor registration: {e}"),
        }
    }
}

impl std::error::Error for BindError {}

/// Why a reply did not reach the client in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError {
    /// The client did not read it within the reply timeout.
    Timeout,
    /// The client went away, or another send error.
    Send(Errno),
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Timeout => f.write_str("client did not read the reply in time"),
            ReplyError::Send(e) => write!(f, "sending the reply: {e}"),
        }
    }
}

impl std::error::Error for ReplyError {}

pub(crate) fn errno(e: &io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// A client whose request line is still being read.
type PendingRead = Pin<Box<dyn Future<Output = Option<Connection>> + Send>>;

/// The request bytes kept: one more than a request may have, so that an
/// overlong one is still seen as such. Fixed size: a client cannot make the
/// daemon allocate by what it sends.
type RequestBuf = heapless::Vec<u8, { MAX_REQUEST_LEN + 1 }>;

/// The listening control socket.
///
/// Dropping it removes the socket file, unless another process has replaced
/// it in the meantime.
pub struct Server {
    listener: Async<UnixListener>,
    path: PathBuf,
    /// Device and inode of our socket file, to recognise it at drop.
    file_id: (u64, u64),
    /// At most [`MAX_PENDING`], by type: the queue never grows.
    pending: heapless::Vec<PendingRead, MAX_PENDING>,
    backoff: Option<Timer>,
    request_timeout: Duration,
    reply_timeout: Duration,
    access: super::peer::Access,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("path", &self.path)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Listen on `path` with mode 0600. The parent directory must exist; a
    /// stale socket file (nobody listening) is replaced, anything else there
    /// is an error.
    pub fn bind(path: impl AsRef<Path>) -> Result<Server, BindError> {
        let path = path.as_ref();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(BindError::NoParentDir(parent.to_owned()));
        }
        let addr = SockAddr::unix(path).map_err(|_| BindError::PathTooLong(path.to_owned()))?;
        remove_stale(path)?;
        let sock = Socket::new(Domain::UNIX, Type::STREAM, None)
            .map_err(|e| BindError::Socket("socket", errno(&e)))?;
        // Linux creates the socket file with the socket inode's mode (less
        // the umask), so setting it before bind leaves no moment at which
        // another user could connect.
        fchmod(&sock, Mode::from_bits_truncate(0o600)).map_err(BindError::Chmod)?;
        sock.bind(&addr).map_err(|e| match e.kind() {
            io::ErrorKind::AddrInUse => BindError::InUse(path.to_owned()),
            _ => BindError::Socket("bind", errno(&e)),
        })?;
        // Remove what we created if any later step fails.
        let cleanup = |err: BindError| {
            let _ = std::fs::remove_file(path);
            err
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| cleanup(BindError::Chmod(errno(&e))))?;
        sock.listen(BACKLOG)
            .map_err(|e| cleanup(BindError::Socket("listen", errno(&e))))?;
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| cleanup(BindError::Inspect(path.to_owned(), errno(&e))))?;
        let listener = Async::new(UnixListener::from(sock))
            .map_err(|e| cleanup(BindError::Reactor(errno(&e))))?;
        Ok(Server {
            listener,
            path: path.to_owned(),
            file_id: (meta.dev(), meta.ino()),
            pending: heapless::Vec::new(),
            backoff: None,
            request_timeout: REQUEST_TIMEOUT,
            reply_timeout: REPLY_TIMEOUT,
            access: super::peer::Access::default(),
        })
    }

    /// Admits members of group `gid` besides root: the socket file becomes
    /// mode 0660, group `gid`, and each client's credentials are checked.
    pub fn allow_group(&mut self, gid: u32) -> Result<(), BindError> {
        nix::unistd::chown(&self.path, None, Some(nix::unistd::Gid::from_raw(gid)))
            .map_err(BindError::Chmod)?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o660))
            .map_err(|e| BindError::Chmod(errno(&e)))?;
        self.access.group = Some(gid);
        Ok(())
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Change the time a client has to send its request (default
    /// [`REQUEST_TIMEOUT`]); applies to clients accepted from now on.
    pub fn set_request_timeout(&mut self, timeout: Duration) {
        self.request_timeout = timeout;
    }

    /// Change the time a client has to read its reply (default
    /// [`REPLY_TIMEOUT`]); applies to clients accepted from now on.
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.reply_timeout = timeout;
    }

    /// The next client with a valid request.
    ///
    /// Never fails: bad, silent or vanished clients are logged and dropped,
    /// and accept errors (such as running out of file descriptors) are
    /// logged and retried after a short pause. Cancel-safe: all progress is
    /// kept in `self`, so it can be raced against other events and called
    /// again.
    pub async fn accept(&mut self) -> Connection {
        future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Connection> {
        self.poll_listener(cx);
        let mut n = 0;
        while let Some(read) = self.pending.get_mut(n) {
            match read.as_mut().poll(cx) {
                Poll::Pending => n += 1,
                Poll::Ready(done) => {
                    drop(self.pending.swap_remove(n));
                    if let Some(conn) = done {
                        return Poll::Ready(conn);
                    }
                }
            }
        }
        Poll::Pending
    }

    /// Take in new clients until the listener would block.
    fn poll_listener(&mut self, cx: &mut Context<'_>) {
        if let Some(timer) = &mut self.backoff {
            if Pin::new(timer).poll(cx).is_pending() {
                return;
            }
            self.backoff = None;
        }
        for _ in 0..ACCEPTS_PER_POLL {
            match self.listener.get_ref().accept() {
                Ok((stream, _)) => self.admit(stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match self.listener.poll_readable(cx) {
                        Poll::Pending => return,
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(e)) => return self.pause(cx, &e),
                    }
                }
                // The client gave up before we got to it, or a signal.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return self.pause(cx, &e),
            }
        }
        // More may be queued: come back after the pending reads had a turn.
        cx.waker().wake_by_ref();
    }

    fn pause(&mut self, cx: &mut Context<'_>, e: &io::Error) {
        log::warn!(
            "control: accept on {} failed: {}; pausing",
            self.path.display(),
            errno(e)
        );
        let mut timer = Timer::after(ACCEPT_BACKOFF);
        // Register the waker now so the pause ends on its own.
        let _ = Pin::new(&mut timer).poll(cx);
        self.backoff = Some(timer);
    }

    fn admit(&mut self, stream: UnixStream) {
        if let Err(who) = self.access.admits(&stream) {
            log::warn!("control: refused a client: {who}");
            return;
        }
        if self.pending.is_full() {
            log::warn!("control: {MAX_PENDING} clients already waiting; refusing another");
            return;
        }
        match Async::new(stream) {
            Ok(stream) => {
                let read = Box::pin(read_request(
                    stream,
                    self.request_timeout,
                    self.reply_timeout,
                ));
                // Cannot fail: checked not full above.
                if self.pending.push(read).is_err() {
                    log::warn!("control: {MAX_PENDING} clients already waiting; refusing another");
                }
            }
            Err(e) => log::warn!("control: cannot register a client: {}", errno(&e)),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only remove the file if it is still ours: a newer daemon may have
        // replaced it.
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.file_id {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Remove a socket file nobody listens on; refuse anything else.
fn remove_stale(path: &Path) -> Result<(), BindError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BindError::Inspect(path.to_owned(), errno(&e))),
    };
    if !meta.file_type().is_socket() {
        return Err(BindError::NotASocket(path.to_owned()));
    }
    match connect(path, PROBE_TIMEOUT) {
        Ok(_) => Err(BindError::InUse(path.to_owned())),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            log::info!("control: removing stale socket {}", path.display());
            std::fs::remove_file(path)
                .map_err(|e| BindError::RemoveStale(path.to_owned(), errno(&e)))
        }
        Err(e) => Err(BindError::Inspect(path.to_owned(), errno(&e))),
    }
}

/// A client whose request has been read; answer it with
/// [`reply`](Connection::reply).
#[derive(Debug)]
pub struct Connection {
    stream: Async<UnixStream>,
    request: Request,
    reply_timeout: Duration,
}

impl Connection {
    /// What the client asked for.
    pub fn request(&self) -> Request {
        self.request
    }

    /// Send `body` and close the connection (EOF ends the reply). Gives up
    /// after the reply timeout; spawn it so a slow reader waits alone.
    pub async fn reply(self, body: impl AsRef<[u8]>) -> Result<(), ReplyError> {
        let sent = send_all(&self.stream, body.as_ref(), self.reply_timeout).await;
        discard_input(&self.stream);
        sent
    }
}

/// Read away what the client sent beyond its request: closing a unix
/// socket with unread data makes the peer's next read fail with
/// ECONNRESET instead of EOF, which would cut off our reply. Bounded, and
/// never waits.
fn discard_input(stream: &Async<UnixStream>) {
    let mut sink = [0u8; 512];
    for _ in 0..16 {
        match stream.get_ref().read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

/// Write all of `data` within `timeout`.
async fn send_all(
    stream: &Async<UnixStream>,
    mut data: &[u8],
    timeout: Duration,
) -> Result<(), ReplyError> {
    let write = async {
        while !data.is_empty() {
            // MSG_NOSIGNAL: a vanished client must give EPIPE, not SIGPIPE.
            let n = stream
                .write_with(|s| {
                    send(s.as_raw_fd(), data, MsgFlags::MSG_NOSIGNAL).map_err(io::Error::from)
                })
                .await
                .map_err(|e| ReplyError::Send(errno(&e)))?;
            data = data.get(n..).unwrap_or_default();
        }
        Ok(())
    };
    future::or(write, async {
        Timer::after(timeout).await;
        Err(ReplyError::Timeout)
    })
    .await
}

/// Read one request line within `timeout`; answer a bad one with an error
/// line. `None` when the client is dropped.
async fn read_request(
    stream: Async<UnixStream>,
    timeout: Duration,
    reply_timeout: Duration,
) -> Option<Connection> {
    let read = async {
        let mut buf = RequestBuf::new();
        let mut chunk = [0u8; 64];
        loop {
            let n = (&stream).read(&mut chunk).await?;
            let got = chunk.get(..n).unwrap_or_default();
            // Bytes past the capacity are dropped: the request is too long
            // whatever they are, and `buf` being full says so.
            let room = buf.capacity() - buf.len();
            let _ = buf.extend_from_slice(got.get(..room.min(n)).unwrap_or_default());
            if n == 0 || got.contains(&b'\n') || buf.is_full() {
                return Ok::<_, io::Error>(buf);
            }
        }
    };
    let outcome = future::or(async { Some(read.await) }, async {
        Timer::after(timeout).await;
        None
    })
    .await;
    let buf = match outcome {
        Some(Ok(buf)) => buf,
        Some(Err(e)) => {
            log::info!("control: reading a request: {}; client dropped", errno(&e));
            return None;
        }
        None => {
            log::info!(
                "control: client sent no request within {} ms; dropped",
                timeout.as_millis()
            );
            return None;
        }
    };
    let line = match buf.iter().position(|b| *b == b'\n') {
        Some(end) => buf.get(..=end).unwrap_or_default(),
        None => buf.as_slice(),
    };
    match Request::parse(line) {
        Ok(request) => Some(Connection {
            stream,
            request,
            reply_timeout,
        }),
        Err(e) => {
            if buf.is_empty() {
                log::debug!("control: client closed without a request");
            } else {
                log::warn!("control: bad request: {e}; client dropped");
            }
            let msg = format!("{ERROR_PREFIX}{e}\n");
            let _ = send_all(&stream, msg.as_bytes(), reply_timeout).await;
            discard_input(&stream);
            None
        }
    }
}
