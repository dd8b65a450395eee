//! Adverts captured from keepalived 2.2.7 (tests/captures/capture.sh): each is
//! parsed with its IP header, every field is checked, and emitting the parsed
//! values into a 0xa5-filled buffer must give back the captured bytes.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_wire::vrrp::{self, Auth, ChecksumForm, Repr, V3Checksum, Version};
use vigil_wire::{ipv4, ipv6};

const MASTER: Ipv4Addr = Ipv4Addr::new(192, 168, 67, 100);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 168, 67, 200);
const PASS: Auth = Auth::Simple(*b"1111\0\0\0\0");

fn vip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 168, 67, last))
}

fn ip4(dst: Ipv4Addr, ident: u16, payload_len: usize) -> ipv4::Repr {
    // What keepalived 2.2.7 puts in every IPv4 advert: TTL 255, DSCP CS6
    // (ToS 0xc0), no DF, IDs counting from 1.
    ipv4::Repr {
        src: MASTER,
        dst,
        protocol: 112,
        ttl: 255,
        tos: 0xc0,
        ident,
        dont_frag: false,
        payload_len,
    }
}

fn advert(
    version: Version,
    vrid: u8,
    priority: u8,
    cs: u16,
    auth: Auth,
    addrs: Vec<IpAddr>,
) -> Repr {
    Repr {
        version,
        vrid,
        priority,
        adver_int_cs: cs,
        auth,
        addresses: addrs,
    }
}

/// Parse an IPv4 vector, compare, re-emit. `csum_dst` is the destination the
/// checksum was computed with (the multicast group for the legacy form).
fn check_v4(
    name: &str,
    ip: ipv4::Repr,
    repr: Repr,
    form: ChecksumForm,
    csum: V3Checksum,
    csum_dst: Ipv4Addr,
) {
    let bytes = support::get(name);
    let (got_ip, got) = vrrp::parse_ipv4(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got_ip, ip, "{name}: IP header");
    assert_eq!(got, repr, "{name}: advert");
    let (_, payload) = ipv4::payload(&bytes).unwrap();
    let view = vrrp::Packet::new_checked(payload).unwrap();
    let (_, got_form) = Repr::parse_with_form(&view, ip.src.into(), ip.dst.into()).unwrap();
    assert_eq!(got_form, form, "{name}: checksum form");

    assert_eq!(ip.buffer_len(), bytes.len(), "{name}: length");
    assert_eq!(repr.buffer_len(), ip.payload_len, "{name}: VRRP length");
    let mut out = vec![0xa5u8; ip.buffer_len()];
    let mut packet = ipv4::Packet::new_unchecked(&mut out[..]);
    ip.emit(&mut packet);
    let mut body = vrrp::Packet::new_unchecked(packet.payload_mut());
    repr.emit(&mut body, ip.src.into(), csum_dst.into(), csum);
    assert_eq!(out, bytes, "{name}: emitted bytes");
}

fn check_v6(name: &str, ip: ipv6::Repr, repr: Repr) {
    let bytes = support::get(name);
    let (got_ip, got) = vrrp::parse_ipv6(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got_ip, ip, "{name}: IP header");
    assert_eq!(got, repr, "{name}: advert");
    let mut out = vec![0xa5u8; ip.buffer_len()];
    let mut packet = ipv6::Packet::new_unchecked(&mut out[..]);
    ip.emit(&mut packet);
    let mut body = vrrp::Packet::new_unchecked(packet.payload_mut());
    // The form is ignored over IPv6: the pseudo-header is mandatory there.
    repr.emit(
        &mut body,
        ip.src.into(),
        ip.dst.into(),
        V3Checksum::MessageOnly,
    );
    assert_eq!(out, bytes, "{name}: emitted bytes");
}

#[test]
fn v2_pass_multicast() {
    let repr = advert(Version::V2, 51, 100, 100, PASS, vec![vip(150)]);
    check_v4(
        "v2-pass",
        ip4(vrrp::MCAST_GROUP_V4, 1, 20),
        repr,
        ChecksumForm::MessageOnly,
        V3Checksum::PseudoHeader,
        vrrp::MCAST_GROUP_V4,
    );
}

#[test]
fn v2_priority_zero_on_shutdown() {
    let repr = advert(Version::V2, 51, 0, 100, PASS, vec![vip(150)]);
    check_v4(
        "v2-pass-prio0",
        ip4(vrrp::MCAST_GROUP_V4, 4, 20),
        repr,
        ChecksumForm::MessageOnly,
        V3Checksum::PseudoHeader,
        vrrp::MCAST_GROUP_V4,
    );
}

#[test]
fn v2_no_auth_two_addresses() {
    let repr = advert(
        Version::V2,
        52,
        150,
        200,
        Auth::None,
        vec![vip(151), vip(152)],
    );
    check_v4(
        "v2-noauth",
        ip4(vrrp::MCAST_GROUP_V4, 1, 24),
        repr,
        ChecksumForm::MessageOnly,
        V3Checksum::MessageOnly,
        vrrp::MCAST_GROUP_V4,
    );
}

