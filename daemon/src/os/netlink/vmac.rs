//! VMAC links: macvlans in private mode carrying the VRRP virtual MAC, as
//! keepalived 2.2.7 builds them: created on the instance's interface with
//! the MAC given at creation, IPv6 address generation off (RFC 5798 7.4: no
//! EUI-64 link-local from the shared MAC), then set up.
//!
//! Private mode: the macvlan hears frames for its MAC and the parent's
//! broadcasts and multicasts, but never its sibling macvlans, so two VMACs
//! of one router cannot answer each other.
//!
//! neli 0.7 has no types for IFLA_LINKINFO's nested attributes: they are
//! written and read here as plain netlink attributes (length, type, payload
//! padded to 4 bytes).

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Arphrd, Iff, Ifla, RtAddrFamily, Rtm};
use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder, Rtattr, RtattrBuilder};
use neli::types::{Buffer, RtBuffer};

use super::link::parse_link;
use super::{LinkInfo, Netlink, NetlinkError};

const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
/// MACVLAN_MODE_PRIVATE.
pub const MODE_PRIVATE: u32 = 1;
const AF_INET6: u16 = 10;
const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
const IN6_ADDR_GEN_MODE_NONE: u8 = 1;

/// A link with its kind, as a dump reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkDetail {
    pub link: LinkInfo,
    /// IFLA_INFO_KIND (`macvlan`, `veth`, ...); `None` for plain devices.
    pub kind: Option<String>,
    /// IFLA_LINK: the parent of a macvlan.
    pub parent: Option<u32>,
    /// IFLA_MACVLAN_MODE of a macvlan.
    pub macvlan_mode: Option<u32>,
}

impl LinkDetail {
    /// A private-mode macvlan on `parent`: what a VMAC is.
    pub fn is_vmac_on(&self, parent: u32) -> bool {
        self.kind.as_deref() == Some("macvlan")
            && self.parent == Some(parent)
            && self.macvlan_mode == Some(MODE_PRIVATE)
    }
}

/// One netlink attribute, padded to 4 bytes.
pub fn nla(ty: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::with_capacity(len.div_ceil(4) * 4);
    v.extend_from_slice(&(len as u16).to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(payload);
    v.resize(len.div_ceil(4) * 4, 0);
    v
}

/// The attributes in `buf` as (type without flag bits, payload); stops at
/// the first malformed one.
pub fn parse_nla(mut buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        let Some(payload) = buf.get(4..len) else {
            break;
        };
        out.push((ty, payload));
        buf = buf.get(len.div_ceil(4) * 4..).unwrap_or_default();
    }
    out
}

/// IFLA_LINKINFO's payload for a private macvlan.
pub fn macvlan_linkinfo() -> Vec<u8> {
    let mut v = nla(IFLA_INFO_KIND, b"macvlan");
    v.extend(nla(
        IFLA_INFO_DATA,
        &nla(IFLA_MACVLAN_MODE, &MODE_PRIVATE.to_ne_bytes()),
    ));
    v
}

/// IFLA_AF_SPEC's payload that turns IPv6 address generation off.
pub fn addr_gen_none() -> Vec<u8> {
    nla(
        AF_INET6,
        &nla(IFLA_INET6_ADDR_GEN_MODE, &[IN6_ADDR_GEN_MODE_NONE]),
    )
}

/// (kind, macvlan mode) from an IFLA_LINKINFO payload.
pub fn parse_linkinfo(payload: &[u8]) -> (Option<String>, Option<u32>) {
    let mut kind = None;
    let mut mode = None;
    for (ty, p) in parse_nla(payload) {
        match ty {
            IFLA_INFO_KIND => {
                let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
                kind = Some(String::from_utf8_lossy(&p[..end]).into_owned());
            }
            IFLA_INFO_DATA => {
                mode = parse_nla(p)
                    .into_iter()
                    .find(|(t, _)| *t == IFLA_MACVLAN_MODE)
                    .and_then(|(_, m)| <[u8; 4]>::try_from(m).ok())
                    .map(u32::from_ne_bytes);
            }
            _ => {}
        }
    }
    (kind, mode)
}

fn rtattr(ty: Ifla, payload: Vec<u8>) -> Result<Rtattr<Ifla, Buffer>, NetlinkError> {
    RtattrBuilder::default()
        .rta_type(ty)
        .rta_payload(Buffer::from(payload))
        .build()
        .map_err(|e| NetlinkError::Codec(e.to_string()))
}

fn ifinfo(
    index: u32,
    flags: Iff,
    change: Iff,
    attrs: Vec<Rtattr<Ifla, Buffer>>,
) -> Result<Ifinfomsg, NetlinkError> {
    IfinfomsgBuilder::default()
        .ifi_family(RtAddrFamily::Unspecified)
        .ifi_type(Arphrd::from(0))
        .ifi_index(index as i32)
        .ifi_flags(flags)
        .ifi_change(change)
        .rtattrs(attrs.into_iter().collect::<RtBuffer<Ifla, Buffer>>())
        .build()
        .map_err(|e| NetlinkError::Codec(e.to_string()))
}

