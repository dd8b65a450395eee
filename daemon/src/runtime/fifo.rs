//! The notify FIFOs of a configuration: `notify_fifo` (VRRP and LVS
//! lines), `vrrp_notify_fifo` and `lvs_notify_fifo`, each with its optional
//! `*_fifo_script`, which is started before the FIFO is opened, with the
//! path as its last argument and no time limit (keepalived's order).
//!
//! The VRRP loop owns the set; the LVS thread writes through the
//! [`Targets`] published in [`LVS_TARGETS`], so both threads share one open
//! FIFO per path. As keepalived: a `vrrp_`/`lvs_` FIFO on the same path as
//! `notify_fifo` is ignored (lines would be written twice), and an LVS
//! FIFO on the VRRP FIFO's path does not start a second script.

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_model::{GlobalDefs, NotifyFifo};

use super::plan;
use super::Spawner;
use crate::os::fifo::Fifo;
use crate::os::script::{self, Script};

/// Where one kind of line goes: zero, one or two FIFOs.
#[derive(Debug, Clone, Default)]
pub struct Targets(Vec<Arc<Fifo>>);

impl Targets {
    #[cfg(test)]
    pub fn new(fifos: Vec<Arc<Fifo>>) -> Targets {
        Targets(fifos)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes `line` to each FIFO, never blocking.
    pub fn write(&self, line: &str) {
        for f in &self.0 {
            f.write_line(line);
        }
    }
}

/// The LVS thread's targets, replaced at each (re)open.
pub static LVS_TARGETS: Mutex<Option<Targets>> = Mutex::new(None);

/// The LVS lines' targets as published now.
pub fn lvs_targets() -> Targets {
    LVS_TARGETS
        .lock()
        .ok()
        .and_then(|t| t.clone())
        .unwrap_or_default()
}

/// The open FIFOs and the scripts reading them.
pub struct FifoSet {
    config: [Option<NotifyFifo>; 3],
    vrrp: Targets,
    /// What this set published in [`LVS_TARGETS`].
    lvs: Targets,
    /// Each script's process group and whether it has ended.
    scripts: Vec<(nix::unistd::Pid, Rc<Cell<bool>>)>,
}

fn owner_ids(f: &NotifyFifo, g: &GlobalDefs) -> Option<(u32, u32)> {
    let who = f.owner.as_ref().or(g.script_user.as_ref())?;
    crate::os::users::resolve(&who.user, who.group.as_deref()).ok()
}

impl FifoSet {
    /// Creates, starts and opens every FIFO `g` names.
    pub fn open(g: &GlobalDefs, spawner: Spawner) -> FifoSet {
        let config = [
            g.notify_fifo.clone(),
            g.vrrp_notify_fifo.clone(),
            g.lvs_notify_fifo.clone(),
        ];
        let mut set = FifoSet {
            config: config.clone(),
            vrrp: Targets::default(),
            lvs: Targets::default(),
            scripts: Vec::new(),
        };
        let [global, vrrp, lvs] = config;
        let global_path = global.as_ref().map(|f| f.path.clone());
        let vrrp = vrrp.filter(|f| {
            let dup = global_path.as_deref() == Some(f.path.as_str());
            if dup {
                log::info!("notify FIFO {} has been specified for global and vrrp FIFO - ignoring vrrp FIFO", f.path);
            }
            !dup
        });
        let mut lvs = lvs.filter(|f| {
            let dup = global_path.as_deref() == Some(f.path.as_str());
            if dup {
                log::info!(
                    "notify FIFO {} has been specified for global and LVS FIFO - ignoring LVS FIFO",
                    f.path
                );
            }
            !dup
        });
        let shared = matches!((&vrrp, &lvs), (Some(v), Some(l)) if v.path == l.path);
        if shared {
            if let Some(l) = lvs.as_mut().filter(|l| l.script.is_some()) {
                if vrrp.as_ref().is_some_and(|v| v.script.is_some()) {
                    log::info!("LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script");
                    l.script = None;
                }
            }
        }
        let g_fifo = global.and_then(|f| set.open_one(g, &f, "", spawner));
        let v_fifo = vrrp.and_then(|f| set.open_one(g, &f, "vrrp_", spawner));
        let l_fifo = match lvs {
            Some(l) if shared => {
                // Same path as the VRRP FIFO: one open file for both.
                if let (Some(s), Some(v)) = (&l.script, &v_fifo) {
                    set.start_script(g, s, v.path(), "lvs_", spawner);
                }
                v_fifo.clone()
            }
            Some(l) => set.open_one(g, &l, "lvs_", spawner),
            None => None,
        };
        set.vrrp = Targets(g_fifo.iter().chain(v_fifo.iter()).cloned().collect());
        let lvs_targets = Targets(g_fifo.iter().chain(l_fifo.iter()).cloned().collect());
        if let Ok(mut t) = LVS_TARGETS.lock() {
            *t = Some(lvs_targets.clone());
        }
        set.lvs = lvs_targets;
        set
    }

