//! The real thing: the kernel's IPVS table over generic netlink and the
//! socket probes of `os::probe`.

use std::sync::Arc;

use nix::errno::Errno;
use vigil_lvs::{Command, Destination, ServiceKey, Summary, Table};
use vigil_model::Config;

use super::backend::{Backend, BackendError, Fault};
use super::Lvs;
use crate::os::ipvs::{Ipvs, IpvsError, SyncConfig, SyncRole, Timeouts};
use crate::os::probe;

impl Backend for Ipvs {
    fn table(&mut self) -> Result<Table, BackendError> {
        Ipvs::table(self).map_err(backend_error)
    }

    fn services(&mut self) -> Result<Table, BackendError> {
        let mut t = Table::new();
        for e in Ipvs::services(self).map_err(backend_error)? {
            t.insert_service(e.service);
        }
        Ok(t)
    }

    fn dests(&mut self, service: &ServiceKey) -> Result<Vec<Destination>, BackendError> {
        let dests = Ipvs::dests(self, service).map_err(backend_error)?;
        Ok(dests.into_iter().map(|d| d.dest).collect())
    }

    /// `/proc/net/ip_vs` of this network namespace, read line by line; a
    /// file that cannot be read or understood gives no summary (logged).
    fn summary(&mut self) -> Option<Summary> {
        match read_summary() {
            Ok(s) => Some(s),
            Err(e) => {
                log::warn!("{PROC_IP_VS}: {e}; reading every service's real servers instead");
                None
            }
        }
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

const PROC_IP_VS: &str = "/proc/net/ip_vs";
/// About 1,000 lines per read.
const SUMMARY_READ: usize = 64 * 1024;

fn read_summary() -> Result<Summary, String> {
    use std::io::BufRead;
    let file = std::fs::File::open(PROC_IP_VS).map_err(|e| e.to_string())?;
    // A read error ends the lines early: a service cut short no longer
    // agrees with its record, so it is dumped, never wrongly trusted.
    // Large reads: the kernel formats up to the size asked for per call.
    let lines = std::io::BufReader::with_capacity(SUMMARY_READ, file)
        .lines()
        .map_while(Result::ok);
    Summary::parse(lines).map_err(|e| e.to_string())
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