#[test]
fn v2_unicast() {
    let repr = advert(Version::V2, 51, 100, 100, PASS, vec![vip(150)]);
    check_v4(
        "v2-unicast",
        ip4(PEER, 1, 20),
        repr,
        ChecksumForm::MessageOnly,
        V3Checksum::PseudoHeader,
        PEER,
    );
}

#[test]
fn v3_ipv4_pseudo_header_by_default() {
    let repr = advert(Version::V3, 51, 100, 100, Auth::None, vec![vip(150)]);
    check_v4(
        "v3-ipv4",
        ip4(vrrp::MCAST_GROUP_V4, 1, 12),
        repr,
        ChecksumForm::PseudoHeader,
        V3Checksum::PseudoHeader,
        vrrp::MCAST_GROUP_V4,
    );
}

#[test]
fn v3_ipv4_priority_zero_on_shutdown() {
    let repr = advert(Version::V3, 51, 0, 100, Auth::None, vec![vip(150)]);
    check_v4(
        "v3-ipv4-prio0",
        ip4(vrrp::MCAST_GROUP_V4, 4, 12),
        repr,
        ChecksumForm::PseudoHeader,
        V3Checksum::PseudoHeader,
        vrrp::MCAST_GROUP_V4,
    );
}

#[test]
fn v3_ipv4_configured_group_enters_the_pseudo_header() {
    let group = Ipv4Addr::new(224, 0, 0, 44);
    let repr = advert(
        Version::V3,
        53,
        200,
        50,
        Auth::None,
        vec![vip(153), vip(154), vip(155)],
    );
    check_v4(
        "v3-ipv4-group44",
        ip4(group, 1, 20),
        repr,
        ChecksumForm::PseudoHeader,
        V3Checksum::PseudoHeader,
        group,
    );
}

#[test]
fn v3_ipv4_unicast_uses_the_peer_address() {
    let repr = advert(Version::V3, 51, 100, 100, Auth::None, vec![vip(150)]);
    check_v4(
        "v3-ipv4-unicast",
        ip4(PEER, 1, 12),
        repr,
        ChecksumForm::PseudoHeader,
        V3Checksum::PseudoHeader,
        PEER,
    );
}

#[test]
fn v3_ipv4_unicast_old_checksum_uses_the_group() {
    let repr = advert(Version::V3, 51, 100, 100, Auth::None, vec![vip(150)]);
    check_v4(
        "v3-ipv4-unicast-oldcsum",
        ip4(PEER, 1, 12),
        repr,
        ChecksumForm::LegacyUnicast,
        V3Checksum::PseudoHeader,
        vrrp::MCAST_GROUP_V4,
    );
}

fn ip6(payload_len: usize) -> ipv6::Repr {
    ipv6::Repr {
        src: "fe80::ff:fe67:100".parse().unwrap(),
        dst: vrrp::MCAST_GROUP_V6,
        next_header: 112,
        hop_limit: 255,
        traffic_class: 0xc0,
        flow_label: 0xc1cb8,
        payload_len,
    }
}

#[test]
fn v3_ipv6_link_local_source() {
    let fd = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x150));
    check_v6(
        "v3-ipv6",
        ip6(24),
        advert(Version::V3, 61, 100, 100, Auth::None, vec![fd]),
    );
}

#[test]
fn v3_ipv6_priority_zero_on_shutdown() {
    let fd = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x150));
    check_v6(
        "v3-ipv6-prio0",
        ip6(24),
        advert(Version::V3, 61, 0, 100, Auth::None, vec![fd]),
    );
}

#[test]
fn v3_ipv4_message_only_form_from_the_captured_advert() {
    // keepalived 2.2.7 has no v3_checksum_as_v2, so this form is derived: the
    // captured advert with its checksum recomputed over the message alone.
    let bytes = support::get("v3-ipv4");
    let (ip, repr) = vrrp::parse_ipv4(&bytes).unwrap();
    let mut out = bytes.clone();
    let mut packet = ipv4::Packet::new_unchecked(&mut out[..]);
    let mut body = vrrp::Packet::new_unchecked(packet.payload_mut());
    repr.emit(
        &mut body,
        ip.src.into(),
        ip.dst.into(),
        V3Checksum::MessageOnly,
    );
    assert_ne!(out, bytes);
    assert_eq!(vigil_wire::checksum::checksum(&out[20..]), 0);
    let (_, again) = vrrp::parse_ipv4(&out).unwrap();
    assert_eq!(again, repr);
    let view = vrrp::Packet::new_checked(&out[20..]).unwrap();
    let (_, form) = Repr::parse_with_form(&view, ip.src.into(), ip.dst.into()).unwrap();
    assert_eq!(form, ChecksumForm::MessageOnly);
}

#[test]
fn every_vector_file_is_listed_and_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
    let on_disk = std::fs::read_dir(dir).unwrap().filter(|e| {
        e.as_ref()
            .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "hex"))
    });
    // The AH vectors are checked in keepalived_ah.rs.
    assert_eq!(on_disk.count(), support::all().len() + support::ah().len());
    for v in support::all() {
        let ok = match v.bytes.first().map(|b| b >> 4) {
            Some(4) => vrrp::parse_ipv4(&v.bytes).is_ok(),
            Some(6) => vrrp::parse_ipv6(&v.bytes).is_ok(),
            _ => false,
        };
        assert!(ok, "{}", v.name);
    }
}
