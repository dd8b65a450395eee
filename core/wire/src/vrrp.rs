//! VRRP advertisements: version 2 (RFC 3768) and version 3 (RFC 5798, RFC 9568).
//!
//! Both versions share the first word and the checksum; they differ in the
//! second word and in the trailer:
//!
//! ```text
//!      0                   1                   2                   3
//!      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!     +-------+-------+---------------+---------------+---------------+
//!     |Version| Type  |     VRID      |   Priority    |  Count Addrs  |
//!     +-------+-------+---------------+---------------+---------------+
//! v2: |   Auth Type   | Adver Int (s) |           Checksum            |
//! v3: | Rsvd  |  Max Adver Int (cs)   |           Checksum            |
//!     +---------------------------------------------------------------+
//!     |    Count Addrs addresses: 4 bytes each (IPv4), 16 (IPv6)      |
//!     +---------------------------------------------------------------+
//! v2: |         Authentication Data, 8 bytes (zero padded)            |
//!     +---------------------------------------------------------------+
//! ```
//!
//! The checksum is the Internet checksum of the VRRP message (v2, and v3 over
//! IPv4 with `v3_checksum_as_v2`), or of the message under the IPv4/IPv6
//! pseudo-header (v3 over IPv6 always; v3 over IPv4 by keepalived's default).
//! The address family of the message is the family of the IP source address.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::error::{Error, Result};
use crate::{ipv4, ipv6};

/// IP protocol number of VRRP.
pub const IP_PROTO_VRRP: u8 = 112;

/// Length of the fixed part, before the addresses.
pub const HEADER_LEN: usize = 8;

/// Length of the v2 authentication data.
pub const AUTH_DATA_LEN: usize = 8;

/// Most addresses one advert can list (the count is 8 bits).
pub const MAX_ADDRS: usize = 255;

/// The only VRRP packet type.
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// IPv4 multicast group of VRRP; also the pseudo-header destination of the
/// legacy (keepalived < 1.3.6, `old_unicast_checksum`) v3 unicast checksum.
pub const MCAST_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// IPv6 multicast group of VRRP.
pub const MCAST_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

const AUTH_NONE: u8 = 0;
const AUTH_SIMPLE: u8 = 1;
const AUTH_AH: u8 = 2;

const MAX_ADVER_INT_MASK: u16 = 0x0fff;

mod field {
    use core::ops::Range;

    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v2: authentication type.
    pub const AUTH_TYPE: usize = 4;
    /// v2: advertisement interval in seconds.
    pub const ADVER_INT: usize = 5;
    /// v3: 4 reserved bits, then the interval in centiseconds.
    pub const RSVD_MAX_ADVER_INT: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
    pub const ADDRS: usize = 8;

    /// The `index`th address of `len` bytes.
    pub const fn address(index: usize, len: usize) -> Range<usize> {
        ADDRS + index * len..ADDRS + (index + 1) * len
    }

    /// v2 authentication data after `count` IPv4 addresses.
    pub const fn auth_data(count: usize) -> Range<usize> {
        let start = ADDRS + count * 4;
        start..start + super::AUTH_DATA_LEN
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    /// The number carried in the version nibble.
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// VRRPv2 authentication (RFC 3768 section 5.3.6). v3 has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    None,
    /// Simple text password, 8 bytes, zero padded.
    Simple([u8; 8]),
    /// IP Authentication Header ([`crate::ah`]): the 8 bytes are the HMAC key
    /// (`auth_pass`) in a configuration. They never go in the message, whose
    /// authentication data stays zero as keepalived sends it; a parsed advert
    /// holds the 8 data bytes it carried.
    Ah([u8; 8]),
}

/// How a v3-over-IPv4 checksum is computed. keepalived's default includes the
/// IPv4 pseudo-header (RFC 5798); `v3_checksum_as_v2` covers the message only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V3Checksum {
    PseudoHeader,
    MessageOnly,
}

