//! The Linux shell of vigil: sockets, netlink, processes and the event loop that
//! drives the sans-IO core crates (`vigil-config`, `vigil-wire`, `vigil-vrrp`).

pub mod cli;
pub mod control;
pub mod ipvsadm;
pub mod loader;
pub mod os;
pub mod runtime;
