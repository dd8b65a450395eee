//! An IPVS table as plain data: services, each with its destinations.
//!
//! The same type describes what the kernel holds (read back by the shell)
//! and what the configuration wants, so that [`crate::diff`] can compare them.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;
use vigil_model::{LbKind, Protocol};

/// `IP_VS_SVC_F_PERSISTENT`: connections from one client stick to one
/// destination for [`Service::timeout`] seconds.
pub const FLAG_PERSISTENT: u32 = 0x0001;
/// `IP_VS_SVC_F_HASHED`: kernel bookkeeping, set in every dumped service.
/// Never part of a [`Table`]; the shell masks it out of dumps.
pub const FLAG_HASHED: u32 = 0x0002;
/// `IP_VS_SVC_F_ONEPACKET` (`ops`): schedule every UDP datagram on its own.
pub const FLAG_ONEPACKET: u32 = 0x0004;
/// Scheduler flag 1 (`flag-1`; `sh-fallback` for sh, `mh-fallback` for mh).
pub const FLAG_SCHED1: u32 = 0x0008;
/// Scheduler flag 2 (`flag-2`; `sh-port` for sh, `mh-port` for mh).
pub const FLAG_SCHED2: u32 = 0x0010;
/// Scheduler flag 3 (`flag-3`).
pub const FLAG_SCHED3: u32 = 0x0020;
/// sh: fall back to another destination when the hashed one is unavailable.
pub const FLAG_SH_FALLBACK: u32 = FLAG_SCHED1;
/// sh: hash the source port too.
pub const FLAG_SH_PORT: u32 = FLAG_SCHED2;
/// mh: fall back to another destination when the hashed one is unavailable.
pub const FLAG_MH_FALLBACK: u32 = FLAG_SCHED1;
/// mh: hash the source port too.
pub const FLAG_MH_PORT: u32 = FLAG_SCHED2;
/// Every flag a user can set (all but [`FLAG_HASHED`]).
pub const USER_FLAGS: u32 =
    FLAG_PERSISTENT | FLAG_ONEPACKET | FLAG_SCHED1 | FLAG_SCHED2 | FLAG_SCHED3;

/// Address family of a service (fwmark services carry it explicitly, since
/// they have no address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// AF_INET.
    V4,
    /// AF_INET6.
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The full prefix length (32 or 128): the netmask of a service without
    /// persistence granularity.
    pub fn full_prefix(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

/// What identifies a service in the kernel; nothing else can be edited away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    /// `virtual_server ADDR PORT` with its protocol.
    Addr {
        /// Virtual address (its family is the service's).
        addr: IpAddr,
        /// Virtual port.
        port: u16,
        /// Transport protocol.
        protocol: IpProto,
    },
    /// `virtual_server fwmark N` (the kernel ignores the protocol).
    Fwmark {
        /// The firewall mark.
        mark: u32,
        /// Address family of the marked packets.
        family: Family,
    },
}

impl ServiceKey {
    /// The service's address family.
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Addr { addr, .. } => Family::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

/// Transport protocol of an address-keyed service, ordered by its IP
/// protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpProto {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// SCTP (132).
    Sctp,
}

impl IpProto {
    /// The IP protocol number, as IPVS wants it.
    pub fn number(self) -> u8 {
        match self {
            IpProto::Tcp => 6,
            IpProto::Udp => 17,
            IpProto::Sctp => 132,
        }
    }
}

impl From<Protocol> for IpProto {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Tcp => IpProto::Tcp,
            Protocol::Udp => IpProto::Udp,
            Protocol::Sctp => IpProto::Sctp,
        }
    }
}

/// An IPVS virtual service: its key and the attributes an edit can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Identity.
    pub key: ServiceKey,
    /// Scheduler name (`rr`, `wlc`, ...): the kernel module suffix.
    pub scheduler: String,
    /// User flags ([`FLAG_PERSISTENT`], [`FLAG_ONEPACKET`], [`FLAG_SCHED1`]
    /// ..; the kernel's internal [`FLAG_HASHED`] is not part of the table).
    pub flags: u32,
    /// Persistence timeout in seconds; 0 when not persistent.
    pub timeout: u32,
    /// Persistence granularity as a prefix length (full length when not
    /// persistent); the codec turns it into the kernel's netmask.
    pub netmask: u8,
    /// Persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
}

