//! Unsolicited ICMPv6 Neighbour Advertisements (RFC 4861 section 4.4), the IPv6
//! counterpart of gratuitous ARP, and the fixed IPv6 header they travel in when
//! vigil writes whole frames through AF_PACKET.
//!
//! ```text
//!  0      1      2             4                       8                      24
//! +------+------+-------------+-+-+-+-----------------+----------------------+---------
//! | 136  |  0   |  checksum   |R|S|O|    reserved     |    target address    | options
//! +------+------+-------------+-+-+-+-----------------+----------------------+---------
//! ```
//!
//! keepalived 2.2.7 (`ndisc_send_unsolicited_na_immediate`) sends: Ethernet to
//! 33:33:00:00:00:01, IPv6 from the virtual address itself to ff02::1 with hop
//! limit 255, NA with Override set, Router set when the interface forwards,
//! Solicited clear, and one Target Link-Layer Address option carrying the MAC.
//! [`unsolicited_na_frame`] builds that frame.

use core::net::Ipv6Addr;

use crate::checksum;
use crate::error::{Error, Result};
use crate::ethernet::{self, Address, EtherType};

/// IP protocol number of ICMPv6.
pub const IP_PROTO_ICMPV6: u8 = 58;
/// ICMPv6 type of a Neighbour Advertisement.
pub const TYPE_NEIGHBOR_ADVERT: u8 = 136;
/// Neighbour discovery packets must carry this hop limit (RFC 4861 section 7.1.2).
pub const HOP_LIMIT: u8 = 255;
/// All-nodes link-local multicast group, where unsolicited adverts go.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;
const OPT_TARGET_LLADDR: u8 = 2;
/// Option lengths count units of eight bytes.
const OPT_UNIT: usize = 8;

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const FLAGS: usize = 4;
    pub const RESERVED: Range<usize> = 5..8;
    pub const TARGET: Range<usize> = 8..24;
    pub const OPTIONS: usize = 24;
}

/// Length of an NA without options.
pub const NA_HEADER_LEN: usize = field::OPTIONS;
/// Length of the Target Link-Layer Address option for a 6-byte MAC.
pub const LLADDR_OPTION_LEN: usize = OPT_UNIT;

/// A read/write view of a Neighbour Advertisement (ICMPv6 message).
#[derive(Debug, Clone)]
pub struct NeighborAdvert<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NeighborAdvert<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        NeighborAdvert { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < NA_HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::CHECKSUM];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn router_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_ROUTER != 0
    }

    pub fn solicited_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_SOLICITED != 0
    }

    pub fn override_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_OVERRIDE != 0
    }

    pub fn target_addr(&self) -> Ipv6Addr {
        let mut a = [0; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::TARGET]);
        Ipv6Addr::from(a)
    }

    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS..]
    }

    /// The checksum verifies over the pseudo-header of `src` -> `dst`.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let data = self.buffer.as_ref();
        let acc = checksum::pseudo_header_v6(src, dst, IP_PROTO_ICMPV6, data.len() as u32);
        checksum::finish(checksum::sum(acc, data)) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NeighborAdvert<T> {
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Set the three flags and clear the reserved bits.
    pub fn set_flags(&mut self, router: bool, solicited: bool, override_: bool) {
        let mut f = 0;
        if router {
            f |= FLAG_ROUTER;
        }
        if solicited {
            f |= FLAG_SOLICITED;
        }
        if override_ {
            f |= FLAG_OVERRIDE;
        }
        let b = self.buffer.as_mut();
        b[field::FLAGS] = f;
        b[field::RESERVED].fill(0);
    }

    pub fn set_target_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::TARGET].copy_from_slice(&a.octets());
    }

    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::OPTIONS..]
    }

    /// Compute and store the checksum over the pseudo-header of `src` -> `dst`.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let data = self.buffer.as_ref();
        let acc = checksum::pseudo_header_v6(src, dst, IP_PROTO_ICMPV6, data.len() as u32);
        let c = checksum::finish(checksum::sum(acc, data));
        self.set_checksum(c);
    }
}

/// A validated Neighbour Advertisement. Options other than the target
/// link-layer address are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaRepr {
    pub router: bool,
    pub solicited: bool,
    pub override_: bool,
    pub target: Ipv6Addr,
    pub target_lladdr: Option<Address>,
}

