//! The checker process's logic, driven by the LVS thread: the sans-IO
//! checkers and planner, and an IPVS table reached through a [`Backend`].
//!
//! Membership is always derived from the current checker states (one verdict
//! function after every change and every reload), never from edge events
//! alone, and a reload diffs against the kernel's table, not against the old
//! configuration: a real server that recovered comes back, a hand-deleted
//! entry is repaired (keepalived's #373 / #1720 / #1018 family).
//!
//! Between reloads the engine diffs against its record of what it installed;
//! a command the kernel refuses makes it read the kernel's table and
//! reconcile once more. What a reload reads is in [`super::reread`]; what
//! that cheap read cannot see (thresholds, tunnel types) the background
//! [`super::audit`] finds and repairs in the seconds after.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;

use vigil_check::{Action, CheckerId, Checkers, Instant, ProbeResult};
use vigil_lvs::{diff, Command, Planner, Table};
use vigil_model::{Command as Script, Config, FlushOnStop, VsKey};

use super::audit::{Audit, AuditStats};
use super::backend::{Backend, Fault};
use super::names::{dest_name, vs_name};
use super::reread::{apply_to, kernel_view};
use super::tokens::TokenMap;

pub use super::out::{Alert, Out};

/// What the engine sent to the table: totals, and the last diff applied
/// (the count a one-line reload must keep at one). The audit after a
/// reload is counted apart, in `audit`, so the reload's figures stay its own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ApplyStats {
    /// Diffs applied (each as one `apply_all`).
    pub applies: u64,
    /// Commands sent, and how many of them were refused.
    pub commands: u64,
    pub refused: u64,
    pub last_commands: usize,
    pub last_refused: u64,
    /// Requests (datagrams) the last diff took, where the backend counts.
    pub last_requests: u64,
    /// Wall-clock time of the last diff's apply (a log figure only).
    pub last_ms: f64,
    pub audit: AuditStats,
}

fn ms(t0: std::time::Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1e3
}

pub struct Engine<B: Backend> {
    /// The configuration in force, without the real servers' checker
    /// blocks: once built into `checkers` they are not read again (a reload
    /// matches servers by identity), and at 1,000 x 4 they are half of it.
    config: Config,
    checkers: Checkers,
    planner: Planner,
    backend: B,
    /// What we installed (services we own and their destinations).
    installed: Table,
    /// Probes in flight: token -> checker.
    tokens: TokenMap,
    next_token: u64,
    /// The VIPs this host holds (for `ha_suspend`).
    held: BTreeSet<IpAddr>,
    out: VecDeque<Out>,
    /// Some command failed: read the kernel and reconcile at the next update.
    resync: bool,
    stats: ApplyStats,
    /// The services a reload trusted, being dumped in the background.
    audit: Option<Audit>,
    /// The latest time a caller gave (an audit started by `sync` is paced
    /// from it).
    now: Instant,
}

/// What the engine keeps of a configuration: the checker blocks are in the
/// [`Checkers`] already (see [`Engine`]'s `config`).
fn slim(config: &mut Config) {
    for vs in &mut config.virtual_servers {
        for rs in &mut vs.real_servers {
            rs.checkers = Vec::new();
        }
    }
    config.shrink_to_fit();
}

impl<B: Backend> Engine<B> {
    /// Builds the checkers; nothing is installed before [`Engine::start`].
    pub fn new(mut config: Config, backend: B, seed: u64) -> Engine<B> {
        let checkers = Checkers::new(&config, seed);
        slim(&mut config);
        Engine {
            config,
            checkers,
            planner: Planner::new(),
            backend,
            installed: Table::new(),
            tokens: TokenMap::default(),
            next_token: 1,
            held: BTreeSet::new(),
            out: VecDeque::new(),
            resync: false,
            stats: ApplyStats::default(),
            audit: None,
            now: Instant::from_micros(0),
        }
    }

    /// What was sent to the table so far.
    pub fn apply_stats(&self) -> ApplyStats {
        self.stats
    }

    pub fn backend_ref(&self) -> &B {
        &self.backend
    }

    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn checkers(&self) -> &Checkers {
        &self.checkers
    }

    pub fn planner(&self) -> &Planner {
        &self.planner
    }

    pub fn installed(&self) -> &Table {
        &self.installed
    }

    /// Services the audit after the last reload has still to read back.
    pub fn audit_left(&self) -> usize {
        self.audit.as_ref().map_or(0, Audit::left)
    }