/// Encapsulation of a tunnelled destination (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunType {
    /// IP in IP (0), the only type before Linux 5.2.
    #[default]
    Ipip,
    /// Generic UDP encapsulation (1), to [`Tunnel::port`].
    Gue,
    /// GRE (2).
    Gre,
}

/// Checksum mode of a GUE or GRE tunnel (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunCsum {
    /// No checksum (0).
    #[default]
    NoCsum,
    /// Checksum (1).
    Csum,
    /// Remote checksum offload (2; GUE only).
    RemCsum,
}

/// Tunnel settings of a [`Forwarding::Tun`] destination. `port` means
/// something for GUE only and `csum` for GUE and GRE; [`Tunnel::canonical`]
/// zeroes what the type ignores, as the kernel's dump is compared with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tunnel {
    /// Encapsulation.
    pub kind: TunType,
    /// GUE destination port (host order here; big-endian on the wire).
    pub port: u16,
    /// Checksum mode.
    pub csum: TunCsum,
}

impl Tunnel {
    /// Plain IP-in-IP.
    pub fn ipip() -> Self {
        Self::default()
    }

    /// GUE to `port`.
    pub fn gue(port: u16, csum: TunCsum) -> Self {
        Tunnel {
            kind: TunType::Gue,
            port,
            csum,
        }
    }

    /// GRE.
    pub fn gre(csum: TunCsum) -> Self {
        Tunnel {
            kind: TunType::Gre,
            port: 0,
            csum,
        }
    }

    /// The same tunnel with the fields its type ignores set to their
    /// defaults.
    pub fn canonical(self) -> Self {
        match self.kind {
            TunType::Ipip => Tunnel::ipip(),
            TunType::Gue => self,
            TunType::Gre => Tunnel::gre(self.csum),
        }
    }
}

/// How packets reach a destination (`IP_VS_CONN_F_FWD_MASK` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forwarding {
    /// Masquerading (NAT).
    Nat,
    /// The kernel's choice for a destination on this very host.
    Local,
    /// Tunnelling (IP-in-IP, GUE or GRE).
    Tun(Tunnel),
    /// Direct routing.
    Dr,
}

impl Forwarding {
    /// The kernel's `IP_VS_CONN_F_FWD_MASK` value.
    pub fn code(self) -> u32 {
        match self {
            Forwarding::Nat => 0,
            Forwarding::Local => 1,
            Forwarding::Tun(_) => 2,
            Forwarding::Dr => 3,
        }
    }

    /// Whether `dumped`, read back from the kernel, is what was set as
    /// `self`. Older kernels report LOCALNODE for a DR destination whose
    /// address is local, and the tunnel fields a type ignores do not count.
    pub fn matches_kernel(self, dumped: Forwarding) -> bool {
        match (self, dumped) {
            (Forwarding::Dr, Forwarding::Local) => true,
            (Forwarding::Tun(a), Forwarding::Tun(b)) => a.canonical() == b.canonical(),
            (a, b) => a == b,
        }
    }
}

impl From<LbKind> for Forwarding {
    fn from(kind: LbKind) -> Self {
        match kind {
            LbKind::Nat => Forwarding::Nat,
            LbKind::Dr => Forwarding::Dr,
            LbKind::Tun => Forwarding::Tun(Tunnel::ipip()),
        }
    }
}

/// What identifies a destination within its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestKey {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
}

/// A real server as the kernel sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// Forwarding method.
    pub forwarding: Forwarding,
    /// Scheduling weight; 0 takes no new connections (inhibited).
    pub weight: u32,
    /// Upper connection threshold; 0 = none.
    pub u_threshold: u32,
    /// Lower connection threshold.
    pub l_threshold: u32,
}

impl Destination {
    /// Its identity within the service.
    pub fn key(&self) -> DestKey {
        DestKey {
            addr: self.addr,
            port: self.port,
        }
    }

