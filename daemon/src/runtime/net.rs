//! The daemon's network side: VRRP sockets per interface index and family, VIPs
//! through rtnetlink, gratuitous ARP / NA through AF_PACKET. It turns the core's
//! actions into syscalls; failures are logged and never stop the daemon.
//!
//! Sockets follow interface lifecycles: [`Net::reconcile`] compares what the
//! instances need with what is open, against the link table the monitor keeps.
//! A socket is bound to one interface index, so an interface deleted and
//! re-created under the same name (PPP, VLAN, USB modem, hot-plug) gets new
//! sockets: a socket left on the old index would neither send (ENODEV) nor
//! hear the peers, and its instance would go MASTER next to the real one.
//!
//! Receiving: the event loop itself reads the sockets ([`Net::poll_readable`],
//! then [`Net::read_packets`] until each is empty) into buffers allocated
//! once, rather than a task per socket copying each packet into a channel:
//! at 10,000 adverts a second the copies, the channel hop and the extra task
//! wake-ups were most of the backup's CPU.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use vigil_vrrp as vrrp;
use vigil_wire::vrrp::{Packet, Repr, V3Checksum};

use super::plan::{InstancePlan, Vip};
use crate::os::clock;
use crate::os::garp::AnnounceSocket;
use crate::os::netlink::{AddressSpec, Change, LinkTable, Netlink};
use crate::os::vrrp_socket::{self, VrrpSocket, VrrpSocketError};

/// Datagrams read from one socket per [`Net::read_packets`] call, so that a
/// flood on one interface cannot starve the others or the timers.
const MAX_BATCH: usize = 256;
/// The oldest a receive timestamp is believed (a wall-clock step between
/// receipt and reading must not age a packet past its instance's timers).
const MAX_AGE: Duration = Duration::from_secs(1);

/// One (interface index, family): the unit a VRRP socket is bound to.
type PortKey = (u32, vrrp::Family);

/// The sockets of one (interface index, family), one per bound source.
struct Port {
    ifname: String,
    group: Option<IpAddr>,
    sockets: BTreeMap<Option<IpAddr>, Rc<VrrpSocket>>,
    /// The bound source of the socket that is read: raw sockets each get a
    /// copy of every packet, so one per port is read.
    reader: Option<Option<IpAddr>>,
    /// A VMAC's port: the base interface its packets are reported on (the
    /// router knows the instance by its base).
    alias: Option<String>,
}

/// Adverts waiting to go out on one socket (port and bound source): the
/// emitted messages back to back, each with its destination.
struct OutQueue {
    key: (PortKey, Option<IpAddr>),
    /// The source a VMAC's adverts are sent with (`None`: the socket's).
    from: Option<IpAddr>,
    /// `unicast_ttl` (`None`: the socket's 255).
    ttl: Option<u8>,
    ifname: String,
    bytes: Vec<u8>,
    msgs: Vec<(std::ops::Range<usize>, IpAddr)>,
}

impl OutQueue {
    fn clear(&mut self) {
        self.bytes.clear();
        self.msgs.clear();
    }
}

/// What the instances need of one port.
struct Want {
    ifname: String,
    group: Option<IpAddr>,
    sources: BTreeSet<Option<IpAddr>>,
    alias: Option<String>,
}

pub struct Net {
    pub nl: Netlink,
    /// Interfaces as the monitor reports them (seeded from one dump).
    pub links: LinkTable,
    ports: HashMap<PortKey, Port>,
    announce: HashMap<u32, Rc<AnnounceSocket>>,
    /// Sockets that failed to open, logged once until they open.
    failed: HashSet<(PortKey, Option<IpAddr>)>,
    /// Receive and control-message buffers, reused for every packet.
    rxbuf: Vec<u8>,
    cmsg: Vec<u8>,
    /// Adverts queued for the next flush, per socket (kept, so their
    /// buffers are reused).
    outq: Vec<OutQueue>,
}

fn os_family(f: vrrp::Family) -> vrrp_socket::Family {
    match f {
        vrrp::Family::V4 => vrrp_socket::Family::V4,
        vrrp::Family::V6 => vrrp_socket::Family::V6,
    }
}

impl Net {
    pub fn new(nl: Netlink, links: LinkTable) -> Net {
        Net {
            nl,
            links,
            ports: HashMap::new(),
            announce: HashMap::new(),
            failed: HashSet::new(),
            rxbuf: vec![0u8; 4096],
            cmsg: vrrp_socket::cmsg_buffer(),
            outq: Vec::new(),
        }
    }

