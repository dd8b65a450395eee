//! IPv4 header (RFC 791): enough to read the datagrams a raw or AF_PACKET socket
//! hands us, and to build the header of the adverts we send over AF_PACKET.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-------+-------+---------------+-------------------------------+
//! |Version|  IHL  |  DSCP / ECN   |         Total Length          |
//! +-------+-------+---------------+-----+-------------------------+
//! |        Identification         |Flags|     Fragment Offset     |
//! +---------------+---------------+-----+-------------------------+
//! |      TTL      |   Protocol    |        Header Checksum        |
//! +---------------+---------------+-------------------------------+
//! |                        Source Address                         |
//! +---------------------------------------------------------------+
//! |                      Destination Address                      |
//! +---------------------------------------------------------------+
//! |              Options (IHL > 5), then the payload              |
//! +---------------------------------------------------------------+
//! ```

use core::net::Ipv4Addr;

use crate::checksum;
use crate::error::{Error, Result};

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

mod field {
    use core::ops::Range;

    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A read/write view of an IPv4 datagram.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checks; getters may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap a buffer after [`check_len`](Self::check_len): no getter panics afterwards.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The buffer holds a whole header (IHL included) and the whole datagram that
    /// Total Length announces. Bytes after it (Ethernet padding) are allowed.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = usize::from(self.header_len());
        let total_len = usize::from(self.total_len());
        if header_len < HEADER_LEN || total_len < header_len {
            return Err(Error::BadIpHeader);
        }
        if len < total_len {
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

    fn u16_at(&self, at: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[at];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// IP version nibble (4 for a valid datagram).
    pub fn version(&self) -> u8 {
        self.byte(field::VER_IHL) >> 4
    }

    /// Header length in bytes (IHL x 4), options included.
    pub fn header_len(&self) -> u8 {
        (self.byte(field::VER_IHL) & 0x0f) * 4
    }

    /// The DSCP/ECN byte (the old Type of Service).
    pub fn tos(&self) -> u8 {
        self.byte(field::TOS)
    }

    /// Total Length: header plus payload, in bytes.
    pub fn total_len(&self) -> u16 {
        self.u16_at(field::LENGTH)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        self.u16_at(field::IDENT)
    }

    /// Don't Fragment flag.
    pub fn dont_frag(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_DF != 0
    }

    /// More Fragments flag.
    pub fn more_frags(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_MF != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (self.u16_at(field::FLG_OFF) & OFFSET_MASK) << 3
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.byte(field::TTL)
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> u8 {
        self.byte(field::PROTOCOL)
    }

    /// Header checksum as carried.
    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// The header (options included) sums to zero with its checksum.
    pub fn verify_checksum(&self) -> bool {
        let end = usize::from(self.header_len());
        match self.buffer.as_ref().get(..end) {
            Some(header) => checksum::checksum(header) == 0,
            None => false,
        }
    }

    /// The options, between the fixed header and the payload.
    pub fn options(&self) -> &[u8] {
        let end = usize::from(self.header_len());
        self.buffer.as_ref().get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// The payload, cut at Total Length (so Ethernet padding is left out).
    pub fn payload(&self) -> &[u8] {
        let start = usize::from(self.header_len());
        let end = usize::from(self.total_len());
        self.buffer.as_ref().get(start..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, at: core::ops::Range<usize>, value: u16) {
        self.buffer.as_mut()[at].copy_from_slice(&value.to_be_bytes());
    }

    /// Set the version nibble.
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (version << 4);
    }

    /// Set the header length in bytes (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, len: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((len / 4) & 0x0f);
    }

    /// Set the DSCP/ECN byte.
    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[field::TOS] = tos;
    }

    /// Set Total Length.
    pub fn set_total_len(&mut self, len: u16) {
        self.set_u16(field::LENGTH, len);
    }

    /// Set Identification.
    pub fn set_ident(&mut self, ident: u16) {
        self.set_u16(field::IDENT, ident);
    }

    /// Set the flags and fragment offset of an unfragmented datagram.
    pub fn set_unfragmented(&mut self, dont_frag: bool) {
        self.set_u16(field::FLG_OFF, if dont_frag { FLAG_DF } else { 0 });
    }

    /// Set the time to live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    /// Set the payload protocol.
    pub fn set_protocol(&mut self, protocol: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol;
    }

    /// Set the header checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.set_u16(field::CHECKSUM, value);
    }

    /// Set the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    /// Set the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// Compute and store the header checksum (set every other header field first).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let end = usize::from(self.header_len());
        let value = checksum::checksum(&self.buffer.as_ref()[..end]);
        self.set_checksum(value);
    }

    /// The payload area, up to Total Length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = usize::from(self.header_len());
        let end = usize::from(self.total_len());
        &mut self.buffer.as_mut()[start..end]
    }
}

