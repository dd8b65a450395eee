//! The facade: every checker of every real server, and the servers' verdicts.

use alloc::collections::{BinaryHeap, VecDeque};
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::time::Duration;

use vigil_model::Config;

use crate::action::Action;
use crate::checker::{Change, Checker};
use crate::error::Ignored;
use crate::id::{CheckerId, RsId};
use crate::probe::{outcome, Outcome, ProbeKind, ProbeResult};
use crate::time::{micros, Instant};
use vigil_rng::XorShift;

/// keepalived waits this long after start before the first check of any
/// checker (`BOOTSTRAP_DELAY`), warmup comes on top.
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);

/// Most queued outputs whose room is kept once the queue is drained.
const QUEUE_KEPT: usize = 64;

/// An empty queue gives back the room a burst left: when 4,000 checkers
/// come due together (one delay_loop for all), the queue holds 4,000
/// probes of ~130 bytes, and a `VecDeque` never shrinks by itself.
pub fn shrink_drained<T>(q: &mut VecDeque<T>) {
    if q.is_empty() && q.capacity() > QUEUE_KEPT {
        q.shrink_to(QUEUE_KEPT);
    }
}

/// Where one real server stands.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    /// Checkers currently down (keepalived's `num_failed_checkers`); the
    /// server is up when zero.
    pub(crate) failed: usize,
    /// Configured `weight`.
    pub(crate) configured: u32,
    /// The weight before FILE_CHECK offsets: configured, or set by
    /// `misc_dynamic`.
    pub(crate) base: u32,
    /// Sum of the FILE_CHECK offsets (keepalived's `cur_weight`s).
    pub(crate) offset: i64,
    /// Current weight: `base + offset`, within 0..=i32::MAX.
    pub(crate) weight: u32,
    pub(crate) notify_up: bool,
    pub(crate) notify_down: bool,
    /// When the server last went up or down.
    pub(crate) changed: Option<Instant>,
    /// The result that took it down, while it is down.
    pub(crate) reason: Option<ProbeResult>,
}

impl Server {
    pub(crate) fn new(rs: &vigil_model::RealServer, alpha: bool) -> Server {
        Server {
            // keepalived clears alpha for FILE_CHECK: the file is read at once.
            failed: if alpha {
                rs.checkers
                    .iter()
                    .filter(|c| !matches!(c.kind, vigil_model::CheckKind::File(_)))
                    .count()
            } else {
                0
            },
            configured: rs.weight,
            base: rs.weight,
            offset: 0,
            weight: rs.weight,
            notify_up: rs.notify_up.is_some(),
            notify_down: rs.notify_down.is_some(),
            changed: None,
            reason: None,
        }
    }
}

/// What the operator sees of one real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerView {
    /// Every checker passes.
    pub up: bool,
    /// Current weight (configured, or set by `misc_dynamic`).
    pub weight: u32,
    /// When it last went up or down (`None`: never since start).
    pub changed: Option<Instant>,
    /// The result that took it down, while down.
    pub reason: Option<ProbeResult>,
}

/// The sans-IO health checkers of one daemon (keepalived's checker process).
///
/// It reads no clock and opens no socket: probes are requested as
/// [`Action::Probe`], performed by the shell, and reported back.
///
/// Call order:
/// 1. [`Checkers::new`] from the validated configuration and a random seed
///    (for the warmup spread); [`real_server_state`](Checkers::real_server_state)
///    gives the starting verdicts (up, or down under `alpha`);
/// 2. [`handle_start`](Checkers::handle_start): each checker's first probe is
///    due [`BOOTSTRAP_DELAY`] plus a random `0..=warmup` later;
/// 3. loop: call [`handle_timeout`](Checkers::handle_timeout) when the
///    deadline from [`poll_timeout`](Checkers::poll_timeout) has passed,
///    report each probe's outcome with
///    [`handle_probe_result`](Checkers::handle_probe_result), and after each
///    call drain [`poll_action`](Checkers::poll_action) until `None`, then
///    re-read `poll_timeout`.
///
/// A checker never has more than one probe in flight. If the shell does not
/// answer within the probe's [`watchdog`](crate::ProbeKind::watchdog), the
/// probe counts as timed out and a late result is ignored.
///
/// Time: every `now` comes from one monotonic clock; an earlier `now` than
/// already seen is treated as the latest one seen.
///
/// `ha_suspend`: the shell calls [`set_suspended`](Checkers::set_suspended)
/// as the director gains or loses the service's VIP.
#[derive(Debug)]
pub struct Checkers {
    pub(crate) checkers: Vec<Checker>,
    /// `servers[vs][rs]`, parallel to the configuration.
    pub(crate) servers: Vec<Vec<Server>>,
    actions: VecDeque<Action>,
    pub(crate) rng: XorShift,
    pub(crate) started: bool,
    latest: Instant,
    /// Every checker's deadline in a min-heap: finding what is due costs
    /// O(log n) per checker instead of a scan of all of them per wake-up
    /// (a thousand checkers wake the loop a thousand times a second). A
    /// moved deadline leaves its old entry behind (no search to remove
    /// it): entries that disagree with `filed` are dropped when they reach
    /// the top, so the top is always live. A B-tree set's remove + insert
    /// per move was a fifth of the LVS thread's instructions.
    due: BinaryHeap<Reverse<(Instant, usize)>>,
    /// The deadline each checker is filed under in `due` (its live entry).
    filed: Vec<Option<Instant>>,
    /// [`Checkers::handle_timeout`]'s list of due checkers, kept.
    scratch: Vec<usize>,
}

