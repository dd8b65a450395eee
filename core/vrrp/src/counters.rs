//! Per-instance statistics, including one drop counter per reason.

use core::fmt;

use vigil_wire::Error as WireError;

/// Why a received advertisement was discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// TTL / hop limit not 255 (multicast, or unicast with the check enabled).
    Ttl,
    /// VRRP version differs from the instance's, or is unknown.
    Version,
    /// Not an ADVERTISEMENT.
    Type,
    /// No instance on this interface has the VRID (global counter only).
    UnknownVrid,
    /// Truncated, or a length/count field disagrees with the packet.
    Length,
    Checksum,
    /// v2 authentication type differs from ours, or is unsupported.
    AuthType,
    /// v2 simple password differs.
    AuthPassword,
    /// v2 advert interval differs from ours (v3 adopts the master's instead).
    Interval,
    /// The advertised addresses differ from ours.
    AddressList,
    /// Unicast source not in `unicast_peer` (`check_unicast_src`).
    UnicastSource,
    /// Source, destination or addresses of the other family.
    Family,
    /// Unicast advert on a multicast instance, or the reverse, or another group.
    Destination,
    /// Any other malformation the wire parser reports.
    Malformed,
    /// `auth_type AH`: the ICV (HMAC-MD5-96) does not verify: another
    /// `auth_pass`, or the packet was altered.
    AhIcv,
    /// `auth_type AH`: the SPI is not the sender's address.
    AhSpi,
    /// `auth_type AH`: the sequence number is not above the last one seen
    /// or sent (a replay, as keepalived judges it).
    AhReplay,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 17] = [
        DropReason::Ttl,
        DropReason::Version,
        DropReason::Type,
        DropReason::UnknownVrid,
        DropReason::Length,
        DropReason::Checksum,
        DropReason::AuthType,
        DropReason::AuthPassword,
        DropReason::Interval,
        DropReason::AddressList,
        DropReason::UnicastSource,
        DropReason::Family,
        DropReason::Destination,
        DropReason::Malformed,
        DropReason::AhIcv,
        DropReason::AhSpi,
        DropReason::AhReplay,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The drop reason for a wire parser error.
    pub fn from_wire(e: WireError) -> DropReason {
        match e {
            WireError::Truncated | WireError::BadLength => DropReason::Length,
            WireError::BadVersion => DropReason::Version,
            WireError::BadType => DropReason::Type,
            WireError::BadChecksum => DropReason::Checksum,
            WireError::UnsupportedAuth | WireError::BadAuthType => DropReason::AuthType,
            WireError::BadIpHeader | WireError::WrongProtocol | WireError::Malformed => {
                DropReason::Malformed
            }
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::Ttl => "TTL/hop limit is not 255",
            DropReason::Version => "version mismatch",
            DropReason::Type => "not an advertisement",
            DropReason::UnknownVrid => "unknown VRID",
            DropReason::Length => "bad length",
            DropReason::Checksum => "bad checksum",
            DropReason::AuthType => "authentication type mismatch",
            DropReason::AuthPassword => "authentication password mismatch",
            DropReason::Interval => "advertisement interval mismatch",
            DropReason::AddressList => "virtual address list mismatch",
            DropReason::UnicastSource => "unicast source not a configured peer",
            DropReason::Family => "address family mismatch",
            DropReason::Destination => "unexpected destination (unicast/multicast)",
            DropReason::Malformed => "malformed packet",
            DropReason::AhIcv => "AH ICV (HMAC-MD5-96) mismatch: bad auth_pass or altered packet",
            DropReason::AhSpi => "AH SPI is not the source address",
            DropReason::AhReplay => "AH sequence number already seen (replay)",
        })
    }
}

/// Statistics of one instance (or, for `Router::global_counters`, of
/// packets that matched no instance: only `drops` is used there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Adverts sent (one per advertisement event, whatever the peer count).
    pub adverts_sent: u64,
    /// Valid adverts received.
    pub adverts_received: u64,
    pub became_master: u64,
    pub released_master: u64,
    pub priority_zero_received: u64,
    pub priority_zero_sent: u64,
    /// Adverts of lower priority heard as MASTER (keepalived's
    /// `notify_master_rx_lower_pri` event).
    pub lower_priority_received: u64,
    drops: [u64; DropReason::ALL.len()],
}

impl Counters {
    /// Adverts discarded for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops.get(reason.index()).copied().unwrap_or(0)
    }

    /// Adverts discarded for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.drops.iter().sum()
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        if let Some(c) = self.drops.get_mut(reason.index()) {
            *c = c.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_its_own_counter() {
        let mut c = Counters::default();
        for (n, r) in DropReason::ALL.iter().enumerate() {
            for _ in 0..=n {
                c.count_drop(*r);
            }
        }
        for (n, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(c.dropped(*r), n as u64 + 1, "{r}");
        }
        assert_eq!(c.dropped_total(), (1..=17).sum::<u64>());
    }
}