    /// Ready when any socket that is read has become readable since it last
    /// reported `Pending`; then call [`read_packets`](Net::read_packets).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut ready = false;
        for p in self.ports.values() {
            let sock = p.reader.and_then(|src| p.sockets.get(&src));
            // Poll every one, so each registers the waker.
            if sock.is_some_and(|s| s.poll_readable(cx).is_ready()) {
                ready = true;
            }
        }
        if ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Reads what is queued on every socket (up to [`MAX_BATCH`] each) and
    /// hands each VRRP message to `f` with its metadata and its age (from
    /// the kernel's receive timestamp). False when a socket hit the batch
    /// limit (more may be queued).
    pub fn read_packets(&mut self, mut f: impl FnMut(&vrrp::RxMeta<'_>, Duration, &[u8])) -> bool {
        let wall = clock::realtime();
        let Net {
            ports,
            links,
            rxbuf,
            cmsg,
            ..
        } = self;
        let mut drained = true;
        for p in ports.values() {
            let Some(sock) = p.reader.and_then(|src| p.sockets.get(&src)) else {
                continue;
            };
            for n in 0..=MAX_BATCH {
                if n == MAX_BATCH {
                    drained = false;
                    break;
                }
                let d = match sock.try_recv(rxbuf, cmsg) {
                    Ok(Some(d)) => d,
                    Ok(None) => break,
                    Err(e @ VrrpSocketError::BadIpHeader(_)) => {
                        log::debug!("{}: {e}", p.ifname);
                        continue;
                    }
                    Err(e) => {
                        log::warn!("receive on {}: {e}", p.ifname);
                        break;
                    }
                };
                // By index: a packet still queued from a deleted interface
                // names an index the table no longer has.
                let Some(interface) = links.name_of(d.ifindex) else {
                    log::debug!("dropped a packet from gone interface index {}", d.ifindex);
                    continue;
                };
                let interface = p.alias.as_deref().unwrap_or(interface);
                let meta = vrrp::RxMeta {
                    interface,
                    src: d.src,
                    dst: d.dst,
                    ttl: Some(d.ttl),
                };
                let payload = rxbuf.get(d.payload.clone()).unwrap_or_default();
                f(&meta, clock::age(wall, d.stamp, MAX_AGE), payload);
            }
        }
        drained
    }

    /// Opens the sockets `instances` need on the interfaces that exist now,
    /// closes every other one (interface gone or re-created, instance removed
    /// by a reload) with its reader, and drops announcers of interfaces no
    /// instance uses or that are gone. Errors are logged; an instance without
    /// a socket cannot advertise and its peers see it as down, which is what
    /// a broken interface means.
    pub fn reconcile<'a>(&mut self, instances: impl Iterator<Item = &'a InstancePlan>) {
        let before = self.socket_keys();
        let mut wanted: HashMap<PortKey, Want> = HashMap::new();
        let mut devs: HashSet<u32> = HashSet::new();
        for inst in instances {
            for v in &inst.vips {
                devs.extend(self.links.index_of(&v.dev));
            }
            // A VMAC instance sends and receives on its VMAC (`xmit`): a
            // macvlan takes the multicasts whose source MAC is its own, so
            // the base never hears a peer's VMAC adverts.
            let Some(index) = self.links.index_of(&inst.xmit) else {
                continue;
            };
            devs.insert(index);
            let w = wanted.entry((index, inst.family)).or_insert_with(|| Want {
                ifname: inst.xmit.clone(),
                group: None,
                sources: BTreeSet::new(),
                alias: (inst.xmit != inst.interface).then(|| inst.interface.clone()),
            });
            if inst.multicast {
                w.group = Some(inst.group);
            }
            w.sources.insert(inst.source);
        }
        self.ports.retain(|(index, family), p| {
            let keep = wanted.contains_key(&(*index, *family));
            if !keep {
                log::debug!(
                    "closed VRRP {family:?} socket(s) on {} (index {index})",
                    p.ifname
                );
            }
            keep
        });
        for (key, want) in wanted {
            self.reconcile_port(key, want);
        }
        self.ports.retain(|_, p| !p.sockets.is_empty());
        let after = self.socket_keys();
        if after != before {
            log::debug!("VRRP sockets (index, family, source): {after:?}");
        }
        let links = &self.links;
        self.announce.retain(|index, s| {
            devs.contains(index) && links.by_index(*index).and_then(|l| l.mac6()) == Some(s.mac())
        });
    }

