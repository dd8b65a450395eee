//! The IP Authentication Header as keepalived uses it for VRRPv2 `auth_type AH`
//! (RFC 2338 section 5.3.6.3, RFC 2402), over IPv4 only:
//!
//! ```text
//!     IPv4 header (protocol 51) | AH, 24 bytes | VRRPv2 message (auth type 2)
//!
//!      0               1               2               3
//!     +---------------+---------------+-------------------------------+
//!     |  Next Header  |  Payload Len  |           Reserved            |
//!     |     (112)     |      (4)      |              (0)              |
//!     +---------------+---------------+-------------------------------+
//!     |             SPI: the sender's IPv4 source address             |
//!     +---------------------------------------------------------------+
//!     |                        Sequence Number                        |
//!     +---------------------------------------------------------------+
//!     |   ICV: HMAC-MD5-96, 12 bytes                                  |
//!     +---------------------------------------------------------------+
//! ```
//!
//! The ICV is HMAC-MD5 keyed by the 8-byte zero-padded `auth_pass`, truncated
//! to 96 bits, over the IP header with its mutable fields zeroed (TOS,
//! fragment word, header checksum, and TTL for unicast instances only: that is
//! keepalived's choice), then the AH header with a zero ICV, then the VRRP
//! message. There is no key exchange: the SPI is the source address, as
//! keepalived sets and checks it.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::md5::Md5;
use crate::vrrp::{self, Packet, V3Checksum, Version};
use crate::{checksum, Error, Result};

/// IP protocol number of AH.
pub const IPPROTO_AH: u8 = 51;
/// IP protocol number of VRRP, AH's next header.
const IPPROTO_VRRP: u8 = 112;
/// Length of the AH header with a 96-bit ICV.
pub const AH_LEN: usize = 24;
/// AH Payload Len: header length in 32-bit words minus 2 (RFC 2402 section 2.2).
const PAYLOAD_LEN: u8 = (AH_LEN / 4 - 2) as u8;
/// HMAC-MD5-96.
pub const ICV_LEN: usize = 12;
/// The key: `auth_pass`, zero padded or cut to 8 bytes.
pub type Key = [u8; 8];

const ICV: core::ops::Range<usize> = 12..24;
const MD5_BLOCK: usize = 64;

/// HMAC-MD5 (RFC 2104) over the concatenation of `parts`. Keys are at most 8
/// bytes here, so the longer-than-a-block case cannot arise.
pub fn hmac_md5(key: &Key, parts: &[&[u8]]) -> [u8; 16] {
    let mut ipad = [0x36u8; MD5_BLOCK];
    let mut opad = [0x5cu8; MD5_BLOCK];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let mut inner = Md5::new();
    inner.update(&ipad);
    for p in parts {
        inner.update(p);
    }
    let mut outer = Md5::new();
    outer.update(&opad);
    outer.update(&inner.finish().0);
    outer.finish().0
}

/// A checked AH header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub spi: u32,
    pub seq: u32,
    pub icv: [u8; ICV_LEN],
}

/// The ICV of a datagram `ip header | AH | VRRP`, whatever its ICV field holds.
/// `ihl` is the IP header length in bytes; `unicast` zeroes the TTL too.
fn compute_icv(datagram: &[u8], ihl: usize, key: &Key, unicast: bool) -> Result<[u8; ICV_LEN]> {
    let vrrp_at = ihl + AH_LEN;
    if !(20..=60).contains(&ihl) || datagram.len() < vrrp_at {
        return Err(Error::Truncated);
    }
    let mut head = [0u8; 60 + AH_LEN];
    let head = &mut head[..vrrp_at];
    head.copy_from_slice(&datagram[..vrrp_at]);
    head[1] = 0; // TOS
    head[6] = 0; // flags and fragment offset
    head[7] = 0;
    head[10] = 0; // header checksum: the kernel fills it after us
    head[11] = 0;
    if unicast {
        head[8] = 0;
    }
    head[ihl + ICV.start..ihl + ICV.end].fill(0);
    let mac = hmac_md5(key, &[head, &datagram[vrrp_at..]]);
    let mut icv = [0u8; ICV_LEN];
    icv.copy_from_slice(&mac[..ICV_LEN]);
    Ok(icv)
}

/// Fill the AH header of `datagram` (a 20-byte IPv4 header with protocol 51,
/// source and destination, identification and total length already written,
/// then [`AH_LEN`] bytes, then the VRRP message): next header, length, SPI
/// (the source address), `seq` and the ICV. The IP checksum is left to the
/// caller (or to the kernel with IP_HDRINCL): it is outside the ICV.
pub fn seal(datagram: &mut [u8], key: &Key, seq: u32, unicast: bool) -> Result<()> {
    let ihl = 20;
    if datagram.len() < ihl + AH_LEN || datagram[0] != 0x45 {
        return Err(Error::BadIpHeader);
    }
    let (ip, rest) = datagram.split_at_mut(ihl);
    rest[0] = IPPROTO_VRRP;
    rest[1] = PAYLOAD_LEN;
    rest[2..4].fill(0);
    rest[4..8].copy_from_slice(&ip[12..16]);
    rest[8..12].copy_from_slice(&seq.to_be_bytes());
    let icv = compute_icv(datagram, ihl, key, unicast)?;
    datagram[ihl + ICV.start..ihl + ICV.end].copy_from_slice(&icv);
    Ok(())
}

