//! Child processes the core asks for: tracking scripts (their result goes back to
//! the loop) and notify hooks (fire and forget, but always reaped and their failure
//! logged). Nothing here blocks the loop: each child is awaited in its own task.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use smol::channel::{Receiver, Sender};

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
/// notify_stop before it exits, and keeps each instance's (or group's) hooks
/// in the order of its transitions: keepalived forks them all at once, so a
/// slow `notify MASTER` can finish after the `notify FAULT` that followed it
/// and leave a state file saying MASTER. Here a transition's hooks start when
/// the previous transition's have ended (each is bounded by NOTIFY_TIMEOUT).
#[derive(Clone, Default)]
pub struct Running(Rc<Inner>);

#[derive(Default)]
struct Inner {
    count: Cell<usize>,
    /// Per name: the last queued transition's "done" channel (closed when its
    /// task ends) and how many of that name's transitions are queued.
    last: RefCell<HashMap<String, (Receiver<()>, Rc<Cell<usize>>)>>,
}

/// Past this many queued transitions of one name (hung hooks and a
/// flapping instance) a new one runs at once instead, so that waiting
/// tasks cannot pile up without bound; it is logged.
const MAX_QUEUED: usize = 16;

/// A transition's place in its name's queue: dropping it lets the next start.
pub struct Turn {
    _done: Sender<()>,
    queued: Rc<Cell<usize>>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.queued.set(self.queued.get().saturating_sub(1));
    }
}

impl Running {
    pub fn count(&self) -> usize {
        self.0.count.get()
    }

    /// Counts one more until the guard is dropped.
    pub fn enter(&self) -> RunningGuard {
        let c = &self.0.count;
        c.set(c.get() + 1);
        RunningGuard(self.clone())
    }

    /// Queues a transition of `name`: its [`Turn`], and what to await first
    /// (the previous transition's end), if anything.
    pub fn queue(&self, name: &str) -> (Turn, Option<Receiver<()>>) {
        let (tx, rx) = smol::channel::bounded(1);
        let mut last = self.0.last.borrow_mut();
        let (prev, queued) = match last.remove(name) {
            Some((prev, queued)) => (Some(prev), queued),
            None => (None, Rc::new(Cell::new(0))),
        };
        let wait = if queued.get() >= MAX_QUEUED {
            log::warn!(
                "({name}) {} notifications are waiting for earlier notify scripts; \
                 running this one without waiting",
                queued.get()
            );
            None
        } else {
            prev
        };
        queued.set(queued.get() + 1);
        last.insert(name.to_string(), (rx, queued.clone()));
        (Turn { _done: tx, queued }, wait)
    }
}

/// One running hook, counted by its [`Running`] while alive.
pub struct RunningGuard(Running);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let c = &(self.0).0.count;
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
    let key = format!("{}{name}", if group { "group " } else { "" });
    let (turn, wait) = running.queue(&key);
    spawner
        .spawn(async move {
            if let Some(prev) = wait {
                // Err once the previous transition's task has dropped its Turn.
                let _ = prev.recv().await;
            }
            for (kind, text, s) in jobs {
                match script::run(&s).await {
                    Ok(Outcome::Exited(0)) => log::debug!("({who}) {kind} \"{text}\" done"),
                    Ok(o) => log::warn!("({who}) {kind} script \"{text}\" {}", describe(o)),
                    Err(e) => log::warn!("({who}) {kind} script \"{text}\": {e}"),
                }
            }
            drop(turn);
            drop(guard);
        })
        .detach();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(text: &str) -> Runnable {
        Runnable {
            text: text.to_string(),
            argv: vec!["/bin/sh".into(), "-c".into(), text.to_string()],
            run_as: (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            ),
        }
    }

    /// (`sh -c` makes INSTANCE its $0.) A slow `notify MASTER` still ends before the `notify FAULT` that
    /// followed it starts; another instance does not wait for it.
    #[test]
    fn one_name_in_transition_order() {
        let dir = std::env::temp_dir().join(format!("vigil-hooks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let _ = std::fs::remove_file(&out);
        let ex: Spawner = Box::leak(Box::new(smol::LocalExecutor::new()));
        let running = Running::default();
        let o = out.display();
        let slow = sh(&format!("sleep 0.4; echo \"$2\" >> {o}"));
        let fast = sh(&format!("echo \"$1 $2\" >> {o}"));
        for (script, name, state) in [
            (&slow, "VI_1", "MASTER"),
            (&fast, "VI_1", "FAULT"),
            (&fast, "VI_2", "BACKUP"),
        ] {
            notify_with(&ex, &running, None, Some(script), false, name, state, 100);
        }
        smol::block_on(ex.run(async {
            while running.count() > 0 {
                smol::Timer::after(Duration::from_millis(20)).await;
            }
        }));
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text, "VI_2 BACKUP\nMASTER\nVI_1 FAULT\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
