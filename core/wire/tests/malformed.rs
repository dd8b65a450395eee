//! Broken variants of the keepalived vectors: each `Error` variant is produced
//! by the defect it names, with checksums repaired so that the defect under
//! test, not a stale checksum, is what the parser refuses.

mod support;

use std::net::{IpAddr, Ipv4Addr};

use vigil_wire::vrrp::{self, Repr, V3Checksum};
use vigil_wire::{ipv4, ipv6, Error};

/// Mutate the VRRP part of an IPv4 vector and repair both checksums.
fn mutate_v4(name: &str, f: impl FnOnce(&mut vrrp::Packet<&mut [u8]>)) -> Vec<u8> {
    let mut bytes = support::get(name);
    let ihl = usize::from(bytes[0] & 0x0f) * 4;
    let src = IpAddr::V4(Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(bytes[16], bytes[17], bytes[18], bytes[19]));
    let mut body = vrrp::Packet::new_unchecked(&mut bytes[ihl..]);
    f(&mut body);
    body.fill_checksum(src, dst, V3Checksum::PseudoHeader);
    ipv4::Packet::new_unchecked(&mut bytes[..]).fill_checksum();
    bytes
}

/// Mutate the IPv4 header of a vector and repair its checksum.
fn mutate_ip(name: &str, f: impl FnOnce(&mut ipv4::Packet<&mut [u8]>)) -> Vec<u8> {
    let mut bytes = support::get(name);
    let mut ip = ipv4::Packet::new_unchecked(&mut bytes[..]);
    f(&mut ip);
    ip.fill_checksum();
    bytes
}

fn err4(bytes: &[u8]) -> Error {
    vrrp::parse_ipv4(bytes).expect_err("must be refused")
}

const V4_VECTORS: [&str; 9] = [
    "v2-pass",
    "v2-pass-prio0",
    "v2-noauth",
    "v2-unicast",
    "v3-ipv4",
    "v3-ipv4-prio0",
    "v3-ipv4-group44",
    "v3-ipv4-unicast",
    "v3-ipv4-unicast-oldcsum",
];

#[test]
fn truncated_at_every_length() {
    for v in support::all() {
        let whole_ok = if v.name.starts_with("v3-ipv6") {
            vrrp::parse_ipv6(&v.bytes).is_ok()
        } else {
            vrrp::parse_ipv4(&v.bytes).is_ok()
        };
        assert!(whole_ok, "{}", v.name);
        for len in 0..v.bytes.len() {
            let cut = &v.bytes[..len];
            let e = if v.name.starts_with("v3-ipv6") {
                vrrp::parse_ipv6(cut).unwrap_err()
            } else {
                vrrp::parse_ipv4(cut).unwrap_err()
            };
            assert_eq!(e, Error::Truncated, "{} cut at {len}", v.name);
        }
    }
}

#[test]
fn vrrp_message_cut_short() {
    // The message alone, as a raw socket would hand it if the IP layer had
    // been lied to: below the fixed header it is truncated, past it the
    // address count no longer matches the bytes.
    for name in V4_VECTORS {
        let bytes = support::get(name);
        let (ip, body) = ipv4::payload(&bytes).unwrap();
        for len in 0..body.len() {
            let e = Repr::parse(
                &vrrp::Packet::new_unchecked(&body[..len]),
                ip.src.into(),
                ip.dst.into(),
            )
            .unwrap_err();
            let want = if len < vrrp::HEADER_LEN {
                Error::Truncated
            } else {
                Error::BadLength
            };
            assert_eq!(e, want, "{name} cut at {len}");
        }
    }
}

#[test]
fn bad_vrrp_checksum_at_every_bit_of_the_checksum_and_addresses() {
    for name in V4_VECTORS {
        let bytes = support::get(name);
        let ihl = usize::from(bytes[0] & 0x0f) * 4;
        // The checksum field and the address list: flipping any bit there
        // changes nothing else the parser looks at first.
        let count = usize::from(bytes[ihl + 3]);
        for at in (ihl + 6..ihl + 8).chain(ihl + 8..ihl + 8 + 4 * count) {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[at] ^= 1 << bit;
                assert_eq!(err4(&b), Error::BadChecksum, "{name} byte {at} bit {bit}");
            }
        }
    }
}

