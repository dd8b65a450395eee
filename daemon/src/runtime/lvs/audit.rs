//! The background audit after a reload: the services whose destinations
//! the reload took from the record ([`super::reread`]) are dumped a few at
//! a time and compared in full (weight, forwarding, thresholds, tunnel
//! type, port and flags: what `/proc/net/ip_vs` does not show). A hand
//! edit found is repaired with the fewest commands and the record fixed,
//! so a reload repairs every hand edit of an owned service without making
//! the reload itself read 1,000 services.
//!
//! Paced so that no wake-up of the LVS thread runs long: [`BATCH`]
//! services every [`EVERY_US`] (1,000 services in 4 s). A reload restarts
//! it, a stop ends it. Its requests and commands are counted in
//! [`AuditStats`], apart from the reload's figures.

use vigil_check::Instant;
use vigil_lvs::{diff, Command, Destination, ServiceKey, Table};

use super::backend::{Backend, Fault};
use super::names::{dest_name, service_name};
use super::reread::{apply_to, tolerate};

/// Services dumped per step.
pub const BATCH: usize = 25;
/// Between steps (the first comes one period after the reload).
pub const EVERY_US: u64 = 100_000;

/// What the audits did, in total and for the last one that ran to its end.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AuditStats {
    /// Audits begun, and those that ran to their end (a reload during one
    /// restarts it; a stop ends it).
    pub begun: u64,
    pub finished: u64,
    /// Services dumped and the requests the audits sent, repairs
    /// included (where the backend counts requests).
    pub services: u64,
    pub requests: u64,
    /// Hand edits found (services), the commands sent to repair them and
    /// how many of those were refused.
    pub repaired: u64,
    pub commands: u64,
    pub refused: u64,
    /// The last finished audit: services, steps, requests, the wall time of
    /// its steps summed and of the longest one (ms), and its span from the
    /// reload to its last step on the engine's clock (ms).
    pub last_services: u64,
    pub last_steps: u64,
    pub last_requests: u64,
    pub last_work_ms: f64,
    pub last_max_step_ms: f64,
    pub last_span_ms: f64,
}

/// One audit in progress.
pub(super) struct Audit {
    queue: Vec<ServiceKey>,
    next: usize,
    due: Instant,
    begun: Instant,
    steps: u64,
    dumped: u64,
    requests: u64,
    work_ms: f64,
    max_step_ms: f64,
}

/// What a step asks of the engine.
#[derive(Debug, Default)]
pub(super) struct Step {
    /// The audit is over.
    pub done: bool,
    /// A repair was refused or a read failed for a missing service: the
    /// record is wrong, read the kernel again.
    pub resync: bool,
}

impl Audit {
    /// An audit of `queue`, or none when it is empty.
    pub fn new(queue: Vec<ServiceKey>, now: Instant, stats: &mut AuditStats) -> Option<Audit> {
        if queue.is_empty() {
            return None;
        }
        stats.begun += 1;
        Some(Audit {
            queue,
            next: 0,
            due: now.plus_micros(EVERY_US),
            begun: now,
            steps: 0,
            dumped: 0,
            requests: 0,
            work_ms: 0.0,
            max_step_ms: 0.0,
        })
    }

    /// When the next step is due.
    pub fn due(&self) -> Instant {
        self.due
    }

    /// Services still to dump.
    pub fn left(&self) -> usize {
        self.queue.len().saturating_sub(self.next)
    }