    /// Reads the kernel's table, flushes it first under `lvs_flush`, installs
    /// what the configuration wants (real servers without `alpha` are in
    /// service before their first check, as keepalived does) and arms the
    /// checkers.
    pub fn start(&mut self, now: Instant) {
        self.now = now;
        if self.config.global.lvs_flush {
            log::info!("lvs_flush: flushing the IPVS table");
            if let Err(e) = self.backend.apply(&Command::Flush) {
                log::error!("IPVS flush: {e}");
            }
        }
        self.suspend_by_vips();
        self.checkers.handle_start(now);
        self.resync = true;
        self.update();
    }

    /// When [`Engine::handle_timeout`] has work: a checker, or the
    /// audit's next step.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let audit = self.audit.as_ref().map(Audit::due);
        match (self.checkers.poll_timeout(), audit) {
            (Some(c), Some(a)) => Some(c.min(a)),
            (c, a) => c.or(a),
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.checkers.handle_timeout(now);
        self.update();
        self.audit_step(now);
    }

    /// One paced step of the audit, when due; the checkers' changes came
    /// first, so it compares with an up-to-date record.
    fn audit_step(&mut self, now: Instant) {
        let Some(a) = self.audit.as_mut().filter(|a| a.due() <= now) else {
            return;
        };
        let step = a.step(
            now,
            &mut self.backend,
            &mut self.installed,
            &mut self.stats.audit,
        );
        if step.done {
            self.audit = None;
        }
        if step.resync {
            self.resync = true;
            self.update();
        }
    }

    /// The files the FILE_CHECKs read (watched by the LVS loop).
    pub fn file_paths(&self) -> Vec<String> {
        self.checkers
            .file_paths()
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// A watched file changed: its FILE_CHECKs read it now.
    pub fn file_changed(&mut self, now: Instant, path: &str) {
        self.checkers.file_changed(now, path);
        self.handle_timeout(now);
    }

    /// `checker_log_all_failures` (or the checker's `log_all_failures`):
    /// one line per failed attempt of a live checker (keepalived's "TCP
    /// connection to ... failed.").
    fn log_failure(&self, id: vigil_check::CheckerId, result: ProbeResult) {
        let Some(c) = self.checkers.checker(id) else {
            return;
        };
        let at = c.real_server();
        let Some(v) = self.config.virtual_servers.get(at.vs) else {
            return;
        };
        let Some(r) = v.real_servers.get(at.rs) else {
            return;
        };
        let Some(k) = self
            .checkers
            .checkers_of(at.vs, at.rs)
            .position(|x| x == id)
            .and_then(|i| r.checkers.get(i))
        else {
            return;
        };
        if !(self.config.global.checker_log_all_failures || k.common.log_all_failures) {
            return;
        }
        let kind = k.kind.keyword();
        log::info!(
            "{} real server {}: {kind} failed: {result}",
            vs_name(v),
            dest_name(r.addr, r.port)
        );
    }

    /// The result of the probe `token`; unknown tokens (a probe of a checker
    /// removed by a reload) are ignored.
    pub fn handle_probe(&mut self, now: Instant, token: u64, result: ProbeResult) {
        self.now = now;
        let Some(id) = self.tokens.remove(&token) else {
            return;
        };
        if self.checkers.fails_while_up(id, &result) {
            self.log_failure(id, result);
        }
        if let Err(e) = self.checkers.handle_probe_result(now, id, result) {
            log::debug!("probe result ignored: {e}");
        }
        self.update();
    }

    /// The VIPs this host now holds; checkers of `ha_suspend` virtual
    /// servers run only while their address is among them.
    pub fn set_held(&mut self, vips: impl IntoIterator<Item = IpAddr>) {
        self.held = vips.into_iter().collect();
        self.suspend_by_vips();
    }

    fn suspend_by_vips(&mut self) {
        for (vi, vs) in self.config.virtual_servers.iter().enumerate() {
            if !vs.ha_suspend {
                continue;
            }
            // A fwmark service has no address to hold: never suspended.
            if let VsKey::Addr { addr, .. } = vs.key {
                self.checkers.set_suspended(vi, !self.held.contains(&addr));
            }
        }
    }

    /// SIGHUP: the new configuration's checkers inherit the state of the
    /// unchanged ones; the table is recomputed from them and reconciled
    /// with the kernel's; the services that read trusted are audited in
    /// the background (an audit under way starts over).
    pub fn reload(&mut self, now: Instant, mut config: Config) {
        self.now = now;
        self.update();
        let remap = self.checkers.reconfigure(now, &self.config, &config);
        self.checkers.shrink_to_fit();
        slim(&mut config);
        let renamed: HashMap<CheckerId, CheckerId> = remap.into_iter().collect();
        self.tokens = self
            .tokens
            .drain()
            .filter_map(|(t, old)| renamed.get(&old).map(|new| (t, *new)))
            .collect();
        // Quorum states are per position; a reload judges them afresh.
        self.planner.reset();
        self.config = config;
        self.suspend_by_vips();
        self.checkers.handle_start(now);
        self.resync = true;
        self.update();
    }

    /// Removes what we installed, as `lvs_flush_on_stop` says, and runs the
    /// down notifiers of `omega` virtual servers.
    pub fn stop(&mut self) {
        self.audit = None;
        for (vi, vs) in self.config.virtual_servers.iter().enumerate() {
            if !vs.omega {
                continue;
            }
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let up = self
                    .checkers
                    .real_server_state(vi, ri)
                    .is_some_and(|(up, _)| up);
                if up {
                    self.out.push_back(Out::Alert(Alert::Shutdown {
                        vs: vi,
                        rs: Some(ri),
                    }));
                }
                if let (true, Some(c)) = (up, &rs.notify_down) {
                    self.out.push_back(Out::Script {
                        what: format!("notify_down of {}", dest_name(rs.addr, rs.port)),
                        command: Script::clone(c),
                    });
                }
            }
            self.out
                .push_back(Out::Alert(Alert::Shutdown { vs: vi, rs: None }));
            if let Some(c) = &vs.quorum_down {
                self.out.push_back(Out::Script {
                    what: "quorum_down".into(),
                    command: Script::clone(c),
                });
            }
        }
        let cmds: Vec<Command> = match self.config.global.lvs_flush_on_stop {
            FlushOnStop::All => vec![Command::Flush],
            FlushOnStop::VirtualServers => self
                .installed
                .services()
                .map(|s| Command::DelService(s.key))
                .collect(),
            FlushOnStop::Each => diff(&self.installed, &Table::new()),
        };
        for r in self.backend.apply_all(&cmds) {
            match r {
                Ok(()) => {}
                Err(e) if e.fault == Fault::NotThere => log::debug!("stop: {e}"),
                Err(e) => log::error!("stop: {e}"),
            }
        }
        self.installed = Table::new();
        log::info!(
            "IPVS: removed what was installed ({} command(s))",
            cmds.len()
        );
    }