    /// Whether `dumped`, read back from the kernel, is this destination
    /// (see [`Forwarding::matches_kernel`]).
    pub fn matches_kernel(&self, dumped: &Destination) -> bool {
        self.forwarding.matches_kernel(dumped.forwarding)
            && Destination {
                forwarding: self.forwarding,
                ..*dumped
            } == *self
    }
}

/// Why a table change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// The destination's service is not in the table.
    NoService,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::NoService => f.write_str("no such virtual service"),
        }
    }
}

/// One service and its destinations, sorted by key. A sorted `Vec`, not a
/// map: a service has a handful of destinations, and a B-tree node reserves
/// room for eleven (0.85 MiB for 1,000 x 4 against 0.2 MiB).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    service: Service,
    dests: Vec<Destination>,
}

impl Slot {
    fn find(&self, key: &DestKey) -> Result<usize, usize> {
        self.dests.binary_search_by(|d| d.key().cmp(key))
    }

    fn get(&self, key: &DestKey) -> Option<&Destination> {
        self.find(key).ok().and_then(|i| self.dests.get(i))
    }
}

/// Services ordered by key, each with its destinations ordered by key. The
/// keys are taken from the values, so they cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    slots: BTreeMap<ServiceKey, Slot>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there is no service.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Adds a service, or replaces its attributes (keeping its destinations).
    /// Returns the previous attributes.
    pub fn insert_service(&mut self, service: Service) -> Option<Service> {
        match self.slots.get_mut(&service.key) {
            Some(slot) => Some(core::mem::replace(&mut slot.service, service)),
            None => {
                let slot = Slot {
                    service,
                    dests: Vec::new(),
                };
                self.slots.insert(slot.service.key, slot);
                None
            }
        }
    }

    /// Removes a service with its destinations; returns its attributes.
    pub fn remove_service(&mut self, key: &ServiceKey) -> Option<Service> {
        self.slots.remove(key).map(|slot| slot.service)
    }

    /// Adds or replaces a destination of an existing service; returns the
    /// previous one.
    pub fn insert_dest(
        &mut self,
        service: &ServiceKey,
        dest: Destination,
    ) -> Result<Option<Destination>, TableError> {
        let slot = self.slots.get_mut(service).ok_or(TableError::NoService)?;
        match slot.find(&dest.key()) {
            Ok(i) => Ok(slot.dests.get_mut(i).map(|d| core::mem::replace(d, dest))),
            Err(i) => {
                slot.dests.insert(i, dest);
                Ok(None)
            }
        }
    }

    /// Removes a destination; returns it.
    pub fn remove_dest(&mut self, service: &ServiceKey, dest: &DestKey) -> Option<Destination> {
        let slot = self.slots.get_mut(service)?;
        let i = slot.find(dest).ok()?;
        Some(slot.dests.remove(i))
    }

    /// The service of this key.
    pub fn service(&self, key: &ServiceKey) -> Option<&Service> {
        self.slots.get(key).map(|slot| &slot.service)
    }

    /// One destination of a service.
    pub fn dest(&self, service: &ServiceKey, dest: &DestKey) -> Option<&Destination> {
        self.slots.get(service)?.get(dest)
    }

    /// Every service, in key order.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.slots.values().map(|slot| &slot.service)
    }

    /// The destinations of a service in key order (none if it is absent).
    pub fn dests(&self, service: &ServiceKey) -> impl Iterator<Item = &Destination> {
        self.slots
            .get(service)
            .into_iter()
            .flat_map(|slot| slot.dests.iter())
    }

    /// Whether `dumped`, read back from the kernel, holds exactly this
    /// table, tolerating what the kernel rewrites
    /// ([`Destination::matches_kernel`]).
    pub fn matches_kernel(&self, dumped: &Table) -> bool {
        self.len() == dumped.len()
            && self.slots.iter().all(|(key, want)| {
                dumped
                    .slots
                    .get(key)
                    .is_some_and(|have| want.matches_kernel(have))
            })
    }
}

