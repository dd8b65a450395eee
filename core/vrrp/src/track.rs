//! Tracking: a script's rise/fall debouncing and how a tracker's status
//! weighs on an instance's priority (keepalived 2.2.7 rules).

use core::time::Duration;

use crate::config::ScriptConfig;
use crate::time::Instant;

/// What a tracking script run came to, as reported by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptResult {
    /// Exit status 0.
    Success,
    /// Non-zero exit, killed by a signal, or could not be started.
    Failure,
    /// Still running at its timeout; counts as a failure.
    TimedOut,
}

/// The debounced state of a tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackStatus {
    /// A script that has not reported yet (not `init_fail`).
    Unknown,
    Up,
    Down,
}

/// How much a tracker adds to the base priority in `status`.
///
/// keepalived applies a positive weight while the tracker is up and a negative
/// one while it is down; `reverse` negates the weight, so a reversed +10
/// costs 10 while up and a reversed -10 gives 10 while down. A tracker that
/// has not reported yet adds nothing.
pub fn contribution(weight: i32, reverse: bool, status: TrackStatus) -> i32 {
    let signed = if reverse { -weight } else { weight };
    match status {
        TrackStatus::Up if weight > 0 => signed,
        TrackStatus::Down if weight < 0 => signed,
        _ => 0,
    }
}

/// Whether a weight-0 tracker in `status` holds its instance in FAULT: down
/// (up, if `reverse`); `None` while unknown (the instance waits for it).
pub fn holds_fault(reverse: bool, status: TrackStatus) -> Option<bool> {
    match status {
        TrackStatus::Unknown => None,
        TrackStatus::Up => Some(reverse),
        TrackStatus::Down => Some(!reverse),
    }
}

/// A `vrrp_script` with keepalived's result counter: 0..rise-1 is down,
/// rise..rise+fall-1 is up. A success at rise-1 or above jumps to the top; a
/// failure at rise or below drops to 0, so `rise` successes raise a down
/// script and `fall` failures lower an up one.
#[derive(Debug, Clone)]
pub(crate) struct ScriptTracker {
    pub(crate) cfg: ScriptConfig,
    result: u32,
    status: TrackStatus,
    running: bool,
    next_run: Option<Instant>,
}

impl ScriptTracker {
    pub(crate) fn new(cfg: ScriptConfig) -> ScriptTracker {
        let rise = cfg.rise.max(1);
        let (result, status) = if cfg.init_fail {
            (0, TrackStatus::Down)
        } else {
            // One success is enough to come up from the initial state.
            (rise - 1, TrackStatus::Unknown)
        };
        ScriptTracker {
            cfg,
            result,
            status,
            running: false,
            next_run: None,
        }
    }

    /// Take a new configuration of the script with the same name (reload).
    ///
    /// The status survives, as does a run in progress and the next run time
    /// (a changed interval applies from the next run). The result counter is
    /// kept when `rise` and `fall` are unchanged; otherwise it is set to the
    /// edge of the status, fully up or fully down, so that the new `fall` or
    /// `rise` results are needed to change it. `init_fail` only matters for a
    /// script that has not reported yet. keepalived 2.2.7 only carries an up
    /// status (as "considered successful"); carrying every status keeps a
    /// failing check from being forgotten by a SIGHUP.
    pub(crate) fn reconfigure(&mut self, cfg: ScriptConfig) {
        let debounce_changed = cfg.rise != self.cfg.rise || cfg.fall != self.cfg.fall;
        let fresh = ScriptTracker::new(cfg);
        if self.status == TrackStatus::Unknown {
            self.result = fresh.result;
            self.status = fresh.status;
        } else if debounce_changed {
            let rise = fresh.cfg.rise.max(1);
            self.result = match self.status {
                TrackStatus::Up => rise + fresh.cfg.fall.max(1) - 1,
                TrackStatus::Down | TrackStatus::Unknown => 0,
            };
        }
        self.cfg = fresh.cfg;
    }

    pub(crate) fn status(&self) -> TrackStatus {
        self.status
    }

    pub(crate) fn next_run(&self) -> Option<Instant> {
        self.next_run
    }

    /// Schedule the first run at `now` (keepalived runs scripts at start).
    pub(crate) fn start(&mut self, now: Instant) {
        self.next_run = Some(now);
    }

    pub(crate) fn stop(&mut self) {
        self.next_run = None;
        self.running = false;
    }

    /// The run is due: returns the timeout to ask for, or `None` when the
    /// previous run is still going (skipped, as keepalived does).
    pub(crate) fn fire(&mut self, now: Instant) -> Option<Duration> {
        let interval = self.cfg.interval.max(Duration::from_micros(1));
        self.next_run = Some(self.next_run.unwrap_or(now).max(now) + interval);
        if self.running {
            return None;
        }
        self.running = true;
        Some(self.cfg.timeout.unwrap_or(interval))
    }

