//! Totality: random byte strings and random mutations of the keepalived vectors
//! go through every parser and every getter of a checked view. Nothing may
//! panic, and whatever parses must emit back to something that parses the same.
//! Fixed seeds, so a failure names a reproducible case.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use support::Rng;
use vigil_wire::vrrp::{self, ChecksumForm, Repr, V3Checksum};
use vigil_wire::{ipv4, ipv6};

const RANDOM_CASES: usize = 60_000;
const MUTATION_CASES: usize = 140_000;

fn addr_pair(rng: &mut Rng) -> (IpAddr, IpAddr) {
    let v4 = |rng: &mut Rng| IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32));
    let v6 = |rng: &mut Rng| IpAddr::V6(Ipv6Addr::from(u128::from(rng.next_u64()) << 64 | 1));
    match rng.index(4) {
        0 => (v4(rng), v4(rng)),
        1 => (v6(rng), v6(rng)),
        2 => (v4(rng), v6(rng)),
        _ => (v6(rng), v4(rng)),
    }
}

/// Every getter of every checked view, and every parser.
fn exercise(bytes: &[u8], rng: &mut Rng) {
    if let Ok(p) = ipv4::Packet::new_checked(bytes) {
        let _ = (
            p.version(),
            p.header_len(),
            p.tos(),
            p.total_len(),
            p.ident(),
        );
        let _ = (
            p.dont_frag(),
            p.more_frags(),
            p.frag_offset(),
            p.ttl(),
            p.protocol(),
        );
        let _ = (
            p.checksum(),
            p.src_addr(),
            p.dst_addr(),
            p.verify_checksum(),
        );
        let _ = (p.options().len(), p.payload().len());
        let _ = ipv4::Repr::parse(&p);
    }
    if let Ok(p) = ipv6::Packet::new_checked(bytes) {
        let _ = (
            p.version(),
            p.traffic_class(),
            p.flow_label(),
            p.payload_len(),
        );
        let _ = (
            p.next_header(),
            p.hop_limit(),
            p.src_addr(),
            p.dst_addr(),
            p.payload().len(),
        );
        let _ = ipv6::Repr::parse(&p);
    }
    let _ = ipv4::payload(bytes);
    let _ = ipv6::payload(bytes);
    if let Ok((ip, repr)) = vrrp::parse_ipv4(bytes) {
        round_trip(&repr, ip.src.into(), ip.dst.into());
    }
    if let Ok((ip, repr)) = vrrp::parse_ipv6(bytes) {
        round_trip(&repr, ip.src.into(), ip.dst.into());
    }
    if let Ok(p) = vrrp::Packet::new_checked(bytes) {
        let _ = (
            p.version(),
            p.kind(),
            p.vrid(),
            p.priority(),
            p.count_addrs(),
        );
        let _ = (
            p.auth_type(),
            p.adver_int(),
            p.reserved(),
            p.max_adver_int(),
            p.checksum(),
        );
        let i = rng.index(300);
        let _ = (p.address_v4(i), p.address_v6(i), p.auth_data());
        let _ = (p.message_len(4), p.message_len(16));
        let (src, dst) = addr_pair(rng);
        let _ = p.checksum_form(rng.index(bytes.len() + 8), src, dst);
        if let Ok((repr, _)) = Repr::parse_with_form(&p, src, dst) {
            round_trip(&repr, src, dst);
        }
    }
}

