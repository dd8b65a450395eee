//! The event loop: one thread, one smol `LocalExecutor`, driving the sans-IO
//! `vigil_vrrp::Router` with real time, real sockets and real processes.
//!
//! Tasks wait on the outside world (VRRP sockets, the netlink monitor, signals,
//! children, the control socket) and send [`event::Event`]s into one channel; the
//! loop feeds them to the router, fires its timers when `poll_timeout` passes,
//! and carries out every action it polls.

mod daemon;
mod event;
mod hooks;
pub mod lvs;
mod net;
pub mod plan;
mod slots;
mod turns;

use std::path::PathBuf;

use crate::os::logger::LogOptions;

/// The executor every task runs on; it lives as long as the process.
pub type Spawner = &'static smol::LocalExecutor<'static>;

/// What `vigil run` was asked for.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub control: Option<PathBuf>,
    pub log: LogOptions,
    pub foreground: bool,
}

/// Default control socket.
pub const DEFAULT_CONTROL: &str = "/run/vigil.sock";

/// Gives the reactor's helper thread ("async-io", see
/// [`crate::os::sched::threads_named`]) the loop's scheduling. It is
/// spawned with the reactor, here by the first timer, and named by itself
/// once it runs: wait for the name (before any other thread exists).
async fn schedule_reactor_helper(p: &crate::os::sched::Policy) {
    for _ in 0..200 {
        smol::Timer::after(std::time::Duration::from_millis(1)).await;
        let tids = crate::os::sched::threads_named("async-io");
        if tids.is_empty() {
            continue;
        }
        for tid in tids {
            for e in crate::os::sched::apply_thread(tid, p) {
                log::warn!("scheduling the I/O helper thread: {e}");
            }
        }
        return;
    }
    log::warn!("scheduling: no I/O helper thread showed up; it keeps normal scheduling");
}

/// Runs the daemon until SIGTERM/SIGINT; returns the process exit code.
pub fn run(settings: Settings, config: vigil_model::Config) -> u8 {
    if !settings.foreground {
        // keepalived forks into the background unless -n; so do we, before any
        // thread or socket exists.
        if let Err(e) = nix::unistd::daemon(false, false) {
            log::error!("cannot go to the background: {e}");
            return 1;
        }
    }
    if let Some(p) = &settings.pid_file {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            log::error!("pid file {}: {e}", p.display());
        }
    }
    // On the loop's thread, before the executor exists. Realtime is not
    // inherited (reset-on-fork): the reactor's helper thread gets it below.
    let sched = crate::os::sched::Policy::from(&config.global.vrrp_sched);
    for e in crate::os::sched::apply(&sched) {
        log::warn!("scheduling: {e}");
    }
    let pid_file = settings.pid_file.clone();
    let ex: Spawner = Box::leak(Box::new(smol::LocalExecutor::new()));
    let code = smol::block_on(ex.run(async move {
        schedule_reactor_helper(&sched).await;
        match daemon::Daemon::start(settings, config, ex) {
            Ok(d) => d.run().await,
            Err(e) => {
                log::error!("{e}");
                1
            }
        }
    }));
    if let Some(p) = &pid_file {
        let _ = std::fs::remove_file(p);
    }
    code
}