impl Checkers {
    /// One checker per configured checker of each real server, in
    /// configuration order; `seed` drives the warmup spread.
    pub fn new(config: &Config, seed: u64) -> Checkers {
        // Sized once: grown by doubling, a thousand-checker Vec would pass
        // through every mid-size allocation class and leave them behind.
        let total = config
            .virtual_servers
            .iter()
            .flat_map(|vs| &vs.real_servers)
            .map(|rs| rs.checkers.len())
            .sum();
        let mut checkers = Vec::with_capacity(total);
        let mut servers = Vec::with_capacity(config.virtual_servers.len());
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            let mut row = Vec::with_capacity(vs.real_servers.len());
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let id = RsId { vs: v, rs: r };
                checkers.extend(rs.checkers.iter().map(|c| Checker::new(id, c, vs.alpha)));
                row.push(Server::new(rs, vs.alpha));
            }
            servers.push(row);
        }
        Checkers {
            checkers,
            servers,
            actions: VecDeque::new(),
            rng: XorShift::new(seed),
            started: false,
            latest: Instant::ZERO,
            due: BinaryHeap::new(),
            filed: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Files checker `n` under its current deadline.
    pub(crate) fn refile(&mut self, n: usize) {
        if self.filed.len() < self.checkers.len() {
            self.filed.resize(self.checkers.len(), None);
        }
        let deadline = self.checkers.get(n).and_then(Checker::deadline);
        let Some(slot) = self.filed.get_mut(n) else {
            return;
        };
        if *slot == deadline {
            return;
        }
        *slot = deadline;
        if let Some(d) = deadline {
            self.due.push(Reverse((d, n)));
        }
        self.drop_stale();
    }

    /// Pops entries whose checker moved on; rebuilds the heap from `filed`
    /// when stale ones pile up (deadlines far off, moved again and again).
    fn drop_stale(&mut self) {
        if self.due.len() > 2 * self.filed.len() + 64 {
            self.due = self
                .filed
                .iter()
                .enumerate()
                .filter_map(|(n, d)| Some(Reverse(((*d)?, n))))
                .collect();
        }
        while let Some(Reverse((t, n))) = self.due.peek().copied() {
            if self.filed.get(n) == Some(&Some(t)) {
                break;
            }
            self.due.pop();
        }
    }

    /// Files every checker afresh (after the list was rebuilt).
    pub(crate) fn refile_all(&mut self) {
        self.due.clear();
        self.filed = alloc::vec![None; self.checkers.len()];
        for n in 0..self.checkers.len() {
            self.refile(n);
        }
    }

    pub(crate) fn clock(&mut self, now: Instant) -> Instant {
        self.latest = self.latest.max(now);
        self.latest
    }

    /// Arms every checker's first probe. Ignored after the first call.
    pub fn handle_start(&mut self, now: Instant) {
        if self.started {
            return;
        }
        self.started = true;
        let now = self.clock(now);
        for c in &mut self.checkers {
            let spread = self.rng.up_to(micros(c.warmup()));
            c.schedule(now + BOOTSTRAP_DELAY + Duration::from_micros(spread));
        }
        self.refile_all();
    }

    /// The earliest instant at which [`handle_timeout`](Checkers::handle_timeout)
    /// has work: a probe due, or a probe's watchdog.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due.peek().map(|Reverse((t, _))| *t)
    }

    /// Fires everything due at `now`: overdue probes count as timed out,
    /// due checkers request their probe.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        // The list of due checkers reuses one buffer: this runs at every
        // wake-up of the loop.
        let mut due = core::mem::take(&mut self.scratch);
        due.clear();
        // Earliest first, as filed; a checker taken is unfiled, so a second
        // entry for it (filed, moved, filed back) is stale and dropped.
        while let Some(Reverse((t, n))) = self.due.peek().copied() {
            if t > now {
                break;
            }
            self.due.pop();
            if let Some(slot) = self.filed.get_mut(n).filter(|s| **s == Some(t)) {
                *slot = None;
                due.push(n);
            }
        }
        for &n in &due {
            let Some(c) = self.checkers.get_mut(n) else {
                continue;
            };
            if c.overdue(now) {
                self.verdict(now, CheckerId(n), ProbeResult::TimedOut);
            }
            let Some(c) = self.checkers.get_mut(n) else {
                continue;
            };
            if c.launch(now) {
                self.actions.push_back(Action::Probe {
                    checker: CheckerId(n),
                    kind: c.probe().clone(),
                });
            }
            self.refile(n);
        }
        self.drop_stale();
        self.scratch = due;
    }

    /// The outcome of the probe in flight for `checker`. A result with no
    /// probe in flight (stale or duplicate) changes nothing.
    pub fn handle_probe_result(
        &mut self,
        now: Instant,
        checker: CheckerId,
        result: ProbeResult,
    ) -> Result<(), Ignored> {
        let now = self.clock(now);
        match self.checkers.get(checker.0) {
            None => Err(Ignored::UnknownChecker(checker)),
            Some(c) if !c.in_flight() => Err(Ignored::NotInFlight(checker)),
            Some(_) => {
                self.verdict(now, checker, result);
                Ok(())
            }
        }
    }

    /// Applies a result to an in-flight checker and its real server.
    fn verdict(&mut self, now: Instant, id: CheckerId, result: ProbeResult) {
        let Some(c) = self.checkers.get_mut(id.0) else {
            return;
        };
        let dynamic = c.probe().dynamic();
        let seen = outcome(result, c.probe());
        let old_offset = c.offset();
        let new_offset = match seen {
            Outcome::Offset(d) => d,
            // keepalived's FAULT drops the file's share of the weight.
            Outcome::Fail if matches!(c.probe(), ProbeKind::File { .. }) => 0,
            _ => old_offset,
        };
        c.set_offset(new_offset);
        let rs = c.real_server();
        let finished = c.finish(now, result, seen);
        self.refile(id.0);
        let Some(change) = finished else {
            return;
        };
        let Some(server) = self
            .servers
            .get_mut(rs.vs)
            .and_then(|row| row.get_mut(rs.rs))
        else {
            return;
        };
        if let (Outcome::Pass(w), true) = (seen, dynamic) {
            server.base = w.unwrap_or(server.configured);
        }
        server.offset = server.offset.saturating_add(new_offset - old_offset);
        {
            let weight = u32::try_from(
                (i64::from(server.base) + server.offset).clamp(0, i64::from(i32::MAX)),
            )
            .unwrap_or(0);
            if weight != server.weight {
                server.weight = weight;
                self.actions.push_back(Action::SetWeight {
                    vs: rs.vs,
                    rs: rs.rs,
                    weight,
                });
            }
        }
        let (vs, r) = (rs.vs, rs.rs);
        match change {
            Change::Same => {}
            Change::Down => {
                server.failed = server.failed.saturating_add(1);
                if server.failed != 1 {
                    self.actions.push_back(Action::CheckerChange {
                        checker: id,
                        vs,
                        rs: r,
                        up: false,
                    });
                } else {
                    server.changed = Some(now);
                    server.reason = Some(result);
                    self.actions.push_back(Action::RealServerDown { vs, rs: r });
                    if server.notify_down {
                        self.actions.push_back(Action::Notify {
                            vs,
                            rs: r,
                            up: false,
                        });
                    }
                }
            }
            Change::Up => {
                server.failed = server.failed.saturating_sub(1);
                if server.failed != 0 {
                    self.actions.push_back(Action::CheckerChange {
                        checker: id,
                        vs,
                        rs: r,
                        up: true,
                    });
                } else {
                    server.changed = Some(now);
                    server.reason = None;
                    self.actions.push_back(Action::RealServerUp { vs, rs: r });
                    if server.notify_up {
                        self.actions.push_back(Action::Notify {
                            vs,
                            rs: r,
                            up: true,
                        });
                    }
                }
            }
        }
    }

    /// True if `result` would be a failed attempt of a checker that is up
    /// (a retry or the failure that takes it down): what
    /// `checker_log_all_failures` logs, as keepalived's checkers do.
    pub fn fails_while_up(&self, checker: CheckerId, result: &ProbeResult) -> bool {
        self.checkers.get(checker.0).is_some_and(|c| {
            c.in_flight() && c.is_up() && matches!(outcome(*result, c.probe()), Outcome::Fail)
        })
    }

    /// The distinct files the FILE_CHECKs read, for the shell to watch
    /// (keepalived watches them with inotify).
    pub fn file_paths(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.checkers {
            if let ProbeKind::File { path, .. } = c.probe() {
                if !out.contains(&path.as_str()) {
                    out.push(path);
                }
            }
        }
        out
    }

    /// The file at `path` changed: the FILE_CHECKs that read it are due at
    /// `now` (run by the next [`Checkers::handle_timeout`]) instead of at
    /// their next delay_loop. One with a reading in flight keeps it.
    pub fn file_changed(&mut self, now: Instant, path: &str) {
        let now = self.clock(now);
        if !self.started {
            return;
        }
        for n in 0..self.checkers.len() {
            let Some(c) = self.checkers.get_mut(n) else {
                continue;
            };
            let reads = matches!(c.probe(), ProbeKind::File { path: p, .. } if p == path);
            if reads && c.next_probe().is_some() {
                c.schedule(now);
                self.refile(n);
            }
        }
    }

    /// The next output, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        let a = self.actions.pop_front();
        if a.is_none() {
            shrink_drained(&mut self.actions);
        }
        a
    }

    /// Gives back spare capacity (after a reload, which builds the
    /// checkers by pushing).
    pub fn shrink_to_fit(&mut self) {
        self.checkers.shrink_to_fit();
        self.servers.shrink_to_fit();
        self.filed.shrink_to_fit();
    }

    /// `(up, weight)` of real server `rs` of virtual server `vs` (indices
    /// into the configuration); `None` if there is no such server. A server
    /// without checkers is always up.
    pub fn real_server_state(&self, vs: usize, rs: usize) -> Option<(bool, u32)> {
        let s = self.servers.get(vs)?.get(rs)?;
        Some((s.failed == 0, s.weight))
    }

    /// The operator's view of real server `rs` of virtual server `vs`.
    pub fn server_view(&self, vs: usize, rs: usize) -> Option<ServerView> {
        let s = self.servers.get(vs)?.get(rs)?;
        Some(ServerView {
            up: s.failed == 0,
            weight: s.weight,
            changed: s.changed,
            reason: s.reason,
        })
    }

    /// `ha_suspend`: suspends (or resumes) every checker of virtual server
    /// `vs`. A suspended checker skips its due probes and keeps its verdict.
    pub fn set_suspended(&mut self, vs: usize, suspended: bool) {
        for c in self
            .checkers
            .iter_mut()
            .filter(|c| c.real_server().vs == vs)
        {
            c.set_suspended(suspended);
        }
    }

    /// The checker with this id.
    pub fn checker(&self, id: CheckerId) -> Option<&Checker> {
        self.checkers.get(id.0)
    }

    /// Every checker with its id, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = (CheckerId, &Checker)> {
        self.checkers
            .iter()
            .enumerate()
            .map(|(n, c)| (CheckerId(n), c))
    }

    /// The checkers of one real server. Checkers are kept in configuration
    /// order (built and rebuilt at a reload by walking virtual servers, then
    /// real servers), so a real server's are one run, found by bisection:
    /// the status views ask this for every real server.
    pub fn checkers_of(&self, vs: usize, rs: usize) -> impl Iterator<Item = CheckerId> + '_ {
        let key = |c: &Checker| (c.real_server().vs, c.real_server().rs);
        let start = self.checkers.partition_point(|c| key(c) < (vs, rs));
        let end = start + self.checkers[start..].partition_point(|c| key(c) == (vs, rs));
        (start..end).map(CheckerId)
    }

    /// The checkers of one virtual server, as [`checkers_of`](Checkers::checkers_of).
    pub fn checkers_of_vs(&self, vs: usize) -> impl Iterator<Item = (CheckerId, &Checker)> + '_ {
        let start = self.checkers.partition_point(|c| c.real_server().vs < vs);
        let end = start + self.checkers[start..].partition_point(|c| c.real_server().vs == vs);
        (start..end).filter_map(|n| Some((CheckerId(n), self.checkers.get(n)?)))
    }

    /// Number of checkers.
    pub fn len(&self) -> usize {
        self.checkers.len()
    }

    /// Whether no checker is configured.
    pub fn is_empty(&self) -> bool {
        self.checkers.is_empty()
    }
}
