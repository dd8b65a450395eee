//! The `auth_type AH` side of the network: one protocol-51 socket per
//! interface that carries an AH instance, kept beside [`super::net::Net`]'s
//! VRRP sockets and following the same interface lifecycle (a socket is
//! bound to an interface index, so a re-created interface gets a new one).
//!
//! Sending: the core gives the advert, its AH sequence number and the key
//! (`Auth::Ah` in the advert); the whole datagram is built here with an IP
//! identification counted per interface (never 0) and sent with IP_HDRINCL.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use vigil_vrrp as vrrp;
use vigil_wire::ah::{self, Sealing};
use vigil_wire::vrrp::{Auth, Repr};

use super::plan::InstancePlan;
use crate::os::ah_socket::{self, AhSocket};
use crate::os::clock;
use crate::os::netlink::LinkTable;
use crate::os::vrrp_socket::VrrpSocketError;

/// Datagrams read from one socket per [`AhNet::read_packets`] call.
const MAX_BATCH: usize = 64;
/// The oldest a receive timestamp is believed (as for the VRRP sockets).
const MAX_AGE: Duration = Duration::from_secs(1);

struct Port {
    ifname: String,
    group: Option<Ipv4Addr>,
    sock: Rc<AhSocket>,
    /// IP identification of the next datagram.
    ident: u16,
}

/// The AH sockets, by interface index.
#[derive(Default)]
pub struct AhNet {
    ports: HashMap<u32, Port>,
    /// Interfaces whose socket failed to open, logged once until it opens.
    failed: HashSet<u32>,
    rxbuf: Vec<u8>,
    cmsg: Vec<u8>,
    txbuf: Vec<u8>,
}

impl AhNet {
    pub fn new() -> AhNet {
        AhNet {
            rxbuf: vec![0u8; 4096],
            cmsg: ah_socket::cmsg_buffer(),
            txbuf: Vec::with_capacity(128),
            ..AhNet::default()
        }
    }

    /// Opens a socket on each present interface an AH instance uses, closes
    /// the others (interface gone or re-created, no AH instance left).
    pub fn reconcile<'a>(
        &mut self,
        links: &LinkTable,
        instances: impl Iterator<Item = &'a InstancePlan>,
    ) {
        let mut wanted: HashMap<u32, (String, Option<Ipv4Addr>)> = HashMap::new();
        for inst in instances.filter(|i| i.ah && i.family == vrrp::Family::V4) {
            let Some(index) = links.index_of(&inst.interface) else {
                continue;
            };
            let w = wanted
                .entry(index)
                .or_insert_with(|| (inst.interface.clone(), None));
            if let (true, IpAddr::V4(g)) = (inst.multicast, inst.group) {
                w.1 = Some(g);
            }
        }
        self.ports.retain(|index, p| {
            wanted
                .get(index)
                .is_some_and(|(name, group)| *name == p.ifname && *group == p.group)
        });
        for (index, (ifname, group)) in wanted {
            if self.ports.contains_key(&index) {
                continue;
            }
            match AhSocket::open(&ifname, index, group) {
                Ok(s) => {
                    log::debug!("opened AH socket on {ifname} (index {index})");
                    self.failed.remove(&index);
                    self.ports.insert(
                        index,
                        Port {
                            ifname,
                            group,
                            sock: Rc::new(s),
                            ident: 1,
                        },
                    );
                }
                Err(e) if self.failed.insert(index) => {
                    log::error!("AH socket on {ifname}: {e}")
                }
                Err(e) => log::debug!("AH socket on {ifname}: {e}"),
            }
        }
    }

    /// Ready when a socket has become readable since it last reported `Pending`.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut ready = false;
        for p in self.ports.values() {
            // Poll every one, so each registers the waker.
            if p.sock.poll_readable(cx).is_ready() {
                ready = true;
            }
        }
        if ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Hands every queued datagram (IP header included) to `f` with its
    /// metadata and age. False when a socket hit the batch limit.
    pub fn read_packets(
        &mut self,
        links: &LinkTable,
        mut f: impl FnMut(&vrrp::RxMeta<'_>, Duration, &[u8]),
    ) -> bool {
        let wall = clock::realtime();
        let mut drained = true;
        for p in self.ports.values() {
            for n in 0..=MAX_BATCH {
                if n == MAX_BATCH {
                    drained = false;
                    break;
                }
                let d = match p.sock.try_recv(&mut self.rxbuf, &mut self.cmsg) {
                    Ok(Some(d)) => d,
                    Ok(None) => break,
                    Err(e @ VrrpSocketError::BadIpHeader(_)) => {
                        log::debug!("{}: AH {e}", p.ifname);
                        continue;
                    }
                    Err(e) => {
                        log::warn!("receive AH on {}: {e}", p.ifname);
                        break;
                    }
                };
                let Some(interface) = links.name_of(d.ifindex) else {
                    continue;
                };
                let meta = vrrp::RxMeta {
                    interface,
                    src: IpAddr::V4(d.src),
                    dst: IpAddr::V4(d.dst),
                    ttl: Some(d.ttl),
                };
                let datagram = self.rxbuf.get(..d.len).unwrap_or_default();
                f(&meta, clock::age(wall, d.stamp, MAX_AGE), datagram);
            }
        }
        drained
    }

    /// Builds and sends one AH advert.
    pub async fn send_advert(
        &mut self,
        links: &LinkTable,
        inst: &InstancePlan,
        repr: &Repr,
        (src, dst): (IpAddr, IpAddr),
        seq: u32,
    ) {
        let (IpAddr::V4(src), IpAddr::V4(dst), Auth::Ah(key)) = (src, dst, repr.auth) else {
            log::debug!(
                "({}) AH advert that is not IPv4 AH: not sent",
                inst.interface
            );
            return;
        };
        let Some(port) = links
            .index_of(&inst.interface)
            .and_then(|i| self.ports.get_mut(&i))
        else {
            log::debug!("no AH socket on {} to send an advert", inst.interface);
            return;
        };
        let sealing = Sealing {
            src,
            dst,
            ident: port.ident,
            seq,
            key,
        };
        // keepalived counts the identification up and skips 0.
        port.ident = port.ident.checked_add(1).unwrap_or(1);
        if let Err(e) = ah::build(&mut self.txbuf, repr, &sealing) {
            log::warn!("AH advert on {}: {e}", inst.interface);
            return;
        }
        let sock = port.sock.clone();
        if let Err(e) = sock.send_to(&self.txbuf, dst).await {
            log::warn!("AH advert on {} to {dst}: {e}", inst.interface);
        }
    }
}
