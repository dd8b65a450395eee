//! One virtual router: the RFC 5798 state machine with keepalived 2.2.7's
//! choices. Cross-instance work (sync groups, trackers, links) is done by the
//! router, which calls the transitions here.

use crate::prelude::*;
use alloc::collections::VecDeque;
use core::net::IpAddr;

use vigil_wire::ah::SeqCounter;
use vigil_wire::vrrp::{Auth, Repr, V3Checksum, Version};

use crate::action::{Action, NotifyState, NotifyTarget};
use crate::config::{InitialState, InstanceConfig};
use crate::counters::{Counters, DropReason};
use crate::id::{GroupId, InstanceId, ScriptId};
use crate::snapshot::InstanceSnapshot;
use crate::state::{Reason, State};
use crate::time::Instant;
use crate::timer::{Timer, TimerTable};
use crate::timing::{centis_to_us, master_down_us, skew_for, skew_us};

mod garp;
mod receive;
mod reconfigure;

/// The priority of the address owner.
pub const PRIORITY_OWNER: u8 = 255;

/// What receiving an advert did to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RxOutcome {
    /// Not processed: the instance is in INIT or FAULT.
    Ignored,
    Dropped(DropReason),
    /// Valid; the instance stays in its state.
    Accepted,
    /// A MASTER heard a better master and is now BACKUP.
    SteppedDown,
}

/// A tracker reference: what it is, its weight and whether it is reversed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tracker<T> {
    pub(crate) target: T,
    pub(crate) weight: i32,
    pub(crate) reverse: bool,
}

#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) id: InstanceId,
    pub(crate) cfg: InstanceConfig,
    /// Index of the instance's interface in the router's link table.
    pub(crate) link: usize,
    pub(crate) scripts: Vec<Tracker<ScriptId>>,
    pub(crate) ifaces: Vec<Tracker<usize>>,
    /// Tracked files and processes, indexing the router's `Ext` tables.
    pub(crate) files: Vec<Tracker<usize>>,
    pub(crate) procs: Vec<Tracker<usize>>,
    pub(crate) group: Option<GroupId>,
    pub(crate) state: State,
    /// keepalived's `wantstate`: where the instance would be without its
    /// sync group (MASTER while a group holds it back in BACKUP).
    pub(crate) want: State,
    /// The fault condition currently applied, if any.
    pub(crate) fault: Option<Reason>,
    /// Advert source: `unicast_src` or the interface's primary address.
    pub(crate) src: Option<IpAddr>,
    /// Whether packets can go out (link up and a source known).
    pub(crate) can_send: bool,
    base_priority: u8,
    priority: u8,
    master_adver_us: u64,
    pub(crate) timers: TimerTable,
    /// End of the running preempt delay (keepalived's `preempt_time`).
    preempt_until: Option<Instant>,
    master_addr: Option<IpAddr>,
    master_priority: Option<u8>,
    pub(crate) vips_set: bool,
    garp_pending: u32,
    counters: Counters,
    last_transition: Option<Instant>,
    /// `auth_type AH`: keepalived's one counter per instance, for the numbers
    /// sent and the highest number accepted (kept across reloads).
    pub(crate) ah_seq: SeqCounter,
    pub(crate) ah_log: crate::router_ah::AhLog,
}

impl Instance {
    pub(crate) fn new(id: InstanceId, cfg: InstanceConfig, link: usize) -> Instance {
        let master_adver_us = centis_to_us(cfg.advert_int_cs);
        Instance {
            id,
            link,
            scripts: Vec::new(),
            ifaces: Vec::new(),
            files: Vec::new(),
            procs: Vec::new(),
            group: None,
            state: State::Init,
            want: State::Init,
            fault: None,
            src: cfg.unicast_src,
            can_send: false,
            base_priority: cfg.priority,
            priority: cfg.priority,
            master_adver_us,
            timers: TimerTable::default(),
            preempt_until: None,
            master_addr: None,
            master_priority: None,
            vips_set: false,
            garp_pending: 0,
            counters: Counters::default(),
            last_transition: None,
            ah_seq: SeqCounter::default(),
            ah_log: Default::default(),
            cfg,
        }
    }