    fn open_one(
        &mut self,
        g: &GlobalDefs,
        f: &NotifyFifo,
        kind: &str,
        spawner: Spawner,
    ) -> Option<Arc<Fifo>> {
        let path = Path::new(&f.path);
        let created = match crate::os::fifo::create(path, owner_ids(f, g)) {
            Ok(c) => c,
            Err(e) => {
                log::info!("Unable to create {kind}notify fifo: {e}");
                return None;
            }
        };
        if let Some(s) = &f.script {
            self.start_script(g, s, path, kind, spawner);
        }
        match Fifo::open(path, created) {
            Ok(fifo) => Some(Arc::new(fifo)),
            Err(e) => {
                log::info!("Unable to open {kind}notify fifo: {e}");
                None
            }
        }
    }

    fn start_script(
        &mut self,
        g: &GlobalDefs,
        cmd: &vigil_model::Command,
        path: &Path,
        kind: &str,
        spawner: Spawner,
    ) {
        let what = format!("{kind}notify_fifo_script");
        let Some(r) = plan::runnable(g, cmd, &what) else {
            return;
        };
        let mut s = Script::new(r.argv.iter().cloned());
        s.argv.push(path.display().to_string());
        s.run_as = Some(r.run_as);
        let mut child = match script::spawn(&s) {
            Ok(c) => c,
            Err(e) => {
                log::warn!("{what} \"{}\": {e}", r.text);
                return;
            }
        };
        let ended = Rc::new(Cell::new(false));
        let pid = nix::unistd::Pid::from_raw(child.pid() as i32);
        self.scripts.push((pid, ended.clone()));
        let kind = kind.trim_end_matches('_').to_string();
        spawner
            .spawn(async move {
                child.wait().await;
                ended.set(true);
                let sep = if kind.is_empty() { "" } else { " " };
                log::info!("{kind}{sep}notify fifo script terminated");
            })
            .detach();
    }

    /// Where VRRP lines go.
    pub fn vrrp(&self) -> &Targets {
        &self.vrrp
    }

    /// At a reload: reopen only if a FIFO's settings changed.
    pub fn reload(&mut self, g: &GlobalDefs, spawner: Spawner) {
        let now = [
            g.notify_fifo.clone(),
            g.vrrp_notify_fifo.clone(),
            g.lvs_notify_fifo.clone(),
        ];
        if now != self.config {
            self.release();
            self.kill_scripts();
            // The old set is dropped empty: it touches nothing of the new one.
            *self = FifoSet::open(g, spawner);
        }
    }

    /// Closes the FIFOs (unlinking what we created), so that their readers
    /// see the end of file.
    fn release(&mut self) {
        self.vrrp = Targets::default();
        let ours = std::mem::take(&mut self.lvs);
        if let Ok(mut t) = LVS_TARGETS.lock() {
            // Only our own: a set that replaced us has published its own.
            let same = t.as_ref().is_some_and(|cur| {
                cur.0.len() == ours.0.len()
                    && cur.0.iter().zip(&ours.0).all(|(a, b)| Arc::ptr_eq(a, b))
            });
            if same {
                *t = None;
            }
        }
    }

    fn kill_scripts(&mut self) {
        for (pid, ended) in self.scripts.drain(..) {
            if !ended.get() {
                let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGTERM);
            }
        }
    }

    /// At a stop: closes the FIFOs, gives their scripts `grace` to read
    /// the last lines and end, then stops those still running.
    pub async fn close(&mut self, grace: Duration) {
        self.release();
        let t0 = std::time::Instant::now();
        while self.scripts.iter().any(|(_, e)| !e.get()) && t0.elapsed() < grace {
            smol::Timer::after(Duration::from_millis(10)).await;
        }
        self.kill_scripts();
    }
}

impl Drop for FifoSet {
    /// A daemon that fails after opening its FIFOs leaves no script behind.
    fn drop(&mut self) {
        self.release();
        self.kill_scripts();
    }
}
