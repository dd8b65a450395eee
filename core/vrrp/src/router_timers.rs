//! The router's timers: every instance's earliest deadline sits in a
//! [`TimerIndex`], updated after each call that can move it (the one instance
//! an advert or a timer touched; all of them after rarer calls), so that
//! `poll_timeout` and `handle_timeout` never scan every instance.

use crate::action::Action;
use crate::id::{InstanceId, ScriptId};
use crate::router::{Phase, Router};
use crate::state::{Reason, State};
use crate::time::Instant;
use crate::timer::Timer;
use crate::timer_index::TimerIndex;

/// Bound on timers fired by one `handle_timeout`, against runaway loops.
const MAX_FIRES_PER_CALL: usize = 100_000;

impl Router {
    /// Re-files instance `n` after it may have changed its timers.
    pub(crate) fn reindex(&mut self, n: usize) {
        let at = self.instances.get(n).and_then(|i| i.next_deadline());
        self.index.update(n, at);
    }

    /// Re-files every instance (after calls that may touch many).
    pub(crate) fn reindex_all(&mut self) {
        self.index = TimerIndex::build(self.instances.iter().map(|i| i.next_deadline()));
    }

    fn next_script(&self) -> Option<(Instant, usize)> {
        self.scripts
            .iter()
            .enumerate()
            .filter_map(|(n, s)| s.next_run().map(|at| (at, n)))
            .min()
    }

    /// Fire every timer whose deadline is at or before `now`, earliest first.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase != Phase::Running {
            return;
        }
        let now = self.clock(now);
        for _ in 0..MAX_FIRES_PER_CALL {
            if let Some((_, n)) = self.ext.next_deadline().filter(|(at, _)| *at <= now) {
                self.fire_process(now, n);
                continue;
            }
            let inst = self.index.first();
            let script = self.next_script();
            match (inst, script) {
                (Some((at, n)), s) if at <= now && s.is_none_or(|(sat, _)| at <= sat) => {
                    self.fire_instance(now, n)
                }
                (_, Some((at, n))) if at <= now => self.fire_script(now, n),
                _ => return,
            }
        }
    }

    fn fire_instance(&mut self, now: Instant, n: usize) {
        let Some(inst) = self.instances.get_mut(n) else {
            return;
        };
        let Some(timer) = inst.take_expired(now) else {
            // Filed too early (cannot happen): re-file, or this would spin.
            self.reindex(n);
            return;
        };
        if timer == Timer::Main && inst.state == State::Backup {
            self.goto_master(now, InstanceId(n), Reason::MasterDown);
            self.reindex_all();
        } else {
            inst.on_timer(timer, now, &mut self.actions);
            self.reindex(n);
        }
    }

    fn fire_script(&mut self, now: Instant, n: usize) {
        if let Some(s) = self.scripts.get_mut(n) {
            if let Some(timeout) = s.fire(now) {
                self.actions.push_back(Action::RunScript {
                    script: ScriptId(n),
                    timeout,
                });
            }
        }
    }

    /// The earliest deadline: call `handle_timeout` once it has passed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase != Phase::Running {
            return None;
        }
        let inst = self.index.first().map(|(at, _)| at);
        let script = self.next_script().map(|(at, _)| at);
        let process = self.ext.next_deadline().map(|(at, _)| at);
        [inst, script, process].into_iter().flatten().min()
    }
}