/// What [`build`] writes besides the advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealing {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// IP identification. Never 0: under IP_HDRINCL the kernel replaces a
    /// zero one after the ICV was computed over it (keepalived skips 0 too).
    pub ident: u16,
    pub seq: u32,
    pub key: Key,
}

/// TOS of adverts (IPTOS_PREC_INTERNETCONTROL), as keepalived sets it.
const TOS: u8 = 0xc0;

/// Writes a whole `IPv4 header | AH | VRRPv2 message` for `repr` into `out`
/// (cleared first), as keepalived sends it with IP_HDRINCL: TOS 0xc0, TTL
/// 255, no fragment flags, header checksum filled, the ICV computed with the
/// TTL zeroed when `dst` is unicast. `repr` must be VRRPv2.
pub fn build(out: &mut Vec<u8>, repr: &vrrp::Repr, s: &Sealing) -> Result<()> {
    if repr.version != Version::V2 {
        return Err(Error::BadVersion);
    }
    let msg = repr.buffer_len();
    let total = u16::try_from(20 + AH_LEN + msg).map_err(|_| Error::BadLength)?;
    out.clear();
    out.resize(usize::from(total), 0);
    out[0] = 0x45;
    out[1] = TOS;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    out[4..6].copy_from_slice(&s.ident.max(1).to_be_bytes());
    out[8] = 255;
    out[9] = IPPROTO_AH;
    out[12..16].copy_from_slice(&s.src.octets());
    out[16..20].copy_from_slice(&s.dst.octets());
    let body = &mut out[20 + AH_LEN..];
    repr.emit(
        &mut Packet::new_unchecked(body),
        s.src.into(),
        s.dst.into(),
        V3Checksum::PseudoHeader,
    );
    seal(out, &s.key, s.seq, !s.dst.is_multicast())?;
    let sum = checksum::checksum(&out[..20]);
    out[10..12].copy_from_slice(&sum.to_be_bytes());
    Ok(())
}

/// Why [`open`] refused a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an IPv4 AH datagram carrying VRRP with a 96-bit ICV.
    Malformed(Error),
    /// The ICV does not verify under our key: wrong password or altered packet.
    BadIcv,
    /// The SPI is not the source address, as keepalived requires.
    BadSpi,
}

/// Check the AH of a received IPv4 datagram (header included, cut at its total
/// length): structure, ICV (constant time), SPI. Returns the header and the
/// offset of the VRRP message. The sequence number is the caller's to judge.
pub fn open(
    datagram: &[u8],
    key: &Key,
    unicast: bool,
) -> core::result::Result<(Header, usize), Refusal> {
    let bad = Refusal::Malformed;
    if datagram.len() < 20 || datagram[0] >> 4 != 4 {
        return Err(bad(Error::BadIpHeader));
    }
    if datagram[9] != IPPROTO_AH {
        return Err(bad(Error::WrongProtocol));
    }
    let ihl = usize::from(datagram[0] & 0x0f) * 4;
    let vrrp_at = ihl + AH_LEN;
    if ihl < 20 || datagram.len() < vrrp_at {
        return Err(bad(Error::Truncated));
    }
    let ah = &datagram[ihl..vrrp_at];
    if ah[0] != IPPROTO_VRRP {
        return Err(bad(Error::WrongProtocol));
    }
    if ah[1] != PAYLOAD_LEN {
        return Err(bad(Error::BadLength));
    }
    let icv = compute_icv(datagram, ihl, key, unicast).map_err(bad)?;
    // Constant time, so that a forger learns nothing from timing.
    let diff = icv.iter().zip(&ah[ICV]).fold(0u8, |d, (a, b)| d | (a ^ b));
    if diff != 0 {
        return Err(Refusal::BadIcv);
    }
    let word = |r: core::ops::Range<usize>| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&ah[r]);
        u32::from_be_bytes(w)
    };
    let spi = word(4..8);
    if spi.to_be_bytes() != datagram[12..16] {
        return Err(Refusal::BadSpi);
    }
    let mut got = [0u8; ICV_LEN];
    got.copy_from_slice(&ah[ICV]);
    Ok((
        Header {
            spi,
            seq: word(8..12),
            icv: got,
        },
        vrrp_at,
    ))
}

/// keepalived's anti-replay counter: one per instance, shared by what it sends
/// and what it accepts, which is what lets a restarted peer catch up (it
/// follows the highest number it has seen and sends above it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqCounter {
    pub last: u32,
}