    /// The next thing to do outside.
    pub fn poll_out(&mut self) -> Option<Out> {
        let o = self.out.pop_front();
        if o.is_none() {
            vigil_check::shrink_drained(&mut self.out);
        }
        o
    }

    /// Drains the checkers' actions, then brings the table in line.
    fn update(&mut self) {
        let mut changed = false;
        while let Some(a) = self.checkers.poll_action() {
            changed |= self.act(a);
        }
        if changed || self.resync {
            self.sync();
        }
    }

    /// One checker action; `true` when the table may have to change.
    fn act(&mut self, a: Action) -> bool {
        fn vs_of(c: &Config, vs: usize) -> Option<&vigil_model::VirtualServer> {
            c.virtual_servers.get(vs)
        }
        match a {
            Action::Probe { checker, kind } => {
                let token = self.next_token;
                self.next_token = self.next_token.wrapping_add(1);
                self.tokens.insert(token, checker);
                self.out.push_back(Out::Probe { token, kind });
                false
            }
            Action::RealServerUp { vs, rs } | Action::RealServerDown { vs, rs } => {
                let up = matches!(a, Action::RealServerUp { .. });
                if let Some(v) = vs_of(&self.config, vs) {
                    if let Some(r) = v.real_servers.get(rs) {
                        let reason = self
                            .checkers
                            .server_view(vs, rs)
                            .and_then(|s| s.reason)
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default();
                        log::info!(
                            "{} real server {} {}{reason}",
                            vs_name(v),
                            dest_name(r.addr, r.port),
                            if up { "UP" } else { "DOWN" },
                        );
                    }
                }
                let check = self
                    .checkers
                    .checkers_of(vs, rs)
                    .next()
                    .and_then(|id| self.checkers.checker(id))
                    .map_or("", |c| c.keyword());
                self.out
                    .push_back(Out::Alert(Alert::RealServer { vs, rs, up, check }));
                true
            }
            Action::CheckerChange {
                checker,
                vs,
                rs,
                up,
            } => {
                let kind = self
                    .checkers
                    .checkers_of(vs, rs)
                    .position(|c| c == checker)
                    .and_then(|i| {
                        vs_of(&self.config, vs)?
                            .real_servers
                            .get(rs)?
                            .checkers
                            .get(i)
                    })
                    .map_or("", |c| c.kind.keyword());
                self.out
                    .push_back(Out::Alert(Alert::Checker { vs, rs, up, kind }));
                false
            }
            Action::SetWeight { .. } => true,
            Action::Notify { vs, rs, up } => {
                let r = vs_of(&self.config, vs).and_then(|v| v.real_servers.get(rs));
                if let Some(r) = r {
                    let (hook, kind) = if up {
                        (&r.notify_up, "notify_up")
                    } else {
                        (&r.notify_down, "notify_down")
                    };
                    if let Some(c) = hook {
                        self.out.push_back(Out::Script {
                            what: format!("{kind} of {}", dest_name(r.addr, r.port)),
                            command: Script::clone(c),
                        });
                    }
                }
                false
            }
        }
    }

