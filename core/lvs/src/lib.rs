//! Sans-IO IPVS (LVS) table management, following keepalived 2.2.7.
//!
//! ```text
//! Config + checker verdicts --desired--> Table --diff(current)--> Vec<Command>
//!                  live weight --QuorumState--> quorum_up / quorum_down events
//! ```
//!
//! Nothing here talks to the kernel: the shell reads the current table,
//! feeds [`diff`]'s commands to the IPVS generic-netlink family and runs the
//! quorum scripts named by the [`QuorumEvent`]s. [`Planner`] bundles the
//! per-virtual-server quorum states with [`desired`] for that loop.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod command;
mod desired;
mod diff;
mod planner;
mod quorum;
mod summary;
mod table;

pub use command::Command;
pub use desired::{desired, live_weight, service_of, services_of, Health};
pub use diff::{diff, flush_then};
pub use planner::{Plan, Planner};
pub use quorum::{QuorumEvent, QuorumState};
pub use summary::{Summary, SummaryError};
pub use table::{
    DestKey, Destination, Family, Forwarding, IpProto, Service, ServiceKey, Table, TableError,
    TunCsum, TunType, Tunnel, FLAG_HASHED, FLAG_MH_FALLBACK, FLAG_MH_PORT, FLAG_ONEPACKET,
    FLAG_PERSISTENT, FLAG_SCHED1, FLAG_SCHED2, FLAG_SCHED3, FLAG_SH_FALLBACK, FLAG_SH_PORT,
    USER_FLAGS,
};
