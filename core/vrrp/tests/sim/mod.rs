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
    Family, InstanceConfig, Instant, NotifyState, Reason, ReloadReport, Router, RouterConfig,
    ScriptConfig, ScriptResult, State,
};

mod actions;
mod net;
mod observe;

/// Scenario tests must be reproducible: one seeded generator for the sim.
pub use vigil_rng::XorShift as Rng;

/// A script `chk` with a random weight (0, -30 or 20), rise and fall (1-3),
/// drawn from `rng` in that order.
pub fn random_script(rng: &mut Rng) -> ScriptConfig {
    let mut s = ScriptConfig::new("chk");
    s.weight = [0, -30, 20][rng.below(3) as usize];
    s.rise = 1 + rng.below(3) as u32;
    s.fall = 1 + rng.below(3) as u32;
    s
}

/// The one interface every simulated node has.
pub const IFACE: &str = "eth0";

/// `192.168.67.<d>`.
pub fn v4(d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 168, 67, d))
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
