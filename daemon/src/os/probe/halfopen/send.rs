//! The half-open engine's transmit: the SYNs queued since the last flush,
//! in batches of one sendmmsg() each. A first IPv4 SYN whose next hop is
//! known goes to its interface from the packet socket; everything else
//! (IPv6, retransmissions, a hop not resolved yet, a hop whose send failed)
//! by the raw socket of its family, through the kernel's IP output.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;

use nix::libc;
use vigil_check::ProbeResult;

use super::super::connect;
use super::super::rawio::{self, LinkTx, Tx, BATCH};
use super::{is_local, HalfOpen};
use crate::os::clock;

/// A pending entry already sent (by the packet socket).
const SENT: u32 = u32::MAX;

impl HalfOpen {
    /// Sends the SYNs queued since the last flush, a batch per syscall. A
    /// first SYN that cannot be sent ends its check (`connect::classify`
    /// of the errno, as connect() would); a retransmission that cannot is
    /// left to the deadline.
    pub fn flush(&mut self, done: &mut Vec<(u64, ProbeResult)>) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        self.flush_link(&mut pending);
        for v6 in [false, true] {
            let fd = match if v6 { &self.v6 } else { &self.v4 } {
                Some(f) => f.raw.as_raw_fd(),
                None => continue,
            };
            let mut i = 0;
            loop {
                // The next batch of this family's live SYNs.
                let mut batch: [(u32, bool); BATCH] = [(0, false); BATCH];
                let mut k = 0;
                while i < pending.len() && k < BATCH {
                    let (n, gen, retx) = pending[i];
                    i += 1;
                    match self.slots.get(n as usize) {
                        Some(s) if s.live && s.gen == gen && s.key.0.is_ipv6() == v6 => {
                            batch[k] = (n, retx);
                            k += 1;
                        }
                        _ => {}
                    }
                }
                if k == 0 {
                    break;
                }
                let mut sent = 0;
                while sent < k {
                    let mut txs = [Tx {
                        seg: &[],
                        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                        src: None,
                    }; BATCH];
                    let mut m = 0;
                    for &(n, _) in batch.iter().take(k).skip(sent) {
                        // Every batched slot is live (checked above).
                        if let Some(s) = self.slots.get(n as usize) {
                            txs[m] = Tx {
                                seg: &s.pkt[..usize::from(s.len)],
                                dst: s.key.0,
                                src: s.src,
                            };
                            m += 1;
                        }
                    }
                    match rawio::send(fd, &txs[..m]) {
                        Ok(0) => break,
                        Ok(m) => {
                            sent += m;
                            self.sent.1 += m as u64;
                        }
                        Err(e) => {
                            let (n, retx) = batch[sent];
                            sent += 1;
                            if retx {
                                continue;
                            }
                            let (dst, src) = match self.slots.get(n as usize) {
                                Some(s) => (s.key.0, s.src),
                                None => continue,
                            };
                            // A source that is no longer ours (the address
                            // went away): the check could not run, and the
                            // caches are refilled next time.
                            let gone = src.and_then(|s| is_local(s).err());
                            if let IpAddr::V4(d) = dst {
                                self.routes.remove(&d);
                            }
                            if let Some(s) = src {
                                self.locals.remove(&s);
                            }
                            let r = match gone {
                                Some(g) => connect::not_run(&g),
                                None => connect::classify(&e),
                            };
                            if let Some(token) = self.end(n) {
                                done.push((token, r));
                            }
                        }
                    }
                }
            }
        }
        pending.clear();
        self.pending = pending;
    }

    /// The first IPv4 SYNs with a next hop, handed to their interfaces;
    /// those sent are marked [`SENT`], a failed one is left to the raw
    /// socket (and, unless the queue was only full, its hop asked of the
    /// kernel again next time). The hop is
    /// looked up here, after the events queued were taken, so that a
    /// neighbour that moved is followed by the very next SYN.
    fn flush_link(&mut self, pending: &mut [(u32, u32, bool)]) {
        let Some((fd, hops)) = self.link.as_mut().map(|(l, h)| (l.as_raw_fd(), h)) else {
            return;
        };
        let now_us = clock::now_us();
        hops.readable(now_us);
        if !hops.usable(now_us) {
            return;
        }
        let mut i = 0;
        loop {
            // The next batch: (index into `pending`, interface, MAC).
            let mut batch = [(0usize, 0u32, [0u8; 6]); BATCH];
            let mut k = 0;
            while i < pending.len() && k < BATCH {
                let (n, gen, retx) = pending[i];
                i += 1;
                let Some(s) = self
                    .slots
                    .get(n as usize)
                    .filter(|s| s.live && s.gen == gen)
                else {
                    continue;
                };
                let (false, IpAddr::V4(d), Some(IpAddr::V4(src))) = (retx, s.key.0, s.src) else {
                    continue;
                };
                if let Some((ifindex, mac)) = hops.hop(d, src, now_us) {
                    batch[k] = (i - 1, ifindex, mac);
                    k += 1;
                }
            }
            if k == 0 {
                return;
            }
            let mut sent = 0;
            while sent < k {
                let mut txs = [LinkTx {
                    pkt: &[],
                    ifindex: 0,
                    mac: [0; 6],
                }; BATCH];
                let mut m = 0;
                for &(j, ifindex, mac) in &batch[sent..k] {
                    if let Some(s) = self.slots.get(pending[j].0 as usize) {
                        txs[m] = LinkTx {
                            pkt: &s.pkt[..usize::from(s.len)],
                            ifindex,
                            mac,
                        };
                        m += 1;
                    }
                }
                match rawio::send_link(fd, &txs[..m]) {
                    Ok(0) => return,
                    Ok(c) => {
                        for &(j, _, _) in &batch[sent..(sent + c).min(k)] {
                            pending[j].0 = SENT;
                        }
                        self.sent.0 += c as u64;
                        sent += c;
                    }
                    Err(e) => {
                        let j = batch[sent].0;
                        sent += 1;
                        // A full queue says nothing of the hop; anything
                        // else (the interface gone, down) may.
                        let transient = matches!(
                            e.raw_os_error(),
                            Some(libc::EAGAIN | libc::ENOBUFS | libc::EINTR)
                        );
                        if transient {
                            continue;
                        }
                        if let Some(s) = self.slots.get(pending[j].0 as usize) {
                            if let (IpAddr::V4(d), Some(IpAddr::V4(src))) = (s.key.0, s.src) {
                                hops.forget(d, src);
                            }
                        }
                    }
                }
            }
        }
    }
}
