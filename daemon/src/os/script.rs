//! Running notify, track and check scripts without blocking the event loop.
//!
//! Each script is a child in its own process group (so that a timeout kills
//! whatever it started too), with stdin on /dev/null, stdout/stderr discarded
//! or logged line by line, running as the configured user and group, and with
//! SIGTERM as its parent-death signal like keepalived's children.
//!
//! Exit is awaited through a pidfd (Linux 5.3+) registered with smol's reactor;
//! on older kernels through `waitpid(WNOHANG)` polled every few milliseconds.
//! Either way only our own child's pid is waited for, so other children of the
//! process are not stolen, and the child is always reaped: by [`Child::wait`]
//! or, if the handle is dropped early, by killing the group and reaping in
//! `Drop`.

use core::fmt;
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use smol::io::AsyncBufReadExt;
use smol::{future, Async, Timer};

use super::script_security::{resolve_command, ResolveError};

/// What to do with the script's stdout and stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// To /dev/null (keepalived's behaviour).
    #[default]
    Discard,
    /// Each line logged at Info level, prefixed with the script name.
    Log,
}

/// A script to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Program and arguments; a bare program name is looked up through PATH.
    pub argv: Vec<String>,
    /// User and group to run as; `None` keeps ours (root in the daemon).
    pub run_as: Option<(u32, u32)>,
    /// Kill the whole process group after this long.
    pub timeout: Option<Duration>,
    pub output: Output,
}

impl Script {
    /// A script with our own credentials, no timeout, output discarded.
    pub fn new<S: Into<String>>(argv: impl IntoIterator<Item = S>) -> Script {
        Script {
            argv: argv.into_iter().map(Into::into).collect(),
            run_as: None,
            timeout: None,
            output: Output::Discard,
        }
    }
}

/// How a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exited with this status (0 = success).
    Exited(i32),
    /// Killed by this signal number, not by us.
    Signaled(i32),
    /// Still running at the timeout: its process group was killed.
    TimedOut,
    /// Someone else reaped it (a `waitpid(-1)` elsewhere): status unknown.
    Lost,
}

impl Outcome {
    pub fn success(self) -> bool {
        self == Outcome::Exited(0)
    }
}

/// Why a script could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnError {
    /// argv is empty.
    EmptyArgv,
    /// The program does not exist (or a bare name is not in PATH).
    NotFound(String),
    /// The program exists but may not be executed (permissions, directory).
    NotExecutable(String),
    /// The kernel does not recognise the file format (no `#!` line).
    BadFormat(String),
    /// fork/exec or pipe setup failed for another reason.
    Os { program: String, errno: i32 },
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::EmptyArgv => f.write_str("empty script command"),
            SpawnError::NotFound(p) => write!(f, "script {p} not found"),
            SpawnError::NotExecutable(p) => write!(f, "script {p} is not executable"),
            SpawnError::BadFormat(p) => write!(f, "script {p} has no #! line or bad format"),
            SpawnError::Os { program, errno } => {
                write!(f, "cannot run {program}: {}", Errno::from_raw(*errno))
            }
        }
    }
}

impl std::error::Error for SpawnError {}

/// A running script. Await [`Child::wait`]; dropping it kills and reaps.
pub struct Child {
    pid: Pid,
    name: String,
    pidfd: Option<Async<OwnedFd>>,
    output: Option<Async<File>>,
    timeout: Option<Duration>,
    reaped: bool,
}

/// How often to poll when the kernel has no pidfd_open.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

fn pidfd_open(pid: Pid) -> Option<OwnedFd> {
    // SAFETY: plain syscall; on success the kernel returns a new fd we own.
    let fd = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_pidfd_open,
            pid.as_raw(),
            0 as nix::libc::c_uint,
        )
    };
    if fd < 0 {
        return None;
    }
    let fd = i32::try_from(fd).ok()?;
    // SAFETY: fd is a fresh descriptor returned to us by the kernel.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn map_spawn_error(program: &str, e: std::io::Error) -> SpawnError {
    match e.raw_os_error() {
        Some(nix::libc::ENOENT) | Some(nix::libc::ENOTDIR) => SpawnError::NotFound(program.into()),
        Some(nix::libc::EACCES) | Some(nix::libc::EISDIR) | Some(nix::libc::EPERM) => {
            SpawnError::NotExecutable(program.into())
        }
        Some(nix::libc::ENOEXEC) => SpawnError::BadFormat(program.into()),
        errno => SpawnError::Os {
            program: program.into(),
            errno: errno.unwrap_or(0),
        },
    }
}