impl NaRepr {
    /// The unsolicited advert keepalived sends for `target` owned by `mac`.
    pub fn unsolicited(target: Ipv6Addr, mac: Address, router: bool) -> NaRepr {
        NaRepr {
            router,
            solicited: false,
            override_: true,
            target,
            target_lladdr: Some(mac),
        }
    }

    /// Parse and verify the checksum against the addresses of the IPv6 header.
    pub fn parse<T: AsRef<[u8]>>(
        p: &NeighborAdvert<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<NaRepr> {
        p.check_len()?;
        if p.msg_type() != TYPE_NEIGHBOR_ADVERT {
            return Err(Error::BadType);
        }
        if p.msg_code() != 0 {
            return Err(Error::Malformed);
        }
        if !p.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        let mut target_lladdr = None;
        let mut opts = p.options();
        while !opts.is_empty() {
            let (&kind, &units) = match opts {
                [k, u, ..] => (k, u),
                _ => return Err(Error::Truncated),
            };
            let len = usize::from(units) * OPT_UNIT;
            if len == 0 {
                // RFC 4861 section 4.6: a zero-length option makes the packet invalid.
                return Err(Error::Malformed);
            }
            let opt = opts.get(..len).ok_or(Error::BadLength)?;
            if kind == OPT_TARGET_LLADDR {
                target_lladdr = opt.get(2..8).and_then(Address::from_bytes);
            }
            opts = &opts[len..];
        }
        Ok(NaRepr {
            router: p.router_flag(),
            solicited: p.solicited_flag(),
            override_: p.override_flag(),
            target: p.target_addr(),
            target_lladdr,
        })
    }

    pub fn buffer_len(&self) -> usize {
        NA_HEADER_LEN
            + if self.target_lladdr.is_some() {
                LLADDR_OPTION_LEN
            } else {
                0
            }
    }

    /// Write the message with its checksum; the buffer must hold exactly
    /// `buffer_len()` bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        p: &mut NeighborAdvert<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) {
        p.set_msg_type(TYPE_NEIGHBOR_ADVERT);
        p.set_msg_code(0);
        p.set_flags(self.router, self.solicited, self.override_);
        p.set_target_addr(self.target);
        if let Some(mac) = self.target_lladdr {
            let o = p.options_mut();
            o[0] = OPT_TARGET_LLADDR;
            o[1] = (LLADDR_OPTION_LEN / OPT_UNIT) as u8;
            o[2..8].copy_from_slice(&mac.0);
        }
        p.fill_checksum(src, dst);
    }
}

mod ip6_field {
    use core::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = ip6_field::DST.end;

/// The fixed IPv6 header (RFC 8200) with traffic class and flow label zero and
/// no extension headers: all that neighbour discovery frames need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub hop_limit: u8,
    pub payload_len: u16,
}

impl Ipv6Repr {
    /// Parse the fixed header; the buffer must hold the whole payload.
    pub fn parse(buf: &[u8]) -> Result<Ipv6Repr> {
        let h = buf.get(..IPV6_HEADER_LEN).ok_or(Error::Truncated)?;
        if h[0] >> 4 != 6 {
            return Err(Error::BadVersion);
        }
        let payload_len = u16::from_be_bytes([h[4], h[5]]);
        if buf.len() < IPV6_HEADER_LEN + usize::from(payload_len) {
            return Err(Error::BadLength);
        }
        let mut src = [0; 16];
        src.copy_from_slice(&h[ip6_field::SRC]);
        let mut dst = [0; 16];
        dst.copy_from_slice(&h[ip6_field::DST]);
        Ok(Ipv6Repr {
            src: src.into(),
            dst: dst.into(),
            next_header: h[ip6_field::NEXT_HEADER],
            hop_limit: h[ip6_field::HOP_LIMIT],
            payload_len,
        })
    }

    pub const fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Write the header into the first `IPV6_HEADER_LEN` bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) {
        let h = &mut buf[..IPV6_HEADER_LEN];
        h[ip6_field::VER_TC_FLOW].copy_from_slice(&[0x60, 0, 0, 0]);
        h[ip6_field::PAYLOAD_LEN].copy_from_slice(&self.payload_len.to_be_bytes());
        h[ip6_field::NEXT_HEADER] = self.next_header;
        h[ip6_field::HOP_LIMIT] = self.hop_limit;
        h[ip6_field::SRC].copy_from_slice(&self.src.octets());
        h[ip6_field::DST].copy_from_slice(&self.dst.octets());
    }
}

