//! Tracked files and processes (keepalived 2.2.7's track_file and
//! track_process): the shell reads the files and counts the processes; this
//! turns numbers into priority and FAULT, with keepalived's quorum and
//! fork/terminate delays on the simulated clock.

use crate::prelude::*;
use core::time::Duration;

use crate::config::{InstanceConfig, ProcessConfig};
use crate::instance::Tracker;
use crate::router::{Phase, Router};
use crate::time::Instant;
use crate::track::{contribution, holds_fault, TrackStatus};

/// keepalived's floor for a file's weighted value: at or below it, FAULT.
const FILE_FAULT: i64 = -254;
/// keepalived's ceiling for a file's weighted value.
const FILE_MAX: i64 = 253;

/// What changed the number of matching processes, as the shell saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessCause {
    /// A matching process forked (a new one appeared by fork).
    Fork,
    /// A matching process exited.
    Exit,
    /// A process exec'd or renamed itself into or out of matching.
    Exec,
    /// A full scan of /proc (at start, after a reload or a lost event).
    Scan,
}

/// The effect of a file's number `value` on a tracker of `weight` /
/// `reverse`: `Err(())` for FAULT, else the priority change. Not read yet:
/// no change, and a weight-0 tracker waits (`Ok(None)`).
pub(crate) fn file_effect(
    weight: i32,
    reverse: bool,
    value: Option<i64>,
) -> Result<Option<i32>, ()> {
    let Some(v) = value else {
        return Ok((weight != 0).then_some(0));
    };
    if weight == 0 {
        return if (v != 0) != reverse {
            Err(())
        } else {
            Ok(Some(0))
        };
    }
    let sign = if reverse { -1 } else { 1 };
    let s = v.saturating_mul(i64::from(weight)).saturating_mul(sign);
    let s = s.clamp(FILE_FAULT, FILE_MAX);
    if s == FILE_FAULT {
        return Err(());
    }
    Ok(Some(i32::try_from(s).unwrap_or(0)))
}

/// One tracked file: the last number read (`None`: not read yet).
#[derive(Debug, Clone)]
pub(crate) struct FileTracker {
    pub(crate) name: String,
    pub(crate) value: Option<i64>,
}

/// One `vrrp_track_process` with its debounced status.
#[derive(Debug, Clone)]
pub(crate) struct ProcessTracker {
    pub(crate) cfg: ProcessConfig,
    count: Option<u32>,
    status: TrackStatus,
    /// A change waiting for its fork or terminate delay.
    pending: Option<Instant>,
}

impl ProcessTracker {
    pub(crate) fn new(cfg: ProcessConfig) -> ProcessTracker {
        ProcessTracker {
            cfg,
            count: None,
            status: TrackStatus::Unknown,
            pending: None,
        }
    }

    fn in_quorum(&self, count: u32) -> bool {
        count >= self.cfg.quorum && count <= self.cfg.quorum_max
    }

    pub(crate) fn status(&self) -> TrackStatus {
        self.status
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.pending
    }

    fn set(&mut self, up: bool) -> Option<TrackStatus> {
        let to = if up {
            TrackStatus::Up
        } else {
            TrackStatus::Down
        };
        (self.status != to).then(|| {
            self.status = to;
            to
        })
    }

    /// A new count; returns the new status if it changed now. The first
    /// count decides at once. A crossing waits `fork_delay` after a fork
    /// and `terminate_delay` after an exit (after a scan: by direction); a
    /// crossing back while waiting cancels both (no bounce), as keepalived.
    pub(crate) fn report(
        &mut self,
        now: Instant,
        count: u32,
        cause: ProcessCause,
    ) -> Option<TrackStatus> {
        let first = self.count.is_none();
        self.count = Some(count);
        let want = self.in_quorum(count);
        if first {
            self.pending = None;
            return self.set(want);
        }
        let have = self.status == TrackStatus::Up;
        if self.pending.is_some() {
            if want == have {
                self.pending = None;
            }
            return None;
        }
        if want == have {
            return None;
        }
        let delay = match cause {
            ProcessCause::Fork => self.cfg.fork_delay,
            ProcessCause::Exit => self.cfg.terminate_delay,
            ProcessCause::Exec => Duration::ZERO,
            ProcessCause::Scan if want => self.cfg.fork_delay,
            ProcessCause::Scan => self.cfg.terminate_delay,
        };
        if delay.is_zero() {
            return self.set(want);
        }
        self.pending = Some(now + delay);
        None
    }

    /// The delay ran out: the count now decides.
    pub(crate) fn fire(&mut self, now: Instant) -> Option<TrackStatus> {
        if self.pending.is_none_or(|at| at > now) {
            return None;
        }
        self.pending = None;
        let want = self.count.is_some_and(|c| self.in_quorum(c));
        self.set(want)
    }
}

/// The router's file and process tables.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ext {
    pub(crate) files: Vec<FileTracker>,
    pub(crate) processes: Vec<ProcessTracker>,
}

