//! ARP for IPv4 over Ethernet (RFC 826), and the gratuitous form that a new
//! VRRP master broadcasts so that neighbours re-point a virtual IP to its MAC.
//!
//! ```text
//!  0      2      4    5    6      8            14          18           24          28
//! +------+------+----+----+------+------------+-----------+------------+-----------+
//! | htype| ptype|hlen|plen| oper | sender MAC | sender IP | target MAC | target IP |
//! +------+------+----+----+------+------------+-----------+------------+-----------+
//! ```
//!
//! keepalived 2.2.7 (`send_gratuitous_arp_immediate`) sends an ARP *request*
//! whose sender and target IP are both the virtual IP, sender MAC the interface
//! (or VMAC) address, target MAC ff:ff:ff:ff:ff:ff, in a frame broadcast to
//! ff:ff:ff:ff:ff:ff. [`Repr::gratuitous`] and [`gratuitous_frame`] build exactly
//! that.

use core::net::Ipv4Addr;

use crate::error::{Error, Result};
use crate::ethernet::{self, Address, EtherType};

/// ARP operation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Request,
    Reply,
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Self {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            other => Operation::Unknown(other),
        }
    }
}

impl From<Operation> for u16 {
    fn from(v: Operation) -> u16 {
        match v {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(other) => other,
        }
    }
}

const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = field::TPA.end;

/// A read/write view of an ARP packet (Ethernet/IPv4 layout).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wrap a buffer long enough for the Ethernet/IPv4 layout; trailing bytes
    /// (frame padding) are allowed.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < PACKET_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn u16_at(&self, r: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[r];
        u16::from_be_bytes([b[0], b[1]])
    }

    fn mac_at(&self, r: core::ops::Range<usize>) -> Address {
        let mut a = [0; 6];
        a.copy_from_slice(&self.buffer.as_ref()[r]);
        Address(a)
    }

    fn ip_at(&self, r: core::ops::Range<usize>) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[r];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    pub fn hardware_type(&self) -> u16 {
        self.u16_at(field::HTYPE)
    }

    pub fn protocol_type(&self) -> u16 {
        self.u16_at(field::PTYPE)
    }

    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    pub fn operation(&self) -> Operation {
        Operation::from(self.u16_at(field::OPER))
    }

    pub fn source_hardware_addr(&self) -> Address {
        self.mac_at(field::SHA)
    }

    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        self.ip_at(field::SPA)
    }

    pub fn target_hardware_addr(&self) -> Address {
        self.mac_at(field::THA)
    }

    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        self.ip_at(field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16_at(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_hardware_type(&mut self, v: u16) {
        self.set_u16_at(field::HTYPE, v)
    }

    pub fn set_protocol_type(&mut self, v: u16) {
        self.set_u16_at(field::PTYPE, v)
    }

    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v;
    }

    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v;
    }

    pub fn set_operation(&mut self, v: Operation) {
        self.set_u16_at(field::OPER, v.into())
    }

    pub fn set_source_hardware_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(&a.0);
    }

    pub fn set_source_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&a.octets());
    }

    pub fn set_target_hardware_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::THA].copy_from_slice(&a.0);
    }

    pub fn set_target_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&a.octets());
    }
}

/// A validated Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub operation: Operation,
    pub source_hardware_addr: Address,
    pub source_protocol_addr: Ipv4Addr,
    pub target_hardware_addr: Address,
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// Parse; any hardware/protocol pair other than Ethernet/IPv4 is `Malformed`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        p.check_len()?;
        if p.hardware_type() != HTYPE_ETHERNET
            || p.protocol_type() != PTYPE_IPV4
            || p.hardware_len() != 6
            || p.protocol_len() != 4
        {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            operation: p.operation(),
            source_hardware_addr: p.source_hardware_addr(),
            source_protocol_addr: p.source_protocol_addr(),
            target_hardware_addr: p.target_hardware_addr(),
            target_protocol_addr: p.target_protocol_addr(),
        })
    }

    /// The gratuitous ARP keepalived sends for `ip` owned by `mac`.
    pub fn gratuitous(mac: Address, ip: Ipv4Addr) -> Repr {
        Repr {
            operation: Operation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: ip,
            target_hardware_addr: Address::BROADCAST,
            target_protocol_addr: ip,
        }
    }

    /// Sender and target IP are the same: an announcement, not a question.
    pub fn is_gratuitous(&self) -> bool {
        self.source_protocol_addr == self.target_protocol_addr
    }

    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Write the packet; the buffer must hold `buffer_len()` bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_hardware_type(HTYPE_ETHERNET);
        p.set_protocol_type(PTYPE_IPV4);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(self.operation);
        p.set_source_hardware_addr(self.source_hardware_addr);
        p.set_source_protocol_addr(self.source_protocol_addr);
        p.set_target_hardware_addr(self.target_hardware_addr);
        p.set_target_protocol_addr(self.target_protocol_addr);
    }
}