impl Slot {
    fn matches_kernel(&self, have: &Slot) -> bool {
        have.service == self.service
            && have.dests.len() == self.dests.len()
            && self
                .dests
                .iter()
                .all(|d| have.get(&d.key()).is_some_and(|h| d.matches_kernel(h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    fn svc(last: u8) -> Service {
        Service {
            key: ServiceKey::Addr {
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
                port: 80,
                protocol: IpProto::Tcp,
            },
            scheduler: "rr".into(),
            flags: 0,
            timeout: 0,
            netmask: 32,
            pe_name: None,
        }
    }

    fn dest(last: u8, weight: u32) -> Destination {
        Destination {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 1, last)),
            port: 80,
            forwarding: Forwarding::Dr,
            weight,
            u_threshold: 0,
            l_threshold: 0,
        }
    }

    #[test]
    fn dest_needs_its_service() {
        let mut t = Table::new();
        let key = svc(1).key;
        assert_eq!(t.insert_dest(&key, dest(1, 1)), Err(TableError::NoService));
        t.insert_service(svc(1));
        assert_eq!(t.insert_dest(&key, dest(1, 1)), Ok(None));
        assert_eq!(t.insert_dest(&key, dest(1, 5)), Ok(Some(dest(1, 1))));
        assert_eq!(t.dests(&key).count(), 1);
        assert_eq!(t.dest(&key, &dest(1, 0).key()).map(|d| d.weight), Some(5));
    }

    #[test]
    fn replacing_a_service_keeps_its_dests_and_removing_drops_them() {
        let mut t = Table::new();
        let key = svc(1).key;
        t.insert_service(svc(1));
        t.insert_dest(&key, dest(1, 1)).unwrap();
        let mut edited = svc(1);
        edited.scheduler = "wlc".into();
        assert_eq!(t.insert_service(edited), Some(svc(1)));
        assert_eq!(t.dests(&key).count(), 1);
        assert!(t.remove_service(&key).is_some());
        assert!(t.is_empty());
        assert_eq!(t.dests(&key).count(), 0);
        assert_eq!(t.remove_dest(&key, &dest(1, 1).key()), None);
    }

    #[test]
    fn fwmark_keys_carry_their_family() {
        let k = ServiceKey::Fwmark {
            mark: 7,
            family: Family::V6,
        };
        assert_eq!(k.family(), Family::V6);
        assert_eq!(svc(1).key.family(), Family::V4);
        assert_eq!(Family::V6.full_prefix(), 128);
    }

    #[test]
    fn kernel_rewrites_are_tolerated_and_nothing_else() {
        let mut want = Table::new();
        let key = svc(1).key;
        want.insert_service(svc(1));
        want.insert_dest(&key, dest(1, 1)).unwrap();
        let gre = Destination {
            forwarding: Forwarding::Tun(Tunnel {
                port: 99, // ignored by GRE
                ..Tunnel::gre(TunCsum::Csum)
            }),
            ..dest(2, 1)
        };
        want.insert_dest(&key, gre).unwrap();
        let mut have = want.clone();
        let local = Destination {
            forwarding: Forwarding::Local,
            ..dest(1, 1)
        };
        have.insert_dest(&key, local).unwrap();
        let gre_dumped = Destination {
            forwarding: Forwarding::Tun(Tunnel::gre(TunCsum::Csum)),
            ..gre
        };
        have.insert_dest(&key, gre_dumped).unwrap();
        assert!(want.matches_kernel(&have));
        assert!(!have.matches_kernel(&want), "Local sent is not DR dumped");
        have.insert_dest(&key, dest(1, 2)).unwrap();
        assert!(!want.matches_kernel(&have), "weight differs");
        let mut other = want.clone();
        other.insert_dest(&key, dest(3, 1)).unwrap();
        assert!(!want.matches_kernel(&other), "extra dest");
        let nocsum = Forwarding::Tun(Tunnel::gre(TunCsum::NoCsum));
        assert!(!gre.forwarding.matches_kernel(nocsum));
        assert_eq!(Forwarding::Tun(Tunnel::ipip()).code(), 2);
        assert_eq!(USER_FLAGS & FLAG_HASHED, 0);
    }
}