#[test]
fn bad_checksum_over_ipv6() {
    for name in ["v3-ipv6", "v3-ipv6-prio0"] {
        let mut b = support::get(name);
        let last = b.len() - 1;
        b[last] ^= 0x01;
        assert_eq!(vrrp::parse_ipv6(&b).unwrap_err(), Error::BadChecksum);
        // The right bytes under another destination fail too: the
        // pseudo-header is mandatory over IPv6.
        let good = support::get(name);
        let (ip, body) = ipv6::payload(&good).unwrap();
        let other: IpAddr = "ff02::1".parse().unwrap();
        let e = Repr::parse(&vrrp::Packet::new_unchecked(body), ip.src.into(), other).unwrap_err();
        assert_eq!(e, Error::BadChecksum);
    }
}

#[test]
fn v3_ipv4_checksum_depends_on_the_real_destination() {
    let bytes = support::get("v3-ipv4-group44");
    let (ip, body) = ipv4::payload(&bytes).unwrap();
    let wrong_group = IpAddr::V4(vrrp::MCAST_GROUP_V4);
    let e = Repr::parse(
        &vrrp::Packet::new_unchecked(body),
        ip.src.into(),
        wrong_group,
    )
    .unwrap_err();
    assert_eq!(e, Error::BadChecksum);
}

#[test]
fn bad_ip_header_checksum() {
    for name in V4_VECTORS {
        let mut b = support::get(name);
        b[8] = 254; // TTL changed, header checksum stale
        assert_eq!(err4(&b), Error::BadChecksum, "{name}");
    }
}

#[test]
fn wrong_vrrp_version() {
    for name in V4_VECTORS {
        for version in [0u8, 1, 4, 15] {
            let b = mutate_v4(name, |p| p.set_version(version));
            assert_eq!(err4(&b), Error::BadVersion, "{name} version {version}");
        }
    }
}

#[test]
fn wrong_ip_version() {
    let mut b = support::get("v2-pass");
    b[0] = 0x65;
    assert_eq!(err4(&b), Error::BadVersion);
    let mut b = support::get("v3-ipv6");
    b[0] = 0x4c;
    assert_eq!(vrrp::parse_ipv6(&b).unwrap_err(), Error::BadVersion);
}

#[test]
fn wrong_type() {
    for name in V4_VECTORS {
        for kind in [0u8, 2, 3, 15] {
            let b = mutate_v4(name, |p| p.set_kind(kind));
            assert_eq!(err4(&b), Error::BadType, "{name} type {kind}");
        }
    }
}

#[test]
fn count_disagrees_with_length() {
    for name in V4_VECTORS {
        let up = mutate_v4(name, |p| p.set_count_addrs(p.count_addrs() + 1));
        assert_eq!(err4(&up), Error::BadLength, "{name} count+1");
        let down = mutate_v4(name, |p| p.set_count_addrs(p.count_addrs() - 1));
        assert_eq!(err4(&down), Error::BadLength, "{name} count-1");
        // An IPv6-sized count over IPv4: 4 times the addresses.
        let v6ish = mutate_v4(name, |p| p.set_count_addrs(p.count_addrs() * 4));
        assert_eq!(err4(&v6ish), Error::BadLength, "{name} count x4");
    }
}

#[test]
fn ah_auth_type_parses_with_its_data_bytes() {
    // The AH header itself is vigil_wire::ah's; the message only says type 2.
    for name in ["v2-pass", "v2-noauth", "v2-unicast", "v2-pass-prio0"] {
        let b = mutate_v4(name, |p| p.set_auth_type(2));
        let got = vigil_wire::vrrp::parse_ipv4(&b).map(|(_, r)| r.auth);
        assert!(
            matches!(got, Ok(vigil_wire::vrrp::Auth::Ah(_))),
            "{name}: {got:?}"
        );
    }
}

#[test]
fn unknown_auth_types() {
    for name in ["v2-pass", "v2-noauth"] {
        for t in [3u8, 4, 254, 255] {
            let b = mutate_v4(name, |p| p.set_auth_type(t));
            assert_eq!(err4(&b), Error::BadAuthType, "{name} auth {t}");
        }
    }
}

#[test]
fn zero_interval_is_malformed() {
    let b = mutate_v4("v2-pass", |p| p.set_adver_int(0));
    assert_eq!(err4(&b), Error::Malformed);
    let b = mutate_v4("v3-ipv4", |p| p.set_max_adver_int(0));
    assert_eq!(err4(&b), Error::Malformed);
}

