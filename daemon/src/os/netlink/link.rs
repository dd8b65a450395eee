//! Interfaces: name <-> index, MAC address, up/running state.

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Arphrd, Iff, Ifla, RtAddrFamily, Rtm};
use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder};

use super::{Netlink, NetlinkError};

/// One interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    /// Hardware address (6 bytes on Ethernet; empty on e.g. tunnels).
    pub mac: Vec<u8>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Operationally up: carrier present (IFF_RUNNING).
    pub running: bool,
    pub mtu: u32,
    /// ARPHRD_* hardware type (1 = Ethernet).
    pub hw_type: u16,
}

impl LinkInfo {
    /// Usable for VRRP: administratively up and with carrier, as keepalived
    /// judges an interface.
    pub fn is_usable(&self) -> bool {
        self.up && self.running
    }

    /// The MAC as six bytes, if it is an Ethernet-style address.
    pub fn mac6(&self) -> Option<[u8; 6]> {
        <[u8; 6]>::try_from(self.mac.as_slice()).ok()
    }
}

fn attr(msg: &Ifinfomsg, ty: Ifla) -> Option<&[u8]> {
    let attrs: &[_] = msg.rtattrs().as_ref();
    attrs
        .iter()
        .find(|a| *a.rta_type() == ty)
        .map(|a| a.rta_payload().as_ref())
}

/// Parse a kernel link message.
pub(super) fn parse_link(msg: &Ifinfomsg) -> Option<LinkInfo> {
    let index = u32::try_from(*msg.ifi_index()).ok()?;
    let name = attr(msg, Ifla::Ifname).map(|b| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    })?;
    let mtu = attr(msg, Ifla::Mtu)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_ne_bytes)
        .unwrap_or(0);
    Some(LinkInfo {
        index,
        name,
        mac: attr(msg, Ifla::Address)
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
        up: msg.ifi_flags().contains(Iff::UP),
        running: msg.ifi_flags().contains(Iff::RUNNING),
        mtu,
        hw_type: u16::from(*msg.ifi_type()),
    })
}

impl Netlink {
    /// Every interface of the namespace.
    pub fn links(&self) -> Result<Vec<LinkInfo>, NetlinkError> {
        let req = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_type(Arphrd::from(0))
            .build()
            .map_err(|e| NetlinkError::Codec(e.to_string()))?;
        let all: Vec<Ifinfomsg> = self.exchange(Rtm::Getlink, NlmF::empty(), req, true)?;
        Ok(all.iter().filter_map(parse_link).collect())
    }

    /// The interface called `name`.
    pub fn link_by_name(&self, name: &str) -> Result<LinkInfo, NetlinkError> {
        self.links()?
            .into_iter()
            .find(|l| l.name == name)
            .ok_or_else(|| NetlinkError::NoSuchInterface(name.to_string()))
    }

    /// The interface with index `index`.
    pub fn link_by_index(&self, index: u32) -> Result<LinkInfo, NetlinkError> {
        self.links()?
            .into_iter()
            .find(|l| l.index == index)
            .ok_or(NetlinkError::NoSuchIndex(index))
    }

    /// Name -> index.
    pub fn ifindex(&self, name: &str) -> Result<u32, NetlinkError> {
        self.link_by_name(name).map(|l| l.index)
    }

    /// Index -> name.
    pub fn ifname(&self, index: u32) -> Result<String, NetlinkError> {
        self.link_by_index(index).map(|l| l.name)
    }
}
