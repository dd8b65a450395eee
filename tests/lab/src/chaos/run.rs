//! The chaos driver: builds the three-router lab, starts the daemons, plays the
//! schedule fault by fault while checking that no daemon died on its own, then
//! hands the watcher's samples to the judge.

use super::garbage;
use super::judge::{self, Finding, Report, Span};
use super::schedule::{self, Fault, LinkHow, Step};
use super::topo::{self, ATTACKER, INSTANCES, PASSWORD, ROUTERS};
use super::watcher::Watcher;
use crate::bench::craft::Victim;
use crate::{wait, Daemon, Host, Kind, Lab};
use nix::sys::signal::Signal;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A garbage burst in flight: its thread returns how many packets it sent.
type Flood = JoinHandle<Result<u64, String>>;

pub struct Options {
    pub kind: Kind,
    pub seed: u64,
    pub total: Duration,
}

/// The seed and length from the environment (`VIGIL_CHAOS_SEED`, decimal or
/// 0x-hex; `VIGIL_CHAOS_SECS`), else a fresh seed and `default_secs`.
pub fn from_env(default_secs: u64) -> Result<(u64, Duration), String> {
    let seed = match std::env::var("VIGIL_CHAOS_SEED") {
        Ok(s) => parse_seed(&s).ok_or_else(|| format!("VIGIL_CHAOS_SEED={s:?}: not a number"))?,
        Err(_) => fresh_seed(),
    };
    let secs = match std::env::var("VIGIL_CHAOS_SECS") {
        Ok(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| (10..=86_400).contains(n))
            .ok_or_else(|| format!("VIGIL_CHAOS_SECS={s:?}: a number of seconds, 10 to 86400"))?,
        Err(_) => default_secs,
    };
    Ok((seed, Duration::from_secs(secs)))
}

pub fn parse_seed(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A seed from the clock and the pid: printed, so any run can be replayed.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ u64::from(std::process::id()).rotate_left(32)) % 1_000_000_000
}

fn label(k: Kind) -> &'static str {
    match k {
        Kind::Vigil => "vigil",
        Kind::Keepalived => "keepalived",
    }
}

/// The routers' daemons, restarted under a new file tag each time so that the
/// watcher never reads a truncated log.
struct Routers {
    kind: Kind,
    hosts: Vec<Host>,
    daemons: Vec<Option<Daemon>>,
    generation: Vec<usize>,
}

impl Routers {
    fn start(&mut self, r: usize, watcher: Option<&Watcher>) -> Result<(), String> {
        self.generation[r] += 1;
        let tag = format!("{}-{}", label(self.kind), self.generation[r]);
        let d = Daemon::start(self.kind, &self.hosts[r], &tag, &topo::config(r))?;
        if let Some(w) = watcher {
            w.set_log(r, Some(d.log.clone()));
        }
        self.daemons[r] = Some(d);
        Ok(())
    }

    fn logs(&self) -> String {
        self.daemons
            .iter()
            .flatten()
            .map(|d| format!("\n--- {} ---\n{}", d.host.name, d.log_tail(15)))
            .collect()
    }
}

struct Driver<'a> {
    lab: &'a Lab,
    routers: Routers,
    attacker: Host,
    watcher: Watcher,
    t0: Instant,
    exits: Vec<Finding>,
    opts: &'a Options,
}

