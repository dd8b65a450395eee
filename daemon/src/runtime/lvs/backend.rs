//! Where the IPVS table lives: the kernel (generic netlink) in the daemon, an
//! in-memory table in tests. The engine only reads a table and applies
//! commands, so reconciliation is the same code either way.

use core::fmt;

use vigil_lvs::{Command, Table};

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
}
