//! vigil and keepalived processes inside a lab host, each in its own process
//! group (so a kill takes its children too), logging to a file in the host's
//! scratch directory.

use crate::netns::Host;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Vigil,
    Keepalived,
}

pub struct Daemon {
    pub kind: Kind,
    pub host: Host,
    child: Option<Child>,
    pub log: PathBuf,
    pub control: PathBuf,
}

/// The vigil binary under test: `$VIGIL_BIN`, else target/release/vigil next to
/// this crate's workspace, else target/debug/vigil.
pub fn vigil_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("VIGIL_BIN") {
        return PathBuf::from(p);
    }
    let root = crate::workspace_root();
    for profile in ["release", "debug"] {
        let p = root.join("target").join(profile).join("vigil");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("vigil")
}

impl Daemon {
    /// Starts `kind` on `host` with the config text `conf`; `tag` names its files.
    pub fn start(kind: Kind, host: &Host, tag: &str, conf: &str) -> Result<Daemon, String> {
        let conf_path = host.write(&format!("{tag}.conf"), conf)?;
        let log = host.dir().join(format!("{tag}.log"));
        let control = host.dir().join(format!("{tag}.sock"));
        let pid = host.dir().join(format!("{tag}.pid"));
        let logfile = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let errfile = logfile.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &host.ns]);
        match kind {
            Kind::Vigil => {
                cmd.arg(vigil_bin())
                    .args(["run", "-n", "-l", "-D", "-f"])
                    .arg(&conf_path);
                cmd.arg("-p").arg(&pid).arg("--control").arg(&control);
            }
            Kind::Keepalived => {
                let d = host.dir();
                cmd.args(["keepalived", "-n", "-l", "-D", "-P", "-f"])
                    .arg(&conf_path);
                cmd.arg("-p").arg(d.join(format!("{tag}.main.pid")));
                cmd.arg("-r").arg(d.join(format!("{tag}.vrrp.pid")));
                cmd.arg("-c").arg(d.join(format!("{tag}.chk.pid")));
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(logfile)
            .stderr(errfile)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| format!("start {kind:?} on {}: {e}", host.name))?;
        Ok(Daemon {
            kind,
            host: host.clone(),
            child: Some(child),
            log,
            control,
        })
    }

    fn pgid(&self) -> Option<Pid> {
        self.child.as_ref().map(|c| Pid::from_raw(c.id() as i32))
    }

    /// Sends `sig` to the daemon's main process.
    pub fn signal(&self, sig: Signal) -> Result<(), String> {
        let pid = self.pgid().ok_or("not running")?;
        kill(pid, sig).map_err(|e| format!("kill {sig:?}: {e}"))
    }

    /// Hard kill of the whole process group (a crash, as far as the peer can tell).
    pub fn kill(&mut self) {
        if let Some(pg) = self.pgid() {
            let _ = kill(Pid::from_raw(-pg.as_raw()), Signal::SIGKILL);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits up to `grace` for a clean exit; returns its exit code.
    pub fn stop(&mut self, grace: Duration) -> Result<Option<i32>, String> {
        self.signal(Signal::SIGTERM)?;
        let Some(mut c) = self.child.take() else {
            return Ok(None);
        };
        let deadline = std::time::Instant::now() + grace;
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return Ok(st.code());
            }
            if std::time::Instant::now() > deadline {
                let _ = kill(Pid::from_raw(-(c.id() as i32)), Signal::SIGKILL);
                let _ = c.wait();
                return Err(format!(
                    "{:?} on {} ignored SIGTERM for {grace:?}",
                    self.kind, self.host.name
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Is the main process still alive?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// How the daemon ended ("running" if it has not), for failure messages.
    pub fn exit_text(&mut self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(Some(st))) => match (st.code(), st.signal()) {
                (Some(c), _) => format!("exit code {c}"),
                (None, Some(s)) => format!("killed by signal {s}"),
                _ => "ended".to_string(),
            },
            Some(Ok(None)) => "running".to_string(),
            _ => "unknown".to_string(),
        }
    }

    /// The daemon's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `n` lines of the log, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let t = self.log_text();
        let lines: Vec<&str> = t.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Runs `vigil status [--json]` against this daemon's control socket.
    pub fn status(&self, json: bool) -> Result<String, String> {
        let mut cmd = Command::new(vigil_bin());
        cmd.arg("status");
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .arg("--control")
            .arg(&self.control)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// `vigil status --json`.
    pub fn status_json(&self) -> Result<String, String> {
        self.status(true)
    }

    /// The first number under `key` in `vigil status --json`: a counter of
    /// the first instance, whose object comes before the global drops.
    pub fn status_counter(&self, key: &str) -> Option<u64> {
        let json = self.status_json().ok()?;
        let k = format!("\"{key}\"");
        let at = json.find(&k)? + k.len();
        let rest = json.get(at..)?.trim_start().strip_prefix(':')?.trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `e` followed by the last 25 log lines of each daemon: a failed check's
/// message shows what the daemons said.
pub fn logs(daemons: &[&Daemon], e: String) -> String {
    let mut s = e;
    for d in daemons {
        s.push_str(&format!(
            "\n--- {:?} on {} ---\n{}",
            d.kind,
            d.host.name,
            d.log_tail(25)
        ));
    }
    s
}