    fn reconcile_port(&mut self, key: PortKey, want: Want) {
        let port = self.ports.entry(key).or_insert_with(|| Port {
            ifname: want.ifname.clone(),
            group: want.group,
            sockets: BTreeMap::new(),
            reader: None,
            alias: want.alias.clone(),
        });
        if port.ifname != want.ifname || port.group != want.group || port.alias != want.alias {
            // Renamed, or the group membership changed: start over.
            port.sockets.clear();
            port.reader = None;
            port.ifname = want.ifname.clone();
            port.group = want.group;
            port.alias = want.alias.clone();
        }
        port.sockets.retain(|src, _| want.sources.contains(src));
        for src in &want.sources {
            if port.sockets.contains_key(src) {
                continue;
            }
            let cfg = vrrp_socket::Config {
                ifname: want.ifname.clone(),
                ifindex: key.0,
                family: os_family(key.1),
                group: want.group,
                source: *src,
            };
            match VrrpSocket::open(&cfg) {
                Ok(s) => {
                    log::debug!(
                        "opened VRRP {:?} socket on {} (index {})",
                        key.1,
                        want.ifname,
                        key.0
                    );
                    self.failed.remove(&(key, *src));
                    port.sockets.insert(*src, Rc::new(s));
                }
                Err(e) => {
                    if self.failed.insert((key, *src)) {
                        log::error!("VRRP socket on {}: {e}", want.ifname);
                    } else {
                        log::debug!("VRRP socket on {}: {e}", want.ifname);
                    }
                }
            }
        }
        if port
            .reader
            .is_some_and(|src| !port.sockets.contains_key(&src))
        {
            port.reader = None;
        }
        if port.reader.is_none() {
            port.reader = port.sockets.keys().next().copied();
        }
    }

    /// Emits one advert into the queue of its socket; [`flush_adverts`]
    /// sends the queues. The kernel fills the IPv6 checksum itself.
    ///
    /// [`flush_adverts`]: Net::flush_adverts
    pub fn queue_advert(
        &mut self,
        inst: &InstancePlan,
        repr: &Repr,
        src: IpAddr,
        dst: IpAddr,
        csum: V3Checksum,
    ) {
        let Some(index) = self.links.index_of(&inst.xmit) else {
            log::debug!("no socket on {} to send an advert", inst.xmit);
            return;
        };
        // From a VMAC, the source is the base's address the router chose.
        let from = (inst.xmit != inst.interface).then_some(src);
        let key = ((index, inst.family), inst.source);
        let has_socket = self
            .ports
            .get(&key.0)
            .is_some_and(|p| p.sockets.contains_key(&inst.source));
        if !has_socket {
            log::debug!("no socket on {} to send an advert", inst.xmit);
            return;
        }
        let q = match self
            .outq
            .iter()
            .position(|q| q.key == key && q.from == from && q.ttl == inst.unicast_ttl)
        {
            Some(n) => &mut self.outq[n],
            None => {
                self.outq.push(OutQueue {
                    key,
                    from,
                    ttl: inst.unicast_ttl,
                    ifname: inst.xmit.clone(),
                    bytes: Vec::with_capacity(4096),
                    msgs: Vec::new(),
                });
                let n = self.outq.len() - 1;
                &mut self.outq[n]
            }
        };
        let at = q.bytes.len();
        q.bytes.resize(at + repr.buffer_len(), 0);
        if let Some(buf) = q.bytes.get_mut(at..) {
            repr.emit(&mut Packet::new_unchecked(buf), src, dst, csum);
            q.msgs.push((at..at + repr.buffer_len(), dst));
        }
    }

    /// Sends every queued advert: one sendmmsg per socket for as many as
    /// its send buffer takes, the rest one by one, waiting for room.
    pub async fn flush_adverts(&mut self) {
        for q in self.outq.iter_mut().filter(|q| !q.msgs.is_empty()) {
            let sock = self
                .ports
                .get(&q.key.0)
                .and_then(|p| p.sockets.get(&q.key.1))
                .cloned();
            let Some(sock) = sock else {
                q.clear();
                continue;
            };
            let sent = match (q.from, q.ttl) {
                // A VMAC's adverts carry their own source, unicast_ttl its
                // own TTL: one by one.
                (Some(_), _) | (_, Some(_)) => 0,
                (None, None) => match sock.try_send_batch(&q.bytes, &q.msgs) {
                    Ok(n) => n,
                    Err(e) => {
                        log::debug!("advert batch on {}: {e}", q.ifname);
                        0
                    }
                },
            };
            for (r, dst) in q.msgs.get(sent..).unwrap_or_default() {
                let payload = q.bytes.get(r.clone()).unwrap_or_default();
                let done = match (q.from, q.ttl) {
                    (src, Some(ttl)) => sock.send_with_ttl(payload, *dst, src, ttl).await,
                    (Some(src), None) => sock.send_from(payload, *dst, src).await,
                    (None, None) => sock.send_to(payload, *dst).await,
                };
                if let Err(e) = done {
                    log::warn!("advert on {} to {dst}: {e}", q.ifname);
                }
            }
            q.clear();
        }
    }