impl SeqCounter {
    /// The number for the next advert sent. keepalived stops counting just
    /// below the top (2^32 - 2) instead of wrapping; at one advert a second
    /// that is 136 years away.
    pub fn next_send(&mut self) -> u32 {
        if self.last <= 0xFFFF_FFFD {
            self.last += 1;
        }
        self.last
    }

    /// Accept a received number only above every number seen or sent.
    pub fn accept(&mut self, seq: u32) -> bool {
        if seq > self.last {
            self.last = seq;
            true
        } else {
            false
        }
    }

    /// A master hearing a lower-priority advert moves above it, as keepalived
    /// does, so its next adverts pass that router's replay check.
    pub fn sync_above(&mut self, seq: u32) {
        self.last = seq.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_md5_rfc2104_vector() {
        // RFC 2104 appendix / RFC 2202 test case 2, key "Jefe" padded with
        // zeros is the same HMAC key as "Jefe" itself.
        let key = *b"Jefe\0\0\0\0";
        let mac = hmac_md5(&key, &[b"what do ya want ", b"for nothing?"]);
        let want = [
            0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31, 0x0a, 0x5d,
            0xb7, 0x38,
        ];
        assert_eq!(mac, want);
    }

    fn datagram() -> [u8; 64] {
        let mut d = [0u8; 64];
        d[..20].copy_from_slice(&[
            0x45, 0xc0, 0, 64, 0, 1, 0, 0, 255, IPPROTO_AH, 0, 0, 192, 168, 67, 100, 224, 0, 0, 18,
        ]);
        d[44..52].copy_from_slice(&[0x21, 0x33, 0x64, 0x01, 0x02, 0x01, 0, 0]);
        d
    }

    #[test]
    fn seal_then_open() {
        let key = *b"1111\0\0\0\0";
        let mut d = datagram();
        seal(&mut d, &key, 7, false).unwrap();
        let (h, at) = open(&d, &key, false).unwrap();
        assert_eq!((h.seq, h.spi, at), (7, 0xc0a8_4364, 44));
        // Mutable fields do not matter, everything else does.
        let mut m = d;
        m[1] = 0;
        m[8] = 64;
        assert!(
            open(&m, &key, false).is_err(),
            "TTL is covered for multicast"
        );
        assert!(open(&m, &key, true).is_err(), "sealed as multicast");
        m[8] = 255;
        assert!(open(&m, &key, false).is_ok(), "TOS is not covered");
        let mut m = d;
        m[47] ^= 1;
        assert_eq!(open(&m, &key, false), Err(Refusal::BadIcv));
        assert_eq!(open(&d, b"2222\0\0\0\0", false), Err(Refusal::BadIcv));
        assert!(matches!(
            open(&d[..40], &key, false),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn build_gives_what_open_accepts() {
        let repr = vrrp::Repr {
            version: Version::V2,
            vrid: 51,
            priority: 100,
            adver_int_cs: 100,
            auth: vrrp::Auth::Ah(*b"secret\0\0"),
            addresses: alloc::vec![core::net::IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))],
        };
        let mut s = Sealing {
            src: Ipv4Addr::new(10, 0, 0, 2),
            dst: Ipv4Addr::new(224, 0, 0, 18),
            ident: 0,
            seq: 9,
            key: *b"secret\0\0",
        };
        let mut out = Vec::new();
        build(&mut out, &repr, &s).unwrap();
        assert_eq!(out.len(), 20 + 24 + 20);
        assert_eq!(checksum::checksum(&out[..20]), 0, "IP checksum");
        assert_eq!(&out[4..6], &[0, 1], "ident 0 is never sent");
        let (h, at) = open(&out, &s.key, false).unwrap();
        assert_eq!((h.seq, h.spi, at), (9, 0x0a00_0002, 44));
        let p = Packet::new_checked(&out[at..]).unwrap();
        let parsed = vrrp::Repr::parse(&p, s.src.into(), s.dst.into()).unwrap();
        assert_eq!(parsed.auth, vrrp::Auth::Ah([0; 8]), "auth data stays zero");
        assert_eq!(open(&out, b"secreT\0\0", false), Err(Refusal::BadIcv));
        // Unicast: the TTL is outside the ICV.
        s.dst = Ipv4Addr::new(10, 0, 0, 3);
        build(&mut out, &repr, &s).unwrap();
        out[8] = 64;
        assert!(open(&out, &s.key, true).is_ok());
        assert!(open(&out, &s.key, false).is_err());
    }

    #[test]
    fn counter_follows_keepalived() {
        let mut c = SeqCounter::default();
        assert_eq!(c.next_send(), 1);
        assert!(c.accept(5));
        assert!(!c.accept(5), "replay");
        assert_eq!(c.next_send(), 6);
        c.sync_above(10);
        assert_eq!(c.next_send(), 12);
        let mut top = SeqCounter { last: 0xFFFF_FFFE };
        assert_eq!(top.next_send(), 0xFFFF_FFFE);
    }
}