    /// Plans the table from the checkers' verdicts and applies the
    /// difference: against the kernel's table after a reload or a refused
    /// command, else against what we installed.
    fn sync(&mut self) {
        let checkers = &self.checkers;
        let health = |vs: usize, rs: usize| match checkers.real_server_state(vs, rs) {
            Some((up, weight)) => (up, Some(weight)),
            None => (false, None),
        };
        let plan = self.planner.plan(&self.config, &health);
        for (vi, ev) in &plan.events {
            let Some(vs) = self.config.virtual_servers.get(*vi) else {
                continue;
            };
            let name = vs_name(vs);
            let weight = (0..vs.real_servers.len())
                .filter_map(|ri| checkers.real_server_state(*vi, ri))
                .filter(|(up, _)| *up)
                .map(|(_, w)| u64::from(w))
                .sum();
            self.out.push_back(Out::Alert(Alert::Quorum {
                vs: *vi,
                up: ev.up,
                initial: ev.initial,
                weight,
            }));
            log::info!(
                "{name}: {}quorum {}",
                if ev.initial { "starting with " } else { "" },
                if ev.up { "up" } else { "lost" }
            );
            let hook = if ev.up {
                &vs.quorum_up
            } else {
                &vs.quorum_down
            };
            if let Some(c) = hook {
                self.out.push_back(Out::Script {
                    what: format!(
                        "{} of {name}",
                        if ev.up { "quorum_up" } else { "quorum_down" }
                    ),
                    command: Script::clone(c),
                });
            }
        }
        // A refused command means our record was wrong: read the kernel and
        // go once more (bounded: a kernel that keeps refusing is logged).
        for _ in 0..2 {
            let sent0 = self.backend.requests_sent();
            let t0 = std::time::Instant::now();
            let read = std::mem::take(&mut self.resync);
            // The record itself is the base between reloads: no copy.
            let mut base = if read {
                let r = kernel_view(&mut self.backend, &self.installed, &plan.table);
                self.audit = Audit::new(r.trusted, self.now, &mut self.stats.audit);
                r.view
            } else {
                std::mem::take(&mut self.installed)
            };
            let (read_reqs, read_ms) = (self.backend.requests_sent() - sent0, ms(t0));
            let cmds = diff(&base, &plan.table);
            if !cmds.is_empty() {
                self.apply_diff(&mut base, &cmds);
                let s = &self.stats;
                log::info!(
                    "IPVS: {} change(s) in {} request(s), {} refused, {:.1} ms{}",
                    s.last_commands,
                    s.last_requests,
                    s.last_refused,
                    s.last_ms,
                    if read {
                        format!(" (after reading the kernel's table: {read_reqs} request(s), {read_ms:.1} ms)")
                    } else {
                        String::new()
                    }
                );
            }
            self.installed = base;
            if !self.resync {
                break;
            }
        }
    }

    /// Applies `cmds` as batches, recording in `base` what the kernel
    /// accepted; any refusal (or a missing answer) asks for a resync.
    fn apply_diff(&mut self, base: &mut Table, cmds: &[Command]) {
        let sent0 = self.backend.requests_sent();
        let t0 = std::time::Instant::now();
        let results = self.backend.apply_all(cmds);
        let mut refused = 0;
        if results.len() != cmds.len() {
            log::error!(
                "IPVS: {} answer(s) to {} change(s)",
                results.len(),
                cmds.len()
            );
            self.resync = true;
        }
        for (cmd, r) in cmds.iter().zip(results) {
            match r {
                Ok(()) => apply_to(base, cmd),
                Err(e) => {
                    match e.fault {
                        Fault::AlreadyThere | Fault::NotThere => log::warn!("IPVS: {e}"),
                        Fault::Other => log::error!("IPVS: {e}"),
                    }
                    refused += 1;
                    self.resync = true;
                }
            }
        }
        let s = &mut self.stats;
        s.applies += 1;
        s.commands += cmds.len() as u64;
        s.refused += refused;
        s.last_commands = cmds.len();
        s.last_refused = refused;
        s.last_requests = self.backend.requests_sent() - sent0;
        s.last_ms = ms(t0);
    }
}