/// A validated IPv4 header. Options are skipped on parse and never emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    /// DSCP/ECN byte; keepalived sends 0xc0 (network control).
    pub tos: u8,
    pub ident: u16,
    pub dont_frag: bool,
    /// Payload length in bytes (Total Length minus the header).
    pub payload_len: usize,
}

impl Repr {
    /// Validate a datagram header: version 4, sane IHL and Total Length, a good
    /// header checksum, and no fragmentation (VRRP never fragments, and a fragment
    /// is not a whole payload). Options are allowed and skipped.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::BadVersion);
        }
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        if packet.more_frags() || packet.frag_offset() != 0 {
            return Err(Error::BadIpHeader);
        }
        Ok(Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            payload_len: usize::from(packet.total_len()) - usize::from(packet.header_len()),
        })
    }

    /// Bytes of the whole datagram this header describes (header + payload).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Write a 20-byte header, checksum included, at the start of a buffer of
    /// `buffer_len()` bytes; the caller fills `payload_mut()`. `payload_len` must
    /// keep Total Length within 65535.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN as u8);
        packet.set_tos(self.tos);
        packet.set_total_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.set_ident(self.ident);
        packet.set_unfragmented(self.dont_frag);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
        packet.fill_checksum();
    }
}

/// Parse a datagram and return its header and its payload (cut at Total Length,
/// so any Ethernet padding after the datagram is dropped).
pub fn payload(datagram: &[u8]) -> Result<(Repr, &[u8])> {
    let packet = Packet::new_checked(datagram)?;
    let repr = Repr::parse(&packet)?;
    let start = usize::from(packet.header_len());
    let end = usize::from(packet.total_len());
    let body = datagram.get(start..end).ok_or(Error::Truncated)?;
    Ok((repr, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    // keepalived 2.2.7, VRRPv3 advert from 192.168.67.100 to 224.0.0.18.
    static DATAGRAM: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xd6, 0x8d, 0xc0, 0xa8, 0x43,
        0x64, 0xe0, 0x00, 0x00, 0x12, 0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x81, 0x8c, 0xc0, 0xa8,
        0x43, 0x96,
    ];

    fn repr() -> Repr {
        Repr {
            src: Ipv4Addr::new(192, 168, 67, 100),
            dst: Ipv4Addr::new(224, 0, 0, 18),
            protocol: 112,
            ttl: 255,
            tos: 0xc0,
            ident: 1,
            dont_frag: false,
            payload_len: 12,
        }
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.tos(), 0xc0);
        assert_eq!(p.total_len(), 32);
        assert_eq!(p.ident(), 1);
        assert!(!p.dont_frag() && !p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 255);
        assert_eq!(p.protocol(), 112);
        assert_eq!(p.checksum(), 0xd68d);
        assert!(p.verify_checksum());
        assert!(p.options().is_empty());
        assert_eq!(p.payload(), &DATAGRAM[20..]);
    }

    #[test]
    fn parse_and_emit_round_trip() {
        let p = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), repr());
        let mut buf = [0xa5u8; 32];
        let mut out = Packet::new_unchecked(&mut buf[..]);
        repr().emit(&mut out);
        out.payload_mut().copy_from_slice(&DATAGRAM[20..]);
        assert_eq!(buf, DATAGRAM);
    }

    #[test]
    fn short_or_inconsistent_lengths() {
        assert_eq!(
            Packet::new_checked(&DATAGRAM[..19]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Packet::new_checked(&DATAGRAM[..31]).unwrap_err(),
            Error::Truncated
        );
        let mut d = DATAGRAM;
        d[0] = 0x44; // IHL 16 bytes
        assert_eq!(Packet::new_checked(&d[..]).unwrap_err(), Error::BadIpHeader);
        let mut d = DATAGRAM;
        d[3] = 19; // total length below the header
        assert_eq!(Packet::new_checked(&d[..]).unwrap_err(), Error::BadIpHeader);
    }

    #[test]
    fn refuses_fragments_and_bad_checksum() {
        let mut d = DATAGRAM;
        d[6] = 0x20; // MF
        let mut p = Packet::new_unchecked(&mut d[..]);
        p.fill_checksum();
        assert_eq!(Repr::parse(&p).unwrap_err(), Error::BadIpHeader);
        let mut d = DATAGRAM;
        d[8] = 254; // TTL changed, checksum stale
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&d[..])).unwrap_err(),
            Error::BadChecksum
        );
    }

    #[test]
    fn payload_cuts_padding() {
        let mut padded = DATAGRAM.to_vec();
        padded.extend_from_slice(&[0u8; 14]);
        let (r, body) = payload(&padded).unwrap();
        assert_eq!(r, repr());
        assert_eq!(body, &DATAGRAM[20..]);
    }
}