/// Length of a gratuitous ARP frame before the kernel's padding to 60 bytes.
pub const GRATUITOUS_FRAME_LEN: usize = ethernet::HEADER_LEN + PACKET_LEN;

/// The complete broadcast frame announcing `ip` at `mac`, as keepalived sends it.
pub fn gratuitous_frame(mac: Address, ip: Ipv4Addr) -> [u8; GRATUITOUS_FRAME_LEN] {
    let mut buf = [0u8; GRATUITOUS_FRAME_LEN];
    let eth = ethernet::Repr {
        src_addr: mac,
        dst_addr: Address::BROADCAST,
        ethertype: EtherType::Arp,
    };
    let mut frame = ethernet::Frame::new_unchecked(&mut buf[..]);
    eth.emit(&mut frame);
    Repr::gratuitous(mac, ip).emit(&mut Packet::new_unchecked(frame.payload_mut()));
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: Address = Address([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 100);

    // Gratuitous ARP for 192.168.1.100 at 52:54:00:12:34:56, as keepalived sends it.
    static PACKET: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0xc0,
        0xa8, 0x01, 0x64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xa8, 0x01, 0x64,
    ];

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.protocol_type(), 0x0800);
        assert_eq!(p.operation(), Operation::Request);
        assert_eq!(p.source_hardware_addr(), MAC);
        assert_eq!(p.source_protocol_addr(), VIP);
        assert_eq!(p.target_hardware_addr(), Address::BROADCAST);
        assert_eq!(p.target_protocol_addr(), VIP);
    }

    #[test]
    fn emit_gratuitous_into_poisoned_buffer() {
        let mut buf = [0xa5u8; 28];
        Repr::gratuitous(MAC, VIP).emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, PACKET);
    }

    #[test]
    fn parse_gratuitous() {
        let r = Repr::parse(&Packet::new_checked(&PACKET[..]).unwrap()).unwrap();
        assert_eq!(r, Repr::gratuitous(MAC, VIP));
        assert!(r.is_gratuitous());
    }

    #[test]
    fn reply_round_trip() {
        let r = Repr {
            operation: Operation::Reply,
            source_hardware_addr: MAC,
            source_protocol_addr: VIP,
            target_hardware_addr: Address([2, 0, 0, 0, 0, 1]),
            target_protocol_addr: Ipv4Addr::new(192, 168, 1, 1),
        };
        let mut buf = [0xa5u8; PACKET_LEN];
        r.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[6..8], &[0, 2]);
        let back = Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(!back.is_gratuitous());
    }

    #[test]
    fn frame_is_broadcast_with_arp_type() {
        let f = gratuitous_frame(MAC, VIP);
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &MAC.0);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[14..], &PACKET[..]);
    }

    #[test]
    fn refuses_truncated_and_foreign_layouts() {
        for n in 0..PACKET_LEN {
            assert_eq!(
                Packet::new_checked(&PACKET[..n]).unwrap_err(),
                Error::Truncated
            );
        }
        let mut other = PACKET;
        other[5] = 16; // protocol length of IPv6
        let p = Packet::new_checked(&other[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap_err(), Error::Malformed);
        other = PACKET;
        other[1] = 6; // IEEE 802 hardware type
        let p = Packet::new_checked(&other[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn padded_frames_parse() {
        let mut padded = [0u8; 46];
        padded[..28].copy_from_slice(&PACKET);
        assert!(Repr::parse(&Packet::new_checked(&padded[..]).unwrap()).is_ok());
        assert_eq!(Operation::from(9), Operation::Unknown(9));
        assert_eq!(u16::from(Operation::Unknown(9)), 9);
    }
}
