//! Where the IPVS table lives: the kernel (generic netlink) in the daemon, an
//! in-memory table in tests. The engine only reads a table and applies
//! commands, so reconciliation is the same code either way.

use core::fmt;

use vigil_lvs::{Command, Destination, ServiceKey, Summary, Table};

use crate::os::ipvs::{SyncConfig, SyncRole, Timeouts};

/// Why a command failed, as far as reconciliation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The entry exists already (EEXIST).
    AlreadyThere,
    /// The entry or its service is missing (ESRCH, ENOENT).
    NotThere,
    /// Anything else: the text says what.
    Other,
}

/// A failed table operation: its kind and one readable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    pub fault: Fault,
    pub text: String,
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An IPVS table the engine can read and change.
pub trait Backend {
    /// Every service and destination present (ours and foreign ones).
    fn table(&mut self) -> Result<Table, BackendError>;
    /// Every service, without destinations (one dump in the kernel).
    fn services(&mut self) -> Result<Table, BackendError> {
        let mut t = Table::new();
        for s in self.table()?.services() {
            t.insert_service(s.clone());
        }
        Ok(t)
    }
    /// The destinations of one service (one dump in the kernel); none for
    /// a service that is not there.
    fn dests(&mut self, service: &ServiceKey) -> Result<Vec<Destination>, BackendError> {
        Ok(self.table()?.dests(service).copied().collect())
    }
    /// A cheap look at every service's destinations (`/proc/net/ip_vs`),
    /// or `None` where there is none: then every service is dumped.
    fn summary(&mut self) -> Option<Summary> {
        None
    }
    /// Carries out one command.
    fn apply(&mut self, cmd: &Command) -> Result<(), BackendError>;
    /// Carries out `cmds` in order, one result each; a refused command
    /// does not stop the ones after it. The kernel sends them several per
    /// datagram; this default sends them one by one.
    fn apply_all(&mut self, cmds: &[Command]) -> Vec<Result<(), BackendError>> {
        cmds.iter().map(|c| self.apply(c)).collect()
    }
    /// Requests sent to the kernel so far (datagrams), where that means
    /// something: a figure for the log, 0 elsewhere.
    fn requests_sent(&self) -> u64 {
        0
    }
    /// Starts the connection sync daemon in `role`.
    fn start_daemon(&mut self, role: SyncRole, c: &SyncConfig) -> Result<(), BackendError>;
    /// Stops the connection sync daemon in `role`.
    fn stop_daemon(&mut self, role: SyncRole, sync_id: u8) -> Result<(), BackendError>;
    /// The connection timeouts.
    fn timeouts(&mut self) -> Result<Timeouts, BackendError>;
    /// Sets the connection timeouts (0 leaves one unchanged).
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), BackendError>;
}

/// A director-wide call seen by [`MemoryBackend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectorOp {
    /// Role, interface, sync id.
    Start(SyncRole, String, u8),
    Stop(SyncRole),
    GetTimeouts,
    SetTimeouts(Timeouts),
}

/// A table in memory that behaves like the kernel's for the commands the
/// engine sends (EEXIST on duplicates, ESRCH on a missing service): the
/// fake kernel of the engine's tests and of the host checker tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryBackend {
    pub table: Table,
    /// Every command applied, in order.
    pub log: Vec<Command>,
    /// How many `apply_all` calls (batches) the engine made.
    pub batches: usize,
    /// Every sync daemon and timeout call, in order.
    pub director_log: Vec<DirectorOp>,
    /// `dests` calls (per-service dumps) so far.
    pub dest_dumps: usize,
    /// Give no summary (a kernel without /proc/net/ip_vs).
    pub no_summary: bool,
    /// The daemons running, as the kernel allows one per role.
    pub daemons: Vec<SyncRole>,
    /// Refuse every daemon start (a missing interface, say).
    pub refuse_daemons: bool,
    pub timeouts: Timeouts,
}

fn err(fault: Fault, what: &str) -> BackendError {
    BackendError {
        fault,
        text: what.to_string(),
    }
}

impl Backend for MemoryBackend {
    fn table(&mut self) -> Result<Table, BackendError> {
        Ok(self.table.clone())
    }

    fn dests(&mut self, service: &ServiceKey) -> Result<Vec<Destination>, BackendError> {
        self.dest_dumps += 1;
        Ok(self.table.dests(service).copied().collect())
    }

    fn summary(&mut self) -> Option<Summary> {
        (!self.no_summary).then(|| Summary::of_table(&self.table))
    }

    fn apply(&mut self, cmd: &Command) -> Result<(), BackendError> {
        let t = &mut self.table;
        match cmd {
            Command::Flush => *t = Table::new(),
            Command::AddService(s) => {
                if t.service(&s.key).is_some() {
                    return Err(err(Fault::AlreadyThere, "service exists"));
                }
                t.insert_service(s.clone());
            }
            Command::EditService(s) => {
                if t.service(&s.key).is_none() {
                    return Err(err(Fault::NotThere, "no such service"));
                }
                t.insert_service(s.clone());
            }
            Command::DelService(k) => {
                if t.remove_service(k).is_none() {
                    return Err(err(Fault::NotThere, "no such service"));
                }
            }
            Command::AddDest(k, d) => {
                if t.dest(k, &d.key()).is_some() {
                    return Err(err(Fault::AlreadyThere, "destination exists"));
                }
                t.insert_dest(k, *d)
                    .map_err(|_| err(Fault::NotThere, "no such service"))?;
            }
            Command::EditDest(k, d) => {
                if t.dest(k, &d.key()).is_none() {
                    return Err(err(Fault::NotThere, "no such destination"));
                }
                t.insert_dest(k, *d)
                    .map_err(|_| err(Fault::NotThere, "no such service"))?;
            }
            Command::DelDest(k, d) => {
                if t.remove_dest(k, d).is_none() {
                    return Err(err(Fault::NotThere, "no such destination"));
                }
            }
        }
        self.log.push(cmd.clone());
        Ok(())
    }

    fn apply_all(&mut self, cmds: &[Command]) -> Vec<Result<(), BackendError>> {
        self.batches += 1;
        cmds.iter().map(|c| self.apply(c)).collect()
    }

    fn start_daemon(&mut self, role: SyncRole, c: &SyncConfig) -> Result<(), BackendError> {
        self.director_log
            .push(DirectorOp::Start(role, c.interface.clone(), c.sync_id));
        if self.refuse_daemons {
            return Err(err(Fault::Other, "no such device"));
        }
        if self.daemons.contains(&role) {
            return Err(err(Fault::AlreadyThere, "daemon running"));
        }
        self.daemons.push(role);
        Ok(())
    }

    fn stop_daemon(&mut self, role: SyncRole, _sync_id: u8) -> Result<(), BackendError> {
        self.director_log.push(DirectorOp::Stop(role));
        let before = self.daemons.len();
        self.daemons.retain(|r| *r != role);
        if self.daemons.len() == before {
            return Err(err(Fault::NotThere, "no daemon"));
        }
        Ok(())
    }

    fn timeouts(&mut self) -> Result<Timeouts, BackendError> {
        self.director_log.push(DirectorOp::GetTimeouts);
        Ok(self.timeouts)
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), BackendError> {
        self.director_log.push(DirectorOp::SetTimeouts(*t));
        let keep = |new: u32, old: u32| if new == 0 { old } else { new };
        self.timeouts = Timeouts {
            tcp: keep(t.tcp, self.timeouts.tcp),
            tcp_fin: keep(t.tcp_fin, self.timeouts.tcp_fin),
            udp: keep(t.udp, self.timeouts.udp),
        };
        Ok(())
    }
}
