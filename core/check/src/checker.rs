//! One checker's schedule and retry bookkeeping (keepalived's `checker_t`:
//! `is_up`, `has_run`, `retry_it`).

use core::time::Duration;

use crate::id::RsId;
use crate::probe::{Outcome, ProbeKind, ProbeResult};
use crate::time::Instant;

/// A configured checker and where it stands. Read-only outside the crate.
///
/// Kept compact (thousands of them live as long as the daemon): indices
/// as u32, durations as microseconds, and the schedule and the probe in
/// flight as one [`Stage`], since a checker is never both waiting and
/// probing.
#[derive(Debug, Clone)]
pub struct Checker {
    /// The real server's indices ([`RsId`]).
    vs: u32,
    rs: u32,
    kind: ProbeKind,
    delay_loop: Micros,
    delay_before_retry: Micros,
    retry: u32,
    warmup: Micros,
    up: bool,
    /// A verdict was reached at least once (keepalived's `has_run`).
    has_run: bool,
    /// Failed attempts so far in the current retry series.
    retry_it: u32,
    /// Before the start, waiting for the next probe, or probing.
    stage: Stage,
    /// `ha_suspend` while the director holds no VIP of the service: due
    /// probes are skipped and the verdict stands.
    suspended: bool,
    /// The last result and when it came.
    last: Option<(Instant, ProbeResult)>,
    /// When the checker last went up or down.
    changed: Option<Instant>,
    /// FILE_CHECK's share of the real server's weight.
    offset: i64,
}

/// A duration in whole microseconds (the clock's unit): 8 bytes instead of
/// [`Duration`]'s 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Micros(u64);

impl Micros {
    fn of(d: Duration) -> Micros {
        Micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    fn get(self) -> Duration {
        Duration::from_micros(self.0)
    }
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Not armed yet (before the start).
    Idle,
    /// The next probe is due then.
    Due(Instant),
    /// A probe runs: when it started, and when it counts as timed out.
    Flight { started: Instant, watchdog: Instant },
}

/// A configuration index as stored: the configuration's caps keep every
/// index far below u32::MAX.
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// How a verdict changed the checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing to report.
    Same,
    /// Went down -> up.
    Up,
    /// Went up -> down.
    Down,
}

impl Checker {
    pub(crate) fn new(rs: RsId, cfg: &vigil_model::Checker, alpha: bool) -> Checker {
        let c = &cfg.common;
        Checker {
            vs: index(rs.vs),
            rs: index(rs.rs),
            kind: ProbeKind::from_checker(cfg),
            delay_loop: Micros::of(c.delay_loop),
            delay_before_retry: Micros::of(c.delay_before_retry),
            retry: c.retry,
            warmup: Micros::of(c.warmup),
            // keepalived clears alpha for FILE_CHECK.
            up: !alpha || matches!(cfg.kind, vigil_model::CheckKind::File(_)),
            has_run: false,
            // keepalived starts the retry series used up: one failure is
            // enough before the first verdict ("initially").
            retry_it: c.retry,
            stage: Stage::Idle,
            suspended: false,
            last: None,
            changed: None,
            offset: 0,
        }
    }

    /// FILE_CHECK's share of the real server's weight.
    pub(crate) fn offset(&self) -> i64 {
        self.offset
    }

    pub(crate) fn set_offset(&mut self, offset: i64) {
        self.offset = offset;
    }

    /// Takes over the state of `old`, the same checker of the same real server
    /// in the configuration before a reload: verdict, retry series, schedule
    /// and the probe in flight, so a reload neither flaps nor re-probes.
    pub(crate) fn inherit(&mut self, old: &Checker) {
        self.up = old.up;
        self.has_run = old.has_run;
        self.retry_it = old.retry_it.min(self.retry);
        self.stage = old.stage;
        self.last = old.last;
        self.changed = old.changed;
    }