impl Driver<'_> {
    fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    /// Waits until `deadline`, checking every 50 ms that each running daemon is
    /// alive; one that exited is a finding, and is started again.
    fn idle_until(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            for r in 0..ROUTERS.len() {
                let dead = self.routers.daemons[r].as_mut().is_some_and(|d| !d.alive());
                if dead {
                    let tail = self.routers.daemons[r]
                        .as_ref()
                        .map(|d| d.log_tail(8))
                        .unwrap_or_default();
                    self.routers.daemons[r] = None;
                    self.watcher.set_log(r, None);
                    let t = self.now();
                    println!(
                        "  {:7.2} s  r{} exited on its own: restarted",
                        t.as_secs_f64(),
                        r + 1
                    );
                    self.exits.push(Finding {
                        t,
                        what: format!("r{} exited unasked; log tail:\n{tail}", r + 1),
                    });
                    self.routers.start(r, Some(&self.watcher))?;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
        }
    }

    fn host(&self, r: usize) -> Host {
        self.routers.hosts[r].clone()
    }

    fn inject(&mut self, st: &Step) -> Result<Option<Flood>, String> {
        let r = st.router;
        match &st.fault {
            Fault::Kill => {
                if let Some(mut d) = self.routers.daemons[r].take() {
                    d.kill();
                }
                self.watcher.set_log(r, None);
            }
            Fault::Term => {
                if let Some(mut d) = self.routers.daemons[r].take() {
                    self.watcher.set_log(r, None);
                    let what = match d.stop(Duration::from_secs(5)) {
                        Ok(Some(0)) => None,
                        Ok(code) => Some(format!("exited with {code:?} on SIGTERM")),
                        Err(e) => Some(e),
                    };
                    if let Some(w) = what {
                        self.exits.push(Finding {
                            t: self.now(),
                            what: format!("r{}: {w}; log tail:\n{}", r + 1, d.log_tail(8)),
                        });
                    }
                }
            }
            Fault::Hup { count } => {
                for _ in 0..*count {
                    if let Some(d) = &self.routers.daemons[r] {
                        let _ = d.signal(Signal::SIGHUP);
                    }
                    self.idle_until(Instant::now() + Duration::from_millis(50))?;
                }
            }
            Fault::Link(LinkHow::Cable) => self.lab.cable(&self.host(r), false)?,
            Fault::Link(LinkHow::Admin) => {
                self.host(r).run(&["ip", "link", "set", "eth0", "down"])?;
            }
            Fault::Recreate => self.lab.delete_eth0(&self.host(r))?,
            Fault::Garbage { kind, vrid, count } => {
                let vips = INSTANCES
                    .iter()
                    .filter(|i| i.vrid == *vrid)
                    .map(|i| i.vip)
                    .collect();
                let src = self
                    .attacker
                    .ip4()
                    .parse()
                    .map_err(|_| "attacker address")?;
                return Ok(Some(garbage::spawn(garbage::Burst {
                    ns: self.attacker.ns.clone(),
                    src,
                    kind: *kind,
                    victim: Victim {
                        vrid: *vrid,
                        password: Some(PASSWORD.into()),
                        advert_int: 1,
                        vips,
                        priority: 254,
                    },
                    count: *count,
                    seed: self.opts.seed ^ st.at.as_millis() as u64,
                })));
            }
        }
        Ok(None)
    }

    fn heal(&mut self, st: &Step, flood: Option<Flood>) -> Result<(), String> {
        let r = st.router;
        match &st.fault {
            Fault::Kill | Fault::Term => self.routers.start(r, Some(&self.watcher))?,
            Fault::Hup { .. } => {}
            Fault::Link(LinkHow::Cable) => self.lab.cable(&self.host(r), true)?,
            Fault::Link(LinkHow::Admin) => {
                self.host(r).run(&["ip", "link", "set", "eth0", "up"])?;
            }
            Fault::Recreate => self.lab.recreate_eth0(&self.host(r))?,
            Fault::Garbage { count, .. } => {
                if let Some(h) = flood {
                    while !h.is_finished() {
                        self.idle_until(Instant::now() + Duration::from_millis(50))?;
                    }
                    let sent = h.join().map_err(|_| "the garbage thread panicked")??;
                    if sent < u64::from(*count) {
                        return Err(format!("garbage burst: {sent} of {count} packets sent"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Both VIPs on their expected router only (all routers up).
fn converged(hosts: &[Host]) -> bool {
    INSTANCES.iter().enumerate().all(|(i, inst)| {
        let want = topo::expected(i, &[true; 3]);
        let vip = inst.vip.to_string();
        (0..hosts.len()).all(|r| hosts[r].has_addr("eth0", &vip) == (Some(r) == want))
    })
}

/// One chaos run; prints each fault as it is played.
pub fn run(o: &Options) -> Result<Report, String> {
    let mut lab = Lab::new(&format!("chaos-{}", label(o.kind)))?;
    let hosts: Vec<Host> = ROUTERS
        .iter()
        .map(|(n, a)| lab.host(n, a))
        .collect::<Result<_, _>>()?;
    let attacker = lab.host(ATTACKER.0, ATTACKER.1)?;
    let mut routers = Routers {
        kind: o.kind,
        hosts: hosts.clone(),
        daemons: (0..ROUTERS.len()).map(|_| None).collect(),
        generation: vec![0; ROUTERS.len()],
    };
    for r in 0..ROUTERS.len() {
        routers.start(r, None)?;
    }
    wait::for_cond(Duration::from_secs(15), "initial convergence", || {
        converged(&hosts)
    })
    .map_err(|e| format!("{e}{}", routers.logs()))?;
    let steps = schedule::generate(o.seed, o.total, ROUTERS.len(), &topo::vrids());
    let t0 = Instant::now();
    let ns: Vec<String> = hosts.iter().map(|h| h.ns.clone()).collect();
    let watcher = Watcher::start(&ns, t0)?;
    for (r, d) in routers.daemons.iter().enumerate() {
        watcher.set_log(r, d.as_ref().map(|d| d.log.clone()));
    }
    let mut drv = Driver {
        lab: &lab,
        routers,
        attacker,
        watcher,
        t0,
        exits: Vec::new(),
        opts: o,
    };
    let mut spans = Vec::new();
    for st in &steps {
        drv.idle_until(t0 + st.at)?;
        let inject = drv.now();
        let flood = drv.inject(st)?;
        drv.idle_until(Instant::now() + st.hold.saturating_sub(drv.now() - inject))?;
        drv.heal(st, flood)?;
        let heal = drv.now();
        println!(
            "  {:7.2} s  r{}: {} for {:.2} s",
            inject.as_secs_f64(),
            st.router + 1,
            st.fault.describe(),
            (heal - inject).as_secs_f64()
        );
        spans.push(Span {
            kind: st.fault.kind(),
            router: st.router,
            disables: st.fault.disables_router(),
            inject,
            heal,
        });
    }
    drv.idle_until(t0 + o.total)?;
    let end = drv.now();
    let Driver {
        watcher,
        mut routers,
        exits,
        ..
    } = drv;
    let (samples, dump_errors) = watcher.finish();
    if dump_errors > 0 {
        return Err(format!(
            "{dump_errors} address dumps failed: the watcher is blind"
        ));
    }
    let report = judge::judge(&samples, &spans, exits, end);
    if report.violations() > 0 && std::env::var_os("VIGIL_LAB_KEEP").is_some() {
        println!("  logs kept under {}", lab.dir.display());
    }
    for d in routers.daemons.iter_mut().flatten() {
        let _ = d.stop(Duration::from_secs(5));
    }
    Ok(report)
}