fn detail(msg: &Ifinfomsg) -> Option<LinkDetail> {
    let link = parse_link(msg)?;
    let attrs: &[_] = msg.rtattrs().as_ref();
    let find = |ty: Ifla| {
        attrs
            .iter()
            .find(|a| *a.rta_type() == ty)
            .map(|a| a.rta_payload().as_ref())
    };
    let (kind, macvlan_mode) = find(Ifla::Linkinfo).map_or((None, None), parse_linkinfo);
    let parent = find(Ifla::Link)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_ne_bytes);
    Some(LinkDetail {
        link,
        kind,
        parent,
        macvlan_mode,
    })
}

impl Netlink {
    /// Every link with its kind and parent.
    pub fn link_details(&self) -> Result<Vec<LinkDetail>, NetlinkError> {
        let req = ifinfo(0, Iff::empty(), Iff::empty(), Vec::new())?;
        let all: Vec<Ifinfomsg> = self.exchange(Rtm::Getlink, NlmF::empty(), req, true)?;
        Ok(all.iter().filter_map(detail).collect())
    }

    /// Creates a private macvlan `name` on `parent` with `mac`, down.
    pub fn create_vmac(&self, name: &str, parent: u32, mac: [u8; 6]) -> Result<(), NetlinkError> {
        let mut ifname = name.as_bytes().to_vec();
        ifname.push(0);
        let attrs = vec![
            rtattr(Ifla::Linkinfo, macvlan_linkinfo())?,
            rtattr(Ifla::Link, parent.to_ne_bytes().to_vec())?,
            rtattr(Ifla::Ifname, ifname)?,
            rtattr(Ifla::Address, mac.to_vec())?,
        ];
        let msg = ifinfo(0, Iff::empty(), Iff::empty(), attrs)?;
        self.exchange::<_, Ifinfomsg>(Rtm::Newlink, NlmF::CREATE | NlmF::EXCL, msg, false)
            .map(drop)
    }

    /// Sets an existing macvlan's MAC and mode (a VMAC left by an earlier
    /// run with another MAC or mode), as keepalived updates it.
    pub fn update_vmac(&self, index: u32, mac: [u8; 6]) -> Result<(), NetlinkError> {
        let attrs = vec![
            rtattr(Ifla::Linkinfo, macvlan_linkinfo())?,
            rtattr(Ifla::Address, mac.to_vec())?,
        ];
        let msg = ifinfo(index, Iff::empty(), Iff::empty(), attrs)?;
        self.exchange::<_, Ifinfomsg>(Rtm::Newlink, NlmF::empty(), msg, false)
            .map(drop)
    }

    /// No automatic IPv6 link-local address on `index` (the kernel reads
    /// IFLA_AF_SPEC only on an existing link, hence a message of its own).
    pub fn set_addr_gen_none(&self, index: u32) -> Result<(), NetlinkError> {
        let attrs = vec![rtattr(Ifla::AfSpec, addr_gen_none())?];
        let msg = ifinfo(index, Iff::empty(), Iff::empty(), attrs)?;
        self.exchange::<_, Ifinfomsg>(Rtm::Newlink, NlmF::empty(), msg, false)
            .map(drop)
    }

    /// `ip link set INDEX up|down`.
    pub fn set_link_up(&self, index: u32, up: bool) -> Result<(), NetlinkError> {
        let flags = if up { Iff::UP } else { Iff::empty() };
        let msg = ifinfo(index, flags, Iff::UP, Vec::new())?;
        self.exchange::<_, Ifinfomsg>(Rtm::Newlink, NlmF::empty(), msg, false)
            .map(drop)
    }

    /// `ip link del INDEX`.
    pub fn delete_link(&self, index: u32) -> Result<(), NetlinkError> {
        let msg = ifinfo(index, Iff::empty(), Iff::empty(), Vec::new())?;
        self.exchange::<_, Ifinfomsg>(Rtm::Dellink, NlmF::empty(), msg, false)
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip() {
        let li = macvlan_linkinfo();
        assert_eq!(li.len() % 4, 0);
        assert_eq!(
            parse_linkinfo(&li),
            (Some("macvlan".into()), Some(MODE_PRIVATE))
        );
        // kind (4 + 7 -> 12) + data (4 + mode 8 = 12)
        assert_eq!(li.len(), 24);
        let spec = addr_gen_none();
        let outer = parse_nla(&spec);
        assert_eq!(outer.len(), 1);
        assert_eq!(outer[0].0, AF_INET6);
        assert_eq!(
            parse_nla(outer[0].1),
            vec![(IFLA_INET6_ADDR_GEN_MODE, &[1u8][..])]
        );
    }

    #[test]
    fn malformed_attributes_stop_the_walk() {
        assert!(
            parse_nla(&[8, 0, 1, 0, 1]).is_empty(),
            "length past the end"
        );
        assert!(parse_nla(&[2, 0]).is_empty());
        assert_eq!(parse_linkinfo(&[0xff; 3]), (None, None));
    }
}