/// Whatever parsed must emit (under each checksum form) to a message that
/// parses back to the same value.
fn round_trip(repr: &Repr, src: IpAddr, dst: IpAddr) {
    for csum in [V3Checksum::PseudoHeader, V3Checksum::MessageOnly] {
        let mut buf = vec![0xa5u8; repr.buffer_len()];
        repr.emit(
            &mut vrrp::Packet::new_unchecked(&mut buf[..]),
            src,
            dst,
            csum,
        );
        let (again, form) = Repr::parse_with_form(&vrrp::Packet::new_unchecked(&buf[..]), src, dst)
            .unwrap_or_else(|e| panic!("{repr:?} emitted unparsable bytes: {e}"));
        // An AH advert's data bytes are not sent (the key stays out of it).
        let mut want = repr.clone();
        if let vigil_wire::vrrp::Auth::Ah(_) = want.auth {
            want.auth = vigil_wire::vrrp::Auth::Ah([0; 8]);
        }
        assert_eq!(again, want);
        if src.is_ipv6() {
            assert_eq!(form, ChecksumForm::PseudoHeader);
        }
    }
}

/// Repair the IPv4 header checksum and, when the datagram holds a VRRP message,
/// its checksum too, so that mutations reach the checks behind the checksums.
fn repair(bytes: &mut [u8], rng: &mut Rng) {
    let Ok(ip) = ipv4::Packet::new_checked(&*bytes) else {
        return;
    };
    let (hl, total) = (usize::from(ip.header_len()), usize::from(ip.total_len()));
    let (src, dst) = (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()));
    if rng.index(2) == 0 && total >= hl + vrrp::HEADER_LEN {
        let csum = if rng.index(2) == 0 {
            V3Checksum::PseudoHeader
        } else {
            V3Checksum::MessageOnly
        };
        vrrp::Packet::new_unchecked(&mut bytes[hl..total]).fill_checksum(src, dst, csum);
    }
    ipv4::Packet::new_unchecked(bytes).fill_checksum();
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(0x5eed_0001);
    for _ in 0..RANDOM_CASES {
        let len = rng.index(96);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Steer half of them past the first checks of each parser.
        if len > 0 && rng.index(2) == 0 {
            bytes[0] = [0x45, 0x46, 0x60, 0x21, 0x31][rng.index(5)];
        }
        if len > 9 && rng.index(2) == 0 {
            bytes[9] = vrrp::IP_PROTO_VRRP;
            bytes[6] = vrrp::IP_PROTO_VRRP;
        }
        if rng.index(2) == 0 {
            repair(&mut bytes, &mut rng);
        }
        exercise(&bytes, &mut rng);
    }
}

#[test]
fn mutated_vectors_never_panic() {
    let vectors = support::all();
    let mut rng = Rng::new(0x5eed_0002);
    let mut parsed = 0usize;
    for _ in 0..MUTATION_CASES {
        let mut bytes = vectors[rng.index(vectors.len())].bytes.clone();
        for _ in 0..=rng.index(4) {
            match rng.index(5) {
                0 if !bytes.is_empty() => {
                    let at = rng.index(bytes.len());
                    bytes[at] ^= 1 << rng.index(8);
                }
                1 if !bytes.is_empty() => {
                    let at = rng.index(bytes.len());
                    bytes[at] = rng.next_u64() as u8;
                }
                2 => bytes.truncate(rng.index(bytes.len() + 1)),
                3 => {
                    let extra = rng.index(24);
                    bytes.extend((0..extra).map(|_| rng.next_u64() as u8));
                }
                _ => {
                    // The header fields that steer parsing: count, IHL, lengths.
                    let at = [3usize, 0, 2, 3, 4, 5, 20, 23, 24, 43][rng.index(10)];
                    if at < bytes.len() {
                        bytes[at] = rng.next_u64() as u8;
                    }
                }
            }
        }
        if rng.index(2) == 0 {
            repair(&mut bytes, &mut rng);
        }
        if vrrp::parse_ipv4(&bytes).is_ok() || vrrp::parse_ipv6(&bytes).is_ok() {
            parsed += 1;
        }
        exercise(&bytes, &mut rng);
    }
    eprintln!("{parsed} of {MUTATION_CASES} mutated vectors parsed");
    // The mutations must not be so wild that nothing ever parses.
    assert!(
        parsed > MUTATION_CASES / 20,
        "only {parsed} mutated vectors parsed"
    );
}
