//! A simulated LAN for scenario tests: several `Router`s joined by a queue
//! with latency, loss, duplication and partitions. Time is virtual and jumps
//! to the next wakeup. Adverts travel as bytes (emitted and parsed by
//! vigil-wire), so the whole receive path is exercised. The harness records
//! states, VIP ownership and notify calls over time, and checks after every
//! step that each node holds VIPs iff it is MASTER.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vigil_vrrp::{
    Action, Family, InstanceConfig, Instant, NotifyState, NotifyTarget, Reason, ReloadReport,
    Router, RouterConfig, RxMeta, ScriptResult, State,
};
use vigil_wire::vrrp::Packet;

/// The one interface every simulated node has.
pub const IFACE: &str = "eth0";

/// `192.168.67.<d>`.
pub fn v4(d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 168, 67, d))
}

/// A deterministic xorshift64* generator (tests must be reproducible).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Something that happened, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    State {
        instance: String,
        from: State,
        to: State,
        reason: Reason,
    },
    VipsAdded {
        instance: String,
    },
    VipsRemoved {
        instance: String,
    },
    Advert {
        instance: String,
        priority: u8,
        dst: IpAddr,
    },
    Gratuitous {
        instance: String,
        addrs: Vec<IpAddr>,
    },
    Notify {
        line: String,
    },
    ScriptRun {
        script: String,
    },
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub at: Instant,
    pub node: usize,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Pending {
    Packet {
        to: usize,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        bytes: Vec<u8>,
    },
    Script {
        node: usize,
        generation: u64,
        /// By name: ids may change at a reload while the run is going.
        script: String,
        result: u8,
    },
}

/// A simulated host.
pub struct Node {
    pub name: String,
    pub addr: IpAddr,
    pub config: RouterConfig,
    pub router: Router,
    /// Process running (false after `crash` or `shutdown`).
    pub alive: bool,
    /// Cable plugged: packets in and out pass.
    pub link_up: bool,
    /// Instance names whose VIPs are installed.
    pub vips: BTreeSet<String>,
    /// Result each script run gives, by script name (default: success).
    pub script_results: HashMap<String, ScriptResult>,
    /// Bumped at each restart so that stale script results are dropped.
    generation: u64,
}

/// The LAN.
pub struct Sim {
    pub now: Instant,
    pub nodes: Vec<Node>,
    pub latency: Duration,
    pub loss: f64,
    pub duplication: f64,
    /// How long a script takes to exit.
    pub script_time: Duration,
    pub rng: Rng,
    /// Unordered pairs of nodes that cannot hear each other.
    pub partitions: BTreeSet<(usize, usize)>,
    pub log: Vec<Record>,
    queue: BinaryHeap<Reverse<(Instant, u64, Pending)>>,
    seq: u64,
    /// Packets dropped on purpose by the next sends from a node.
    drop_next: BTreeMap<usize, u32>,
}

