//! The router's receive path: find the instance by (interface, VRID, family)
//! in a table built once per configuration (not by a scan of every instance
//! per packet), parse, and hand the advert over with the time it arrived.
//!
//! Receive time: a shell that wakes up late (CPU pressure) reads the adverts
//! queued on its sockets before it fires timers, and passes each one's kernel
//! receive time as `at`. An advert that arrived before the Master_Down
//! deadline then counts, and restarts the timer from when it arrived, even if
//! it is processed after the deadline.

use alloc::collections::BTreeMap;

use vigil_wire::vrrp::{Packet, Repr};

use crate::config::Family;
use crate::counters::DropReason;
use crate::id::InstanceId;
use crate::instance::RxOutcome;
use crate::router::{Phase, Router};
use crate::rx::RxMeta;
use crate::time::Instant;

/// Instances by (link index, VRID): the IPv4 one and the IPv6 one. The
/// validator refuses two instances with one VRID on one link and family.
#[derive(Debug, Clone, Default)]
pub(crate) struct VridTable {
    map: BTreeMap<(usize, u8), [Option<usize>; 2]>,
}

fn slot(f: Family) -> usize {
    match f {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

impl VridTable {
    pub(crate) fn build(entries: impl Iterator<Item = (usize, u8, Family)>) -> VridTable {
        let mut map: BTreeMap<(usize, u8), [Option<usize>; 2]> = BTreeMap::new();
        for (n, (link, vrid, family)) in entries.enumerate() {
            let e = map.entry((link, vrid)).or_default();
            // First one wins, as the scan it replaces did.
            if let Some(s) = e.get_mut(slot(family)) {
                s.get_or_insert(n);
            }
        }
        VridTable { map }
    }

    /// `Ok` for the instance of `family`, `Err` for one of the other family.
    fn get(&self, link: usize, vrid: u8, family: Family) -> Option<Result<usize, usize>> {
        let e = self.map.get(&(link, vrid))?;
        let other = match family {
            Family::V4 => Family::V6,
            Family::V6 => Family::V4,
        };
        match (
            e.get(slot(family)).copied().flatten(),
            e.get(slot(other)).copied().flatten(),
        ) {
            (Some(n), _) => Some(Ok(n)),
            (None, Some(n)) => Some(Err(n)),
            (None, None) => None,
        }
    }
}

impl Router {
    /// Rebuilds the VRID table and the timer index after the instance set
    /// changed (construction, reload).
    pub(crate) fn rebuild_tables(&mut self) {
        self.by_vrid = VridTable::build(
            self.instances
                .iter()
                .map(|i| (i.link, i.cfg.vrid, i.cfg.family)),
        );
        self.reindex_all();
    }

    /// A VRRP packet arrived: `payload` is the VRRP message (the IP payload,
    /// cut at the IP length). Parse errors are counted on the instance the
    /// VRID byte points to, else globally; a valid advert goes on to
    /// [`handle_advert`](Router::handle_advert). Same as
    /// [`handle_packet_at`](Router::handle_packet_at) with `at = now`.
    pub fn handle_packet(&mut self, now: Instant, meta: &RxMeta<'_>, payload: &[u8]) {
        self.handle_packet_at(now, now, meta, payload);
    }

    /// [`handle_packet`](Router::handle_packet) for a packet that arrived at
    /// `at` (its receive timestamp, at or before `now`): timers it restarts
    /// run from `at`. Feed every queued packet before calling
    /// [`handle_timeout`](Router::handle_timeout) so a late wake-up does not
    /// declare a master down whose adverts are waiting to be read.
    pub fn handle_packet_at(
        &mut self,
        now: Instant,
        at: Instant,
        meta: &RxMeta<'_>,
        payload: &[u8],
    ) {
        if self.phase != Phase::Running {
            return;
        }
        let parsed = Packet::new_checked(payload).and_then(|p| Repr::parse(&p, meta.src, meta.dst));
        match parsed {
            Ok(repr) => self.handle_advert_at(now, at, meta, &repr),
            Err(e) => {
                let reason = DropReason::from_wire(e);
                // The VRID is the second byte in both versions.
                match payload.get(1).and_then(|vrid| self.lookup(meta, *vrid)) {
                    Some(Ok(i)) | Some(Err(i)) => self.count_drop_on(i, reason),
                    None => self.global.count_drop(reason),
                }
            }
        }
    }

    /// Find the instance for `vrid` on the packet's interface: `Ok` when the
    /// family matches, `Err` for an instance of the other family.
    pub(crate) fn lookup(&self, meta: &RxMeta<'_>, vrid: u8) -> Option<Result<usize, usize>> {
        let link = self.links.iter().position(|l| l.name == meta.interface)?;
        self.by_vrid.get(link, vrid, Family::of(&meta.src))
    }

    /// The instance an advert for `vrid` is for; `None` (counted) when no
    /// instance has it on this interface, or one has it in the other family.
    pub(crate) fn receiver(&mut self, meta: &RxMeta<'_>, vrid: u8) -> Option<usize> {
        match self.lookup(meta, vrid) {
            Some(Ok(i)) => Some(i),
            Some(Err(i)) => {
                self.count_drop_on(i, DropReason::Family);
                None
            }
            None => {
                self.global.count_drop(DropReason::UnknownVrid);
                None
            }
        }
    }

    /// Counts a dropped packet on instance `i`.
    pub(crate) fn count_drop_on(&mut self, i: usize, reason: DropReason) {
        if let Some(inst) = self.instances.get_mut(i) {
            inst.count_drop(reason);
        }
    }

    /// A parsed advertisement arrived (the byte-level path ends here too).
    pub fn handle_advert(&mut self, now: Instant, meta: &RxMeta<'_>, repr: &Repr) {
        self.handle_advert_at(now, now, meta, repr);
    }

    /// [`handle_advert`](Router::handle_advert) for an advert received at `at`.
    pub fn handle_advert_at(&mut self, now: Instant, at: Instant, meta: &RxMeta<'_>, repr: &Repr) {
        if self.phase != Phase::Running {
            return;
        }
        let now = self.clock(now);
        let at = at.min(now);
        let Some(i) = self.receiver(meta, repr.vrid) else {
            return;
        };
        let _ = self.deliver(now, at, i, meta, repr, None);
    }

    /// Hands a matched advert to instance `i` (`ah`: its verified AH
    /// sequence number) and follows up on what it did.
    pub(crate) fn deliver(
        &mut self,
        now: Instant,
        at: Instant,
        i: usize,
        meta: &RxMeta<'_>,
        repr: &Repr,
        ah: Option<u32>,
    ) -> RxOutcome {
        let Some(inst) = self.instances.get_mut(i) else {
            return RxOutcome::Ignored;
        };
        let outcome = inst.receive(now, at, meta, repr, ah, &mut self.actions);
        if outcome == RxOutcome::SteppedDown {
            self.sync_backup(now, InstanceId(i));
            self.reindex_all();
        } else {
            self.reindex(i);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_finds_by_link_vrid_and_family() {
        let t = VridTable::build(
            [
                (0, 51, Family::V4),
                (0, 51, Family::V6),
                (1, 51, Family::V4),
                (0, 52, Family::V6),
            ]
            .into_iter(),
        );
        assert_eq!(t.get(0, 51, Family::V4), Some(Ok(0)));
        assert_eq!(t.get(0, 51, Family::V6), Some(Ok(1)));
        assert_eq!(t.get(1, 51, Family::V4), Some(Ok(2)));
        assert_eq!(t.get(1, 51, Family::V6), Some(Err(2)));
        assert_eq!(t.get(0, 52, Family::V4), Some(Err(3)));
        assert_eq!(t.get(0, 53, Family::V4), None);
        assert_eq!(t.get(2, 51, Family::V4), None);
    }
}
