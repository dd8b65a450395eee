//! A capture tool (tcpdump, `ip monitor`) running in a lab namespace while a
//! measurement happens, stopped with SIGTERM so it flushes what it saw.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Background {
    child: Option<Child>,
    what: String,
    /// Where its stdout goes.
    pub out: PathBuf,
    err: PathBuf,
}

impl Background {
    /// Runs `argv` inside namespace `ns` (with `TZ=UTC`, so printed times are UTC),
    /// stdout to `out` and stderr next to it.
    pub fn start(ns: &str, argv: &[&str], out: &Path) -> Result<Background, String> {
        let what = argv.join(" ");
        let err = out.with_extension("stderr");
        let open = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(argv)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(open(out)?)
            .stderr(open(&err)?)
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Background {
            child: Some(child),
            what,
            out: out.to_path_buf(),
            err,
        })
    }

    /// Waits until its stderr contains `needle` (tcpdump's "listening on").
    pub fn wait_stderr(&mut self, needle: &str, timeout: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&self.err).unwrap_or_default();
            if text.contains(needle) {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| !matches!(c.try_wait(), Ok(None)));
            if exited || start.elapsed() > timeout {
                return Err(format!(
                    "{}: no {needle:?} on stderr: {}",
                    self.what,
                    text.trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM and wait (SIGKILL after a second); returns its stdout file's text.
    pub fn stop(&mut self) -> Result<Vec<u8>, String> {
        if let Some(mut c) = self.child.take() {
            // `ip netns exec` execs the tool, so the child pid is the tool itself.
            let pid = Pid::from_raw(c.id() as i32);
            let _ = kill(pid, Signal::SIGTERM);
            let start = Instant::now();
            while matches!(c.try_wait(), Ok(None)) {
                if start.elapsed() > Duration::from_secs(1) {
                    let _ = c.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = c.wait();
        }
        std::fs::read(&self.out).map_err(|e| format!("{}: {e}", self.out.display()))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