    fn spec(&self, v: &Vip) -> Option<AddressSpec> {
        let ifindex = self.links.index_of(&v.dev)?;
        let mut s = AddressSpec::new(ifindex, v.addr, v.prefix_len);
        s.label = v.label.clone();
        s.broadcast = v.broadcast;
        s.scope = v.scope;
        Some(s)
    }

    pub fn add_vips(&self, name: &str, vips: &[Vip]) {
        for v in vips {
            let Some(s) = self.spec(v) else {
                log::error!(
                    "({name}) cannot add {}/{}: no interface {}",
                    v.addr,
                    v.prefix_len,
                    v.dev
                );
                continue;
            };
            match self.nl.add_address(&s) {
                Ok(_) => log::debug!("({name}) added {}/{} on {}", v.addr, v.prefix_len, v.dev),
                Err(e) => log::error!(
                    "({name}) cannot add {}/{} on {}: {e}",
                    v.addr,
                    v.prefix_len,
                    v.dev
                ),
            }
        }
    }

    /// Puts back a VIP someone removed from under a master (`ip addr del`).
    pub fn restore_vip(&self, name: &str, v: &Vip) {
        let Some(s) = self.spec(v) else { return };
        match self.nl.add_address(&s) {
            Ok(Change::Applied) => log::warn!(
                "({name}) {}/{} was removed from {} while MASTER: restored",
                v.addr,
                v.prefix_len,
                v.dev
            ),
            Ok(Change::Unchanged) => {}
            Err(e) => log::error!(
                "({name}) cannot restore {}/{} on {}: {e}",
                v.addr,
                v.prefix_len,
                v.dev
            ),
        }
    }

    /// Removes the VIPs; `leftover` marks the start-up sweep of a crashed run's
    /// addresses, logged only when something was really there. A VIP on an
    /// interface that is gone went with it: nothing to do.
    pub fn del_vips(&self, name: &str, vips: &[Vip], leftover: bool) {
        for v in vips {
            let Some(s) = self.spec(v) else {
                log::debug!("({name}) {} is gone, and {} with it", v.dev, v.addr);
                continue;
            };
            match self.nl.del_address(&s) {
                Ok(Change::Applied) if leftover => {
                    log::warn!(
                        "({name}) removed {}/{} left on {} by an earlier run",
                        v.addr,
                        v.prefix_len,
                        v.dev
                    )
                }
                Ok(_) => {}
                // Deleted under us (the interface is going away).
                Err(crate::os::netlink::NetlinkError::Kernel(nix::errno::Errno::ENODEV)) => {}
                Err(e) => log::error!(
                    "({name}) cannot remove {}/{} from {}: {e}",
                    v.addr,
                    v.prefix_len,
                    v.dev
                ),
            }
        }
    }

    fn announcer(&mut self, dev: &str) -> Option<Rc<AnnounceSocket>> {
        let Some(link) = self.links.by_name(dev) else {
            log::warn!("gratuitous ARP on {dev}: no such interface");
            return None;
        };
        let (index, mac) = (link.index, link.mac6().unwrap_or_default());
        if let Some(s) = self.announce.get(&index).filter(|s| s.mac() == mac) {
            return Some(s.clone());
        }
        let s = AnnounceSocket::open(index, mac)
            .map_err(|e| log::warn!("gratuitous ARP on {dev}: {e}"))
            .ok()?;
        let s = Rc::new(s);
        self.announce.insert(index, s.clone());
        Some(s)
    }

    /// One gratuitous ARP (IPv4) or unsolicited NA (IPv6) per address, each on the
    /// interface its VIP lives on.
    pub async fn announce(&mut self, inst: &InstancePlan, addrs: &[IpAddr]) {
        for a in addrs {
            let dev = inst
                .vips
                .iter()
                .find(|v| v.addr == *a)
                .map_or(inst.interface.as_str(), |v| v.dev.as_str());
            let Some(sock) = self.announcer(dev) else {
                continue;
            };
            let r = match a {
                IpAddr::V4(v4) => sock.send_garp(*v4).await,
                IpAddr::V6(v6) => {
                    sock.send_na(*v6, crate::os::garp::ipv6_forwarding(dev))
                        .await
                }
            };
            if let Err(e) = r {
                log::warn!("announcing {a} on {dev}: {e}");
            }
        }
    }

    /// Open sockets, as (interface index, family, bound source), sorted.
    fn socket_keys(&self) -> Vec<(u32, vrrp::Family, Option<IpAddr>)> {
        let mut v: Vec<_> = self
            .ports
            .iter()
            .flat_map(|((i, f), p)| p.sockets.keys().map(move |s| (*i, *f, *s)))
            .collect();
        v.sort_by_key(|(i, f, s)| (*i, *f == vrrp::Family::V6, *s));
        v
    }
}