/// Length of a complete unsolicited NA frame: Ethernet, IPv6, NA, TLLA option.
pub const UNSOLICITED_NA_FRAME_LEN: usize =
    ethernet::HEADER_LEN + IPV6_HEADER_LEN + NA_HEADER_LEN + LLADDR_OPTION_LEN;

/// The complete frame announcing `target` at `mac` to all nodes, as keepalived
/// sends it. `router` mirrors whether the interface forwards IPv6.
pub fn unsolicited_na_frame(
    mac: Address,
    target: Ipv6Addr,
    router: bool,
) -> [u8; UNSOLICITED_NA_FRAME_LEN] {
    let mut buf = [0u8; UNSOLICITED_NA_FRAME_LEN];
    let eth = ethernet::Repr {
        src_addr: mac,
        dst_addr: Address::from_ipv6_multicast(ALL_NODES),
        ethertype: EtherType::Ipv6,
    };
    eth.emit(&mut ethernet::Frame::new_unchecked(&mut buf[..]));
    let na = NaRepr::unsolicited(target, mac, router);
    let ip = Ipv6Repr {
        src: target,
        dst: ALL_NODES,
        next_header: IP_PROTO_ICMPV6,
        hop_limit: HOP_LIMIT,
        payload_len: na.buffer_len() as u16,
    };
    let (ip_buf, icmp_buf) = buf[ethernet::HEADER_LEN..].split_at_mut(IPV6_HEADER_LEN);
    ip.emit(ip_buf);
    na.emit(
        &mut NeighborAdvert::new_unchecked(icmp_buf),
        target,
        ALL_NODES,
    );
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: Address = Address([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

    fn vip() -> Ipv6Addr {
        "2001:db8::100".parse().unwrap()
    }

    // Unsolicited NA (Router + Override) for 2001:db8::100 at 52:54:00:12:34:56,
    // from 2001:db8::100 to ff02::1. Checksum computed independently (see the first test).
    static NA: [u8; 32] = [
        0x88, 0x00, 0xf2, 0x70, 0xa0, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x01, 0x52, 0x54, 0x00, 0x12,
        0x34, 0x56,
    ];

    #[test]
    fn checksum_matches_independent_sum() {
        // Sum the pseudo-header and message as plain 16-bit words, without the
        // checksum helpers, to pin the constant in NA.
        let mut words: Vec<u16> = vec![];
        let mut bytes = vec![];
        bytes.extend_from_slice(&vip().octets());
        bytes.extend_from_slice(&ALL_NODES.octets());
        bytes.extend_from_slice(&32u32.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 58]);
        let mut msg = NA;
        msg[2] = 0;
        msg[3] = 0;
        bytes.extend_from_slice(&msg);
        for c in bytes.chunks(2) {
            words.push(u16::from_be_bytes([c[0], c[1]]));
        }
        let mut s: u32 = words.iter().map(|&w| u32::from(w)).sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        assert_eq!(!(s as u16), 0xf270);
    }

    #[test]
    fn deconstruct() {
        let p = NeighborAdvert::new_checked(&NA[..]).unwrap();
        assert_eq!(p.msg_type(), 136);
        assert!(p.router_flag());
        assert!(!p.solicited_flag());
        assert!(p.override_flag());
        assert_eq!(p.target_addr(), vip());
        assert_eq!(p.checksum(), 0xf270);
        assert!(p.verify_checksum(vip(), ALL_NODES));
        assert!(!p.verify_checksum(vip(), "ff02::2".parse().unwrap()));
    }

    #[test]
    fn emit_into_poisoned_buffer() {
        let mut buf = [0xa5u8; 32];
        let repr = NaRepr::unsolicited(vip(), MAC, true);
        assert_eq!(repr.buffer_len(), 32);
        repr.emit(
            &mut NeighborAdvert::new_unchecked(&mut buf[..]),
            vip(),
            ALL_NODES,
        );
        assert_eq!(buf, NA);
    }

    #[test]
    fn parse_round_trip() {
        let p = NeighborAdvert::new_checked(&NA[..]).unwrap();
        let r = NaRepr::parse(&p, vip(), ALL_NODES).unwrap();
        assert_eq!(r, NaRepr::unsolicited(vip(), MAC, true));
    }

    #[test]
    fn router_flag_off() {
        let mut buf = [0xa5u8; 32];
        let repr = NaRepr::unsolicited(vip(), MAC, false);
        repr.emit(
            &mut NeighborAdvert::new_unchecked(&mut buf[..]),
            vip(),
            ALL_NODES,
        );
        assert_eq!(buf[4], 0x20);
        let back = NaRepr::parse(
            &NeighborAdvert::new_checked(&buf[..]).unwrap(),
            vip(),
            ALL_NODES,
        );
        assert_eq!(back.unwrap(), repr);
    }

    #[test]
    fn parse_refusals() {
        let p = |b: &[u8]| NaRepr::parse(&NeighborAdvert::new_unchecked(b), vip(), ALL_NODES);
        assert_eq!(p(&NA[..23]).unwrap_err(), Error::Truncated);
        let mut bad = NA;
        bad[0] = 135;
        assert_eq!(p(&bad).unwrap_err(), Error::BadType);
        bad = NA;
        bad[1] = 1;
        assert_eq!(p(&bad).unwrap_err(), Error::Malformed);
        bad = NA;
        bad[31] ^= 1;
        assert_eq!(p(&bad).unwrap_err(), Error::BadChecksum);
    }

    /// Re-emit `opts` after the NA header with a valid checksum and parse it.
    fn with_options(opts: &[u8]) -> Result<NaRepr> {
        let mut buf = NA[..24].to_vec();
        buf.extend_from_slice(opts);
        let mut p = NeighborAdvert::new_unchecked(&mut buf[..]);
        p.fill_checksum(vip(), ALL_NODES);
        NaRepr::parse(&NeighborAdvert::new_unchecked(&buf[..]), vip(), ALL_NODES)
    }

    #[test]
    fn option_walk() {
        // Zero-length option.
        assert_eq!(
            with_options(&[2, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::Malformed
        );
        // Option claims 16 bytes, only 8 present.
        assert_eq!(
            with_options(&[2, 2, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::BadLength
        );
        // One dangling byte.
        assert_eq!(with_options(&[2]).unwrap_err(), Error::Truncated);
        // Unknown option skipped, then TLLA found.
        let r = with_options(&[14, 1, 9, 9, 9, 9, 9, 9, 2, 1, 1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(r.target_lladdr, Some(Address([1, 2, 3, 4, 5, 6])));
        // No options at all.
        assert_eq!(with_options(&[]).unwrap().target_lladdr, None);
    }

    #[test]
    fn ipv6_header_round_trip() {
        let r = Ipv6Repr {
            src: vip(),
            dst: ALL_NODES,
            next_header: IP_PROTO_ICMPV6,
            hop_limit: 255,
            payload_len: 4,
        };
        let mut buf = [0xa5u8; 44];
        r.emit(&mut buf);
        assert_eq!(&buf[..8], &[0x60, 0, 0, 0, 0, 4, 58, 255]);
        assert_eq!(&buf[40..], &[0xa5; 4]);
        assert_eq!(Ipv6Repr::parse(&buf).unwrap(), r);
        assert_eq!(Ipv6Repr::parse(&buf[..43]).unwrap_err(), Error::BadLength);
        assert_eq!(Ipv6Repr::parse(&buf[..39]).unwrap_err(), Error::Truncated);
        buf[0] = 0x45;
        assert_eq!(Ipv6Repr::parse(&buf).unwrap_err(), Error::BadVersion);
    }

    #[test]
    fn whole_frame() {
        let f = unsolicited_na_frame(MAC, vip(), true);
        assert_eq!(f.len(), 86);
        assert_eq!(&f[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(&f[6..12], &MAC.0);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        let ip = Ipv6Repr::parse(&f[14..]).unwrap();
        assert_eq!(
            (ip.src, ip.dst, ip.hop_limit, ip.payload_len),
            (vip(), ALL_NODES, 255, 32)
        );
        assert_eq!(&f[54..], &NA[..]);
    }

    #[test]
    fn parsers_are_total_on_arbitrary_bytes() {
        // A cheap deterministic sweep standing in for a fuzzer.
        let mut x: u32 = 0x1234_5678;
        for len in 0..80 {
            for _ in 0..50 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x as u8
                    })
                    .collect();
                let _ = NaRepr::parse(&NeighborAdvert::new_unchecked(&bytes[..]), vip(), ALL_NODES);
                let _ = Ipv6Repr::parse(&bytes);
            }
        }
    }
}
