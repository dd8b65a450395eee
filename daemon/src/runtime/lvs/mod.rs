//! Load balancing: the health checkers and the IPVS table, on a thread of
//! their own (keepalived runs them in a separate checker process), so that a
//! thousand probes or a slow table update never delay a VRRP advert.
//!
//! ```text
//!  VRRP loop --Reload / Held VIPs / Stop--> LVS thread: Engine (checkers + planner)
//!            <------- status views --------        |-- TCP_CHECK: its own epoll loop
//!                                                  |-- other probes, notify scripts:
//!                                                  |   futures polled from that loop
//!                                                  '-- IPVS (generic netlink)
//! ```
//!
//! Messages reach the thread over a channel plus an eventfd ([`Bell`]) its
//! epoll loop watches; its priority is [`LVS_NICE`].

mod alert;
mod audit;
mod backend;
mod engine;
mod kernel;
mod names;
mod out;
mod reread;
mod syncd;
mod tasks;
mod tokens;
mod view;
mod worker;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_model::Config;

pub use audit::AuditStats;
pub use backend::{Backend, BackendError, DirectorOp, Fault, MemoryBackend};
pub use engine::{ApplyStats, Engine, Out};
pub use syncd::Director;
pub use worker::Prober;

use crate::control::VsView;
use crate::os::probe::Bell;

/// How long a stopping daemon waits for the LVS thread to clear the table.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The LVS thread's nice value (`VIGIL_LVS_NICE` overrides it). 0: a
/// positive value (5 was measured) showed no lateness gain in the guest
/// benchmark, and it lets any other process starve the checks, and with
/// them hold a lock the VRRP loop may need (the allocator's).
pub const LVS_NICE: i32 = 0;

/// What the VRRP loop tells the LVS thread.
pub enum ToLvs {
    /// A new, validated configuration.
    Reload(Box<Config>),
    /// The VIPs this host now holds (for `ha_suspend`).
    Held(Vec<IpAddr>),
    /// A VRRP instance entered a state: is it MASTER now (the sync daemon
    /// follows one instance).
    Vrrp { instance: String, master: bool },
    /// Remove what was installed and end the thread.
    Stop,
}

/// The VRRP loop's handle on the LVS thread.
pub struct Lvs {
    tx: Mailbox,
    views: Arc<Mutex<Vec<VsView>>>,
    done: smol::channel::Receiver<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Lvs {
    /// Starts the thread: `backend` is opened there (an error is returned
    /// here, as a start-up error), then the engine installs the table and
    /// arms the checkers.
    pub fn start<B, F>(config: Config, backend: F, prober: Prober) -> Result<Lvs, String>
    where
        B: Backend + 'static,
        F: FnOnce() -> Result<B, String> + Send + 'static,
    {
        let bell = Arc::new(Bell::new().map_err(|e| format!("cannot create an eventfd: {e}"))?);
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = Mailbox {
            tx: Some(tx),
            bell: bell.clone(),
        };
        let (done_tx, done) = smol::channel::bounded(1);
        let views = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let shared = views.clone();
        let thread = std::thread::Builder::new()
            .name("vigil-lvs".into())
            .spawn(move || {
                let backend = match backend() {
                    Ok(b) => {
                        let _ = ready_tx.send(Ok(()));
                        b
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                worker::run(config, backend, prober, (rx, bell), shared);
                let _ = done_tx.try_send(());
            })
            .map_err(|e| format!("cannot start the load-balancing thread: {e}"))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Lvs {
                tx,
                views,
                done,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err("the load-balancing thread ended at start".into()),
        }
    }

    pub fn reload(&self, config: Config) {
        self.tx.send(ToLvs::Reload(Box::new(config)));
    }

    pub fn set_held(&self, vips: Vec<IpAddr>) {
        self.tx.send(ToLvs::Held(vips));
    }

    /// A VRRP instance's state changed.
    pub fn vrrp_state(&self, instance: &str, master: bool) {
        self.tx.send(ToLvs::Vrrp {
            instance: instance.to_string(),
            master,
        });
    }

    /// The last published views.
    pub fn views(&self) -> Vec<VsView> {
        self.views.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Asks the thread to clear what it installed and waits for it (bounded).
    pub async fn stop(mut self) {
        self.tx.send(ToLvs::Stop);
        let finished = smol::future::or(async { self.done.recv().await.is_ok() }, async {
            smol::Timer::after(STOP_WAIT).await;
            false
        })
        .await;
        match (finished, self.thread.take()) {
            (true, Some(t)) => {
                let _ = t.join();
            }
            _ => log::error!("the load-balancing thread did not stop in {STOP_WAIT:?}"),
        }
    }
}

/// The sending side: every message rings the thread's bell; dropping it
/// closes the channel first, then rings, so the thread sees the end.
struct Mailbox {
    tx: Option<std::sync::mpsc::Sender<ToLvs>>,
    bell: Arc<Bell>,
}

impl Mailbox {
    fn send(&self, m: ToLvs) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(m);
            self.bell.post();
        }
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        drop(self.tx.take());
        self.bell.post();
    }
}

/// Whether `config` needs the LVS thread: virtual servers, or a sync
/// daemon to follow the VRRP instances.
pub fn needed(config: &Config) -> bool {
    !config.virtual_servers.is_empty() || config.global.lvs_sync_daemon.is_some()
}

/// Starts load balancing for `config` against the kernel's IPVS table, or
/// nothing when it needs none (see [`needed`]).
pub fn start_for(config: Config) -> Result<Option<Lvs>, String> {
    if !needed(&config) {
        return Ok(None);
    }
    kernel::start(config).map(Some)
}