    /// Whether `other` checks the same thing the same way (keepalived's
    /// `compare_*_check` at reload): the probe and its timing.
    pub(crate) fn same_as(&self, other: &Checker) -> bool {
        self.kind == other.kind
            && self.delay_loop == other.delay_loop
            && self.delay_before_retry == other.delay_before_retry
            && self.retry == other.retry
    }

    /// `ha_suspend`: while suspended, due probes are skipped.
    pub(crate) fn set_suspended(&mut self, suspended: bool) {
        self.suspended = suspended;
    }

    /// Whether probes are suspended (`ha_suspend`).
    pub fn is_suspended(&self) -> bool {
        self.suspended
    }

    /// The last probe result and when it came.
    pub fn last_result(&self) -> Option<(Instant, ProbeResult)> {
        self.last
    }

    /// When the checker last changed between up and down.
    pub fn last_change(&self) -> Option<Instant> {
        self.changed
    }

    /// The real server it checks.
    pub fn real_server(&self) -> RsId {
        RsId {
            vs: self.vs as usize,
            rs: self.rs as usize,
        }
    }

    /// The probe it asks for.
    pub fn probe(&self) -> &ProbeKind {
        &self.kind
    }

    /// The configuration block it came from (`TCP_CHECK`, ...), for alerts.
    pub fn keyword(&self) -> &'static str {
        match self.kind {
            ProbeKind::Tcp { .. } => "TCP_CHECK",
            ProbeKind::Http { tls: false, .. } => "HTTP_GET",
            ProbeKind::Http { tls: true, .. } => "SSL_GET",
            ProbeKind::Misc { .. } => "MISC_CHECK",
            ProbeKind::Dns { .. } => "DNS_CHECK",
            ProbeKind::Smtp { .. } => "SMTP_CHECK",
            ProbeKind::Udp { .. } => "UDP_CHECK",
            ProbeKind::Ping { .. } => "PING_CHECK",
            ProbeKind::File { .. } => "FILE_CHECK",
        }
    }

    /// Time between checks (`delay_loop`, the checker's or the virtual server's).
    pub fn delay_loop(&self) -> Duration {
        self.delay_loop.get()
    }

    /// Time between retries after a failure (`delay_before_retry`).
    pub fn delay_before_retry(&self) -> Duration {
        self.delay_before_retry.get()
    }

    /// Extra attempts before a live server is declared down (`retry`).
    pub fn retry(&self) -> u32 {
        self.retry
    }

    /// Upper bound of the random delay before the first check (`warmup`).
    pub fn warmup(&self) -> Duration {
        self.warmup.get()
    }

    /// Whether the checker currently passes.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Whether a probe is awaiting its result.
    pub fn in_flight(&self) -> bool {
        matches!(self.stage, Stage::Flight { .. })
    }

    /// When the next probe is due, if none is in flight.
    pub fn next_probe(&self) -> Option<Instant> {
        match self.stage {
            Stage::Due(at) => Some(at),
            _ => None,
        }
    }

    /// Arms the first probe at `at` (a new checker: none is in flight).
    pub(crate) fn schedule(&mut self, at: Instant) {
        if !self.in_flight() {
            self.stage = Stage::Due(at);
        }
    }

    /// The checker's next deadline: the watchdog of the probe in flight, else
    /// the next probe.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.stage {
            Stage::Idle => None,
            Stage::Due(at) => Some(at),
            Stage::Flight { watchdog, .. } => Some(watchdog),
        }
    }

    /// Whether the probe in flight has outlived its watchdog at `now`.
    pub(crate) fn overdue(&self, now: Instant) -> bool {
        matches!(self.stage, Stage::Flight { watchdog, .. } if watchdog <= now)
    }

    /// Starts a probe if one is due at `now` (none is in flight then).
    pub(crate) fn launch(&mut self, now: Instant) -> bool {
        match self.stage {
            // keepalived re-arms a disabled checker without running it.
            Stage::Due(at) if at <= now && self.suspended => {
                self.stage = Stage::Due(now + self.delay_loop.get());
                false
            }
            Stage::Due(at) if at <= now => {
                self.stage = Stage::Flight {
                    started: now,
                    watchdog: now + self.kind.watchdog(),
                };
                true
            }
            _ => false,
        }
    }

    /// Applies the verdict of the probe in flight and schedules the next one;
    /// `None` if no probe was in flight.
    ///
    /// keepalived: a pass resets the retry series (and brings a down checker
    /// up); a failure of a live checker is retried `retry` times, spaced by
    /// `delay_before_retry`, before the checker goes down; a down checker
    /// is simply probed again after `delay_loop`.
    pub(crate) fn finish(
        &mut self,
        now: Instant,
        result: ProbeResult,
        outcome: Outcome,
    ) -> Option<Change> {
        let Stage::Flight { started, .. } = self.stage else {
            return None;
        };
        self.last = Some((now, result));
        let mut delay = self.delay_loop.get();
        let change = match outcome {
            // keepalived re-arms delay_loop and leaves the state alone.
            Outcome::Skip => {
                self.stage = Stage::Due(now + delay);
                return Some(Change::Same);
            }
            Outcome::Pass(_) | Outcome::Offset(_) => {
                self.retry_it = 0;
                if self.up {
                    Change::Same
                } else {
                    self.up = true;
                    Change::Up
                }
            }
            Outcome::Fail if self.up && self.retry_it < self.retry => {
                self.retry_it = self.retry_it.saturating_add(1);
                delay = self.delay_before_retry.get();
                Change::Same
            }
            Outcome::Fail => {
                self.retry_it = 0;
                if self.up {
                    self.up = false;
                    Change::Down
                } else {
                    Change::Same
                }
            }
        };
        self.has_run = true;
        if change != Change::Same {
            self.changed = Some(now);
        }
        // MISC_CHECK keeps its rhythm from the program's start (keepalived's
        // `last_ran`); the socket checkers count from the verdict.
        let base = match self.kind {
            ProbeKind::Misc { .. } => started,
            _ => now,
        };
        self.stage = Stage::Due((base + delay).max(now));
        Some(change)
    }

    /// Whether a verdict has been reached at least once.
    pub fn has_run(&self) -> bool {
        self.has_run
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::IpAddr;
    use vigil_model::{CheckCommon, CheckKind};

    fn tcp(retry: u32) -> Checker {
        let cfg = vigil_model::Checker {
            common: CheckCommon {
                connect_ip: IpAddr::from([10, 0, 0, 2]),
                connect_port: 80,
                bindto: None,
                bind_port: None,
                connect_timeout: Duration::from_secs(1),
                retry,
                delay_before_retry: Duration::from_secs(2),
                warmup: Duration::ZERO,
                delay_loop: Duration::from_secs(5),
                log_all_failures: false,
            },
            kind: CheckKind::Tcp,
        };
        Checker::new(RsId { vs: 0, rs: 0 }, &cfg, false)
    }

    #[test]
    fn no_verdict_without_a_probe_and_no_double_launch() {
        let mut c = tcp(1);
        assert_eq!(
            c.finish(Instant::ZERO, ProbeResult::TimedOut, Outcome::Fail),
            None
        );
        c.schedule(Instant::from_secs(1));
        assert!(!c.launch(Instant::ZERO));
        assert!(c.launch(Instant::from_secs(1)));
        assert!(!c.launch(Instant::from_secs(9)), "one in flight at most");
        assert_eq!(c.deadline(), Some(Instant::from_secs(7)));
    }

    #[test]
    fn retry_zero_goes_down_on_the_first_failure() {
        let mut c = tcp(0);
        c.schedule(Instant::ZERO);
        assert!(c.launch(Instant::ZERO));
        assert_eq!(
            c.finish(Instant::from_secs(1), ProbeResult::TimedOut, Outcome::Fail),
            Some(Change::Down)
        );
        assert!(!c.is_up() && c.has_run());
        assert_eq!(c.next_probe(), Some(Instant::from_secs(6)));
    }
}
