//! The validated vigil configuration as plain data.
//!
//! Everything here is *resolved*: keepalived's defaults and inheritance rules
//! (global -> instance, virtual server -> real server -> checker) have been
//! applied by `vigil-config`, so a consumer never has to know which keyword was
//! written and which was implied. Each field documents the keepalived keyword it
//! comes from and the default it takes (keepalived 2.2.7).
//!
//! The types derive serde so that the compact binary form (postcard) is just
//! this data behind a header. Durations are `core::time::Duration`, exact to the
//! microsecond like keepalived's timers.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod checker;
mod command;
mod compact_duration;
mod global;
mod instance;
mod route;
mod script;
mod sync_group;
mod track;
mod virtual_address;
mod virtual_server;
mod virtual_server_group;

pub use checker::{
    CheckCommon, CheckKind, Checker, DnsCheck, DnsType, FileCheck, HttpCheck, HttpProtocol,
    MiscCheck, ReplyPattern, SmtpCheck, StatusRange, TrackFile, UdpCheck, Url, SMTP_DEFAULT_HELO,
};
pub use command::{split_words, Command, Notify, RunAs};
pub use global::{
    FlushOnStop, GlobalDefs, LvsTimeouts, NftSettings, NotifyFifo, ProcessSched, SmtpServer,
    SyncDaemon,
};
pub use instance::{
    Auth, ExtraIfGarp, InitialState, TrackInterface, TrackScript, VrrpInstance, VrrpVersion,
};
pub use route::{
    AddMode, Nexthop, Prefix, Route, RouteMetrics, RouteType, Rule, RuleAction, Table,
    PROTO_KEEPALIVED,
};
pub use script::VrrpScript;
pub use sync_group::SyncGroup;
pub use track::{InitFile, ParamMatch, TrackProcess, TrackRef};
pub use virtual_address::{AddrScope, VirtualAddress};
pub use virtual_server::{
    LbKind, Protocol, RealServer, Scheduler, SorryServer, VirtualServer, VsKey,
};
pub use virtual_server_group::{IpFamily, VsGroup, VsGroupEntry};

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// A whole validated configuration: what keepalived.conf describes.
///
/// Lists keep the order of the configuration file, so names and diagnostics
/// can refer to "the first", and so that `show` prints them back in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Config {
    /// `global_defs { ... }`.
    pub global: GlobalDefs,
    /// `vrrp_script NAME { ... }` blocks; names are unique.
    pub scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group NAME { ... }` blocks; members name existing instances.
    pub sync_groups: Vec<SyncGroup>,
    /// `vrrp_instance NAME { ... }` blocks; names are unique.
    pub instances: Vec<VrrpInstance>,
    /// `virtual_server ... { ... }` blocks (IPVS services).
    pub virtual_servers: Vec<VirtualServer>,
    /// Top-level `static_ipaddress { ... }`: addresses set at start, kept
    /// (restored if removed) and deleted at stop; each has its `dev`.
    pub static_addresses: Vec<VirtualAddress>,
    /// Top-level `static_routes { ... }`, the same lifetime.
    pub static_routes: Vec<Route>,
    /// Top-level `static_rules { ... }`, the same lifetime.
    pub static_rules: Vec<Rule>,
    /// `track_file` / `vrrp_track_file` blocks, in order; names are unique.
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process` blocks, in order; names are unique.
    pub track_processes: Vec<TrackProcess>,
}

impl Config {
    /// The `vrrp_script` of this name, if any.
    pub fn script(&self, name: &str) -> Option<&VrrpScript> {
        self.scripts.iter().find(|s| s.name == name)
    }

    /// The `vrrp_instance` of this name, if any.
    pub fn instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.instances.iter().find(|i| i.name == name)
    }

    /// Gives back the spare capacity of the lists a parser grew one push at
    /// a time: a `Vec` of one checker reserves room for four, which at 1,000
    /// x 4 real servers doubles the live size of the configuration. For a
    /// configuration that lives on (the LVS thread keeps its copy).
    pub fn shrink_to_fit(&mut self) {
        self.scripts.shrink_to_fit();
        self.sync_groups.shrink_to_fit();
        self.instances.shrink_to_fit();
        self.virtual_servers.shrink_to_fit();
        for vs in &mut self.virtual_servers {
            vs.real_servers.shrink_to_fit();
            if let Some(g) = &mut vs.group {
                g.entries.shrink_to_fit();
            }
            for rs in &mut vs.real_servers {
                rs.checkers.shrink_to_fit();
            }
        }
    }
}
