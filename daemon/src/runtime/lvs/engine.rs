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
//! reconcile once more.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;

use vigil_check::{Action, CheckerId, Checkers, Instant, ProbeKind, ProbeResult};
use vigil_lvs::{diff, Command, Destination, Forwarding, Planner, ServiceKey, Table};
use vigil_model::{Command as Script, Config, FlushOnStop, VsKey};

use super::backend::{Backend, Fault};
use super::names::{dest_name, vs_name};
use super::tokens::TokenMap;

/// Something the LVS thread must do outside the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Run this probe; report with [`Engine::handle_probe`] and this token.
    Probe { token: u64, kind: ProbeKind },
    /// Run a notify command (`notify_up`, `quorum_down`, ...); `what` names
    /// it for the log.
    Script { what: String, command: Script },
    /// A real server went up or down, or a virtual server's quorum
    /// changed: the FIFO line and the alert mail (indices into the
    /// configuration in force).
    Alert(Alert),
}

/// See [`Out::Alert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    RealServer {
        vs: usize,
        rs: usize,
        up: bool,
        /// The first checker's block (`TCP_CHECK`, ...), named in the mail.
        check: &'static str,
    },
    Quorum {
        vs: usize,
        up: bool,
        initial: bool,
        /// The weights of the live real servers, summed (keepalived's mail
        /// body names it).
        weight: u64,
    },
    /// A checker changed without changing its real server (`up`: the
    /// checker's state; `kind`: its keyword, for the mail's words).
    Checker {
        vs: usize,
        rs: usize,
        up: bool,
        kind: &'static str,
    },
    /// `omega` at stop: a live real server (`Some`) or the virtual
    /// server goes DOWN, "=> Shutting down <=".
    Shutdown { vs: usize, rs: Option<usize> },
}

/// What the engine sent to the table: totals, and the last diff applied
/// (the count a one-line reload must keep at one).
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

/// keepalived's forwarding-method tolerance: older kernels report a
/// destination on this host as LOCALNODE where DR was asked for.
fn same_forwarding(have: Forwarding, want: Forwarding) -> bool {
    have == want || (have == Forwarding::Local && want == Forwarding::Dr)
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

    /// Reads the kernel's table, flushes it first under `lvs_flush`, installs
    /// what the configuration wants (real servers without `alpha` are in
    /// service before their first check, as keepalived does) and arms the
    /// checkers.
    pub fn start(&mut self, now: Instant) {
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

    /// When [`Engine::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.checkers.poll_timeout()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.checkers.handle_timeout(now);
        self.update();
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
    /// with the kernel's.
    pub fn reload(&mut self, now: Instant, mut config: Config) {
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
                self.kernel_view(&plan.table)
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

    /// The kernel's table restricted to the services we own (wanted now, or
    /// installed before), with keepalived's forwarding tolerance applied.
    ///
    /// Read in one service dump plus a destination dump for each owned
    /// service that needs one: those whose destinations the reload changes
    /// (the record is not to be trusted where we are about to act) and those
    /// the summary does not show as recorded (a hand edit). A one-line
    /// reload reads 2 requests and `/proc/net/ip_vs`, not 1 + 1,000.
    fn kernel_view(&mut self, want: &Table) -> Table {
        let kernel = match self.backend.services() {
            Ok(t) => t,
            Err(e) => {
                log::error!("IPVS: cannot read the table: {e}");
                return self.installed.clone();
            }
        };
        let summary = self.backend.summary();
        let owned: BTreeSet<ServiceKey> = want
            .services()
            .chain(self.installed.services())
            .map(|s| s.key)
            .collect();
        let mut view = Table::new();
        for s in kernel.services().filter(|s| owned.contains(&s.key)) {
            let key = s.key;
            view.insert_service(s.clone());
            let unchanged = self.installed.dests(&key).eq(want.dests(&key));
            let trusted = unchanged
                && summary
                    .as_ref()
                    .is_some_and(|sum| sum.agrees(&key, self.installed.dests(&key)));
            let dests: Vec<Destination> = if trusted {
                self.installed.dests(&key).copied().collect()
            } else {
                match self.backend.dests(&key) {
                    Ok(d) => d,
                    Err(e) => {
                        log::error!("IPVS: cannot read the table: {e}");
                        return self.installed.clone();
                    }
                }
            };
            for mut d in dests {
                if let Some(w) = want.dest(&key, &d.key()) {
                    if same_forwarding(d.forwarding, w.forwarding) {
                        d.forwarding = w.forwarding;
                    }
                }
                let _ = view.insert_dest(&key, d);
            }
        }
        view
    }
}

/// Records a command the kernel accepted.
fn apply_to(t: &mut Table, cmd: &Command) {
    match cmd {
        Command::Flush => *t = Table::new(),
        Command::AddService(s) | Command::EditService(s) => {
            t.insert_service(s.clone());
        }
        Command::DelService(k) => {
            t.remove_service(k);
        }
        Command::AddDest(k, d) | Command::EditDest(k, d) => {
            let _ = t.insert_dest(k, *d);
        }
        Command::DelDest(k, d) => {
            t.remove_dest(k, d);
        }
    }
}
