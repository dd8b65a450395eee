//! Reading a text configuration in a short-lived child process.
//!
//! Parsing 1,000 x 4 real servers peaks near 8 MiB of heap, and musl's
//! allocator does not give all of a freed peak back: every parse in the
//! daemon would leave its RSS bigger. The child (this binary again,
//! `vigil __load-config`, the same config id and random seed) parses and
//! validates, and sends back its diagnostics and the compiled binary form,
//! which the daemon decodes at about the size of the result. keepalived
//! re-reads its configuration in each child process too.
//!
//! The daemon trusts nothing it reads back: the reply is capped (the binary
//! cap plus room for the diagnostics), the child is killed at a deadline,
//! its exit status must agree with the reply, and the binary form's header,
//! CRC and encoding are verified (`from_own_binary`; the text rules ran in
//! the child, which is this binary, and are not run twice).
//!
//! Reply: frames of one tag byte, a little-endian u32 length, the payload.

use std::ffi::OsString;
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use vigil_config::{from_own_binary, to_binary, BinaryError, LoadAnyError, Options};
use vigil_model::Config;

use crate::loader::{load, LoadFailure};

/// The hidden subcommand the child runs (not in `vigil --help`).
pub const SUBCOMMAND: &str = "__load-config";

/// How long a child may take: a 1,000 x 4 parse takes tens of ms natively
/// and seconds on a slow router; a hung child must not block reloads.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Room for the diagnostics next to the binary form (100 errors and 100
/// warnings are listed at most, each one line).
const DIAG_BYTES: usize = 256 << 10;

/// The reply buffer's first size (1,000 x 4 sends about 150 KB).
const REPLY_BUFFER: usize = 256 << 10;

/// The most bytes read back: the binary cap plus the diagnostics.
pub const REPLY_CAP: usize = vigil_config::Limits::DEFAULT.file_bytes + DIAG_BYTES;

mod tag {
    pub const WARNING: u8 = b'W';
    pub const ERROR: u8 = b'E';
    /// The configuration in binary form (last frame of a success).
    pub const CONFIG: u8 = b'C';
    /// The file could not be read.
    pub const IO: u8 = b'I';
    /// A binary file refused.
    pub const BINARY: u8 = b'B';
    /// Loaded, but its binary form exceeds the cap: parse in-process.
    pub const UNENCODABLE: u8 = b'U';
}

/// What the child found.
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// Valid: the configuration and its warnings (one line each).
    Loaded {
        config: Box<Config>,
        warnings: Vec<String>,
    },
    /// The file is refused; nothing changes.
    Refused(Refusal),
    /// Valid, but too large to send back in binary form (the reason).
    Unencodable(String),
}

/// Why a configuration is refused, as the daemon logs it.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The file could not be read ("PATH: why").
    Io(String),
    /// A binary file was refused (the reason).
    Binary(String),
    /// Text with errors: every diagnostic line, and how many are errors.
    Text { lines: Vec<String>, errors: usize },
    /// The child failed or misbehaved.
    Child(ChildError),
}

/// A child that did not answer as it must.
#[derive(Debug, PartialEq)]
pub enum ChildError {
    /// No complete answer by the deadline: killed.
    Deadline(Duration),
    /// More bytes than the cap: killed.
    TooLarge(usize),
    /// The exit status does not match the reply (or no reply came).
    Status(String),
    /// A malformed reply.
    Frame(&'static str),
    /// The binary form did not verify.
    Decode(BinaryError),
    /// Reading the pipe failed.
    Io(String),
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildError::Deadline(d) => {
                write!(f, "the loading child gave no answer in {d:?}: killed")
            }
            ChildError::TooLarge(n) => {
                write!(f, "the loading child sent more than {n} bytes: killed")
            }
            ChildError::Status(s) => write!(f, "the loading child {s}"),
            ChildError::Frame(why) => write!(f, "the loading child's reply is malformed: {why}"),
            ChildError::Decode(e) => write!(f, "the loading child's configuration: {e}"),
            ChildError::Io(e) => write!(f, "reading the loading child's reply: {e}"),
        }
    }
}

/// How to start a child; [`Request::new`] is this binary with the
/// process's options. Tests put another program in.
#[derive(Debug, Clone)]
pub struct Request {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub deadline: Duration,
    pub cap: usize,
}

impl Request {
    /// `/proc/self/exe __load-config --id ID --seed SEED PATH`.
    pub fn new(path: &str, config_id: &str, seed: u64) -> Request {
        Request {
            program: "/proc/self/exe".into(),
            args: [
                SUBCOMMAND,
                "--id",
                config_id,
                "--seed",
                &seed.to_string(),
                path,
            ]
            .iter()
            .map(OsString::from)
            .collect(),
            deadline: DEADLINE,
            cap: REPLY_CAP,
        }
    }
}