    /// Dumps the next [`BATCH`] services still in `record` and repairs
    /// any that differs from it.
    pub fn step<B: Backend>(
        &mut self,
        now: Instant,
        backend: &mut B,
        record: &mut Table,
        stats: &mut AuditStats,
    ) -> Step {
        let t0 = std::time::Instant::now();
        let sent0 = backend.requests_sent();
        let end = self.queue.len().min(self.next + BATCH);
        let mut out = Step::default();
        for key in self.queue.get(self.next..end).unwrap_or_default() {
            // A service the checkers or a resync removed meanwhile is no
            // longer ours to judge.
            if record.service(key).is_none() {
                continue;
            }
            stats.services += 1;
            self.dumped += 1;
            match backend.dests(key) {
                Ok(dumped) => out.resync |= repair(backend, record, key, dumped, stats),
                Err(e) => {
                    log::warn!("IPVS audit: {e}");
                    out.resync |= e.fault == Fault::NotThere;
                }
            }
        }
        self.next = end;
        self.steps += 1;
        let reqs = backend.requests_sent() - sent0;
        stats.requests += reqs;
        self.requests += reqs;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        self.work_ms += ms;
        self.max_step_ms = self.max_step_ms.max(ms);
        self.due = now.plus_micros(EVERY_US);
        out.done = self.left() == 0;
        if out.done {
            stats.finished += 1;
            stats.last_services = self.dumped;
            stats.last_steps = self.steps;
            stats.last_requests = self.requests;
            stats.last_work_ms = self.work_ms;
            stats.last_max_step_ms = self.max_step_ms;
            stats.last_span_ms = now.saturating_duration_since(self.begun).as_secs_f64() * 1e3;
            log::info!(
                "IPVS audit: {} service(s) read back, {} request(s) with the repairs, {} step(s), {:.1} ms of work (longest step {:.1} ms) over {:.1} s",
                stats.last_services,
                self.requests,
                self.steps,
                self.work_ms,
                self.max_step_ms,
                stats.last_span_ms / 1e3
            );
        }
        out
    }
}

/// Compares one service's dump with the record; on a difference the
/// record takes the dump and the commands back to the recorded state are
/// applied. `true` when the kernel refused one (read it again).
fn repair<B: Backend>(
    backend: &mut B,
    record: &mut Table,
    key: &ServiceKey,
    dumped: Vec<Destination>,
    stats: &mut AuditStats,
) -> bool {
    let Some(service) = record.service(key).cloned() else {
        return false;
    };
    let mut have = Table::new();
    have.insert_service(service.clone());
    for mut d in dumped {
        if let Some(w) = record.dest(key, &d.key()) {
            tolerate(&mut d, w);
        }
        let _ = have.insert_dest(key, d);
    }
    if have.dests(key).eq(record.dests(key)) {
        return false;
    }
    let mut want = Table::new();
    want.insert_service(service.clone());
    for d in record.dests(key) {
        let _ = want.insert_dest(key, *d);
    }
    let cmds = diff(&have, &want);
    let what: Vec<String> = cmds.iter().map(|c| change(&have, c)).collect();
    // The record is what the kernel holds, then what it accepts.
    record.remove_service(key);
    record.insert_service(service);
    for d in have.dests(key) {
        let _ = record.insert_dest(key, *d);
    }
    let results = backend.apply_all(&cmds);
    let mut resync = results.len() != cmds.len();
    let mut refused = 0;
    for (cmd, r) in cmds.iter().zip(results) {
        match r {
            Ok(()) => apply_to(record, cmd),
            Err(e) => {
                log::warn!("IPVS audit: {e}");
                refused += 1;
                resync = true;
            }
        }
    }
    stats.repaired += 1;
    stats.commands += cmds.len() as u64;
    stats.refused += refused;
    log::info!(
        "IPVS audit: repaired a hand edit of {}: {} ({} command(s), {refused} refused)",
        service_name(key),
        what.join(", "),
        cmds.len()
    );
    resync
}

/// What one repair command undoes, for the log.
fn change(have: &Table, cmd: &Command) -> String {
    match cmd {
        Command::AddDest(_, d) => format!("{} was missing", dest_name(d.addr, d.port)),
        Command::DelDest(_, k) => format!("{} is not ours", dest_name(k.addr, k.port)),
        Command::EditDest(s, d) => {
            let name = dest_name(d.addr, d.port);
            let Some(h) = have.dest(s, &d.key()) else {
                return name;
            };
            let mut f = Vec::new();
            if h.weight != d.weight {
                f.push(format!("weight {} (want {})", h.weight, d.weight));
            }
            if h.forwarding != d.forwarding {
                f.push(format!(
                    "forwarding {:?} (want {:?})",
                    h.forwarding, d.forwarding
                ));
            }
            if h.u_threshold != d.u_threshold {
                f.push(format!(
                    "uthreshold {} (want {})",
                    h.u_threshold, d.u_threshold
                ));
            }
            if h.l_threshold != d.l_threshold {
                f.push(format!(
                    "lthreshold {} (want {})",
                    h.l_threshold, d.l_threshold
                ));
            }
            format!("{name} {}", f.join(" "))
        }
        other => format!("{other:?}"),
    }
}