impl Ext {
    /// Tables for `configs`: files by the names instances track, processes
    /// from their blocks; state is carried over by name from `old`.
    pub(crate) fn new(
        instances: &[InstanceConfig],
        processes: &[ProcessConfig],
        old: Option<Ext>,
    ) -> Ext {
        let mut old = old.unwrap_or_default();
        let mut ext = Ext::default();
        for name in instances
            .iter()
            .flat_map(|i| i.track_files.iter().map(|f| &f.name))
        {
            if ext.files.iter().any(|f| &f.name == name) {
                continue;
            }
            let value = old
                .files
                .iter()
                .find(|f| &f.name == name)
                .and_then(|f| f.value);
            ext.files.push(FileTracker {
                name: name.clone(),
                value,
            });
        }
        for cfg in processes {
            let p = match old.processes.iter().position(|p| p.cfg.name == cfg.name) {
                Some(n) => {
                    let mut p = old.processes.swap_remove(n);
                    if p.cfg != *cfg {
                        // New quorum: the last count is judged again at once.
                        let count = p.count;
                        p = ProcessTracker::new(cfg.clone());
                        p.count = count;
                        if let Some(c) = count {
                            let up = p.in_quorum(c);
                            p.set(up);
                        }
                    }
                    p
                }
                None => ProcessTracker::new(cfg.clone()),
            };
            ext.processes.push(p);
        }
        ext
    }

    /// An instance's file and process trackers (unknown names skipped).
    pub(crate) fn trackers(
        &self,
        cfg: &InstanceConfig,
    ) -> (Vec<Tracker<usize>>, Vec<Tracker<usize>>) {
        let files = cfg
            .track_files
            .iter()
            .filter_map(|t| {
                let target = self.files.iter().position(|f| f.name == t.name)?;
                Some(Tracker {
                    target,
                    weight: t.weight,
                    reverse: t.reverse,
                })
            })
            .collect();
        let procs = cfg
            .track_processes
            .iter()
            .filter_map(|t| {
                let target = self.processes.iter().position(|p| p.cfg.name == t.name)?;
                Some(Tracker {
                    target,
                    weight: t.weight,
                    reverse: t.reverse,
                })
            })
            .collect();
        (files, procs)
    }

    fn process_status(&self, n: usize) -> TrackStatus {
        self.processes
            .get(n)
            .map_or(TrackStatus::Unknown, |p| p.status())
    }

    fn file_value(&self, n: usize) -> Option<i64> {
        self.files.get(n).and_then(|f| f.value)
    }

    /// The earliest pending process delay.
    pub(crate) fn next_deadline(&self) -> Option<(Instant, usize)> {
        self.processes
            .iter()
            .enumerate()
            .filter_map(|(n, p)| p.deadline().map(|at| (at, n)))
            .min()
    }
}

/// What an instance's files and processes say: `Some(true)` FAULT,
/// `None` waiting for a first value, else the priority change.
pub(crate) struct Verdict {
    pub(crate) fault: Option<bool>,
    pub(crate) delta: i32,
}

impl Router {
    /// The number in a tracked file (`name` as in `track_file NAME`) was
    /// read: keepalived reads a missing or empty file as 0, and keeps the
    /// last value when the text is not a number (the shell's part).
    pub fn handle_file_value(&mut self, now: Instant, name: &str, value: i64) {
        let now = self.clock(now);
        let Some(n) = self.ext.files.iter().position(|f| f.name == name) else {
            return;
        };
        if let Some(f) = self.ext.files.get_mut(n) {
            if f.value == Some(value) {
                return;
            }
            f.value = Some(value);
        }
        self.refresh_tracking(now, |i| i.files.iter().any(|t| t.target == n));
    }

    /// The number of running processes matching `vrrp_track_process NAME`.
    pub fn handle_process_count(
        &mut self,
        now: Instant,
        name: &str,
        count: u32,
        cause: ProcessCause,
    ) {
        let now = self.clock(now);
        let Some(n) = self.ext.processes.iter().position(|p| p.cfg.name == name) else {
            return;
        };
        let changed = self
            .ext
            .processes
            .get_mut(n)
            .and_then(|p| p.report(now, count, cause));
        if changed.is_some() {
            self.refresh_tracking(now, |i| i.procs.iter().any(|t| t.target == n));
        } else {
            self.reindex_all();
        }
    }

    /// A process's status as debounced, by block name.
    pub fn process_status_of(&self, name: &str) -> Option<TrackStatus> {
        let p = self.ext.processes.iter().find(|p| p.cfg.name == name)?;
        Some(p.status())
    }

