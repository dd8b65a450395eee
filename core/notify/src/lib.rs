//! What vigil tells the outside world about state changes, as keepalived
//! 2.2.7 words it, with no I/O: the alert mails ([`mail`]: subject, body,
//! headers; [`smtp`]: the client side of the SMTP dialogue as a state
//! machine fed with the server's bytes), the notify FIFO lines ([`fifo`]),
//! and keepalived's names of virtual and real servers ([`names`]).
//!
//! The daemon owns the sockets, the FIFO file descriptors and the clock;
//! everything that decides *what* is written lives here and is tested
//! byte for byte.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod date;
pub mod fifo;
pub mod mail;
pub mod names;
pub mod smtp;

/// A VRRP state as notifications name it (`STOP` and `DELETED` included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpState {
    Master,
    Backup,
    Fault,
    Stop,
    /// Removed by a reload, with `notify_deleted`.
    Deleted,
}

impl VrrpState {
    /// `MASTER`, `BACKUP`, `FAULT`, `STOP`, `DELETED`.
    pub fn name(self) -> &'static str {
        match self {
            VrrpState::Master => "MASTER",
            VrrpState::Backup => "BACKUP",
            VrrpState::Fault => "FAULT",
            VrrpState::Stop => "STOP",
            VrrpState::Deleted => "DELETED",
        }
    }
}