/// The checksum form a received advert verified under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumForm {
    /// The message alone: every v2 advert, and v3 over IPv4 from a
    /// `v3_checksum_as_v2` sender (RFC 9568's reading).
    MessageOnly,
    /// The message under the pseudo-header with the real destination.
    PseudoHeader,
    /// v3 unicast over IPv4 with the multicast group as pseudo-header
    /// destination: keepalived before 1.3.6, or `old_unicast_checksum`.
    /// A receiver that sees it may answer in kind, as keepalived does.
    LegacyUnicast,
}

/// A zero-copy view of a VRRP message (the IP payload).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checks; getters may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap a buffer after [`check_len`](Self::check_len): the fixed-header
    /// getters never panic afterwards; the address and authentication getters
    /// return `None` when their bytes are missing.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The buffer holds the fixed header. (The address count is checked by
    /// [`Repr::parse`], which knows the address family.)
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Give back the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref()[at]
    }

    /// Version nibble (2 or 3 in a valid advert).
    pub fn version(&self) -> u8 {
        self.byte(field::VER_TYPE) >> 4
    }

    /// Type nibble (1, ADVERTISEMENT, in a valid advert).
    pub fn kind(&self) -> u8 {
        self.byte(field::VER_TYPE) & 0x0f
    }

    /// Virtual router identifier.
    pub fn vrid(&self) -> u8 {
        self.byte(field::VRID)
    }

    /// Sender's priority; 0 means the master is leaving.
    pub fn priority(&self) -> u8 {
        self.byte(field::PRIORITY)
    }

    /// Number of addresses listed.
    pub fn count_addrs(&self) -> u8 {
        self.byte(field::COUNT)
    }

    /// v2: authentication type (0 none, 1 simple password, 2 IP AH).
    pub fn auth_type(&self) -> u8 {
        self.byte(field::AUTH_TYPE)
    }

    /// v2: advertisement interval in seconds.
    pub fn adver_int(&self) -> u8 {
        self.byte(field::ADVER_INT)
    }

    fn rsvd_max_adver_int(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::RSVD_MAX_ADVER_INT];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// v3: the 4 reserved bits (sent as zero, ignored on receive).
    pub fn reserved(&self) -> u8 {
        (self.rsvd_max_adver_int() >> 12) as u8
    }

    /// v3: maximum advertisement interval in centiseconds (12 bits).
    pub fn max_adver_int(&self) -> u16 {
        self.rsvd_max_adver_int() & MAX_ADVER_INT_MASK
    }

    /// Checksum as carried.
    pub fn checksum(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::CHECKSUM];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The `index`th address read as IPv4, if its bytes are present.
    pub fn address_v4(&self, index: usize) -> Option<Ipv4Addr> {
        let b = self.buffer.as_ref().get(field::address(index, 4))?;
        Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }

    /// The `index`th address read as IPv6, if its bytes are present.
    pub fn address_v6(&self, index: usize) -> Option<Ipv6Addr> {
        let b = self.buffer.as_ref().get(field::address(index, 16))?;
        let mut octets = [0u8; 16];
        octets.copy_from_slice(b);
        Some(Ipv6Addr::from(octets))
    }

    /// v2: the 8 bytes of authentication data after the IPv4 addresses.
    pub fn auth_data(&self) -> Option<[u8; AUTH_DATA_LEN]> {
        let range = field::auth_data(usize::from(self.count_addrs()));
        let b = self.buffer.as_ref().get(range)?;
        let mut data = [0u8; AUTH_DATA_LEN];
        data.copy_from_slice(b);
        Some(data)
    }

    /// Length of the message that the version and address count announce for
    /// addresses of `addr_len` bytes.
    pub fn message_len(&self, addr_len: usize) -> usize {
        let trailer = if self.version() == 2 {
            AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + usize::from(self.count_addrs()) * addr_len + trailer
    }

    /// Which checksum form the first `len` bytes verify under, given the IP
    /// addresses; `None` if none does. v2 and v3 over IPv4 accept the
    /// message-only form, v3 the pseudo-header form, and v3 over IPv4 to a
    /// unicast destination also the legacy one.
    pub fn checksum_form(&self, len: usize, src: IpAddr, dst: IpAddr) -> Option<ChecksumForm> {
        let msg = self.buffer.as_ref().get(..len)?;
        let v3 = self.version() == 3;
        let pseudo = |to: IpAddr| {
            let acc = checksum::pseudo_header(src, to, IP_PROTO_VRRP, len as u32);
            checksum::finish(checksum::sum(acc, msg)) == 0
        };
        match (src, dst) {
            (IpAddr::V6(_), IpAddr::V6(_)) => pseudo(dst).then_some(ChecksumForm::PseudoHeader),
            (IpAddr::V4(_), IpAddr::V4(d)) => {
                if v3 && pseudo(dst) {
                    Some(ChecksumForm::PseudoHeader)
                } else if checksum::checksum(msg) == 0 {
                    Some(ChecksumForm::MessageOnly)
                } else if v3 && !d.is_multicast() && pseudo(IpAddr::V4(MCAST_GROUP_V4)) {
                    Some(ChecksumForm::LegacyUnicast)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_byte(&mut self, at: usize, value: u8) {
        self.buffer.as_mut()[at] = value;
    }

    /// Set the version nibble.
    pub fn set_version(&mut self, version: u8) {
        let b = self.byte(field::VER_TYPE);
        self.set_byte(field::VER_TYPE, (b & 0x0f) | (version << 4));
    }

    /// Set the type nibble.
    pub fn set_kind(&mut self, kind: u8) {
        let b = self.byte(field::VER_TYPE);
        self.set_byte(field::VER_TYPE, (b & 0xf0) | (kind & 0x0f));
    }

    /// Set the virtual router identifier.
    pub fn set_vrid(&mut self, vrid: u8) {
        self.set_byte(field::VRID, vrid);
    }

    /// Set the priority.
    pub fn set_priority(&mut self, priority: u8) {
        self.set_byte(field::PRIORITY, priority);
    }

    /// Set the address count.
    pub fn set_count_addrs(&mut self, count: u8) {
        self.set_byte(field::COUNT, count);
    }

    /// v2: set the authentication type.
    pub fn set_auth_type(&mut self, auth_type: u8) {
        self.set_byte(field::AUTH_TYPE, auth_type);
    }

    /// v2: set the interval in seconds.
    pub fn set_adver_int(&mut self, seconds: u8) {
        self.set_byte(field::ADVER_INT, seconds);
    }

    /// v3: set the interval in centiseconds (12 bits) and clear the reserved bits.
    pub fn set_max_adver_int(&mut self, centiseconds: u16) {
        let v = centiseconds & MAX_ADVER_INT_MASK;
        self.buffer.as_mut()[field::RSVD_MAX_ADVER_INT].copy_from_slice(&v.to_be_bytes());
    }

    /// Set the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// Set the `index`th address, 4 or 16 bytes by its family.
    pub fn set_address(&mut self, index: usize, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => {
                self.buffer.as_mut()[field::address(index, 4)].copy_from_slice(&a.octets())
            }
            IpAddr::V6(a) => {
                self.buffer.as_mut()[field::address(index, 16)].copy_from_slice(&a.octets())
            }
        }
    }

    /// v2: set the authentication data after `count_addrs()` IPv4 addresses.
    pub fn set_auth_data(&mut self, data: &[u8; AUTH_DATA_LEN]) {
        let range = field::auth_data(usize::from(self.count_addrs()));
        self.buffer.as_mut()[range].copy_from_slice(data);
    }

    /// Compute and store the checksum over the whole buffer (which must be the
    /// message, set completely). `csum` matters only for v3 over IPv4; v3 over
    /// IPv6 always uses the pseudo-header, v2 never does. To send the legacy
    /// unicast form, pass [`MCAST_GROUP_V4`] as `dst`.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr, csum: V3Checksum) {
        self.set_checksum(0);
        let msg = self.buffer.as_ref();
        let pseudo = self.version() == 3 && (src.is_ipv6() || (csum == V3Checksum::PseudoHeader));
        let acc = if pseudo {
            checksum::pseudo_header(src, dst, IP_PROTO_VRRP, msg.len() as u32)
        } else {
            0
        };
        let value = checksum::finish(checksum::sum(acc, msg));
        self.set_checksum(value);
    }
}

/// A validated advertisement. Wire-only fields (checksum, address count, the
/// type which is always ADVERTISEMENT) are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// Advertisement interval in centiseconds. v2 carries whole seconds in 8 bits
    /// (stored here x100); v3 carries 12 bits of centiseconds.
    pub adver_int_cs: u16,
    /// Always `Auth::None` for v3.
    pub auth: Auth,
    /// The virtual addresses, all of one family.
    pub addresses: Vec<IpAddr>,
}

impl Repr {
    /// Parse a VRRP message: the IP payload, cut at the IP length so that no
    /// Ethernet padding follows ([`parse_ipv4`] does this). `src` and `dst` are
    /// the IP addresses: `src` gives the address family, both enter the v3
    /// pseudo-header. Over IPv4 a v3 checksum may take any [`ChecksumForm`].
    ///
    /// Checks, each with its own error: fixed header present (`Truncated`),
    /// version 2 or 3 and v2 only over IPv4 (`BadVersion`), type 1 (`BadType`),
    /// size equal to what the version and count announce (`BadLength`), checksum (`BadChecksum`), v2 auth type
    /// (`BadAuthType` above 2; AH is parsed, its header is [`crate::ah`]'s), non-zero interval and
    /// `src`/`dst` of one family (`Malformed`).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>, src: IpAddr, dst: IpAddr) -> Result<Repr> {
        Self::parse_with_form(packet, src, dst).map(|(repr, _)| repr)
    }

    /// [`parse`](Self::parse), also telling which checksum form verified.
    pub fn parse_with_form<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(Repr, ChecksumForm)> {
        packet.check_len()?;
        let version = match packet.version() {
            2 => Version::V2,
            3 => Version::V3,
            _ => return Err(Error::BadVersion),
        };
        if packet.kind() != TYPE_ADVERTISEMENT {
            return Err(Error::BadType);
        }
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(Error::Malformed);
        }
        let addr_len = if src.is_ipv4() { 4 } else { 16 };
        if version == Version::V2 && addr_len != 4 {
            // RFC 3768 is IPv4 only; keepalived forces v3 for IPv6.
            return Err(Error::BadVersion);
        }

        // Exact size only: trailing zeros cannot be told from a v2 password's
        // padding under a lowered count, so Ethernet padding must be cut by
        // the IP layer (Total Length), as `parse_ipv4` and raw sockets do.
        let len = packet.message_len(addr_len);
        if packet.buffer.as_ref().len() != len {
            return Err(Error::BadLength);
        }
        let form = packet
            .checksum_form(len, src, dst)
            .ok_or(Error::BadChecksum)?;

        let (auth, adver_int_cs) = match version {
            Version::V2 => {
                let auth = match packet.auth_type() {
                    AUTH_NONE => Auth::None,
                    AUTH_SIMPLE => Auth::Simple(packet.auth_data().ok_or(Error::BadLength)?),
                    AUTH_AH => Auth::Ah(packet.auth_data().ok_or(Error::BadLength)?),
                    _ => return Err(Error::BadAuthType),
                };
                (auth, u16::from(packet.adver_int()) * 100)
            }
            Version::V3 => (Auth::None, packet.max_adver_int()),
        };
        if adver_int_cs == 0 {
            // A zero interval would make every timer fire at once.
            return Err(Error::Malformed);
        }

        let count = usize::from(packet.count_addrs());
        let mut addresses = Vec::with_capacity(count);
        for i in 0..count {
            let addr = if addr_len == 4 {
                packet.address_v4(i).map(IpAddr::V4)
            } else {
                packet.address_v6(i).map(IpAddr::V6)
            };
            addresses.push(addr.ok_or(Error::BadLength)?);
        }

        let repr = Repr {
            version,
            vrid: packet.vrid(),
            priority: packet.priority(),
            adver_int_cs,
            auth,
            addresses,
        };
        Ok((repr, form))
    }

    /// Bytes of the message: the fixed header, each address at its family's
    /// size, and for v2 the authentication data.
    pub fn buffer_len(&self) -> usize {
        let addrs: usize = self
            .addresses
            .iter()
            .map(|a| if a.is_ipv4() { 4 } else { 16 })
            .sum();
        let trailer = match self.version {
            Version::V2 => AUTH_DATA_LEN,
            Version::V3 => 0,
        };
        HEADER_LEN + addrs + trailer
    }

    /// Write the message into a buffer of exactly `buffer_len()` bytes, checksum
    /// included. `src`/`dst` are the IP addresses it will be sent with (the
    /// unicast peer for unicast). At most [`MAX_ADDRS`] addresses, all of
    /// `src`'s family. The v2 interval is `adver_int_cs / 100` seconds, kept
    /// within 1..=255; the v3 interval is cut to 12 bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: IpAddr,
        dst: IpAddr,
        csum: V3Checksum,
    ) {
        packet.set_version(self.version.number());
        packet.set_kind(TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        packet.set_count_addrs(u8::try_from(self.addresses.len()).unwrap_or(u8::MAX));
        match self.version {
            Version::V2 => {
                let (auth_type, data) = match self.auth {
                    Auth::None => (AUTH_NONE, [0u8; AUTH_DATA_LEN]),
                    Auth::Simple(pw) => (AUTH_SIMPLE, pw),
                    Auth::Ah(_) => (AUTH_AH, [0u8; AUTH_DATA_LEN]),
                };
                packet.set_auth_type(auth_type);
                let seconds = (self.adver_int_cs / 100).clamp(1, 255);
                packet.set_adver_int(seconds as u8);
                packet.set_auth_data(&data);
            }
            Version::V3 => packet.set_max_adver_int(self.adver_int_cs),
        }
        for (i, addr) in self.addresses.iter().enumerate() {
            packet.set_address(i, *addr);
        }
        packet.fill_checksum(src, dst, csum);
    }
}

