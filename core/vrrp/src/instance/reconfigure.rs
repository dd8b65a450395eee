//! Taking a new configuration of the same virtual router on reload, without
//! leaving the current state.

use alloc::collections::VecDeque;

use vigil_wire::vrrp::Version;

use super::{Instance, PRIORITY_OWNER};
use crate::action::Action;
use crate::config::InstanceConfig;
use crate::state::State;
use crate::time::Instant;
use crate::timer::Timer;

impl Instance {
    /// Whether `new` describes the same virtual router on the wire: VRID,
    /// interface, family, version, advert source and multicast/unicast
    /// addressing. Anything else can change without leaving the state.
    pub(crate) fn same_router(old: &InstanceConfig, new: &InstanceConfig) -> bool {
        old.vrid == new.vrid
            && old.interface == new.interface
            && old.family == new.family
            && old.version == new.version
            && old.unicast_src == new.unicast_src
            && old.unicast_peers.is_empty() == new.unicast_peers.is_empty()
            && old.multicast_group == new.multicast_group
    }

    /// Take a new configuration of the same virtual router (see
    /// [`same_router`](Instance::same_router)) without leaving the current
    /// state; the router then re-evaluates priority and faults. Per field:
    ///
    /// - priority: the new base applies (an owner's at once, the others
    ///   through the router's `set_priority`): a master advertises it, a
    ///   backup's down timer moves by the change of its skew;
    /// - advert_int, auth, virtual addresses: a master advertises at once so
    ///   that its peers see the new values;
    /// - advert_int, down_timer_adverts: a backup restarts its
    ///   Master_Down_Timer from now (never earlier than the last advert
    ///   allowed, at worst one interval later);
    /// - virtual or excluded addresses of a master: `RemoveVips` then
    ///   `AddVips` (the shell removes what it had installed and installs the
    ///   new list), then a fresh gratuitous burst; no state change, no notify;
    /// - garp settings: the refresh timer of a master restarts from now if
    ///   its period changed; the rest applies to the next burst;
    /// - nopreempt, preempt_delay: a running preempt delay is cancelled;
    /// - everything else (`state`, peers, `accept`, receive checks) applies
    ///   to the next packet or the next start.
    pub(crate) fn reconfigure(
        &mut self,
        now: Instant,
        cfg: InstanceConfig,
        out: &mut VecDeque<Action>,
    ) {
        let old = core::mem::replace(&mut self.cfg, cfg);
        let new = &self.cfg;
        let vips_changed = old.virtual_addresses != new.virtual_addresses
            || old.excluded_addresses != new.excluded_addresses;
        let advert_changed = old.advert_int_cs != new.advert_int_cs
            || old.auth != new.auth
            || old.virtual_addresses != new.virtual_addresses;
        let timing_changed = old.advert_int_cs != new.advert_int_cs
            || old.down_timer_adverts != new.down_timer_adverts;
        let refresh_changed = old.garp.master_refresh != new.garp.master_refresh;
        let extra_if_changed = old.garp.extra_if_interval != new.garp.extra_if_interval
            || old.garp.extra_if_addrs != new.garp.extra_if_addrs;
        if old.nopreempt != new.nopreempt || old.preempt_delay != new.preempt_delay {
            self.preempt_until = None;
        }
        if old.priority != self.cfg.priority {
            self.base_priority = self.cfg.priority;
            if self.state == State::Init {
                self.priority = self.base_priority;
            } else if self.is_owner() {
                self.change_priority(PRIORITY_OWNER, now, out);
            }
        }
        match self.state {
            State::Master => {
                if vips_changed {
                    self.stop_garp();
                    out.push_back(Action::RemoveVips { instance: self.id });
                    out.push_back(Action::AddVips { instance: self.id });
                    self.announce(now, out);
                } else {
                    if refresh_changed {
                        self.schedule_refresh(now);
                    }
                    if extra_if_changed {
                        self.schedule_extra_if(now);
                    }
                }
                if advert_changed {
                    self.master_adver_us = self.adver_us();
                    self.advertise(now, out);
                }
            }
            State::Backup => {
                if timing_changed {
                    if self.cfg.version == Version::V2 {
                        self.master_adver_us = self.adver_us();
                    }
                    self.timers
                        .set(Timer::Main, now.plus_micros(self.down_us()));
                }
            }
            State::Init | State::Fault => self.master_adver_us = self.adver_us(),
        }
    }
}
