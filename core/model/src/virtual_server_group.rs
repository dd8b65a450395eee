//! `virtual_server_group NAME { ... }`: several IPVS services that share one
//! virtual server's settings, real servers and quorum.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use serde::{Deserialize, Serialize};

/// A resolved group, copied into each `virtual_server group NAME` using it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VsGroup {
    /// The group's name.
    pub name: String,
    /// Entries in configuration order; never empty.
    pub entries: Vec<VsGroupEntry>,
}

/// An address family, where the configuration names one (`inet`/`inet6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IpFamily {
    /// `inet`.
    V4,
    /// `inet6`.
    V6,
}

/// One line of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VsGroupEntry {
    /// `ADDR PORT`, `ADDR-END PORT`, `ADDR-ADDR PORT` or `ADDR/MASK PORT`:
    /// one service per address from `first` to `last` (equal for a single
    /// address). For IPv6 only the last 16-bit group varies, as keepalived
    /// steps it.
    Range {
        /// First address.
        first: IpAddr,
        /// Last address, same family, not below `first`.
        last: IpAddr,
        /// Port; 0 = no port (persistent services).
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// The family given; `None` = the group's (IPv4 unless it only has
        /// IPv6 addresses).
        family: Option<IpFamily>,
    },
}

impl VsGroupEntry {
    /// The addresses of a range entry, in order (none for a fwmark).
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> {
        let (a, b) = match *self {
            VsGroupEntry::Range { first, last, .. } => (Some(first), Some(last)),
            VsGroupEntry::Fwmark { .. } => (None, None),
        };
        let mut next = a;
        core::iter::from_fn(move || {
            let cur = next?;
            next = match (cur, b?) {
                (c, l) if c == l => None,
                (IpAddr::V4(c), IpAddr::V4(_)) => {
                    u32::from(c).checked_add(1).map(|n| IpAddr::V4(n.into()))
                }
                (IpAddr::V6(c), IpAddr::V6(_)) => {
                    let mut g = c.segments();
                    g[7] = g[7].checked_add(1)?;
                    Some(IpAddr::V6(g.into()))
                }
                _ => None,
            };
            Some(cur)
        })
    }

    /// How many kernel services the entry stands for.
    pub fn len(&self) -> u64 {
        match *self {
            VsGroupEntry::Fwmark { .. } => 1,
            VsGroupEntry::Range { first, last, .. } => match (first, last) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    u64::from(u32::from(b)).saturating_sub(u64::from(u32::from(a))) + 1
                }
                (IpAddr::V6(a), IpAddr::V6(b)) => {
                    u64::from(b.segments()[7].saturating_sub(a.segments()[7])) + 1
                }
                _ => 0,
            },
        }
    }

    /// Always false: an entry stands for at least one service.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl VsGroup {
    /// True if the group has IPv4 addresses (keepalived's `have_ipv4`).
    pub fn has_v4(&self) -> bool {
        self.entries.iter().any(|e| match e {
            VsGroupEntry::Range { first, .. } => first.is_ipv4(),
            VsGroupEntry::Fwmark { family, .. } => *family == Some(IpFamily::V4),
        })
    }

    /// The family of a fwmark entry without one: IPv4 if the group has
    /// IPv4 addresses or no IPv6 ones, else IPv6.
    pub fn default_family(&self) -> IpFamily {
        let v6 = self.entries.iter().any(|e| match e {
            VsGroupEntry::Range { first, .. } => first.is_ipv6(),
            VsGroupEntry::Fwmark { family, .. } => *family == Some(IpFamily::V6),
        });
        if v6 && !self.has_v4() {
            IpFamily::V6
        } else {
            IpFamily::V4
        }
    }
}