/// Runs the child and reads its answer. `Err` only when it could not be
/// started (the caller parses in-process then); everything the child does
/// wrong is a [`Refusal::Child`].
pub fn run(req: &Request) -> std::io::Result<Reply> {
    let mut child = Command::new(&req.program)
        .args(&req.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let started = Instant::now();
    let read = read_reply(&mut child, req, started);
    let (bytes, status) = match read.and_then(|b| Ok((b, wait_until(&mut child, req, started)?))) {
        Ok(v) => v,
        Err(e) => {
            // Ours to end: by its pid, and reaped.
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Reply::Refused(Refusal::Child(e)));
        }
    };
    Ok(decode(&bytes, status).unwrap_or_else(|e| Reply::Refused(Refusal::Child(e))))
}

fn remaining(req: &Request, started: Instant) -> Result<Duration, ChildError> {
    req.deadline
        .checked_sub(started.elapsed())
        .filter(|d| !d.is_zero())
        .ok_or(ChildError::Deadline(req.deadline))
}

/// Everything the child writes until it closes its stdout, within the cap
/// and the deadline.
fn read_reply(child: &mut Child, req: &Request, started: Instant) -> Result<Vec<u8>, ChildError> {
    let Some(mut out) = child.stdout.take() else {
        return Err(ChildError::Io("no pipe".into()));
    };
    // One allocation above musl's mmap threshold, given back whole when
    // dropped: grown by doubling it would leave mid-size classes behind.
    let mut bytes = Vec::with_capacity(REPLY_BUFFER.min(req.cap));
    let mut buf = [0u8; 16 << 10];
    loop {
        let left = remaining(req, started)?;
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(out.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(ChildError::Io(e.to_string())),
        }
        // Readable or hung up: this read does not block.
        match out.read(&mut buf) {
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                if bytes.len() + n > req.cap {
                    return Err(ChildError::TooLarge(req.cap));
                }
                bytes.extend_from_slice(buf.get(..n).unwrap_or(&[]));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(ChildError::Io(e.to_string())),
        }
    }
}

/// The child's exit, by the same deadline (it may close stdout and hang).
fn wait_until(
    child: &mut Child,
    req: &Request,
    started: Instant,
) -> Result<ExitStatus, ChildError> {
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Ok(s),
            Ok(None) => {}
            Err(e) => return Err(ChildError::Io(e.to_string())),
        }
        remaining(req, started)?;
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn frames(mut bytes: &[u8]) -> Result<Vec<(u8, &[u8])>, ChildError> {
    let mut out = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        let len = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or(ChildError::Frame("truncated length"))?;
        let len = usize::try_from(len).map_err(|_| ChildError::Frame("length"))?;
        let body = rest
            .get(4..4 + len)
            .ok_or(ChildError::Frame("truncated frame"))?;
        out.push((tag, body));
        bytes = rest.get(4 + len..).unwrap_or(&[]);
    }
    Ok(out)
}

fn text(body: &[u8]) -> Result<String, ChildError> {
    String::from_utf8(body.to_vec()).map_err(|_| ChildError::Frame("a line is not UTF-8"))
}

/// The reply, checked against the exit status (0: loaded, 1: refused).
fn decode(bytes: &[u8], status: ExitStatus) -> Result<Reply, ChildError> {
    let frames = frames(bytes)?;
    let (mut warnings, mut lines, mut errors) = (Vec::new(), Vec::new(), 0);
    let mut last = None;
    for (tag, body) in frames {
        if last.is_some() {
            return Err(ChildError::Frame("a frame after the last"));
        }
        match tag {
            tag::WARNING => {
                let l = text(body)?;
                lines.push(l.clone());
                warnings.push(l);
            }
            tag::ERROR => {
                errors += 1;
                lines.push(text(body)?);
            }
            tag::CONFIG | tag::IO | tag::BINARY | tag::UNENCODABLE => last = Some((tag, body)),
            _ => return Err(ChildError::Frame("unknown tag")),
        }
    }
    let code = status.code();
    let want = |c: i32| {
        if code == Some(c) {
            Ok(())
        } else {
            Err(ChildError::Status(format!("ended with {status}")))
        }
    };
    Ok(match last {
        Some((tag::CONFIG, body)) => {
            want(0)?;
            if errors > 0 {
                return Err(ChildError::Frame("errors next to a configuration"));
            }
            let config = from_own_binary(body).map_err(ChildError::Decode)?;
            Reply::Loaded {
                config: Box::new(config),
                warnings,
            }
        }
        Some((tag::UNENCODABLE, body)) => {
            want(0)?;
            Reply::Unencodable(text(body)?)
        }
        Some((tag::IO, body)) => {
            want(1)?;
            Reply::Refused(Refusal::Io(text(body)?))
        }
        Some((tag::BINARY, body)) => {
            want(1)?;
            Reply::Refused(Refusal::Binary(text(body)?))
        }
        _ if errors > 0 => {
            want(1)?;
            Reply::Refused(Refusal::Text { lines, errors })
        }
        _ => return Err(ChildError::Status(format!("sent no answer ({status})"))),
    })
}

