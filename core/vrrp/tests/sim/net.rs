//! The wire and the clock: packets queued with latency, loss, duplication
//! and partitions, raw injections, and the loop that jumps virtual time from
//! wakeup to wakeup.

use std::cmp::Reverse;
use std::net::IpAddr;
use std::time::Duration;

use vigil_vrrp::{Instant, RxMeta, ScriptResult};

use super::{is_ah, Pending, Sim, IFACE};

impl Sim {
    fn connected(&self, a: usize, b: usize) -> bool {
        !self.partitions.contains(&(a.min(b), a.max(b)))
    }

    pub(super) fn push(&mut self, at: Instant, p: Pending) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, p)));
    }

    pub(super) fn transmit(&mut self, from: usize, src: IpAddr, dst: IpAddr, bytes: Vec<u8>) {
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

    /// Node `to` reads `bytes` now, on the AH path if they carry an AH.
    fn receive(&mut self, to: usize, meta: &RxMeta<'_>, bytes: &[u8]) {
        let now = self.now;
        if is_ah(bytes) {
            self.nodes[to].router.handle_ah_packet(now, meta, bytes);
        } else {
            self.nodes[to].router.handle_packet(now, meta, bytes);
        }
    }

    /// Hand a raw packet to a node now (for malformed-input tests).
    pub fn inject(&mut self, to: usize, src: IpAddr, dst: IpAddr, ttl: u8, bytes: &[u8]) {
        self.receive(to, &rx_meta(src, dst, ttl), bytes);
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
        let meta = rx_meta(src, dst, ttl);
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
                self.receive(to, &rx_meta(src, dst, ttl), &bytes);
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
}

/// How a packet from `src` to `dst` arrives on a node's interface.
fn rx_meta(src: IpAddr, dst: IpAddr, ttl: u8) -> RxMeta<'static> {
    RxMeta {
        interface: IFACE,
        src,
        dst,
        ttl: Some(ttl),
    }
}
