//! The real thing: the kernel's IPVS table over generic netlink and the
//! socket probes of `os::probe`.

use std::sync::Arc;

use nix::errno::Errno;
use vigil_lvs::{Command, Table};
use vigil_model::Config;

use super::backend::{Backend, BackendError, Fault};
use super::Lvs;
use crate::os::ipvs::{Ipvs, IpvsError, SyncConfig, SyncRole, Timeouts};
use crate::os::probe;

impl Backend for Ipvs {
    fn table(&mut self) -> Result<Table, BackendError> {
        Ipvs::table(self).map_err(backend_error)
    }

    fn apply(&mut self, cmd: &Command) -> Result<(), BackendError> {
        Ipvs::apply(self, cmd).map_err(backend_error)
    }

    fn apply_all(&mut self, cmds: &[Command]) -> Vec<Result<(), BackendError>> {
        Ipvs::apply_all(self, cmds)
            .into_iter()
            .map(|r| r.map_err(backend_error))
            .collect()
    }

    fn requests_sent(&self) -> u64 {
        self.datagrams_sent()
    }

    fn start_daemon(&mut self, role: SyncRole, c: &SyncConfig) -> Result<(), BackendError> {
        Ipvs::start_daemon(self, role, c).map_err(backend_error)
    }

    fn stop_daemon(&mut self, role: SyncRole, sync_id: u8) -> Result<(), BackendError> {
        Ipvs::stop_daemon(self, role, sync_id).map_err(backend_error)
    }

    fn timeouts(&mut self) -> Result<Timeouts, BackendError> {
        Ipvs::timeouts(self).map_err(backend_error)
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), BackendError> {
        Ipvs::set_timeouts(self, t).map_err(backend_error)
    }
}

fn backend_error(e: IpvsError) -> BackendError {
    let fault = match e.errno() {
        Some(Errno::EEXIST) => Fault::AlreadyThere,
        Some(Errno::ESRCH | Errno::ENOENT) => Fault::NotThere,
        _ => Fault::Other,
    };
    BackendError {
        fault,
        text: e.to_string(),
    }
}

/// Opens IPVS on the LVS thread (a missing ip_vs module is a start-up
/// error) and starts checking.
pub fn start(config: Config) -> Result<Lvs, String> {
    let prober: super::Prober =
        Arc::new(|kind, env| Box::pin(async move { probe::run(&kind, &env).await }));
    Lvs::start(config, || Ipvs::open().map_err(|e| e.to_string()), prober)
}