fn frame(out: &mut impl Write, tag: u8, body: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| ErrorKind::InvalidInput)?;
    out.write_all(&[tag])?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(body)
}

/// The child's side: `__load-config --id ID --seed SEED PATH`. Exit 0
/// with a configuration, 1 refused, 2 bad arguments or a broken pipe.
pub fn serve(args: &[String]) -> u8 {
    let (mut id, mut seed, mut path) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--id" => id = it.next().cloned(),
            "--seed" => seed = it.next().and_then(|s| s.parse::<u64>().ok()),
            p if path.is_none() => path = Some(p.to_string()),
            _ => return 2,
        }
    }
    let (Some(id), Some(seed), Some(path)) = (id, seed, path) else {
        eprintln!("vigil: usage: vigil {SUBCOMMAND} --id ID --seed SEED PATH");
        return 2;
    };
    let opts = Options {
        config_id: Some(&id),
        random_seed: Some(seed),
        ..Options::default()
    };
    let mut out = std::io::stdout().lock();
    let (sent, code) = match load(&path, opts) {
        Ok((config, warnings)) => {
            let sent = warnings
                .iter()
                .try_for_each(|w| frame(&mut out, tag::WARNING, w.to_string().as_bytes()));
            let last = match to_binary(&config) {
                Ok(b) => frame(&mut out, tag::CONFIG, &b),
                Err(e) => frame(&mut out, tag::UNENCODABLE, e.to_string().as_bytes()),
            };
            (sent.and(last), 0)
        }
        Err(LoadFailure::Io(e)) => (frame(&mut out, tag::IO, e.as_bytes()), 1),
        Err(LoadFailure::Config(LoadAnyError::Binary(e))) => {
            (frame(&mut out, tag::BINARY, e.to_string().as_bytes()), 1)
        }
        Err(LoadFailure::Config(LoadAnyError::Text(diags))) => {
            let sent = diags.iter().try_for_each(|d| {
                let t = if d.is_error() {
                    tag::ERROR
                } else {
                    tag::WARNING
                };
                frame(&mut out, t, d.to_string().as_bytes())
            });
            (sent, 1)
        }
    };
    match sent.and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(_) => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn exit(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    fn framed(parts: &[(u8, &[u8])]) -> Vec<u8> {
        let mut v = Vec::new();
        for (t, b) in parts {
            frame(&mut v, *t, b).unwrap();
        }
        v
    }

    #[test]
    fn replies_must_agree_with_the_exit_status() {
        let bin = to_binary(&Config::default()).unwrap();
        let ok = framed(&[(tag::WARNING, b"a:1:1: warning: x"), (tag::CONFIG, &bin)]);
        match decode(&ok, exit(0)).unwrap() {
            Reply::Loaded { warnings, .. } => assert_eq!(warnings, ["a:1:1: warning: x"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(&ok, exit(1)), Err(ChildError::Status(_))));
        let bad = framed(&[(tag::ERROR, b"a:2:1: error: y")]);
        assert_eq!(
            decode(&bad, exit(1)).unwrap(),
            Reply::Refused(Refusal::Text {
                lines: vec!["a:2:1: error: y".into()],
                errors: 1
            })
        );
        assert!(decode(&bad, exit(0)).is_err());
        assert!(decode(&[], exit(0)).is_err(), "no answer");
        assert!(decode(&ok[..ok.len() - 1], exit(0)).is_err(), "truncated");
        let mut crc = ok.clone();
        let n = crc.len();
        crc[n - 1] ^= 1;
        assert!(matches!(decode(&crc, exit(0)), Err(ChildError::Decode(_))));
        let after = framed(&[(tag::CONFIG, &bin), (tag::WARNING, b"late")]);
        assert!(decode(&after, exit(0)).is_err());
    }
}
