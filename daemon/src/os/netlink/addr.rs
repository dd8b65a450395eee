//! Interface addresses: add and delete virtual IPs (idempotently) and list an
//! interface's addresses, to find its primary address and to clean up what a
//! crashed earlier run left behind.
//!
//! Labels follow `ip addr`'s convention: an IPv4 label such as `eth0:0` shows
//! in `ip addr` and `ifconfig`; the kernel keeps labels for IPv4 only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Ifa, IfaF, RtAddrFamily, RtScope, Rtm};
use neli::rtnl::{Ifaddrmsg, IfaddrmsgBuilder, Rtattr, RtattrBuilder};
use neli::types::{Buffer, RtBuffer};
use nix::errno::Errno;

use super::{Netlink, NetlinkError};

/// Address scope (`scope` keyword of keepalived, `ip addr ... scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    Other(u8),
}

impl Scope {
    /// keepalived's / iproute2's names, or a number.
    pub fn from_name(s: &str) -> Option<Scope> {
        Some(match s {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            n => Scope::from(n.parse::<u8>().ok()?),
        })
    }
}

impl From<u8> for Scope {
    fn from(v: u8) -> Scope {
        match v {
            0 => Scope::Global,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            o => Scope::Other(o),
        }
    }
}

impl From<Scope> for u8 {
    fn from(s: Scope) -> u8 {
        match s {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(o) => o,
        }
    }
}

/// An address to add to or delete from an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// IPv4 only: e.g. `eth0:0`. Must start with the interface name.
    pub label: Option<String>,
    /// IPv4 only: the broadcast address (`brd`).
    pub broadcast: Option<Ipv4Addr>,
    pub scope: Scope,
    /// IPv6 only: skip duplicate address detection, so a VIP is usable at
    /// once (what keepalived does for its IPv6 VIPs).
    pub no_dad: bool,
}

impl AddressSpec {
    /// `addr/prefix_len` on `ifindex`, global scope, no label.
    pub fn new(ifindex: u32, addr: IpAddr, prefix_len: u8) -> AddressSpec {
        AddressSpec {
            ifindex,
            addr,
            prefix_len,
            label: None,
            broadcast: None,
            scope: Scope::Global,
            no_dad: addr.is_ipv6(),
        }
    }
}

/// What an idempotent change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The kernel changed something.
    Applied,
    /// Already as asked (address present on add, absent on delete).
    Unchanged,
}

/// An address as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressInfo {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub label: Option<String>,
    pub scope: Scope,
    /// IPv4 secondary address (not the primary of its subnet).
    pub secondary: bool,
    /// IPv6 duplicate address detection has not finished yet.
    pub tentative: bool,
}

fn family_of(a: IpAddr) -> RtAddrFamily {
    match a {
        IpAddr::V4(_) => RtAddrFamily::Inet,
        IpAddr::V6(_) => RtAddrFamily::Inet6,
    }
}

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn attr(ty: Ifa, bytes: Vec<u8>) -> Result<Rtattr<Ifa, Buffer>, NetlinkError> {
    RtattrBuilder::default()
        .rta_type(ty)
        .rta_payload(Buffer::from(bytes))
        .build()
        .map_err(|e| NetlinkError::Codec(e.to_string()))
}

