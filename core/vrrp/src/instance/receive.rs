//! Receiving an advert: the checks, then RFC 5798 6.4.2 (BACKUP) and 6.4.3
//! (MASTER) with keepalived's preempt_delay and owner-conflict handling.

use alloc::collections::VecDeque;

use vigil_wire::vrrp::{Repr, Version};

use super::{Instance, RxOutcome, PRIORITY_OWNER};
use crate::action::Action;
use crate::rx::{check_advert, RxMeta};
use crate::state::{Reason, State};
use crate::time::Instant;
use crate::timer::Timer;
use crate::timing::centis_to_us;

impl Instance {
    /// Process a received advert (already matched to this instance) that
    /// arrived at `at` (<= `now`): a BACKUP restarts its timers from `at`.
    /// `ah` is the sequence number when it came in a verified AH datagram.
    pub(crate) fn receive(
        &mut self,
        now: Instant,
        at: Instant,
        meta: &RxMeta<'_>,
        repr: &Repr,
        ah: Option<u32>,
        out: &mut VecDeque<Action>,
    ) -> RxOutcome {
        let check_addrs = match self.state {
            State::Backup => !self.cfg.skip_check_adv_addr || self.master_addr != Some(meta.src),
            State::Master => true,
            State::Init | State::Fault => return RxOutcome::Ignored,
        };
        let ah_check = ah.map(|seq| (seq, &mut self.ah_seq));
        if let Err(reason) = check_advert(&self.cfg, meta, repr, check_addrs, ah_check) {
            self.counters.count_drop(reason);
            return RxOutcome::Dropped(reason);
        }
        self.counters.adverts_received += 1;
        if repr.priority == 0 {
            self.counters.priority_zero_received += 1;
        }
        if self.state == State::Backup {
            self.receive_backup(at, meta, repr);
            RxOutcome::Accepted
        } else {
            self.receive_master(now, meta, repr, ah, out)
        }
    }

    /// RFC 5798 6.4.2 with keepalived's preempt_delay.
    ///
    /// preempt_delay (keepalived 2.2.7): the delay starts when a BACKUP first
    /// hears a master of lower priority than its own. Until it ends, such
    /// adverts are accepted like a legitimate master's (the down timer is
    /// reset); afterwards they are ignored, so the down timer runs out and we
    /// take over one Master_Down_Interval after the last accepted advert. An
    /// advert of higher or equal priority cancels the delay. `now` is when the
    /// advert arrived.
    fn receive_backup(&mut self, now: Instant, meta: &RxMeta<'_>, repr: &Repr) {
        if repr.priority == 0 {
            // The master is leaving: take over after Skew_Time only.
            self.timers
                .set(Timer::Main, now.plus_micros(self.skew_us()));
            return;
        }
        let delaying =
            !self.cfg.preempt_delay.is_zero() && self.preempt_until.is_none_or(|t| t > now);
        if self.cfg.nopreempt || repr.priority >= self.priority || delaying {
            if self.cfg.version == Version::V3 {
                // RFC 5798: Master_Adver_Interval is the master's interval.
                self.master_adver_us = centis_to_us(repr.adver_int_cs);
            }
            self.master_addr = Some(meta.src);
            self.master_priority = Some(repr.priority);
            if !self.cfg.preempt_delay.is_zero() {
                if repr.priority >= self.priority {
                    self.preempt_until = None;
                } else if self.preempt_until.is_none() {
                    self.preempt_until = Some(now + self.cfg.preempt_delay);
                }
            }
            self.want = State::Backup;
            self.timers
                .set(Timer::Main, now.plus_micros(self.down_us()));
        } else {
            // Lower priority and we may preempt: ignore it and let the down
            // timer (started by the last accepted advert) run out.
            self.master_addr = Some(meta.src);
            self.master_priority = Some(repr.priority);
        }
    }

    /// RFC 5798 6.4.3 / RFC 9568: a master hearing a lower priority (or
    /// priority 0) re-advertises at once; one hearing a higher priority, or
    /// an equal one from a higher address, becomes BACKUP.
    ///
    /// Unlike keepalived, a dropped packet does not restart the Adver_Timer
    /// (keepalived reschedules on any packet for the VRID, so a stream of
    /// junk could delay its adverts); only an advert we send does.
    fn receive_master(
        &mut self,
        now: Instant,
        meta: &RxMeta<'_>,
        repr: &Repr,
        ah: Option<u32>,
        out: &mut VecDeque<Action>,
    ) -> RxOutcome {
        if repr.priority == 0 {
            self.advertise(now, out);
            return RxOutcome::Accepted;
        }
        let ours = self.src;
        if repr.priority == self.priority
            && Some(meta.src) != ours
            && self.priority == PRIORITY_OWNER
        {
            log::warn!(
                "({}) another router claims to be the address owner; lowering our priority to 254",
                self.cfg.name
            );
            self.base_priority = PRIORITY_OWNER - 1;
            self.priority = PRIORITY_OWNER - 1;
        }
        // A missing own address compares lowest.
        let theirs_higher = ours.is_none_or(|a| meta.src > a);
        if repr.priority < self.priority || (repr.priority == self.priority && !theirs_higher) {
            if let Some(seq) = ah {
                // keepalived's "Syncing seq_num": go above the other master,
                // so that it accepts the advert we send next and yields.
                self.ah_seq.sync_above(seq);
            }
            if Some(meta.src) != ours {
                self.counters.lower_priority_received += 1;
                // Strict mode forces keepalived's lower_prio_no_advert.
                if !self.cfg.strict {
                    self.advertise(now, out);
                }
            }
            return RxOutcome::Accepted;
        }
        if self.cfg.version == Version::V3 {
            self.master_adver_us = centis_to_us(repr.adver_int_cs);
        }
        self.master_addr = Some(meta.src);
        self.master_priority = Some(repr.priority);
        self.leave_master(now, State::Backup, Reason::HigherPriority, out);
        self.master_addr = Some(meta.src);
        RxOutcome::SteppedDown
    }
}
