//! Child processes the core asks for: tracking scripts (their result goes back to
//! the loop) and notify hooks (fire and forget, but always reaped and their failure
//! logged). Nothing here blocks the loop: each child is awaited in its own task.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use vigil_vrrp::{NotifyState, ScriptResult};

use super::event::Event;
use super::plan::{Hooks, Runnable};
use super::Spawner;
use crate::os::script::{self, Outcome, Script};

/// How long a notify hook may run before its process group is killed. keepalived
/// has no limit; a hung mail script must not pile up children forever.
pub(super) const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) fn describe(o: Outcome) -> String {
    match o {
        Outcome::Exited(c) => format!("exited with status {c}"),
        Outcome::Signaled(s) => format!("was killed by signal {s}"),
        Outcome::TimedOut => "timed out and was killed".to_string(),
        Outcome::Lost => "ended with an unknown status".to_string(),
    }
}

pub(super) fn script_of(r: &Runnable, extra: &[String], timeout: Duration) -> Script {
    let mut s = Script::new(r.argv.iter().cloned().chain(extra.iter().cloned()));
    s.run_as = Some(r.run_as);
    s.timeout = Some(timeout);
    s
}

/// Starts tracking script `name`; its result comes back as `Event::ScriptDone`.
pub fn run_tracking(
    spawner: &Spawner,
    tx: &smol::channel::Sender<Event>,
    name: &str,
    r: &Runnable,
    timeout: Duration,
) {
    let s = script_of(r, &[], timeout);
    let tx = tx.clone();
    let name = name.to_string();
    let text = r.text.clone();
    spawner
        .spawn(async move {
            let result = match script::run(&s).await {
                Ok(Outcome::Exited(0)) => ScriptResult::Success,
                Ok(Outcome::TimedOut) => {
                    log::warn!("vrrp_script {name}: \"{text}\" timed out after {timeout:?}");
                    ScriptResult::TimedOut
                }
                Ok(o) => {
                    log::debug!("vrrp_script {name}: \"{text}\" {}", describe(o));
                    ScriptResult::Failure
                }
                Err(e) => {
                    log::warn!("vrrp_script {name}: {e}");
                    ScriptResult::Failure
                }
            };
            let _ = tx
                .send(Event::ScriptDone {
                    script: name,
                    result,
                })
                .await;
        })
        .detach();
}

/// Counts notify hooks still running, so a stopping daemon can wait for
/// notify_stop before it exits.
#[derive(Clone, Default)]
pub struct Running(Rc<Cell<usize>>);

impl Running {
    pub fn count(&self) -> usize {
        self.0.get()
    }

    /// Counts one more until the guard is dropped.
    pub fn enter(&self) -> RunningGuard {
        self.0.set(self.0.get() + 1);
        RunningGuard(self.clone())
    }
}

/// One running hook, counted by its [`Running`] while alive.
pub struct RunningGuard(Running);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let c = &(self.0).0;
        c.set(c.get().saturating_sub(1));
    }
}

/// Runs `notify_<state>` and then `notify` with keepalived's four arguments
/// `INSTANCE|GROUP NAME STATE PRIORITY`, one after the other in one task, so that
/// scripts logging to one file see them in a stable order.
pub fn notify(
    spawner: &Spawner,
    running: &Running,
    hooks: &Hooks,
    group: bool,
    name: &str,
    state: NotifyState,
    priority: u8,
) {
    let (hook, kind) = match state {
        NotifyState::Master => (&hooks.master, "notify_master"),
        NotifyState::Backup => (&hooks.backup, "notify_backup"),
        NotifyState::Fault => (&hooks.fault, "notify_fault"),
        NotifyState::Stop => (&hooks.stop, "notify_stop"),
    };
    notify_with(
        spawner,
        running,
        hook.as_ref().map(|r| (kind, r)),
        hooks.any.as_ref(),
        group,
        name,
        &state.to_string(),
        priority,
    );
}

/// Runs `first` (without arguments), then `any` with
/// `INSTANCE|GROUP NAME STATE PRIORITY`, in one task.
#[allow(clippy::too_many_arguments)]
pub fn notify_with(
    spawner: &Spawner,
    running: &Running,
    first: Option<(&'static str, &Runnable)>,
    any: Option<&Runnable>,
    group: bool,
    name: &str,
    state: &str,
    priority: u8,
) {
    let mut jobs = Vec::new();
    if let Some((kind, r)) = first {
        jobs.push((kind, r.text.clone(), script_of(r, &[], NOTIFY_TIMEOUT)));
    }
    if let Some(r) = any {
        let extra = [
            if group { "GROUP" } else { "INSTANCE" }.to_string(),
            name.to_string(),
            state.to_string(),
            priority.to_string(),
        ];
        jobs.push((
            "notify",
            r.text.clone(),
            script_of(r, &extra, NOTIFY_TIMEOUT),
        ));
    }
    if jobs.is_empty() {
        return;
    }
    let who = name.to_string();
    let guard = running.enter();
    spawner
        .spawn(async move {
            for (kind, text, s) in jobs {
                match script::run(&s).await {
                    Ok(Outcome::Exited(0)) => log::debug!("({who}) {kind} \"{text}\" done"),
                    Ok(o) => log::warn!("({who}) {kind} script \"{text}\" {}", describe(o)),
                    Err(e) => log::warn!("({who}) {kind} script \"{text}\": {e}"),
                }
            }
            drop(guard);
        })
        .detach();
}
