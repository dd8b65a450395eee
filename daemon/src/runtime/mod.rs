//! The event loop: one thread, one smol `LocalExecutor`, driving the sans-IO
//! `vigil_vrrp::Router` with real time, real sockets and real processes.
//!
//! Tasks wait on the outside world (VRRP sockets, the netlink monitor, signals,
//! children, the control socket) and send [`event::Event`]s into one channel; the
//! loop feeds them to the router, fires its timers when `poll_timeout` passes,
//! and carries out every action it polls.

mod ah_net;
mod daemon;
mod event;
pub(crate) mod fifo;
mod firewall;
mod hooks;
pub mod lvs;
pub(crate) mod mail;
mod net;
mod notify;
pub mod plan;
pub mod process;
mod reload;
mod reload_states;
mod routes;
mod slots;
pub mod track;
mod turns;
mod vmac;
mod vmac_plan;

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

/// Schedules the loop as configured, once start-up (long, and run
/// normally) is over: the loop's thread, then the reactor's helper thread
/// ("async-io", see [`crate::os::sched::threads_named`]), which async-io
/// spawns with the reactor and which names itself once it runs. Other
/// threads (the LVS checkers) keep normal scheduling.
async fn schedule_loop(p: &crate::os::sched::Policy) {
    let report = |what: &str, e: crate::os::sched::SchedError| {
        if p.explicit {
            log::warn!("scheduling {what}: {e}");
        } else {
            log::info!("scheduling {what}: {e}; normal scheduling");
        }
    };
    for e in crate::os::sched::apply(p) {
        report("the VRRP loop", e);
    }
    for _ in 0..200 {
        let tids = crate::os::sched::threads_named("async-io");
        if tids.is_empty() {
            smol::Timer::after(std::time::Duration::from_millis(1)).await;
            continue;
        }
        for tid in tids {
            for e in crate::os::sched::apply_thread(tid, p) {
                report("the I/O helper thread", e);
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
        // 0644 whatever the umask, as keepalived's pidfile.c makes it.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644));
    }
    let sched = crate::os::sched::Policy::from(&config.global.vrrp_sched);
    let pid_file = settings.pid_file.clone();
    let ex: Spawner = Box::leak(Box::new(smol::LocalExecutor::new()));
    let code = smol::block_on(ex.run(async move {
        match daemon::Daemon::start(settings, config, ex) {
            Ok(d) => {
                schedule_loop(&sched).await;
                d.run(sched).await
            }
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
