//! The process's `log::Log`: syslog by default, stderr with `-l`, stderr also
//! when /dev/log is absent (containers, early boot). `-D` (detail) lowers the
//! threshold from Info to Debug.

use core::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::syslog::{timestamp_now, Facility, Syslog, DEV_LOG};

/// What the command line asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// `-l`: log to stderr instead of syslog.
    pub to_stderr: bool,
    /// `-S n`: facility (DAEMON when absent).
    pub facility: Facility,
    /// `-D`: detailed (debug) messages.
    pub detail: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            to_stderr: false,
            facility: Facility::Daemon,
            detail: false,
        }
    }
}

/// Installing the global logger failed.
#[derive(Debug)]
pub enum LoggerError {
    /// A logger was already installed in this process.
    AlreadySet,
}

impl fmt::Display for LoggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoggerError::AlreadySet => f.write_str("a logger is already installed"),
        }
    }
}

impl std::error::Error for LoggerError {}

enum Sink {
    Stderr,
    Syslog(Mutex<Syslog>),
}

/// The logger; build with [`Logger::new`], install with [`init`].
pub struct Logger {
    sink: Sink,
    level: LevelFilter,
    tag: String,
}

impl Logger {
    /// Build a logger sending to syslog at `syslog_path` unless `opts.to_stderr`
    /// or the socket cannot be reached.
    pub fn new(opts: &LogOptions, syslog_path: &Path, tag: &str) -> Logger {
        let sink = if opts.to_stderr {
            Sink::Stderr
        } else {
            match Syslog::connect(syslog_path, opts.facility, tag) {
                Ok(s) => Sink::Syslog(Mutex::new(s)),
                Err(_) => Sink::Stderr,
            }
        };
        Logger {
            sink,
            level: if opts.detail {
                LevelFilter::Debug
            } else {
                LevelFilter::Info
            },
            tag: tag.to_string(),
        }
    }

    /// True when messages go to syslog.
    pub fn is_syslog(&self) -> bool {
        matches!(self.sink, Sink::Syslog(_))
    }

    pub fn level(&self) -> LevelFilter {
        self.level
    }

    /// The stderr line for a message.
    pub fn stderr_line(tag: &str, level: Level, msg: &str) -> String {
        let lvl = match level {
            Level::Error => "ERROR ",
            Level::Warn => "WARN ",
            _ => "",
        };
        format!(
            "{} {}[{}]: {lvl}{msg}",
            timestamp_now(),
            tag,
            std::process::id()
        )
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let msg = record.args().to_string();
        match &self.sink {
            Sink::Syslog(s) => {
                let sent = match s.lock() {
                    Ok(mut s) => s.send(record.level(), &msg).is_ok(),
                    Err(_) => false,
                };
                if !sent {
                    // syslogd vanished for good: do not lose the message.
                    let _ = writeln!(
                        io::stderr(),
                        "{}",
                        Self::stderr_line(&self.tag, record.level(), &msg)
                    );
                }
            }
            Sink::Stderr => {
                let _ = writeln!(
                    io::stderr(),
                    "{}",
                    Self::stderr_line(&self.tag, record.level(), &msg)
                );
            }
        }
    }

    fn flush(&self) {
        let _ = io::stderr().flush();
    }
}

/// Install the process-wide logger for `opts`, tagged `vigil`.
pub fn init(opts: &LogOptions) -> Result<(), LoggerError> {
    let logger = Logger::new(opts, Path::new(DEV_LOG), "vigil");
    let level = logger.level();
    log::set_boxed_logger(Box::new(logger)).map_err(|_| LoggerError::AlreadySet)?;
    log::set_max_level(level);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    fn record(level: Level, msg: fmt::Arguments<'_>, f: impl FnOnce(&Record<'_>)) {
        f(&Record::builder().level(level).args(msg).build())
    }

    #[test]
    fn syslog_sink_with_levels() {
        let dir = std::env::temp_dir().join(format!("vigil-logger-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        server.set_nonblocking(true).unwrap();
        let opts = LogOptions {
            facility: Facility::Local(1),
            ..LogOptions::default()
        };
        let l = Logger::new(&opts, &path, "vigil");
        assert!(l.is_syslog());
        record(Level::Debug, format_args!("hidden"), |r| l.log(r));
        record(Level::Info, format_args!("shown {}", 1), |r| l.log(r));
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(
            got.starts_with("<142>") && got.ends_with("shown 1"),
            "{got}"
        );
        assert!(server.recv(&mut buf).is_err(), "debug must be filtered");

        let detailed = Logger::new(
            &LogOptions {
                detail: true,
                ..opts
            },
            &path,
            "vigil",
        );
        assert_eq!(detailed.level(), LevelFilter::Debug);
        record(Level::Debug, format_args!("now shown"), |r| detailed.log(r));
        let n = server.recv(&mut buf).unwrap();
        assert!(std::str::from_utf8(&buf[..n]).unwrap().starts_with("<143>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stderr_when_asked_or_when_no_syslog() {
        let l = Logger::new(
            &LogOptions {
                to_stderr: true,
                ..LogOptions::default()
            },
            Path::new("/nonexistent/log"),
            "vigil",
        );
        assert!(!l.is_syslog());
        let l = Logger::new(
            &LogOptions::default(),
            Path::new("/nonexistent/log"),
            "vigil",
        );
        assert!(!l.is_syslog());
        let line = Logger::stderr_line("vigil", Level::Warn, "careful");
        assert!(line.ends_with(&format!("vigil[{}]: WARN careful", std::process::id())));
    }
}