fn new_router(config: &RouterConfig, addr: IpAddr) -> Router {
    let mut router = Router::new(config.clone());
    router.handle_address(Instant::ZERO, IFACE, Family::of(&addr), Some(addr));
    router
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    pub fn new() -> Sim {
        Sim {
            now: Instant::ZERO,
            nodes: Vec::new(),
            latency: Duration::from_micros(100),
            loss: 0.0,
            duplication: 0.0,
            script_time: Duration::from_millis(10),
            rng: Rng::new(1),
            partitions: BTreeSet::new(),
            log: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            drop_next: BTreeMap::new(),
        }
    }

    /// Add a node (not started).
    pub fn add(&mut self, name: &str, addr: IpAddr, config: RouterConfig) -> usize {
        let router = new_router(&config, addr);
        self.nodes.push(Node {
            name: name.to_owned(),
            addr,
            config,
            router,
            alive: false,
            link_up: true,
            vips: BTreeSet::new(),
            script_results: HashMap::new(),
            generation: 0,
        });
        self.nodes.len() - 1
    }

    /// Start a node's router now.
    pub fn start(&mut self, node: usize) {
        let now = self.now;
        self.nodes[node].alive = true;
        self.nodes[node].router.handle_start(now);
        self.drain(node);
    }

    /// The process dies without a word: its VIPs vanish with it.
    pub fn crash(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        n.alive = false;
        n.vips.clear();
        n.generation += 1;
    }

    /// Graceful stop (priority 0 advert), then the process exits.
    pub fn shutdown(&mut self, node: usize) {
        let now = self.now;
        self.nodes[node].router.handle_shutdown(now);
        self.drain(node);
        self.nodes[node].alive = false;
        self.nodes[node].generation += 1;
    }

    /// Start a fresh process with the node's configuration.
    pub fn restart(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        n.router = new_router(&n.config, n.addr);
        n.vips.clear();
        n.generation += 1;
        self.start(node);
    }

    /// Reload a node's configuration (SIGHUP) now and carry out the actions.
    pub fn reload(&mut self, node: usize, config: RouterConfig) -> ReloadReport {
        let now = self.now;
        let report = self.nodes[node].router.reconfigure(now, config.clone());
        self.nodes[node].config = config;
        self.drain(node);
        report
    }

    /// Plug or unplug a node's cable; the router hears about it.
    pub fn set_link(&mut self, node: usize, up: bool) {
        let now = self.now;
        self.nodes[node].link_up = up;
        if self.nodes[node].alive {
            self.nodes[node].router.handle_link(now, IFACE, up);
            self.drain(node);
        }
    }

    /// Any input to a node's router at the current time, then its actions.
    pub fn feed(&mut self, node: usize, f: impl FnOnce(&mut Router, Instant)) {
        let now = self.now;
        f(&mut self.nodes[node].router, now);
        self.drain(node);
    }

    /// Report another (tracked) interface of a node up or down.
    pub fn set_other_link(&mut self, node: usize, name: &str, up: bool) {
        let now = self.now;
        self.nodes[node].router.handle_link(now, name, up);
        self.drain(node);
    }

    pub fn partition(&mut self, a: usize, b: usize) {
        self.partitions.insert((a.min(b), a.max(b)));
    }

    pub fn heal(&mut self) {
        self.partitions.clear();
    }

    /// Lose the next `count` packets `node` sends.
    pub fn drop_next_from(&mut self, node: usize, count: u32) {
        self.drop_next.insert(node, count);
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        !self.partitions.contains(&(a.min(b), a.max(b)))
    }

    fn push(&mut self, at: Instant, p: Pending) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, p)));
    }

    fn record(&mut self, node: usize, what: What) {
        self.log.push(Record {
            at: self.now,
            node,
            what,
        });
    }

    fn instance_name(&self, node: usize, id: vigil_vrrp::InstanceId) -> String {
        self.nodes[node]
            .router
            .instance_name(id)
            .unwrap_or("?")
            .to_owned()
    }

    /// Carry out every queued action of `node`.
    fn drain(&mut self, node: usize) {
        while let Some(action) = self.nodes[node].router.poll_action() {
            self.apply(node, action);
        }
        self.check_invariants(node);
    }

    fn apply(&mut self, node: usize, action: Action) {
        match action {
            Action::SendAdvert {
                instance,
                repr,
                src,
                dst,
                checksum,
                ah_seq,
            } => {
                let name = self.instance_name(node, instance);
                self.record(
                    node,
                    What::Advert {
                        instance: name,
                        priority: repr.priority,
                        dst,
                    },
                );
                let bytes = match (ah_seq, repr.auth, src, dst) {
                    // auth_type AH: the whole IPv4 datagram, as the shell
                    // sends it with IP_HDRINCL.
                    (Some(seq), vigil_vrrp::Auth::Ah(key), IpAddr::V4(s), IpAddr::V4(d)) => {
                        let mut out = Vec::new();
                        let sealing = vigil_wire::ah::Sealing {
                            src: s,
                            dst: d,
                            ident: 1,
                            seq,
                            key,
                        };
                        vigil_wire::ah::build(&mut out, &repr, &sealing).expect("AH datagram");
                        out
                    }
                    _ => {
                        let mut bytes = vec![0u8; repr.buffer_len()];
                        repr.emit(
                            &mut Packet::new_unchecked(&mut bytes[..]),
                            src,
                            dst,
                            checksum,
                        );
                        bytes
                    }
                };
                self.transmit(node, src, dst, bytes);
            }
            Action::AddVips { instance } => {
                let name = self.instance_name(node, instance);
                assert!(
                    self.nodes[node].vips.insert(name.clone()),
                    "{} added VIPs of {name} twice",
                    self.nodes[node].name
                );
                self.record(node, What::VipsAdded { instance: name });
            }
            Action::RemoveVips { instance } => {
                let name = self.instance_name(node, instance);
                assert!(
                    self.nodes[node].vips.remove(&name),
                    "{} removed VIPs of {name} it did not hold",
                    self.nodes[node].name
                );
                self.record(node, What::VipsRemoved { instance: name });
            }
            Action::SendGratuitous { instance, addrs } => {
                let name = self.instance_name(node, instance);
                self.record(
                    node,
                    What::Gratuitous {
                        instance: name,
                        addrs,
                    },
                );
            }
            Action::RunScript { script, timeout } => {
                let name = self.nodes[node]
                    .router
                    .script_name(script)
                    .unwrap_or("?")
                    .to_owned();
                let result = self.nodes[node]
                    .script_results
                    .get(&name)
                    .copied()
                    .unwrap_or(ScriptResult::Success);
                let after = if result == ScriptResult::TimedOut {
                    timeout
                } else {
                    self.script_time
                };
                let generation = self.nodes[node].generation;
                let code = match result {
                    ScriptResult::Success => 0,
                    ScriptResult::Failure => 1,
                    ScriptResult::TimedOut => 2,
                };
                self.record(
                    node,
                    What::ScriptRun {
                        script: name.clone(),
                    },
                );
                self.push(
                    self.now + after,
                    Pending::Script {
                        node,
                        generation,
                        script: name,
                        result: code,
                    },
                );
            }
            Action::Notify {
                target,
                state,
                priority,
            } => {
                let line = match target {
                    NotifyTarget::Instance(id) => {
                        format!(
                            "INSTANCE {} {state} {priority}",
                            self.instance_name(node, id)
                        )
                    }
                    NotifyTarget::Group(g) => {
                        let name = self.nodes[node]
                            .router
                            .group(g)
                            .map(|(n, _)| n)
                            .unwrap_or("?");
                        format!("GROUP {name} {state} {priority}")
                    }
                };
                self.record(node, What::Notify { line });
            }
            Action::StateChanged {
                instance,
                from,
                to,
                reason,
            } => {
                let name = self.instance_name(node, instance);
                self.record(
                    node,
                    What::State {
                        instance: name,
                        from,
                        to,
                        reason,
                    },
                );
            }
        }
    }

    fn transmit(&mut self, from: usize, src: IpAddr, dst: IpAddr, bytes: Vec<u8>) {
        if !self.nodes[from].link_up {
            return;
        }
        if let Some(n) = self.drop_next.get_mut(&from) {
            if *n > 0 {
                *n -= 1;
                return;
            }
        }
        let targets: Vec<usize> = (0..self.nodes.len())
            .filter(|t| *t != from)
            .filter(|t| dst.is_multicast() || self.nodes[*t].addr == dst)
            .collect();
        for to in targets {
            if !self.connected(from, to) || self.rng.chance(self.loss) {
                continue;
            }
            let copies = if self.rng.chance(self.duplication) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let p = Pending::Packet {
                    to,
                    src,
                    dst,
                    ttl: 255,
                    bytes: bytes.clone(),
                };
                self.push(self.now + self.latency, p);
            }
        }
    }

    /// Hand a raw packet to a node now (for malformed-input tests).
    pub fn inject(&mut self, to: usize, src: IpAddr, dst: IpAddr, ttl: u8, bytes: &[u8]) {
        let now = self.now;
        let meta = RxMeta {
            interface: IFACE,
            src,
            dst,
            ttl: Some(ttl),
        };
        if is_ah(bytes) {
            self.nodes[to].router.handle_ah_packet(now, &meta, bytes);
        } else {
            self.nodes[to].router.handle_packet(now, &meta, bytes);
        }
        self.drain(to);
    }

    /// Hand a parsed advert to a node now, bypassing the wire parser.
    pub fn inject_repr(
        &mut self,
        to: usize,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        repr: &vigil_vrrp::Repr,
    ) {
        let now = self.now;
        let meta = RxMeta {
            interface: IFACE,
            src,
            dst,
            ttl: Some(ttl),
        };
        self.nodes[to].router.handle_advert(now, &meta, repr);
        self.drain(to);
    }

    fn deliver(&mut self, p: Pending) {
        match p {
            Pending::Packet {
                to,
                src,
                dst,
                ttl,
                bytes,
            } => {
                let n = &self.nodes[to];
                if !n.alive || !n.link_up {
                    return;
                }
                let meta = RxMeta {
                    interface: IFACE,
                    src,
                    dst,
                    ttl: Some(ttl),
                };
                let now = self.now;
                if is_ah(&bytes) {
                    self.nodes[to].router.handle_ah_packet(now, &meta, &bytes);
                } else {
                    self.nodes[to].router.handle_packet(now, &meta, &bytes);
                }
                self.drain(to);
            }
            Pending::Script {
                node,
                generation,
                script,
                result,
            } => {
                let n = &self.nodes[node];
                if !n.alive || n.generation != generation {
                    return;
                }
                // A script removed by a reload: its result goes nowhere.
                let Some(id) = n.router.script_id(&script) else {
                    return;
                };
                let result = match result {
                    0 => ScriptResult::Success,
                    1 => ScriptResult::Failure,
                    _ => ScriptResult::TimedOut,
                };
                let now = self.now;
                self.nodes[node]
                    .router
                    .handle_script_result(now, id, result);
                self.drain(node);
            }
        }
    }

    /// The earliest wakeup: a queued delivery or a router deadline.
    fn next_wakeup(&self) -> Option<Instant> {
        let queued = self.queue.peek().map(|Reverse((at, _, _))| *at);
        let timers = self
            .nodes
            .iter()
            .filter(|n| n.alive)
            .filter_map(|n| n.router.poll_timeout())
            .min();
        match (queued, timers) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Run until `until`, jumping from wakeup to wakeup.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            let Some(next) = self.next_wakeup().filter(|t| *t <= until) else {
                self.now = self.now.max(until);
                return;
            };
            assert!(next >= self.now, "time went back: {next} < {}", self.now);
            self.now = next;
            // Deliveries first, then timers, as a real event loop would.
            while let Some(Reverse((at, _, _))) = self.queue.peek() {
                if *at > self.now {
                    break;
                }
                let Some(Reverse((_, _, p))) = self.queue.pop() else {
                    break;
                };
                self.deliver(p);
            }
            for node in 0..self.nodes.len() {
                if !self.nodes[node].alive {
                    continue;
                }
                if self.nodes[node]
                    .router
                    .poll_timeout()
                    .is_some_and(|t| t <= self.now)
                {
                    let now = self.now;
                    self.nodes[node].router.handle_timeout(now);
                    self.drain(node);
                }
            }
        }
    }

    /// Run for `d` more.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// VIPs installed iff MASTER, for every instance of a running node.
    pub fn check_invariants(&self, node: usize) {
        let n = &self.nodes[node];
        if !n.alive {
            return;
        }
        for id in n.router.instance_ids() {
            let snap = n.router.instance(id).expect("instance");
            let held = n.vips.contains(snap.name);
            assert_eq!(
                held,
                snap.state == State::Master,
                "{}: {} is {} but VIPs held = {held} at {}",
                n.name,
                snap.name,
                snap.state,
                self.now
            );
            assert_eq!(held, snap.vips_installed);
        }
    }

    /// The state of `instance` on `node`.
    pub fn state(&self, node: usize, instance: &str) -> State {
        let r = &self.nodes[node].router;
        r.instance(r.instance_id(instance).expect("instance"))
            .expect("instance")
            .state
    }

    /// Running nodes where `instance` is MASTER.
    pub fn masters(&self, instance: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].alive)
            .filter(|n| {
                let r = &self.nodes[*n].router;
                r.instance_id(instance).is_some() && self.state(*n, instance) == State::Master
            })
            .collect()
    }

    /// Times `node` entered `to` for `instance`.
    pub fn entered(&self, node: usize, instance: &str, to: State) -> Vec<Instant> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::State {
                    instance: i, to: t, ..
                } if i == instance && *t == to => Some(r.at),
                _ => None,
            })
            .collect()
    }

    /// Times `node` sent an advert for `instance`.
    pub fn adverts(&self, node: usize, instance: &str) -> Vec<(Instant, u8)> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::Advert {
                    instance: i,
                    priority,
                    ..
                } if i == instance => Some((r.at, *priority)),
                _ => None,
            })
            .collect()
    }

    /// Notify lines of `node`, in order.
    pub fn notifies(&self, node: usize) -> Vec<String> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::Notify { line } => Some(line.clone()),
                _ => None,
            })
            .collect()
    }

    /// Times at which the VIPs of `instance` were added on `node`.
    pub fn vips_added(&self, node: usize, instance: &str) -> Vec<Instant> {
        self.log
            .iter()
            .filter(|r| r.node == node)
            .filter_map(|r| match &r.what {
                What::VipsAdded { instance: i } if i == instance => Some(r.at),
                _ => None,
            })
            .collect()
    }
}

/// An IPv4 datagram of protocol 51 (a VRRP message starts 0x21 or 0x31).
pub fn is_ah(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| b >> 4 == 4) && bytes.get(9) == Some(&51)
}

/// The notify word for a state, for assertions.
pub fn word(s: NotifyState) -> String {
    s.to_string()
}

/// An instance like the seed configs: VI_1, VRID 51, advert_int 1, PASS 1111,
/// VIP 192.168.67.150, skip_check_adv_addr, garp interval 1 s.
pub fn seed_instance(name: &str, vrid: u8, priority: u8) -> InstanceConfig {
    let mut c = InstanceConfig::new(name, IFACE, vrid);
    c.priority = priority;
    c.auth = vigil_vrrp::Auth::Simple(*b"1111\0\0\0\0");
    c.virtual_addresses = vec![v4(150)];
    c.skip_check_adv_addr = true;
    c.garp.garp_interval = Duration::from_secs(1);
    c.garp.gna_interval = Duration::from_secs(1);
    c.multicast_group = Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44)));
    c
}

/// A router configuration with these instances only.
pub fn with(instances: Vec<InstanceConfig>) -> RouterConfig {
    RouterConfig {
        instances,
        ..Default::default()
    }
}