fn message(spec: &AddressSpec, for_delete: bool) -> Result<Ifaddrmsg, NetlinkError> {
    let mut attrs = vec![attr(Ifa::Local, addr_bytes(spec.addr))?];
    if !for_delete || spec.addr.is_ipv6() {
        attrs.push(attr(Ifa::Address, addr_bytes(spec.addr))?);
    }
    if !for_delete && spec.addr.is_ipv4() {
        if let Some(b) = spec.broadcast {
            attrs.push(attr(Ifa::Broadcast, b.octets().to_vec())?);
        }
        if let Some(l) = &spec.label {
            let mut bytes = l.as_bytes().to_vec();
            bytes.push(0);
            attrs.push(attr(Ifa::Label, bytes)?);
        }
    }
    let flags = if spec.no_dad && spec.addr.is_ipv6() {
        IfaF::NODAD
    } else {
        IfaF::empty()
    };
    IfaddrmsgBuilder::default()
        .ifa_family(family_of(spec.addr))
        .ifa_prefixlen(spec.prefix_len)
        .ifa_flags(flags)
        .ifa_scope(RtScope::from(u8::from(spec.scope)))
        .ifa_index(spec.ifindex)
        .rtattrs(attrs.into_iter().collect::<RtBuffer<Ifa, Buffer>>())
        .build()
        .map_err(|e| NetlinkError::Codec(e.to_string()))
}

/// Bytes of an attribute, if present.
fn attr_bytes(msg: &Ifaddrmsg, ty: Ifa) -> Option<&[u8]> {
    let attrs: &[_] = msg.rtattrs().as_ref();
    attrs
        .iter()
        .find(|a| *a.rta_type() == ty)
        .map(|a| a.rta_payload().as_ref())
}

fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(b) = <[u8; 4]>::try_from(bytes) {
        Some(IpAddr::V4(Ipv4Addr::from(b)))
    } else if let Ok(b) = <[u8; 16]>::try_from(bytes) {
        Some(IpAddr::V6(Ipv6Addr::from(b)))
    } else {
        None
    }
}

/// Parse a kernel address message; `None` if it carries no address.
pub(super) fn parse_address(msg: &Ifaddrmsg) -> Option<AddressInfo> {
    let addr = attr_bytes(msg, Ifa::Local)
        .or_else(|| attr_bytes(msg, Ifa::Address))
        .and_then(ip_from)?;
    let label = attr_bytes(msg, Ifa::Label).map(|b| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    });
    Some(AddressInfo {
        ifindex: *msg.ifa_index(),
        addr,
        prefix_len: *msg.ifa_prefixlen(),
        label,
        scope: Scope::from(u8::from(*msg.ifa_scope())),
        secondary: msg.ifa_flags().contains(IfaF::SECONDARY),
        tentative: msg.ifa_flags().contains(IfaF::TENTATIVE),
    })
}

impl Netlink {
    /// Add an address. Already present (EEXIST) is `Unchanged`, not an error.
    pub fn add_address(&self, spec: &AddressSpec) -> Result<Change, NetlinkError> {
        let msg = message(spec, false)?;
        match self.exchange::<_, Ifaddrmsg>(Rtm::Newaddr, NlmF::CREATE | NlmF::EXCL, msg, false) {
            Ok(_) => Ok(Change::Applied),
            Err(NetlinkError::Kernel(Errno::EEXIST)) => Ok(Change::Unchanged),
            Err(e) => Err(e),
        }
    }

    /// Delete an address. Absent (EADDRNOTAVAIL) is `Unchanged`, not an error.
    /// IPv4 matches on the address alone; IPv6 also on the prefix length.
    pub fn del_address(&self, spec: &AddressSpec) -> Result<Change, NetlinkError> {
        let msg = message(spec, true)?;
        match self.exchange::<_, Ifaddrmsg>(Rtm::Deladdr, NlmF::empty(), msg, false) {
            Ok(_) => Ok(Change::Applied),
            Err(NetlinkError::Kernel(Errno::EADDRNOTAVAIL)) => Ok(Change::Unchanged),
            Err(e) => Err(e),
        }
    }

