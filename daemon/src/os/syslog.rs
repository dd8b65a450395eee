//! Syslog datagrams to /dev/log in the RFC 3164 form that glibc's syslog(3)
//! writes locally: `<PRI>Mmm dd hh:mm:ss vigil[pid]: message` (no hostname:
//! the local daemon adds it).
//!
//! We write the datagram ourselves rather than call libc's syslog(3) so the same
//! code works on musl and glibc and never blocks: the socket is non-blocking and
//! a message that does not fit while syslogd is stalled is dropped (and
//! counted) instead of freezing VRRP timers.

use core::fmt;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where syslog(3) sends on Linux.
pub const DEV_LOG: &str = "/dev/log";

/// Syslog facility: keepalived's default DAEMON, or LOCAL0..7 from `-S n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facility {
    Daemon,
    /// LOCALn, n in 0..=7.
    Local(u8),
}

/// `-S` was given a number outside 0..=7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadFacility(pub u32);

impl fmt::Display for BadFacility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "syslog facility LOCAL{} does not exist (0..7)", self.0)
    }
}

impl std::error::Error for BadFacility {}

impl Facility {
    /// The facility for `-S n`, or DAEMON when `-S` is absent.
    pub fn from_option(n: Option<u32>) -> Result<Facility, BadFacility> {
        match n {
            None => Ok(Facility::Daemon),
            Some(n @ 0..=7) => Ok(Facility::Local(n as u8)),
            Some(n) => Err(BadFacility(n)),
        }
    }

    /// The facility code (RFC 3164 table 1): daemon 3, local0 16 ... local7 23.
    pub fn code(self) -> u8 {
        match self {
            Facility::Daemon => 3,
            Facility::Local(n) => 16 + n.min(7),
        }
    }
}

/// Syslog severity of a `log` level.
pub fn severity(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

/// Local civil time as the RFC 3164 `Mmm dd hh:mm:ss` stamp (day space-padded).
pub fn timestamp_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // The type comes from localtime_r's signature: naming libc's `time_t` alias
    // warns on musl, where it is being widened.
    let t = secs.try_into().unwrap_or(0);
    // SAFETY: localtime_r only writes the tm we hand it; a zeroed tm is valid.
    let mut tm: nix::libc::tm = unsafe { core::mem::zeroed() };
    let ok = !unsafe { nix::libc::localtime_r(&t, &mut tm) }.is_null();
    if !ok {
        return "Jan  1 00:00:00".to_string();
    }
    format_stamp(tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
}

fn format_stamp(mon: i32, mday: i32, h: i32, m: i32, s: i32) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let name = usize::try_from(mon)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .unwrap_or(&"Jan");
    format!("{name} {mday:>2} {h:02}:{m:02}:{s:02}")
}

/// Format one datagram.
pub fn format_message(
    facility: Facility,
    level: log::Level,
    stamp: &str,
    tag: &str,
    pid: u32,
    msg: &str,
) -> String {
    let pri = u16::from(facility.code()) * 8 + u16::from(severity(level));
    format!("<{pri}>{stamp} {tag}[{pid}]: {msg}")
}

/// A connection to the local syslog daemon.
pub struct Syslog {
    path: PathBuf,
    sock: UnixDatagram,
    facility: Facility,
    tag: String,
    pid: u32,
    dropped: AtomicU64,
}

impl Syslog {
    /// Connect to the datagram socket at `path` (normally [`DEV_LOG`]).
    pub fn connect(path: &Path, facility: Facility, tag: &str) -> io::Result<Syslog> {
        let sock = Self::open(path)?;
        Ok(Syslog {
            path: path.to_path_buf(),
            sock,
            facility,
            tag: tag.to_string(),
            pid: std::process::id(),
            dropped: AtomicU64::new(0),
        })
    }

    fn open(path: &Path) -> io::Result<UnixDatagram> {
        let sock = UnixDatagram::unbound()?;
        sock.connect(path)?;
        sock.set_nonblocking(true)?;
        Ok(sock)
    }

    /// Messages dropped because syslogd was not keeping up or had gone.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Send one message. If syslogd restarted (our peer vanished) reconnect
    /// once and retry; if it is busy, drop the message.
    pub fn send(&mut self, level: log::Level, msg: &str) -> io::Result<()> {
        let line = format_message(
            self.facility,
            level,
            &timestamp_now(),
            &self.tag,
            self.pid,
            msg,
        );
        match self.sock.send(line.as_bytes()) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(_) => {
                self.sock = Self::open(&self.path).inspect_err(|_| {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                })?;
                self.sock.send(line.as_bytes()).map(|_| ())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facilities() {
        assert_eq!(Facility::from_option(None), Ok(Facility::Daemon));
        assert_eq!(Facility::from_option(Some(0)).unwrap().code(), 16);
        assert_eq!(Facility::from_option(Some(7)).unwrap().code(), 23);
        assert_eq!(Facility::from_option(Some(8)), Err(BadFacility(8)));
        assert_eq!(Facility::Daemon.code(), 3);
    }

    #[test]
    fn rfc3164_format() {
        let stamp = format_stamp(0, 5, 9, 3, 7);
        assert_eq!(stamp, "Jan  5 09:03:07");
        let m = format_message(
            Facility::Daemon,
            log::Level::Info,
            &stamp,
            "vigil",
            42,
            "hi",
        );
        assert_eq!(m, "<30>Jan  5 09:03:07 vigil[42]: hi");
        let m = format_message(
            Facility::Local(7),
            log::Level::Error,
            &stamp,
            "vigil",
            1,
            "x",
        );
        assert!(m.starts_with("<187>"), "{m}");
        let m = format_message(Facility::Local(0), log::Level::Debug, &stamp, "v", 1, "x");
        assert!(m.starts_with("<135>"), "{m}");
        assert_eq!(timestamp_now().len(), 15);
    }

    #[test]
    fn sends_and_reconnects() {
        let dir = std::env::temp_dir().join(format!("vigil-syslog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut s = Syslog::connect(&path, Facility::Local(3), "vigil").unwrap();
        s.send(
            log::Level::Warn,
            "VRRP_Instance(VI_1) Entering MASTER STATE",
        )
        .unwrap();
        let mut buf = [0u8; 512];
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(got.starts_with("<156>"), "{got}");
        let tail = format!(
            " vigil[{}]: VRRP_Instance(VI_1) Entering MASTER STATE",
            std::process::id()
        );
        assert!(got.ends_with(&tail), "{got}");

        // syslogd restarts: a new socket at the same path.
        drop(server);
        std::fs::remove_file(&path).unwrap();
        let server = UnixDatagram::bind(&path).unwrap();
        s.send(log::Level::Info, "after restart").unwrap();
        let n = server.recv(&mut buf).unwrap();
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with("after restart"));
        drop(server);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Syslog::connect(&path, Facility::Daemon, "vigil").is_err());
    }
}
