//! `virtual_server ... { ... }`: an IPVS service and its real servers.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::checker::Checker;
use crate::command::Command;
use crate::virtual_server_group::VsGroup;

/// An IPVS virtual service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualServer {
    /// `virtual_server ADDR PORT` or `virtual_server fwmark N`; for
    /// `virtual_server group NAME`, the group's first kernel service.
    pub key: VsKey,
    /// `virtual_server group NAME`: the group, resolved; every entry is a
    /// kernel service with this server's settings and real servers.
    pub group: Option<VsGroup>,
    /// `delay_loop SECS`: time between checks; default 60 s.
    #[serde(with = "crate::compact_duration")]
    pub delay_loop: Duration,
    /// `lb_algo` / `lvs_sched`; default wlc.
    pub scheduler: Scheduler,
    /// `lb_kind` / `lvs_method NAT|DR|TUN`; default NAT.
    pub lb_kind: LbKind,
    /// `protocol TCP|UDP|SCTP`; default TCP.
    pub protocol: Protocol,
    /// `persistence_timeout [SECS]`: `None` = not persistent; the keyword
    /// alone means 360 s.
    pub persistence_timeout: Option<u32>,
    /// `persistence_granularity MASK` as a prefix length (IPv4 written as a
    /// dotted netmask); default none (/32, /128).
    pub persistence_granularity: Option<u8>,
    /// `sorry_server ADDR PORT`: used when the quorum is lost; default none.
    pub sorry_server: Option<SorryServer>,
    /// `quorum N`: minimum total weight of live real servers; default 1.
    pub quorum: u32,
    /// `hysteresis N`: quorum flap damper; default 0.
    pub hysteresis: u32,
    /// `quorum_up CMD`: run when the quorum is gained.
    pub quorum_up: Option<Box<Command>>,
    /// `quorum_down CMD`: run when the quorum is lost.
    pub quorum_down: Option<Box<Command>>,
    /// `alpha`: real servers start down until checked; default false.
    pub alpha: bool,
    /// `omega`: run quorum/down notifiers at shutdown; default false.
    pub omega: bool,
    /// `ha_suspend`: no checks while the VIP is absent; default false.
    pub ha_suspend: bool,
    /// `smtp_alert [BOOL]`; `None` = the global default (off).
    pub smtp_alert: Option<bool>,
    /// `real_server ...` entries, in order.
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    /// A virtual server with keepalived 2.2.7's defaults (delay_loop 60 s, wlc,
    /// NAT, TCP, quorum 1) and no real servers.
    pub fn new(key: VsKey) -> Self {
        VirtualServer {
            key,
            group: None,
            delay_loop: Duration::from_secs(60),
            scheduler: Scheduler::Wlc,
            lb_kind: LbKind::Nat,
            protocol: Protocol::Tcp,
            persistence_timeout: None,
            persistence_granularity: None,
            sorry_server: None,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            alpha: false,
            omega: false,
            ha_suspend: false,
            smtp_alert: None,
            real_servers: Vec::new(),
        }
    }
}

impl RealServer {
    /// `real_server ADDR PORT` with keepalived 2.2.7's defaults (weight 1,
    /// no thresholds, scripts or checkers); `lb_kind` is NAT until the
    /// virtual server's is known.
    pub fn new(addr: IpAddr, port: u16) -> Self {
        RealServer {
            addr,
            port,
            weight: 1,
            lb_kind: LbKind::Nat,
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            uthreshold: 0,
            lthreshold: 0,
            smtp_alert: None,
            checkers: Vec::new(),
        }
    }
}

/// How the service is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VsKey {
    /// `virtual_server ADDR PORT`.
    Addr {
        /// Virtual address.
        addr: IpAddr,
        /// Virtual port (0 only for persistent services).
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
}

/// `sorry_server ADDR PORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorryServer {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// `sorry_server_inhibit`: weight 0 instead of removal; default false.
    pub inhibit: bool,
    /// `sorry_server_lvs_method`; default the virtual server's.
    pub lb_kind: Option<LbKind>,
}

/// A backend of a virtual server. Checker defaults (timeouts, retries,
/// virtualhost) given here or on the virtual server are already resolved into
/// each checker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealServer {
    /// Address.
    pub addr: IpAddr,
    /// Port (0 = the virtual port for fwmark services).
    pub port: u16,
    /// `weight N`: IPVS weight; default 1.
    pub weight: u32,
    /// `lb_kind` / `lvs_method`; default the virtual server's.
    pub lb_kind: LbKind,
    /// `inhibit_on_failure [BOOL]`: set weight 0 instead of removing it;
    /// default the virtual server's (false).
    pub inhibit_on_failure: bool,
    /// `notify_up CMD`.
    pub notify_up: Option<Box<Command>>,
    /// `notify_down CMD`.
    pub notify_down: Option<Box<Command>>,
    /// `uthreshold N`: max connections, 0 = none; default 0.
    pub uthreshold: u32,
    /// `lthreshold N`: min connections; default 0.
    pub lthreshold: u32,
    /// `smtp_alert [BOOL]`; `None` = the global default (on).
    pub smtp_alert: Option<bool>,
    /// Health checkers; none = always up.
    pub checkers: Vec<Checker>,
}

/// IPVS scheduler (`lb_algo` / `lvs_sched`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheduler {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connection.
    Lc,
    /// Weighted least connection (the default).
    Wlc,
    /// Locality-based least connection.
    Lblc,
    /// Locality-based least connection with replication.
    Lblcr,
    /// Destination hashing.
    Dh,
    /// Source hashing.
    Sh,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Maglev hashing.
    Mh,
}

impl Scheduler {
    /// Every scheduler, for lookups by name.
    pub const ALL: [Scheduler; 13] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Lblcr,
        Scheduler::Dh,
        Scheduler::Sh,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Mh,
    ];

    /// The kernel module suffix, as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Dh => "dh",
            Scheduler::Sh => "sh",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Mh => "mh",
        }
    }
}

/// IPVS forwarding method (`lb_kind` / `lvs_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LbKind {
    /// Masquerading (the default).
    Nat,
    /// Direct routing (LVS-DR).
    Dr,
    /// IP-in-IP tunnelling.
    Tun,
}

impl LbKind {
    /// The keyword as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            LbKind::Nat => "NAT",
            LbKind::Dr => "DR",
            LbKind::Tun => "TUN",
        }
    }
}

/// `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The keyword as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}
