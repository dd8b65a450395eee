//! IPVS over generic netlink: family lookup ([`family`]), the attribute
//! codec ([`attr`], [`encode`], [`decode`], [`batch`]), the client ([`Ipvs`]) and its
//! errors ([`error`]).
//!
//! The codec works on plain bytes so every request and reply can be tested
//! against bytes written from the uapi header; neli only provides the socket
//! (its router thread is not used: the calls are synchronous, like the
//! rtnetlink ones, and bounded by a receive timeout).

pub mod attr;
pub mod batch;
mod client;
pub mod daemon;
pub mod decode;
pub mod describe;
pub mod encode;
pub mod error;
pub mod family;
pub mod uapi;

pub use client::Ipvs;
pub use daemon::{SyncConfig, SyncRole};
pub use error::{DecodeError, IpvsError, Op};
use vigil_lvs::{Destination, Service};

/// GET_INFO: the IPVS version and the connection table size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// 0x010201 is 1.2.1.
    pub version: u32,
    /// CONN_TAB_SIZE, ipvsadm's `size=`.
    pub conn_tab_size: u32,
}

impl Info {
    /// `major.minor.patch`.
    pub fn version_string(&self) -> String {
        let v = self.version;
        format!("{}.{}.{}", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)
    }
}

/// Connection timeouts in seconds (SET_CONFIG: 0 leaves one unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// Established TCP.
    pub tcp: u32,
    /// TCP after FIN.
    pub tcp_fin: u32,
    pub udp: u32,
}

/// Counters and rates of a service or destination (STATS64, or STATS on
/// kernels without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// A destination as dumped, with its connection counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestEntry {
    pub dest: Destination,
    pub active_conns: u32,
    pub inact_conns: u32,
    pub persist_conns: u32,
    pub stats: Stats,
}

/// A service as dumped (HASHED masked out), with its destinations in the
/// kernel's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    pub service: Service,
    pub stats: Stats,
    pub dests: Vec<DestEntry>,
}