    /// Addresses of `ifindex` (both families), in kernel order: for IPv4 the
    /// primary of each subnet comes before its secondaries.
    pub fn addresses(&self, ifindex: u32) -> Result<Vec<AddressInfo>, NetlinkError> {
        let req = IfaddrmsgBuilder::default()
            .ifa_family(RtAddrFamily::Unspecified)
            .ifa_prefixlen(0)
            .ifa_scope(RtScope::Universe)
            .ifa_index(0)
            .build()
            .map_err(|e| NetlinkError::Codec(e.to_string()))?;
        let all: Vec<Ifaddrmsg> = self.exchange(Rtm::Getaddr, NlmF::empty(), req, true)?;
        Ok(all
            .iter()
            .filter(|m| *m.ifa_index() == ifindex)
            .filter_map(parse_address)
            .collect())
    }

    /// The interface's primary IPv4 address (first non-secondary), which
    /// VRRPv2 adverts use as source by default.
    pub fn primary_ipv4(&self, ifindex: u32) -> Result<Option<Ipv4Addr>, NetlinkError> {
        Ok(self
            .addresses(ifindex)?
            .into_iter()
            .find_map(|a| match a.addr {
                IpAddr::V4(v4) if !a.secondary => Some(v4),
                _ => None,
            }))
    }

    /// Both advert sources of an interface from one address dump: its primary
    /// IPv4 address and its IPv6 link-local address.
    pub fn source_addresses(
        &self,
        ifindex: u32,
    ) -> Result<(Option<Ipv4Addr>, Option<Ipv6Addr>), NetlinkError> {
        let all = self.addresses(ifindex)?;
        let v4 = all.iter().find_map(|a| match a.addr {
            IpAddr::V4(v4) if !a.secondary => Some(v4),
            _ => None,
        });
        let v6 = all.iter().find_map(|a| match a.addr {
            IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
            _ => None,
        });
        Ok((v4, v6))
    }

    /// The interface's IPv6 link-local address, the source of VRRPv3 adverts.
    pub fn link_local_ipv6(&self, ifindex: u32) -> Result<Option<Ipv6Addr>, NetlinkError> {
        Ok(self
            .addresses(ifindex)?
            .into_iter()
            .find_map(|a| match a.addr {
                IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
                _ => None,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(Scope::from_name("link"), Some(Scope::Link));
        assert_eq!(Scope::from_name("global"), Some(Scope::Global));
        assert_eq!(Scope::from_name("17"), Some(Scope::Other(17)));
        assert_eq!(Scope::from_name("bogus"), None);
        for v in [0u8, 17, 200, 253, 254, 255] {
            assert_eq!(u8::from(Scope::from(v)), v);
        }
    }

    #[test]
    fn message_round_trip_through_parser() {
        let mut spec = AddressSpec::new(3, "192.168.1.100".parse().unwrap(), 24);
        spec.label = Some("eth0:0".into());
        spec.broadcast = Some("192.168.1.255".parse().unwrap());
        let m = message(&spec, false).unwrap();
        let info = parse_address(&m).unwrap();
        assert_eq!(info.addr, spec.addr);
        assert_eq!(info.prefix_len, 24);
        assert_eq!(info.label.as_deref(), Some("eth0:0"));
        assert_eq!(info.ifindex, 3);
        assert_eq!(
            attr_bytes(&m, Ifa::Broadcast),
            Some(&[192, 168, 1, 255][..])
        );
        // Delete sends only the local address for IPv4 (any prefix matches).
        let d = message(&spec, true).unwrap();
        assert!(attr_bytes(&d, Ifa::Address).is_none());
        assert!(attr_bytes(&d, Ifa::Label).is_none());
    }

    #[test]
    fn ipv6_spec_defaults_to_nodad_and_no_label() {
        let mut spec = AddressSpec::new(2, "2001:db8::1".parse().unwrap(), 64);
        spec.label = Some("eth0:0".into());
        assert!(spec.no_dad);
        let m = message(&spec, false).unwrap();
        assert!(m.ifa_flags().contains(IfaF::NODAD));
        assert!(attr_bytes(&m, Ifa::Label).is_none());
        assert_eq!(*m.ifa_family(), RtAddrFamily::Inet6);
        assert_eq!(ip_from(&[1, 2, 3]), None);
    }
}