/// Start `script`. Fails fast (typed) when the program is missing or not
/// executable; otherwise returns the running child. One attempt: a script
/// that is "busy" (ETXTBSY) fails with that errno; [`run`] retries it.
pub fn spawn(script: &Script) -> Result<Child, SpawnError> {
    let first = script.argv.first().ok_or(SpawnError::EmptyArgv)?;
    let (uid, gid) = script.run_as.unwrap_or((
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    ));
    let path_env = std::env::var_os("PATH");
    let program: PathBuf =
        resolve_command(first, path_env.as_deref(), uid, gid).map_err(|e| match e {
            ResolveError::Empty => SpawnError::EmptyArgv,
            ResolveError::NotFound(n) => SpawnError::NotFound(n),
            ResolveError::NotExecutable(p) => SpawnError::NotExecutable(p.display().to_string()),
        })?;

    let mut cmd = Command::new(&program);
    cmd.arg0(OsStr::new(first.as_str()))
        .args(&script.argv[1..])
        .stdin(Stdio::null())
        .process_group(0);
    if let Some((uid, gid)) = script.run_as {
        // std drops supplementary groups when it changes uid.
        cmd.uid(uid).gid(gid);
    }
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no
    // memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(std::io::Error::from)
        });
    }
    let mut reader = None;
    match script.output {
        Output::Discard => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        Output::Log => {
            let (r, w) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| SpawnError::Os {
                    program: first.clone(),
                    errno: e as i32,
                })?;
            let w2 = w.try_clone().map_err(|e| map_spawn_error(first, e))?;
            cmd.stdout(Stdio::from(w)).stderr(Stdio::from(w2));
            reader = Some(r);
        }
    }
    let child = cmd.spawn().map_err(|e| map_spawn_error(first, e))?;
    // Close our copies of the pipe's write end now, so EOF means "all writers gone".
    drop(cmd);
    let pid = Pid::from_raw(child.id() as i32);
    let pidfd = pidfd_open(pid).and_then(|fd| Async::new_nonblocking(fd).ok());
    let output = reader.and_then(|r| Async::new(File::from(r)).ok());
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| first.clone());
    Ok(Child {
        pid,
        name,
        pidfd,
        output,
        timeout: script.timeout,
        reaped: false,
    })
}

/// How often, and how far apart, [`spawn_retrying_busy`] tries.
const BUSY_ATTEMPTS: u32 = 5;
const BUSY_PAUSE: Duration = Duration::from_millis(2);

fn is_busy(e: &SpawnError) -> bool {
    matches!(e, SpawnError::Os { errno, .. } if *errno == nix::libc::ETXTBSY)
}

/// [`spawn`], retried briefly on ETXTBSY: a script that was just written is
/// "busy" while any process forked meanwhile still holds the writer's
/// descriptor (until that process execs), which lasts microseconds. Admins
/// and package managers rewrite scripts; a transient error must not count as
/// a failed check. The pause is a timer, so the event loop runs on meanwhile.
pub async fn spawn_retrying_busy(script: &Script) -> Result<Child, SpawnError> {
    let mut attempt = 1;
    loop {
        match spawn(script) {
            Err(e) if is_busy(&e) && attempt < BUSY_ATTEMPTS => {
                attempt += 1;
                Timer::after(BUSY_PAUSE).await;
            }
            r => return r,
        }
    }
}

/// Run `script` to completion.
pub async fn run(script: &Script) -> Result<Outcome, SpawnError> {
    let mut child = spawn_retrying_busy(script).await?;
    Ok(child.wait().await)
}

impl Child {
    /// Process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// SIGKILL the whole process group. The child still has to be waited for.
    pub fn kill_group(&self) {
        if !self.reaped {
            let _ = killpg(self.pid, Signal::SIGKILL);
        }
    }