    /// The names of the tracked files and processes (what the shell watches).
    pub fn tracked_files(&self) -> impl Iterator<Item = &str> + '_ {
        self.ext.files.iter().map(|f| f.name.as_str())
    }

    pub(crate) fn fire_process(&mut self, now: Instant, n: usize) {
        let changed = self.ext.processes.get_mut(n).and_then(|p| p.fire(now));
        if changed.is_some() {
            self.refresh_tracking(now, |i| i.procs.iter().any(|t| t.target == n));
        }
    }

    fn refresh_tracking(
        &mut self,
        now: Instant,
        tracks: impl Fn(&crate::instance::Instance) -> bool,
    ) {
        if self.phase == Phase::Running {
            let hit: Vec<usize> = (0..self.instances.len())
                .filter(|i| self.instances.get(*i).is_some_and(&tracks))
                .collect();
            for i in hit {
                self.refresh(now, i);
            }
        }
        self.reindex_all();
    }

    /// The files' and processes' say on instance `i`.
    pub(crate) fn ext_verdict(&self, i: usize) -> Verdict {
        let mut v = Verdict {
            fault: Some(false),
            delta: 0,
        };
        let Some(inst) = self.instances.get(i) else {
            return v;
        };
        for t in &inst.files {
            match file_effect(t.weight, t.reverse, self.ext.file_value(t.target)) {
                Err(()) => v.fault = Some(true),
                Ok(None) => v.fault = v.fault.filter(|f| *f),
                Ok(Some(d)) => v.delta += d,
            }
        }
        for t in &inst.procs {
            let status = self.ext.process_status(t.target);
            if t.weight == 0 {
                match holds_fault(t.reverse, status) {
                    Some(true) => v.fault = Some(true),
                    None => v.fault = v.fault.filter(|f| *f),
                    Some(false) => {}
                }
            } else {
                v.delta += contribution(t.weight, t.reverse, status);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(quorum: u32, max: u32, fork: u64, term: u64) -> ProcessTracker {
        let mut c = ProcessConfig::new("p");
        c.quorum = quorum;
        c.quorum_max = max;
        c.fork_delay = Duration::from_secs(fork);
        c.terminate_delay = Duration::from_secs(term);
        ProcessTracker::new(c)
    }

    #[test]
    fn file_values_follow_keepalived() {
        assert_eq!(file_effect(0, false, Some(0)), Ok(Some(0)));
        assert_eq!(file_effect(0, false, Some(3)), Err(()));
        assert_eq!(file_effect(0, true, Some(0)), Err(()));
        assert_eq!(file_effect(0, true, Some(7)), Ok(Some(0)));
        assert_eq!(file_effect(0, false, None), Ok(None));
        assert_eq!(file_effect(5, false, None), Ok(Some(0)));
        assert_eq!(file_effect(5, false, Some(-3)), Ok(Some(-15)));
        assert_eq!(file_effect(5, true, Some(-3)), Ok(Some(15)));
        assert_eq!(file_effect(10, false, Some(100)), Ok(Some(253)));
        assert_eq!(file_effect(10, false, Some(-100)), Err(()));
        assert_eq!(file_effect(1, false, Some(i64::MIN)), Err(()));
    }

    #[test]
    fn quorum_and_quorum_max() {
        let t = Instant::ZERO;
        let mut p = proc(2, 3, 0, 0);
        assert_eq!(p.report(t, 1, ProcessCause::Scan), Some(TrackStatus::Down));
        assert_eq!(p.report(t, 2, ProcessCause::Fork), Some(TrackStatus::Up));
        assert_eq!(p.report(t, 3, ProcessCause::Fork), None);
        assert_eq!(p.report(t, 4, ProcessCause::Fork), Some(TrackStatus::Down));
        let mut none = proc(0, 0, 0, 0);
        assert_eq!(none.report(t, 0, ProcessCause::Scan), Some(TrackStatus::Up));
        assert_eq!(
            none.report(t, 1, ProcessCause::Exec),
            Some(TrackStatus::Down)
        );
    }

    #[test]
    fn delays_wait_and_bounces_cancel() {
        let mut p = proc(1, u32::MAX, 2, 5);
        let s = Instant::from_secs;
        assert_eq!(p.report(s(0), 1, ProcessCause::Scan), Some(TrackStatus::Up));
        assert_eq!(p.report(s(1), 0, ProcessCause::Exit), None);
        assert_eq!(p.deadline(), Some(s(6)));
        assert_eq!(p.fire(s(5)), None);
        assert_eq!(p.fire(s(6)), Some(TrackStatus::Down));
        // Down: a fork waits fork_delay; an exit within it cancels (no bounce).
        assert_eq!(p.report(s(7), 1, ProcessCause::Fork), None);
        assert_eq!(p.deadline(), Some(s(9)));
        assert_eq!(p.report(s(8), 0, ProcessCause::Exit), None);
        assert_eq!(p.deadline(), None);
        assert_eq!(p.fire(s(9)), None);
        assert_eq!(p.status(), TrackStatus::Down);
        // An exec'd match counts at once.
        assert_eq!(
            p.report(s(10), 1, ProcessCause::Exec),
            Some(TrackStatus::Up)
        );
    }
}
