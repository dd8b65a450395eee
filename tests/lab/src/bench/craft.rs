//! Crafted VRRP-over-IPv4 packets for the flood tool: one valid advert for the
//! victim, then exactly one thing wrong with it per [`Kind`], so each kind lands
//! in exactly one of the receiver's drop counters. Whole IPv4 packets are built
//! here (sent with IP_HDRINCL); the kernel fills only the IP checksum, the total
//! length and the identification.

use std::net::Ipv4Addr;

/// What is wrong with the packets sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TTL 64 instead of 255.
    Ttl,
    /// VRRP checksum off.
    Checksum,
    /// The advert cut short after 12 bytes.
    Short,
    /// A VRID the victim does not run (victim's + 1).
    Vrid,
    /// Simple-password authentication with another password.
    Password,
    /// A valid VRRPv3 advert sent to a VRRPv2 instance.
    Version,
    /// Advert interval one second longer than the victim's.
    Interval,
    /// Random bytes of random length (1..=80).
    Garbage,
    /// Nothing wrong: a valid advert with the victim's parameters. The control
    /// case, proving that a test would see an accepted packet.
    Valid,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Ttl,
        Kind::Checksum,
        Kind::Short,
        Kind::Vrid,
        Kind::Password,
        Kind::Version,
        Kind::Interval,
        Kind::Garbage,
        Kind::Valid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Ttl => "ttl",
            Kind::Checksum => "checksum",
            Kind::Short => "short",
            Kind::Vrid => "vrid",
            Kind::Password => "password",
            Kind::Version => "version",
            Kind::Interval => "interval",
            Kind::Garbage => "garbage",
            Kind::Valid => "valid",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The victim as the near-valid packets imitate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Victim {
    pub vrid: u8,
    /// The victim's password (simple authentication); `None`: no authentication.
    pub password: Option<String>,
    /// The victim's advert interval in seconds (VRRPv2).
    pub advert_int: u8,
    /// The virtual addresses to list in the advert.
    pub vips: Vec<Ipv4Addr>,
    /// The priority claimed: high by default, so an advert wrongly accepted would
    /// take mastership and show up as a transition.
    pub priority: u8,
}

const PROTO_VRRP: u8 = 112;
const IP_HEADER: usize = 20;
const AUTH_LEN: usize = 8;
const AUTH_NONE: u8 = 0;
const AUTH_PASS: u8 = 1;
const TYPE_ADVERT: u8 = 1;