    /// Record a run's result; returns the new status if it changed.
    pub(crate) fn record(&mut self, result: ScriptResult) -> Option<TrackStatus> {
        self.running = false;
        let rise = self.cfg.rise.max(1);
        let top = rise + self.cfg.fall.max(1) - 1;
        let before = self.status;
        if result == ScriptResult::Success {
            if self.result + 1 < rise {
                self.result += 1;
            } else {
                self.result = top;
                self.status = TrackStatus::Up;
            }
        } else if self.result > rise {
            self.result -= 1;
        } else {
            self.result = 0;
            self.status = TrackStatus::Down;
        }
        (self.status != before).then_some(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(rise: u32, fall: u32, init_fail: bool) -> ScriptTracker {
        let mut cfg = ScriptConfig::new("chk");
        cfg.rise = rise;
        cfg.fall = fall;
        cfg.init_fail = init_fail;
        ScriptTracker::new(cfg)
    }

    #[test]
    fn first_result_decides_the_initial_status() {
        let mut s = script(2, 2, false);
        assert_eq!(s.status(), TrackStatus::Unknown);
        assert_eq!(s.record(ScriptResult::Success), Some(TrackStatus::Up));
        let mut s = script(2, 2, false);
        assert_eq!(s.record(ScriptResult::TimedOut), Some(TrackStatus::Down));
    }

    #[test]
    fn fall_then_rise_consecutive_results() {
        let mut s = script(2, 2, false);
        s.record(ScriptResult::Success);
        assert_eq!(s.record(ScriptResult::Failure), None);
        assert_eq!(
            s.record(ScriptResult::Success),
            None,
            "success resets the fall count"
        );
        assert_eq!(s.record(ScriptResult::Failure), None);
        assert_eq!(s.record(ScriptResult::Failure), Some(TrackStatus::Down));
        assert_eq!(s.record(ScriptResult::Success), None);
        assert_eq!(
            s.record(ScriptResult::Failure),
            None,
            "failure resets the rise count"
        );
        assert_eq!(s.record(ScriptResult::Success), None);
        assert_eq!(s.record(ScriptResult::Success), Some(TrackStatus::Up));
    }

    #[test]
    fn init_fail_starts_down_and_needs_rise_successes() {
        let mut s = script(3, 1, true);
        assert_eq!(s.status(), TrackStatus::Down);
        assert_eq!(s.record(ScriptResult::Success), None);
        assert_eq!(s.record(ScriptResult::Success), None);
        assert_eq!(s.record(ScriptResult::Success), Some(TrackStatus::Up));
        assert_eq!(s.record(ScriptResult::Failure), Some(TrackStatus::Down));
    }

    #[test]
    fn weights_follow_keepalived() {
        assert_eq!(contribution(-30, false, TrackStatus::Down), -30);
        assert_eq!(contribution(-30, false, TrackStatus::Up), 0);
        assert_eq!(contribution(20, false, TrackStatus::Up), 20);
        assert_eq!(contribution(20, false, TrackStatus::Down), 0);
        assert_eq!(contribution(20, true, TrackStatus::Up), -20);
        assert_eq!(contribution(-20, true, TrackStatus::Down), 20);
        assert_eq!(contribution(-20, false, TrackStatus::Unknown), 0);
        assert_eq!(holds_fault(false, TrackStatus::Down), Some(true));
        assert_eq!(holds_fault(true, TrackStatus::Down), Some(false));
        assert_eq!(holds_fault(false, TrackStatus::Unknown), None);
    }

    #[test]
    fn reconfigure_keeps_status_and_reseats_the_counter() {
        // Unchanged rise/fall: the counter is kept (one failure of two).
        let mut s = script(2, 2, false);
        s.record(ScriptResult::Success);
        s.record(ScriptResult::Failure);
        s.reconfigure(script(2, 2, false).cfg);
        assert_eq!(s.status(), TrackStatus::Up);
        assert_eq!(s.record(ScriptResult::Failure), Some(TrackStatus::Down));
        // New fall: an up script needs the new number of failures.
        let mut s = script(1, 1, false);
        s.record(ScriptResult::Success);
        s.reconfigure(script(1, 3, false).cfg);
        assert_eq!(s.record(ScriptResult::Failure), None);
        assert_eq!(s.record(ScriptResult::Failure), None);
        assert_eq!(s.record(ScriptResult::Failure), Some(TrackStatus::Down));
        // New rise: a down script needs the new number of successes.
        s.reconfigure(script(3, 3, false).cfg);
        assert_eq!(s.status(), TrackStatus::Down);
        assert_eq!(s.record(ScriptResult::Success), None);
        assert_eq!(s.record(ScriptResult::Success), None);
        assert_eq!(s.record(ScriptResult::Success), Some(TrackStatus::Up));
        // Not reported yet: init_fail of the new configuration applies.
        let mut s = script(2, 2, false);
        s.reconfigure(script(2, 2, true).cfg);
        assert_eq!(s.status(), TrackStatus::Down);
    }

    #[test]
    fn overlapping_runs_are_skipped() {
        let mut s = script(1, 1, false);
        s.start(Instant::ZERO);
        assert_eq!(s.fire(Instant::ZERO), Some(Duration::from_secs(1)));
        assert_eq!(s.next_run(), Some(Instant::from_secs(1)));
        assert_eq!(s.fire(Instant::from_secs(1)), None);
        s.record(ScriptResult::Success);
        assert!(s.fire(Instant::from_secs(2)).is_some());
    }
}
