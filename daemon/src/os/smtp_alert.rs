//! Sending one alert mail: a TCP connection to the `smtp_server` and
//! keepalived's dialogue ([`vigil_notify::smtp::Dialog`]), every step
//! (connect, each reply) bounded by `smtp_connect_timeout`, as keepalived
//! arms its read and write threads with it. Non-blocking throughout: a
//! server that is down, refuses or never answers costs a socket and a
//! timer, never a wait of the caller's thread.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::Async;
use vigil_notify::smtp::{Dialog, Failure, Step};

/// Why a mail was not delivered, worded after keepalived's log lines.
#[derive(Debug)]
pub enum MailError {
    /// The server's name did not resolve.
    Resolve(String, io::Error),
    Connect(SocketAddr, io::Error),
    ConnectTimeout(SocketAddr),
    /// No (complete) reply within the step's timeout.
    ReadTimeout(SocketAddr, &'static str),
    Closed(SocketAddr, &'static str),
    Io(SocketAddr, io::Error),
    Protocol(SocketAddr, Failure),
}

/// keepalived's `[ADDR]:PORT`.
fn pair(a: &SocketAddr) -> String {
    format!("[{}]:{}", a.ip(), a.port())
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailError::Resolve(h, e) => write!(f, "cannot resolve SMTP server {h}: {e}"),
            MailError::Connect(a, e) => write!(f, "SMTP connection ERROR to {}: {e}", pair(a)),
            MailError::ConnectTimeout(a) => {
                write!(f, "Timeout connecting SMTP server {}", pair(a))
            }
            MailError::ReadTimeout(a, step) => write!(
                f,
                "Timeout reading data to remote SMTP server {} (waiting for the {step} reply)",
                pair(a)
            ),
            MailError::Closed(a, step) => write!(
                f,
                "Remote SMTP server {} has closed the connection (waiting for the {step} reply)",
                pair(a)
            ),
            MailError::Io(a, e) => write!(f, "SMTP server {}: {e}", pair(a)),
            MailError::Protocol(a, p) => write!(f, "SMTP server {}: {p}", pair(a)),
        }
    }
}

impl std::error::Error for MailError {}

/// `host` as an address, or resolved (on smol's blocking pool: a name
/// lookup may take seconds).
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, MailError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let h = host.to_string();
    let found =
        smol::unblock(move || (h.as_str(), port).to_socket_addrs().map(|mut i| i.next())).await;
    match found {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(MailError::Resolve(
            host.into(),
            io::Error::new(io::ErrorKind::NotFound, "no address"),
        )),
        Err(e) => Err(MailError::Resolve(host.into(), e)),
    }
}

async fn within<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> Option<T> {
    smol::future::or(async { Some(f.await) }, async {
        smol::Timer::after(limit).await;
        None
    })
    .await
}

/// Runs `dialog` against `server`, each step within `step_timeout`.
pub async fn send(
    server: SocketAddr,
    step_timeout: Duration,
    mut dialog: Dialog,
) -> Result<(), MailError> {
    let mut stream = match within(step_timeout, Async::<TcpStream>::connect(server)).await {
        None => return Err(MailError::ConnectTimeout(server)),
        Some(Err(e)) => return Err(MailError::Connect(server, e)),
        Some(Ok(s)) => s,
    };
    let mut buf = [0u8; 512];
    loop {
        let step = dialog.step();
        let n = match within(step_timeout, stream.read(&mut buf)).await {
            None => {
                // keepalived sends QUIT after a read timeout; so do we, best effort.
                let _ = within(step_timeout, stream.write_all(b"QUIT\r\n")).await;
                return Err(MailError::ReadTimeout(server, step));
            }
            Some(Err(e)) => return Err(MailError::Io(server, e)),
            Some(Ok(0)) => return Err(MailError::Closed(server, step)),
            Some(Ok(n)) => n,
        };
        let out = match dialog.feed(buf.get(..n).unwrap_or(&[])) {
            Step::Wait => continue,
            Step::Send(s) => s,
            Step::Sent(quit) => {
                let _ = within(step_timeout, stream.write_all(quit.as_bytes())).await;
                return Ok(());
            }
            Step::Failed(f, quit) => {
                let _ = within(step_timeout, stream.write_all(quit.as_bytes())).await;
                return Err(MailError::Protocol(server, f));
            }
        };
        match within(step_timeout, stream.write_all(out.as_bytes())).await {
            None => return Err(MailError::Io(server, io::ErrorKind::TimedOut.into())),
            Some(Err(e)) => return Err(MailError::Io(server, e)),
            Some(Ok(())) => {}
        }
    }
}
