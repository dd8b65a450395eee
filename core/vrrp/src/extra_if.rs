//! `garp_extra_if SECS [all]` (keepalived 2.2.7's `vmac_garp_intvl`): while
//! MASTER, every SECS one gratuitous ARP / unsolicited NA per "extra"
//! interface, one whose VIPs do not go out with the adverts (a
//! `use_vmac_addr` VMAC, with `all` any other `dev`, and then the own VMAC
//! under `vmac_xmit_base`), so that switches keep learning those MACs. The shell
//! chooses the addresses (one per interface, in `GarpConfig`); the first
//! announcement comes one period after becoming master (the takeover's
//! bursts cover all addresses). keepalived checks its timer when it sends
//! an advert, so its period is rounded up to the advert interval; here it
//! is a timer of its own.

use alloc::collections::VecDeque;

use crate::action::Action;
use crate::instance::Instance;
use crate::state::State;
use crate::time::Instant;
use crate::timer::Timer;

impl Instance {
    /// Starts (or, with no period or no address, stops) the timer.
    pub(crate) fn schedule_extra_if(&mut self, now: Instant) {
        let g = &self.cfg.garp;
        if g.extra_if_interval.is_zero() || g.extra_if_addrs.is_empty() {
            self.timers.stop(Timer::GarpExtraIf);
        } else {
            self.timers
                .set(Timer::GarpExtraIf, now + g.extra_if_interval);
        }
    }

    /// The timer fired: announce and start over.
    pub(crate) fn extra_if_due(&mut self, now: Instant, out: &mut VecDeque<Action>) {
        if self.state != State::Master || !self.vips_set {
            return;
        }
        out.push_back(Action::SendGratuitous {
            instance: self.id,
            addrs: self.cfg.garp.extra_if_addrs.clone(),
        });
        self.schedule_extra_if(now);
    }
}