/// Parse a whole IPv4 datagram carrying an advert (as a raw IPv4 socket or
/// AF_PACKET gives it): the IP header, then the message it carries.
/// The TTL check (255, or `unicast_ttl`) is left to the caller: it is policy.
pub fn parse_ipv4(datagram: &[u8]) -> Result<(ipv4::Repr, Repr)> {
    let (ip, payload) = ipv4::payload(datagram)?;
    if ip.protocol != IP_PROTO_VRRP {
        return Err(Error::WrongProtocol);
    }
    let repr = Repr::parse(&Packet::new_checked(payload)?, ip.src.into(), ip.dst.into())?;
    Ok((ip, repr))
}

/// Parse a whole IPv6 packet carrying an advert (AF_PACKET; raw IPv6 sockets
/// deliver only the payload). Extension headers are refused as `WrongProtocol`.
pub fn parse_ipv6(packet: &[u8]) -> Result<(ipv6::Repr, Repr)> {
    let (ip, payload) = ipv6::payload(packet)?;
    if ip.next_header != IP_PROTO_VRRP {
        return Err(Error::WrongProtocol);
    }
    let repr = Repr::parse(&Packet::new_checked(payload)?, ip.src.into(), ip.dst.into())?;
    Ok((ip, repr))
}

#[cfg(test)]
mod tests;