/// The Internet checksum (RFC 1071) of `parts` concatenated.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for b in parts.iter().flat_map(|p| p.iter()) {
        match odd.take() {
            None => odd = Some(*b),
            Some(hi) => sum += u32::from(u16::from_be_bytes([hi, *b])),
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A VRRPv2 advert (RFC 3768 section 5.1), checksum filled.
fn v2_advert(v: &Victim, vrid: u8, advert_int: u8, password: Option<&str>) -> Vec<u8> {
    let auth_type = if password.is_some() {
        AUTH_PASS
    } else {
        AUTH_NONE
    };
    let mut p = vec![
        (2 << 4) | TYPE_ADVERT,
        vrid,
        v.priority,
        v.vips.len().min(255) as u8,
        auth_type,
        advert_int,
        0,
        0,
    ];
    for a in v.vips.iter().take(255) {
        p.extend_from_slice(&a.octets());
    }
    let mut auth = [0u8; AUTH_LEN];
    if let Some(pw) = password {
        for (d, s) in auth.iter_mut().zip(pw.bytes()) {
            *d = s;
        }
    }
    p.extend_from_slice(&auth);
    let c = checksum(&[&p]);
    p[6..8].copy_from_slice(&c.to_be_bytes());
    p
}

/// A VRRPv3 advert (RFC 5798 section 5.1); its checksum covers a pseudo-header.
fn v3_advert(v: &Victim, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let centis = (u16::from(v.advert_int) * 100).min(0x0fff);
    let mut p = vec![
        (3 << 4) | TYPE_ADVERT,
        v.vrid,
        v.priority,
        v.vips.len().min(255) as u8,
    ];
    p.extend_from_slice(&centis.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    for a in v.vips.iter().take(255) {
        p.extend_from_slice(&a.octets());
    }
    let len = (p.len() as u16).to_be_bytes();
    let pseudo = [
        &src.octets()[..],
        &dst.octets()[..],
        &[0, PROTO_VRRP],
        &len[..],
    ]
    .concat();
    let c = checksum(&[&pseudo, &p]);
    p[6..8].copy_from_slice(&c.to_be_bytes());
    p
}

/// The garbage kind's generator: the shared xorshift64*.
pub type Rng = vigil_rng::XorShift;

/// A generator for `seed`, its low bit set as before the generator was
/// shared, so that a seed still crafts the packets it crafted.
pub fn rng(seed: u64) -> Rng {
    Rng::new(seed | 1)
}

/// The VRRP payload of one packet of `kind`, and the TTL to send it with.
pub fn payload(
    kind: Kind,
    v: &Victim,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    rng: &mut Rng,
) -> (Vec<u8>, u8) {
    let pw = v.password.as_deref();
    let good = || v2_advert(v, v.vrid, v.advert_int, pw);
    match kind {
        Kind::Valid => (good(), 255),
        Kind::Ttl => (good(), 64),
        Kind::Checksum => {
            let mut p = good();
            // A difference below 0xffff can never be the same one's-complement value.
            p[7] ^= 0x5a;
            (p, 255)
        }
        Kind::Short => {
            let mut p = good();
            p.truncate(12);
            (p, 255)
        }
        Kind::Vrid => (v2_advert(v, v.vrid.wrapping_add(1), v.advert_int, pw), 255),
        Kind::Password => {
            let wrong = match pw {
                Some(p) if p.starts_with('x') => "y-wrong",
                _ => "x-wrong",
            };
            (v2_advert(v, v.vrid, v.advert_int, Some(wrong)), 255)
        }
        Kind::Version => (v3_advert(v, src, dst), 255),
        Kind::Interval => (
            v2_advert(v, v.vrid, v.advert_int.wrapping_add(1).max(1), pw),
            255,
        ),
        Kind::Garbage => {
            let len = 1 + rng.below(80) as usize;
            let bytes = (0..len).map(|_| rng.next_u64() as u8).collect();
            (bytes, 255)
        }
    }
}

/// A whole IPv4 packet around `vrrp` (checksum, length and id left for the kernel).
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, vrrp: &[u8]) -> Vec<u8> {
    let total = (IP_HEADER + vrrp.len()).min(usize::from(u16::MAX)) as u16;
    let mut p = vec![0x45, 0xc0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, ttl, PROTO_VRRP, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(vrrp);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 67, 10);
    const DST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 44);

    fn victim() -> Victim {
        Victim {
            vrid: 51,
            password: Some("1111".into()),
            advert_int: 1,
            vips: vec![Ipv4Addr::new(192, 168, 67, 150)],
            priority: 254,
        }
    }

    fn one(kind: Kind) -> (Vec<u8>, u8) {
        payload(kind, &victim(), SRC, DST, &mut rng(7))
    }

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2.
        assert_eq!(
            checksum(&[&[0x00, 0x01, 0xf2, 0x03], &[0xf4, 0xf5, 0xf6, 0xf7]]),
            !0xddf2
        );
        // Odd length pads with zero.
        assert_eq!(checksum(&[&[0xab]]), !0xab00);
    }

    #[test]
    fn the_base_advert_is_valid_v2() {
        let (p, ttl) = one(Kind::Ttl);
        assert_eq!(ttl, 64);
        assert_eq!(p.len(), 8 + 4 + 8);
        assert_eq!(&p[..6], &[0x21, 51, 254, 1, 1, 1]);
        assert_eq!(&p[8..12], &[192, 168, 67, 150]);
        assert_eq!(&p[12..16], b"1111");
        assert_eq!(checksum(&[&p]), 0);
    }

    #[test]
    fn each_kind_breaks_one_thing() {
        let (base, _) = one(Kind::Ttl);
        assert_eq!(one(Kind::Valid), (base.clone(), 255));
        let (p, ttl) = one(Kind::Checksum);
        assert_eq!(ttl, 255);
        assert_ne!(checksum(&[&p]), 0);
        assert_eq!(p[..6], base[..6]);
        assert_eq!(one(Kind::Short).0, base[..12].to_vec());
        let (p, _) = one(Kind::Vrid);
        assert_eq!((p[1], checksum(&[&p])), (52, 0));
        let (p, _) = one(Kind::Password);
        assert_eq!((&p[12..16], checksum(&[&p])), (&b"x-wr"[..], 0));
        let (p, _) = one(Kind::Interval);
        assert_eq!((p[5], checksum(&[&p])), (2, 0));
    }

    #[test]
    fn version_kind_is_a_valid_v3_advert() {
        let (p, _) = one(Kind::Version);
        assert_eq!(&p[..6], &[0x31, 51, 254, 1, 0, 100]);
        let pseudo = [
            &SRC.octets()[..],
            &DST.octets()[..],
            &[0, 112, 0, p.len() as u8],
        ]
        .concat();
        assert_eq!(checksum(&[&pseudo, &p]), 0);
    }

    #[test]
    fn garbage_varies_and_is_bounded() {
        let mut rng = super::rng(1);
        let v = victim();
        let a: Vec<Vec<u8>> = (0..50)
            .map(|_| payload(Kind::Garbage, &v, SRC, DST, &mut rng).0)
            .collect();
        assert!(a.iter().all(|p| (1..=80).contains(&p.len())));
        assert!(a.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn ipv4_header_fields() {
        let p = ipv4(SRC, DST, 255, &[1, 2, 3]);
        assert_eq!(p.len(), 23);
        assert_eq!(&p[..4], &[0x45, 0xc0, 0, 23]);
        assert_eq!((p[8], p[9]), (255, 112));
        assert_eq!(&p[12..16], &SRC.octets());
        assert_eq!(&p[16..20], &DST.octets());
        assert_eq!(&p[20..], &[1, 2, 3]);
        assert_eq!(Kind::parse("vrid"), Some(Kind::Vrid));
        assert_eq!(Kind::parse("nope"), None);
    }
}
