//! The receive path of `auth_type AH`: an IPv4 datagram of protocol 51
//! (IP header | AH | VRRPv2), checked as keepalived 2.2.7 checks it.
//!
//! Order (keepalived's `vrrp_check_packet`): the instance by VRID, an AH
//! datagram only for an AH instance (else an auth type mismatch), the ICV
//! under the instance's key (it covers the IP header, so nothing in the
//! packet is believed before it verifies), the SPI (the source address), the
//! VRRP message, then the sequence number inside the usual advert checks
//! ([`crate::rx::check_advert`]). Each refusal has its own drop counter; AH
//! refusals are also logged, at most one line per instance every
//! [`LOG_EVERY_US`], since a peer with the wrong `auth_pass` sends one a second.

use vigil_wire::ah::{self, Refusal, AH_LEN};
use vigil_wire::vrrp::{Auth, Packet, Repr, Version};

use crate::counters::DropReason;
use crate::instance::RxOutcome;
use crate::router::{Phase, Router};
use crate::rx::RxMeta;
use crate::time::Instant;

/// Least time between two AH drop log lines of one instance.
pub const LOG_EVERY_US: u64 = 10_000_000;

/// Rate limit of an instance's AH drop log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AhLog {
    last: Option<Instant>,
    /// Drops not logged since the last line.
    quiet: u64,
}

impl AhLog {
    /// True if a drop at `now` may be logged; `quiet` then says how many
    /// were not.
    fn allow(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last
            .is_none_or(|t| now.as_micros().saturating_sub(t.as_micros()) >= LOG_EVERY_US);
        if due {
            self.last = Some(now);
            Some(core::mem::take(&mut self.quiet))
        } else {
            self.quiet = self.quiet.saturating_add(1);
            None
        }
    }
}

impl Router {
    /// An IPv4 datagram of protocol 51 arrived (header included, cut at its
    /// Total Length). Same as [`handle_ah_packet_at`](Router::handle_ah_packet_at)
    /// with `at = now`.
    pub fn handle_ah_packet(&mut self, now: Instant, meta: &RxMeta<'_>, datagram: &[u8]) {
        self.handle_ah_packet_at(now, now, meta, datagram);
    }

    /// [`handle_ah_packet`](Router::handle_ah_packet) for a datagram that
    /// arrived at `at`. `meta.src`/`meta.dst` are the addresses of its IP
    /// header.
    pub fn handle_ah_packet_at(
        &mut self,
        now: Instant,
        at: Instant,
        meta: &RxMeta<'_>,
        datagram: &[u8],
    ) {
        if self.phase != Phase::Running {
            return;
        }
        let now = self.clock(now);
        let at = at.min(now);
        let ihl = datagram.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
        // The VRID is the second byte of the VRRP message after the AH.
        let Some(&vrid) = datagram.get(ihl + AH_LEN + 1) else {
            self.global.count_drop(DropReason::Length);
            return;
        };
        let Some(i) = self.receiver(meta, vrid) else {
            return;
        };
        let Some(inst) = self.instances.get_mut(i) else {
            return;
        };
        let key = match inst.cfg.auth {
            Auth::Ah(key) if inst.cfg.version == Version::V2 => key,
            // keepalived: "Received AH header but auth type not AH".
            _ => return self.ah_drop(now, i, meta, DropReason::AuthType),
        };
        let unicast = !inst.cfg.unicast_peers.is_empty();
        let (header, vrrp_at) = match ah::open(datagram, &key, unicast) {
            Ok(x) => x,
            Err(Refusal::BadIcv) => return self.ah_drop(now, i, meta, DropReason::AhIcv),
            Err(Refusal::BadSpi) => return self.ah_drop(now, i, meta, DropReason::AhSpi),
            Err(Refusal::Malformed(e)) => {
                return self.ah_drop(now, i, meta, DropReason::from_wire(e))
            }
        };
        let payload = datagram.get(vrrp_at..).unwrap_or_default();
        let parsed = Packet::new_checked(payload).and_then(|p| Repr::parse(&p, meta.src, meta.dst));
        match parsed {
            Ok(repr) => {
                let outcome = self.deliver(now, at, i, meta, &repr, Some(header.seq));
                if outcome == RxOutcome::Dropped(DropReason::AhReplay) {
                    self.ah_log(now, i, meta, DropReason::AhReplay, Some(header.seq));
                }
            }
            Err(e) => self.ah_drop(now, i, meta, DropReason::from_wire(e)),
        }
    }

    /// Counts an AH refusal on instance `i` and logs it (rate limited).
    fn ah_drop(&mut self, now: Instant, i: usize, meta: &RxMeta<'_>, reason: DropReason) {
        self.count_drop_on(i, reason);
        self.ah_log(now, i, meta, reason, None);
    }

    fn ah_log(
        &mut self,
        now: Instant,
        i: usize,
        meta: &RxMeta<'_>,
        reason: DropReason,
        seq: Option<u32>,
    ) {
        let Some(inst) = self.instances.get_mut(i) else {
            return;
        };
        let Some(quiet) = inst.ah_log.allow(now) else {
            return;
        };
        let last = inst.ah_seq.last;
        let name = &inst.cfg.name;
        let more = if quiet > 0 {
            alloc::format!(" ({quiet} more AH drops not logged)")
        } else {
            alloc::string::String::new()
        };
        match seq {
            Some(seq) => log::warn!(
                "({name}) IPSEC-AH: dropped an advert from {}: {reason}: {seq}, ours {last}{more}",
                meta.src
            ),
            None => log::warn!(
                "({name}) IPSEC-AH: dropped an advert from {}: {reason}{more}",
                meta.src
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_rate_limited() {
        let mut l = AhLog::default();
        let t = |s: u64| Instant::from_micros(s * 1_000_000);
        assert_eq!(l.allow(t(0)), Some(0));
        assert_eq!(l.allow(t(1)), None);
        assert_eq!(l.allow(t(9)), None);
        assert_eq!(l.allow(t(10)), Some(2));
        assert_eq!(l.allow(t(11)), None);
        assert_eq!(l.allow(t(25)), Some(1));
    }
}
