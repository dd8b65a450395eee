//! no_accept enforced as keepalived 2.2.7 does (vrrp_nftables.c): while a
//! non-owner instance without `accept` holds its VIPs, traffic to and from
//! them is dropped. vigil speaks nf_tables over netlink (NETLINK_NETFILTER)
//! itself, in a table of its own, `inet keepalived` (`nftables TABLE`,
//! `nftables_priority`, `nftables_counters`: [`Table`]), made at start and
//! removed at stop:
//!
//! ```text
//! table inet keepalived {
//!     set vips4 { type ipv4_addr; }   set vips6 { type ipv6_addr; }
//!     chain in  { type filter hook input priority -1; policy accept;
//!         icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
//!         ip daddr @vips4 drop
//!         ip6 daddr @vips6 drop }
//!     chain out { type filter hook output priority -1; policy accept;
//!         (the same ND exception)  ip saddr @vips4 drop  ip6 saddr @vips6 drop }
//! }
//! ```
//!
//! Messages are built by pure functions (tested byte for byte) and sent as
//! one batch per change, each message acknowledged.

use std::io;
use std::net::IpAddr;

use nix::libc;
use socket2::{Domain, Protocol, Socket, Type};

/// The table vigil makes (family inet), as `global_defs` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// `nftables TABLE`; keepalived's default `keepalived`.
    pub name: String,
    /// The base chains' priority (`nftables_priority`, default -1).
    pub priority: i32,
    /// `nftables_counters`: a counter in every rule.
    pub counters: bool,
}

impl Table {
    pub fn of(s: &vigil_model::NftSettings) -> Table {
        Table {
            name: s.table.clone(),
            priority: s.priority,
            counters: s.counters,
        }
    }
}

impl Default for Table {
    fn default() -> Table {
        Table::of(&vigil_model::NftSettings::default())
    }
}

mod msg;

pub use msg::{create_table, delete_table, probe_batch, set_elements, Batch};

/// What went wrong talking to nf_tables, as one line.
#[derive(Debug)]
pub enum NftError {
    /// No NETLINK_NETFILTER socket (no nfnetlink in this kernel).
    Socket(io::Error),
    Io(io::Error),
    /// The kernel refused a message (errno), e.g. EOPNOTSUPP without nf_tables.
    Refused(i32),
    /// No answer for every message.
    NoAck,
}

impl std::fmt::Display for NftError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NftError::Socket(e) => write!(f, "no nfnetlink in this kernel ({e})"),
            NftError::Io(e) => write!(f, "nf_tables netlink: {e}"),
            NftError::Refused(errno) => write!(
                f,
                "nf_tables refused the request: {}",
                io::Error::from_raw_os_error(*errno)
            ),
            NftError::NoAck => write!(f, "nf_tables did not acknowledge the request"),
        }
    }
}

/// The errors of the acks in a reply (`NLMSG_ERROR` with a non-zero code).
pub fn ack_errors(reply: &[u8]) -> (Vec<u32>, Vec<i32>) {
    let (mut seqs, mut errs) = (Vec::new(), Vec::new());
    let mut rest = reply;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let ty = u16::from_ne_bytes([rest[4], rest[5]]);
        let seq = u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if len < 16 || len > rest.len() {
            break;
        }
        if ty == libc::NLMSG_ERROR as u16 && len >= 20 {
            let code = i32::from_ne_bytes([rest[16], rest[17], rest[18], rest[19]]);
            seqs.push(seq);
            if code != 0 {
                errs.push(-code);
            }
        }
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    (seqs, errs)
}

/// A NETLINK_NETFILTER socket for vigil's table.
pub struct Nft {
    sock: Socket,
    seq: u32,
    table: Table,
}

impl Nft {
    pub fn open(table: Table) -> Result<Nft, NftError> {
        let sock = Socket::new(
            Domain::from(libc::AF_NETLINK),
            Type::DGRAM,
            Some(Protocol::from(libc::NETLINK_NETFILTER)),
        )
        .map_err(NftError::Socket)?;
        sock.set_cloexec(true).map_err(NftError::Io)?;
        sock.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .map_err(NftError::Io)?;
        Ok(Nft {
            sock,
            seq: 1,
            table,
        })
    }

    /// Sends a batch and waits for an ack of each message.
    fn run(&mut self, b: Batch) -> Result<(), NftError> {
        self.seq = b.seq;
        self.sock.send(b.bytes()).map_err(NftError::Io)?;
        let mut pending = b.acked.clone();
        let mut buf = vec![0u8; 16 * 1024];
        let mut first_err = None;
        while !pending.is_empty() {
            use std::io::Read;
            let mut r: &Socket = &self.sock;
            let n = match r.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(NftError::NoAck),
                Err(e) => return Err(NftError::Io(e)),
            };
            let (seqs, errs) = ack_errors(&buf[..n]);
            if seqs.is_empty() {
                continue;
            }
            pending.retain(|s| !seqs.contains(s));
            first_err = first_err.or(errs.first().copied());
            // A refused batch is acked for the failing message only.
            if first_err.is_some() {
                break;
            }
        }
        match first_err {
            Some(e) => Err(NftError::Refused(e)),
            None => Ok(()),
        }
    }

    /// Removes a leftover table (a crash), then makes ours.
    pub fn setup(&mut self) -> Result<(), NftError> {
        let _ = self.run(delete_table(self.seq, &self.table));
        self.run(create_table(self.seq, &self.table))
    }

    pub fn set_vips(&mut self, add: bool, addrs: &[IpAddr]) -> Result<(), NftError> {
        if addrs.is_empty() {
            return Ok(());
        }
        self.run(set_elements(self.seq, &self.table, add, addrs))
    }

    /// Whether this kernel (and our privileges) let us make the table.
    pub fn probe(&mut self) -> Result<(), NftError> {
        self.run(probe_batch(self.seq))
    }

    pub fn teardown(&mut self) -> Result<(), NftError> {
        self.run(delete_table(self.seq, &self.table))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_read() {
        let mut r = Vec::new();
        for (seq, code) in [(4u32, 0i32), (5, -95)] {
            r.extend_from_slice(&36u32.to_ne_bytes());
            r.extend_from_slice(&2u16.to_ne_bytes());
            r.extend_from_slice(&0u16.to_ne_bytes());
            r.extend_from_slice(&seq.to_ne_bytes());
            r.extend_from_slice(&0u32.to_ne_bytes());
            r.extend_from_slice(&code.to_ne_bytes());
            r.extend_from_slice(&[0; 16]);
        }
        assert_eq!(ack_errors(&r), (vec![4, 5], vec![95]));
        assert_eq!(ack_errors(&r[..20]), (vec![], vec![]));
    }
}