    /// Reap if it has ended, without waiting.
    fn try_reap(&mut self) -> Option<Outcome> {
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => return Some(Outcome::Exited(code)),
                Ok(WaitStatus::Signaled(_, sig, _)) => return Some(Outcome::Signaled(sig as i32)),
                Ok(_) => return None,
                Err(Errno::EINTR) => continue,
                Err(_) => return Some(Outcome::Lost),
            }
        }
    }

    /// Wait for the script to end, killing its group at the timeout.
    pub async fn wait(&mut self) -> Outcome {
        if self.reaped {
            return Outcome::Lost;
        }
        let timeout = self.timeout;
        let name = self.name.clone();
        let mut output = self.output.take();
        let result = {
            let exit = self.exited();
            let deadline = async {
                match timeout {
                    Some(d) => {
                        Timer::after(d).await;
                    }
                    None => future::pending::<()>().await,
                }
                None
            };
            let logging = async {
                if let Some(out) = output.as_mut() {
                    log_lines(&name, out).await;
                }
                future::pending::<Option<Outcome>>().await
            };
            future::or(future::or(async { Some(exit.await) }, deadline), logging).await
        };
        let outcome = match result {
            Some(o) => o,
            None => {
                self.kill_group();
                self.exited().await;
                Outcome::TimedOut
            }
        };
        // Output written just before exit is still in the pipe: take what is
        // there without waiting for grandchildren that may hold it open.
        if let Some(out) = output.as_mut() {
            future::or(log_lines(&name, out), async {
                Timer::after(Duration::from_millis(20)).await;
            })
            .await;
        }
        outcome
    }

    async fn exited(&mut self) -> Outcome {
        loop {
            if let Some(o) = self.try_reap() {
                self.reaped = true;
                return o;
            }
            match &self.pidfd {
                Some(fd) => {
                    if fd.readable().await.is_err() {
                        Timer::after(POLL_INTERVAL).await;
                    }
                }
                None => {
                    Timer::after(POLL_INTERVAL).await;
                }
            }
        }
    }
}

async fn log_lines(name: &str, out: &mut Async<File>) {
    let mut lines = smol::io::BufReader::new(out).lines();
    while let Some(Ok(line)) = smol::stream::StreamExt::next(&mut lines).await {
        log::info!("script {name}: {line}");
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = killpg(self.pid, Signal::SIGKILL);
            // SIGKILL cannot be caught: the wait is short.
            while let Err(Errno::EINTR) = waitpid(self.pid, None) {}
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("name", &self.name)
            .field("pidfd", &self.pidfd.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(cmd: &str) -> Script {
        Script::new(["sh", "-c", cmd])
    }

    #[test]
    fn exit_codes() {
        smol::block_on(async {
            assert_eq!(run(&sh("exit 0")).await, Ok(Outcome::Exited(0)));
            assert_eq!(run(&sh("exit 3")).await, Ok(Outcome::Exited(3)));
            assert_eq!(run(&sh("kill -USR1 $$")).await, Ok(Outcome::Signaled(10)));
            assert!(run(&Script::new(["true"])).await.unwrap().success());
        });
    }

    #[test]
    fn spawn_failures_are_typed() {
        smol::block_on(async {
            assert_eq!(
                run(&Script::new(["/nonexistent/vigil-script"])).await,
                Err(SpawnError::NotFound("/nonexistent/vigil-script".into()))
            );
            assert_eq!(
                run(&Script::new(["vigil-no-such-command"])).await,
                Err(SpawnError::NotFound("vigil-no-such-command".into()))
            );
            assert_eq!(
                run(&Script::new(["/etc/passwd"])).await,
                Err(SpawnError::NotExecutable("/etc/passwd".into()))
            );
            assert_eq!(
                run(&Script::new(Vec::<String>::new())).await,
                Err(SpawnError::EmptyArgv)
            );
        });
    }

    #[test]
    fn timeout_kills() {
        let mut s = sh("sleep 10");
        s.timeout = Some(Duration::from_millis(100));
        let t0 = std::time::Instant::now();
        assert_eq!(smol::block_on(run(&s)), Ok(Outcome::TimedOut));
        assert!(t0.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn dropping_reaps() {
        let child = spawn(&sh("sleep 10")).unwrap();
        let pid = Pid::from_raw(child.pid() as i32);
        drop(child);
        assert_eq!(waitpid(pid, Some(WaitPidFlag::WNOHANG)), Err(Errno::ECHILD));
    }
}
