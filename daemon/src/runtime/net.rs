//! The daemon's network side: VRRP sockets per interface and family, VIPs through
//! rtnetlink, gratuitous ARP / NA through AF_PACKET. It turns the core's actions
//! into syscalls; failures are logged and never stop the daemon.

use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;

use vigil_vrrp as vrrp;
use vigil_wire::vrrp::{Packet, Repr, V3Checksum};

use super::event::Event;
use super::plan::{InstancePlan, Vip};
use super::Spawner;
use crate::os::garp::AnnounceSocket;
use crate::os::netlink::{AddressSpec, Change, Netlink};
use crate::os::vrrp_socket::{self, VrrpSocket};

/// One VRRP socket: keyed by interface, family and bound source.
type SockKey = (String, vrrp::Family, Option<IpAddr>);

pub struct Net {
    pub nl: Netlink,
    sockets: HashMap<SockKey, Rc<VrrpSocket>>,
    /// (interface, family) pairs that already have a receiving task: raw sockets
    /// each get a copy of every packet, so only one per pair is read.
    readers: HashMap<(String, vrrp::Family), SockKey>,
    announce: HashMap<u32, Rc<AnnounceSocket>>,
}

fn os_family(f: vrrp::Family) -> vrrp_socket::Family {
    match f {
        vrrp::Family::V4 => vrrp_socket::Family::V4,
        vrrp::Family::V6 => vrrp_socket::Family::V6,
    }
}

impl Net {
    pub fn new(nl: Netlink) -> Net {
        Net {
            nl,
            sockets: HashMap::new(),
            readers: HashMap::new(),
            announce: HashMap::new(),
        }
    }

    /// Opens the socket `inst` sends on (and, first per interface and family, a
    /// task reading it). Errors are logged; the instance then cannot advertise and
    /// its peers will see it as down, which is what a broken interface means.
    pub fn open_for(
        &mut self,
        inst: &InstancePlan,
        any_multicast: bool,
        spawner: &Spawner,
        tx: &smol::channel::Sender<Event>,
    ) {
        let key: SockKey = (inst.interface.clone(), inst.family, inst.source);
        if self.sockets.contains_key(&key) {
            return;
        }
        let ifindex = match self.nl.ifindex(&inst.interface) {
            Ok(i) => i,
            Err(e) => {
                log::error!(
                    "interface {}: {e}; its instances stay down until it exists",
                    inst.interface
                );
                return;
            }
        };
        let cfg = vrrp_socket::Config {
            ifname: inst.interface.clone(),
            ifindex,
            family: os_family(inst.family),
            group: any_multicast.then_some(inst.group),
            source: inst.source,
        };
        let sock = match VrrpSocket::open(&cfg) {
            Ok(s) => Rc::new(s),
            Err(e) => {
                log::error!("VRRP socket on {}: {e}", inst.interface);
                return;
            }
        };
        self.sockets.insert(key.clone(), sock.clone());
        let rkey = (inst.interface.clone(), inst.family);
        if self.readers.contains_key(&rkey) {
            return;
        }
        self.readers.insert(rkey, key);
        let tx = tx.clone();
        let interface = inst.interface.clone();
        let v6 = inst.family == vrrp::Family::V6;
        spawner
            .spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match sock.recv(&mut buf).await {
                        Ok(meta) => {
                            let bytes = buf.get(..meta.len).unwrap_or_default().to_vec();
                            let v6 = v6.then_some((meta.src, meta.dst, meta.ttl));
                            let ev = Event::Packet {
                                interface: interface.clone(),
                                v6,
                                bytes,
                            };
                            if tx.send(ev).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            log::warn!("receive on {interface}: {e}");
                            smol::Timer::after(std::time::Duration::from_millis(100)).await;
                        }
                    }
                }
            })
            .detach();
    }

    /// Emits and sends one advert. The kernel fills the IPv6 checksum itself.
    pub async fn send_advert(
        &self,
        inst: &InstancePlan,
        repr: &Repr,
        src: IpAddr,
        dst: IpAddr,
        csum: V3Checksum,
    ) {
        let key: SockKey = (inst.interface.clone(), inst.family, inst.source);
        let Some(sock) = self.sockets.get(&key) else {
            log::debug!("no socket on {} to send an advert", inst.interface);
            return;
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), src, dst, csum);
        if let Err(e) = sock.send_to(&buf, dst).await {
            log::warn!("advert on {} to {dst}: {e}", inst.interface);
        }
    }

    fn spec(&self, v: &Vip) -> Option<AddressSpec> {
        let ifindex = match self.nl.ifindex(&v.dev) {
            Ok(i) => i,
            Err(e) => {
                log::error!("VIP {}/{} on {}: {e}", v.addr, v.prefix_len, v.dev);
                return None;
            }
        };
        let mut s = AddressSpec::new(ifindex, v.addr, v.prefix_len);
        s.label = v.label.clone();
        s.broadcast = v.broadcast;
        s.scope = v.scope;
        Some(s)
    }

    pub fn add_vips(&self, name: &str, vips: &[Vip]) {
        for v in vips {
            let Some(s) = self.spec(v) else { continue };
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

    /// Removes the VIPs; `leftover` marks the start-up sweep of a crashed run's
    /// addresses, logged only when something was really there.
    pub fn del_vips(&self, name: &str, vips: &[Vip], leftover: bool) {
        for v in vips {
            let Some(s) = self.spec(v) else { continue };
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
        let link = match self.nl.link_by_name(dev) {
            Ok(l) => l,
            Err(e) => {
                log::warn!("gratuitous ARP on {dev}: {e}");
                return None;
            }
        };
        if let Some(s) = self.announce.get(&link.index) {
            return Some(s.clone());
        }
        let s = AnnounceSocket::open(link.index, link.mac6().unwrap_or_default())
            .map_err(|e| log::warn!("gratuitous ARP on {dev}: {e}"))
            .ok()?;
        let s = Rc::new(s);
        self.announce.insert(link.index, s.clone());
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
}