#[test]
fn mixed_address_families_are_malformed() {
    let bytes = support::get("v3-ipv4");
    let (ip, body) = ipv4::payload(&bytes).unwrap();
    let e = Repr::parse(
        &vrrp::Packet::new_unchecked(body),
        ip.src.into(),
        IpAddr::V6(vrrp::MCAST_GROUP_V6),
    )
    .unwrap_err();
    assert_eq!(e, Error::Malformed);
}

#[test]
fn bad_ip_headers() {
    for name in V4_VECTORS {
        let short_ihl = mutate_ip(name, |p| p.set_header_len(16));
        assert_eq!(err4(&short_ihl), Error::BadIpHeader, "{name} IHL 4");
        let short_total = mutate_ip(name, |p| p.set_total_len(19));
        assert_eq!(err4(&short_total), Error::BadIpHeader, "{name} total < IHL");
        let mut frag = support::get(name);
        frag[6] = 0x20; // More Fragments
        ipv4::Packet::new_unchecked(&mut frag[..]).fill_checksum();
        assert_eq!(err4(&frag), Error::BadIpHeader, "{name} fragment");
        let mut later = support::get(name);
        later[7] = 0x01; // offset 8
        ipv4::Packet::new_unchecked(&mut later[..]).fill_checksum();
        assert_eq!(err4(&later), Error::BadIpHeader, "{name} offset");
    }
}

#[test]
fn wrong_protocol() {
    let b = mutate_ip("v2-pass", |p| p.set_protocol(17));
    assert_eq!(err4(&b), Error::WrongProtocol);
    let mut b = support::get("v3-ipv6");
    b[6] = 0; // hop-by-hop options header first
    assert_eq!(vrrp::parse_ipv6(&b).unwrap_err(), Error::WrongProtocol);
}

#[test]
fn ip_options_still_parse() {
    for name in V4_VECTORS {
        let bytes = support::get(name);
        let want = vrrp::parse_ipv4(&bytes).unwrap();
        // Insert a Router Alert option (RFC 2113) after the fixed header.
        let mut b = bytes[..20].to_vec();
        b.extend_from_slice(&[0x94, 0x04, 0x00, 0x00]);
        b.extend_from_slice(&bytes[20..]);
        let mut ip = ipv4::Packet::new_unchecked(&mut b[..]);
        ip.set_header_len(24);
        ip.set_total_len(ip.total_len() + 4);
        ip.fill_checksum();
        assert_eq!(ip.options(), &[0x94, 0x04, 0x00, 0x00]);
        let (got_ip, got) = vrrp::parse_ipv4(&b).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want.1, "{name}");
        assert_eq!(got_ip.payload_len, want.0.payload_len, "{name}");
    }
}

#[test]
fn ethernet_padding_after_the_datagram_still_parses() {
    for v in support::all() {
        let want_v4 = !v.name.starts_with("v3-ipv6");
        // Pad up to the 46-byte Ethernet minimum (and beyond), zeros or junk.
        for fill in [0x00u8, 0xa5] {
            let mut b = v.bytes.clone();
            b.resize(b.len().max(46) + 4, fill);
            let ok = if want_v4 {
                vrrp::parse_ipv4(&b).map(|r| r.1) == vrrp::parse_ipv4(&v.bytes).map(|r| r.1)
            } else {
                vrrp::parse_ipv6(&b).map(|r| r.1) == vrrp::parse_ipv6(&v.bytes).map(|r| r.1)
            };
            assert!(ok, "{} padded with {fill:#x}", v.name);
        }
    }
}

#[test]
fn padding_must_be_cut_before_the_vrrp_parser() {
    for name in V4_VECTORS {
        let bytes = support::get(name);
        let (ip, body) = ipv4::payload(&bytes).unwrap();
        // Zeros after the message are refused by the VRRP parser itself:
        // under a lowered count they would pass for a v2 password's padding.
        let mut padded = body.to_vec();
        padded.extend_from_slice(&[0u8; 4]);
        let got = Repr::parse(
            &vrrp::Packet::new_unchecked(&padded[..]),
            ip.src.into(),
            ip.dst.into(),
        );
        assert_eq!(got, Err(Error::BadLength), "{name}");
    }
}