    pub(crate) fn base_priority(&self) -> u8 {
        self.base_priority
    }

    pub(crate) fn is_owner(&self) -> bool {
        self.base_priority == PRIORITY_OWNER
    }

    /// The configured `state`, or MASTER for an owner and BACKUP otherwise.
    pub(crate) fn hint(&self) -> State {
        match self.cfg.initial_state {
            Some(InitialState::Master) => State::Master,
            Some(InitialState::Backup) => State::Backup,
            None if self.is_owner() => State::Master,
            None => State::Backup,
        }
    }

    fn adver_us(&self) -> u64 {
        centis_to_us(self.cfg.advert_int_cs)
    }

    fn skew_us(&self) -> u64 {
        skew_for(self.cfg.version, self.priority, self.master_adver_us)
    }

    fn down_us(&self) -> u64 {
        master_down_us(
            self.cfg.version,
            self.cfg.down_timer_adverts,
            self.master_adver_us,
            self.priority,
        )
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.next().map(|(_, at)| at)
    }

    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        self.timers.take_expired(now)
    }

    fn notify(&self, state: NotifyState, out: &mut VecDeque<Action>) {
        out.push_back(Action::Notify {
            target: NotifyTarget::Instance(self.id),
            state,
            priority: self.priority,
        });
    }

    fn set_state(&mut self, to: State, reason: Reason, now: Instant, out: &mut VecDeque<Action>) {
        let from = self.state;
        self.state = to;
        self.last_transition = Some(now);
        out.push_back(Action::StateChanged {
            instance: self.id,
            from,
            to,
            reason,
        });
    }

    /// Leave INIT. `fault` is the fault condition found by the router;
    /// `owner_now` is true when the instance may become master at once.
    ///
    /// keepalived 2.2.7 (`vrrp_init_state`): `state MASTER` makes a non-owner
    /// start in BACKUP, not MASTER, with a shortened Master_Down_Timer of one
    /// advert interval plus the minimum skew (1/256 of a second in v2), so it
    /// takes over about 1 s after start unless it hears a master whose
    /// priority is at least its own. Only an address owner (priority 255) with
    /// `state MASTER` becomes MASTER at once.
    pub(crate) fn start(
        &mut self,
        now: Instant,
        fault: Option<Reason>,
        owner_now: bool,
        out: &mut VecDeque<Action>,
    ) {
        self.want = self.hint();
        if let Some(reason) = fault {
            self.fault = Some(reason);
            self.set_state(State::Fault, reason, now, out);
            // keepalived stays silent while it only waits for a script.
            if reason != Reason::TrackerPending {
                self.notify(NotifyState::Fault, out);
            }
        } else if owner_now {
            self.become_master(now, Reason::AddressOwner, out);
        } else {
            let down = if self.want == State::Master {
                self.adver_us() + skew_us(self.cfg.version, 1, self.master_adver_us)
            } else {
                self.down_us()
            };
            self.timers.set(Timer::Main, now.plus_micros(down));
            self.set_state(State::Backup, Reason::Startup, now, out);
            self.notify(NotifyState::Backup, out);
        }
    }

    fn advert(&self, priority: u8) -> Repr {
        Repr {
            version: self.cfg.version,
            vrid: self.cfg.vrid,
            priority,
            adver_int_cs: self.cfg.advert_int_cs,
            auth: match self.cfg.version {
                Version::V2 => self.cfg.auth,
                Version::V3 => Auth::None,
            },
            addresses: self.cfg.virtual_addresses.clone(),
        }
    }

    /// Queue one advert per destination.
    fn send_advert(&mut self, priority: u8, out: &mut VecDeque<Action>) {
        let src = match self.src {
            Some(src) if self.can_send => src,
            _ => return,
        };
        let checksum = if self.cfg.v3_checksum_as_v2 {
            V3Checksum::MessageOnly
        } else {
            V3Checksum::PseudoHeader
        };
        let repr = self.advert(priority);
        let ah_seq = match repr.auth {
            Auth::Ah(_) => Some(self.ah_seq.next_send()),
            _ => None,
        };
        if self.cfg.unicast_peers.is_empty() {
            out.push_back(Action::SendAdvert {
                instance: self.id,
                repr,
                src,
                dst: self.cfg.group(),
                checksum,
                ah_seq,
            });
        } else {
            for dst in &self.cfg.unicast_peers {
                out.push_back(Action::SendAdvert {
                    instance: self.id,
                    repr: repr.clone(),
                    src,
                    dst: *dst,
                    checksum,
                    ah_seq,
                });
            }
        }
        self.counters.adverts_sent += 1;
        if priority == 0 {
            self.counters.priority_zero_sent += 1;
        }
    }

    /// Send an advert now and restart the Adver_Timer.
    fn advertise(&mut self, now: Instant, out: &mut VecDeque<Action>) {
        self.send_advert(self.priority, out);
        self.timers
            .set(Timer::Main, now.plus_micros(self.adver_us()));
    }

    /// Become MASTER: advert first (so the old master drops the VIPs before
    /// our gratuitous ARPs), then the addresses, the first burst and notify.
    pub(crate) fn become_master(
        &mut self,
        now: Instant,
        reason: Reason,
        out: &mut VecDeque<Action>,
    ) {
        self.want = State::Master;
        self.master_adver_us = self.adver_us();
        self.preempt_until = None;
        self.advertise(now, out);
        self.set_state(State::Master, reason, now, out);
        self.counters.became_master += 1;
        out.push_back(Action::AddVips { instance: self.id });
        self.vips_set = true;
        self.master_addr = self.src;
        self.master_priority = None;
        self.announce(now, out);
        self.notify(NotifyState::Master, out);
    }

    /// MASTER -> BACKUP or FAULT. Going to FAULT tells the others with a
    /// priority 0 advert, as keepalived does.
    fn leave_master(
        &mut self,
        now: Instant,
        to: State,
        reason: Reason,
        out: &mut VecDeque<Action>,
    ) {
        self.want = to;
        self.set_state(to, reason, now, out);
        if to == State::Fault {
            self.send_advert(0, out);
        }
        self.remove_vips(out);
        self.counters.released_master += 1;
        self.after_release(now, to, out);
    }

    fn remove_vips(&mut self, out: &mut VecDeque<Action>) {
        self.stop_garp();
        if self.vips_set {
            out.push_back(Action::RemoveVips { instance: self.id });
            self.vips_set = false;
        }
    }

    /// Timers and notification once in BACKUP or FAULT.
    fn after_release(&mut self, now: Instant, to: State, out: &mut VecDeque<Action>) {
        match to {
            State::Backup => {
                self.preempt_until = None;
                self.timers
                    .set(Timer::Main, now.plus_micros(self.down_us()));
                self.notify(NotifyState::Backup, out);
            }
            _ => {
                self.timers.stop(Timer::Main);
                self.master_addr = None;
                self.master_priority = None;
                self.notify(NotifyState::Fault, out);
            }
        }
    }

    /// Enter FAULT from any running state (own fault or sync group).
    pub(crate) fn enter_fault(&mut self, now: Instant, reason: Reason, out: &mut VecDeque<Action>) {
        match self.state {
            State::Master => self.leave_master(now, State::Fault, reason, out),
            State::Fault => {
                // Already held (by the group, or waiting for a script): a
                // real failure is still announced, as keepalived does.
                self.want = State::Fault;
                if reason != Reason::TrackerPending && self.fault == Some(Reason::TrackerPending) {
                    self.notify(NotifyState::Fault, out);
                }
            }
            State::Backup | State::Init => {
                self.want = State::Fault;
                self.set_state(State::Fault, reason, now, out);
                self.after_release(now, State::Fault, out);
            }
        }
    }

    /// FAULT -> BACKUP with a fresh Master_Down_Timer at our own interval.
    pub(crate) fn leave_fault(&mut self, now: Instant, reason: Reason, out: &mut VecDeque<Action>) {
        if self.state != State::Fault {
            return;
        }
        self.want = State::Backup;
        self.master_adver_us = self.adver_us();
        self.set_state(State::Backup, reason, now, out);
        self.after_release(now, State::Backup, out);
    }

    /// MASTER -> BACKUP because another member of the sync group went BACKUP.
    pub(crate) fn follow_backup(&mut self, now: Instant, out: &mut VecDeque<Action>) {
        match self.state {
            State::Master => self.leave_master(now, State::Backup, Reason::SyncGroup, out),
            State::Fault => self.leave_fault(now, Reason::SyncGroup, out),
            State::Backup | State::Init => {}
        }
    }

    /// Stay BACKUP for another Master_Down_Interval (a sync group is not
    /// ready to follow us to MASTER yet).
    pub(crate) fn hold_backup(&mut self, now: Instant) {
        self.want = State::Master;
        self.timers
            .set(Timer::Main, now.plus_micros(self.down_us()));
    }

    /// Handle an expired timer other than a BACKUP's Master_Down_Timer, which
    /// the router turns into a (sync-group aware) takeover.
    pub(crate) fn on_timer(&mut self, timer: Timer, now: Instant, out: &mut VecDeque<Action>) {
        match timer {
            Timer::Main => {
                if self.state == State::Master {
                    self.advertise(now, out);
                }
            }
            Timer::GarpStep => self.garp_step(now, out),
            Timer::GarpSecondBurst => self.start_burst(self.cfg.garp.master_repeat, now, out),
            Timer::GarpExtraIf => self.extra_if_due(now, out),
            Timer::GarpRefresh => {
                self.start_burst(self.cfg.garp.refresh_repeat, now, out);
                if !self.cfg.garp.master_refresh.is_zero() {
                    self.timers
                        .set(Timer::GarpRefresh, now + self.cfg.garp.master_refresh);
                }
            }
        }
    }

    /// Set the effective priority (already clamped by the router). A master
    /// advertises the change at once; a backup's down timer moves by the
    /// change of its skew.
    pub(crate) fn set_priority(&mut self, priority: u8, now: Instant, out: &mut VecDeque<Action>) {
        if self.is_owner() {
            return;
        }
        self.change_priority(priority, now, out);
    }

    fn change_priority(&mut self, priority: u8, now: Instant, out: &mut VecDeque<Action>) {
        if priority == self.priority {
            return;
        }
        let old_skew = self.skew_us();
        self.priority = priority;
        let new_skew = self.skew_us();
        match self.state {
            State::Master => self.advertise(now, out),
            State::Backup => {
                if let Some(at) = self.timers.get(Timer::Main) {
                    let moved = if new_skew >= old_skew {
                        at.plus_micros(new_skew - old_skew)
                    } else {
                        Instant::from_micros(at.as_micros().saturating_sub(old_skew - new_skew))
                    };
                    self.timers.set(Timer::Main, moved);
                }
            }
            State::Init | State::Fault => {}
        }
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        self.counters.count_drop(reason);
    }

    /// Graceful stop: a master says goodbye with priority 0 and drops the
    /// addresses; every running instance notifies STOP.
    pub(crate) fn shutdown(&mut self, now: Instant, reason: Reason, out: &mut VecDeque<Action>) {
        let was = self.state;
        if was == State::Init {
            return;
        }
        if was == State::Master {
            self.send_advert(0, out);
            self.counters.released_master += 1;
        }
        self.remove_vips(out);
        self.timers.stop_all();
        self.want = State::Init;
        self.set_state(State::Init, reason, now, out);
        self.notify(NotifyState::Stop, out);
    }

    pub(crate) fn snapshot(&self) -> InstanceSnapshot<'_> {
        let master = match self.state {
            State::Master => self.src,
            State::Backup => self.master_addr,
            State::Init | State::Fault => None,
        };
        InstanceSnapshot {
            name: &self.cfg.name,
            state: self.state,
            base_priority: self.base_priority,
            effective_priority: self.priority,
            master,
            master_priority: if self.state == State::Backup {
                self.master_priority
            } else {
                None
            },
            advert_int_cs: u16::try_from(self.master_adver_us / 10_000).unwrap_or(u16::MAX),
            vips_installed: self.vips_set,
            counters: self.counters,
            last_transition: self.last_transition,
        }
    }
}
