//! Gratuitous ARP / unsolicited NA of a master: the bursts after taking
//! over, their chaining and the periodic refresh.

use crate::prelude::*;
use alloc::collections::VecDeque;
use core::net::IpAddr;

use super::Instance;
use crate::action::Action;
use crate::config::Family;
use crate::time::{micros, Instant};
use crate::timer::Timer;

impl Instance {
    /// The first gratuitous burst of freshly installed addresses, and the
    /// timers of the second burst and of the refreshes.
    pub(super) fn announce(&mut self, now: Instant, out: &mut VecDeque<Action>) {
        self.start_burst(self.cfg.garp.master_repeat, now, out);
        if !self.cfg.garp.master_delay.is_zero() {
            self.timers
                .set(Timer::GarpSecondBurst, now + self.cfg.garp.master_delay);
        }
        self.schedule_refresh(now);
        self.schedule_extra_if(now);
    }

    pub(super) fn schedule_refresh(&mut self, now: Instant) {
        if self.cfg.garp.master_refresh.is_zero() {
            self.timers.stop(Timer::GarpRefresh);
        } else {
            self.timers
                .set(Timer::GarpRefresh, now + self.cfg.garp.master_refresh);
        }
    }

    pub(super) fn stop_garp(&mut self) {
        self.garp_pending = 0;
        self.timers.stop(Timer::GarpStep);
        self.timers.stop(Timer::GarpSecondBurst);
        self.timers.stop(Timer::GarpRefresh);
        self.timers.stop(Timer::GarpExtraIf);
    }

    fn garp_addrs(&self) -> Vec<IpAddr> {
        let mut addrs = self.cfg.virtual_addresses.clone();
        addrs.extend_from_slice(&self.cfg.excluded_addresses);
        addrs
    }

    fn garp_interval_us(&self) -> u64 {
        micros(match self.cfg.family {
            Family::V4 => self.cfg.garp.garp_interval,
            Family::V6 => self.cfg.garp.gna_interval,
        })
    }

    /// Queue `packets` more burst steps; bursts that overlap are chained so
    /// that steps stay `vrrp_garp_interval` apart.
    pub(super) fn start_burst(&mut self, packets: u32, now: Instant, out: &mut VecDeque<Action>) {
        if packets == 0 || !self.vips_set || self.garp_addrs().is_empty() {
            return;
        }
        self.garp_pending = self.garp_pending.saturating_add(packets);
        if self.timers.get(Timer::GarpStep).is_none() {
            self.garp_step(now, out);
        }
    }

    pub(super) fn garp_step(&mut self, now: Instant, out: &mut VecDeque<Action>) {
        let interval = self.garp_interval_us();
        while self.garp_pending > 0 {
            self.garp_pending -= 1;
            if self.can_send {
                out.push_back(Action::SendGratuitous {
                    instance: self.id,
                    addrs: self.garp_addrs(),
                });
            }
            if self.garp_pending > 0 && interval > 0 {
                self.timers.set(Timer::GarpStep, now.plus_micros(interval));
                return;
            }
        }
    }
}
