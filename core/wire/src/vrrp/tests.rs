//! Codec tests (built only under `#[cfg(test)]`, see `vrrp.rs`) on
//! keepalived 2.2.7's own adverts: deconstruct, parse and emit (into
//! 0xa5-filled buffers, so unwritten bytes show), checksum forms.

use super::*;

const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 100));
const GROUP: IpAddr = IpAddr::V4(MCAST_GROUP_V4);

// keepalived 2.2.7, v2, PASS "1111", VRID 51, priority 100, 1 s, 192.168.67.150.
static V2_PASS: [u8; 20] = [
    0x21, 0x33, 0x64, 0x01, 0x01, 0x01, 0x13, 0x29, 0xc0, 0xa8, 0x43, 0x96, 0x31, 0x31, 0x31, 0x31,
    0x00, 0x00, 0x00, 0x00,
];

// keepalived 2.2.7, v3 over IPv4 to 224.0.0.18, pseudo-header checksum.
static V3_V4: [u8; 12] = [
    0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x81, 0x8c, 0xc0, 0xa8, 0x43, 0x96,
];

fn v2_repr() -> Repr {
    Repr {
        version: Version::V2,
        vrid: 51,
        priority: 100,
        adver_int_cs: 100,
        auth: Auth::Simple(*b"1111\0\0\0\0"),
        addresses: vec![IpAddr::V4(Ipv4Addr::new(192, 168, 67, 150))],
    }
}

fn v3_repr() -> Repr {
    Repr {
        version: Version::V3,
        auth: Auth::None,
        ..v2_repr()
    }
}

#[test]
fn deconstruct_v2() {
    let p = Packet::new_checked(&V2_PASS[..]).unwrap();
    assert_eq!(p.version(), 2);
    assert_eq!(p.kind(), 1);
    assert_eq!(p.vrid(), 51);
    assert_eq!(p.priority(), 100);
    assert_eq!(p.count_addrs(), 1);
    assert_eq!(p.auth_type(), 1);
    assert_eq!(p.adver_int(), 1);
    assert_eq!(p.checksum(), 0x1329);
    assert_eq!(p.address_v4(0), Some(Ipv4Addr::new(192, 168, 67, 150)));
    assert_eq!(p.address_v4(1), Some(Ipv4Addr::new(49, 49, 49, 49)));
    assert_eq!(p.address_v4(3), None);
    assert_eq!(p.auth_data(), Some(*b"1111\0\0\0\0"));
    assert_eq!(p.message_len(4), 20);
}

#[test]
fn deconstruct_v3() {
    let p = Packet::new_checked(&V3_V4[..]).unwrap();
    assert_eq!(p.version(), 3);
    assert_eq!(p.reserved(), 0);
    assert_eq!(p.max_adver_int(), 100);
    assert_eq!(p.checksum(), 0x818c);
    assert_eq!(p.message_len(4), 12);
    assert_eq!(p.address_v6(0), None);
}

#[test]
fn parse_and_emit_v2() {
    let p = Packet::new_checked(&V2_PASS[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, GROUP).unwrap(), v2_repr());
    let repr = v2_repr();
    assert_eq!(repr.buffer_len(), 20);
    let mut buf = [0xa5u8; 20];
    repr.emit(
        &mut Packet::new_unchecked(&mut buf[..]),
        SRC,
        GROUP,
        V3Checksum::PseudoHeader,
    );
    assert_eq!(buf, V2_PASS);
}

#[test]
fn parse_and_emit_v3_pseudo_header() {
    let p = Packet::new_checked(&V3_V4[..]).unwrap();
    let (repr, form) = Repr::parse_with_form(&p, SRC, GROUP).unwrap();
    assert_eq!(repr, v3_repr());
    assert_eq!(form, ChecksumForm::PseudoHeader);
    let mut buf = [0xa5u8; 12];
    repr.emit(
        &mut Packet::new_unchecked(&mut buf[..]),
        SRC,
        GROUP,
        V3Checksum::PseudoHeader,
    );
    assert_eq!(buf, V3_V4);
}

#[test]
fn v3_message_only_checksum_is_accepted_over_ipv4() {
    let mut buf = [0xa5u8; 12];
    v3_repr().emit(
        &mut Packet::new_unchecked(&mut buf[..]),
        SRC,
        GROUP,
        V3Checksum::MessageOnly,
    );
    assert_eq!(checksum::checksum(&buf), 0);
    assert_ne!(buf, V3_V4);
    let (repr, form) = Repr::parse_with_form(&Packet::new_unchecked(&buf[..]), SRC, GROUP).unwrap();
    assert_eq!(repr, v3_repr());
    assert_eq!(form, ChecksumForm::MessageOnly);
}

#[test]
fn legacy_unicast_form_only_to_unicast_destinations() {
    // The multicast advert's bytes, received as if sent to a unicast peer.
    let peer = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 200));
    let p = Packet::new_unchecked(&V3_V4[..]);
    let (_, form) = Repr::parse_with_form(&p, SRC, peer).unwrap();
    assert_eq!(form, ChecksumForm::LegacyUnicast);
    let other_group = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 44));
    assert_eq!(
        Repr::parse(&p, SRC, other_group).unwrap_err(),
        Error::BadChecksum
    );
}

#[test]
fn v2_over_ipv6_is_refused() {
    let six: IpAddr = "fe80::1".parse().unwrap();
    let group = IpAddr::V6(MCAST_GROUP_V6);
    let p = Packet::new_unchecked(&V2_PASS[..]);
    assert_eq!(Repr::parse(&p, six, group).unwrap_err(), Error::BadVersion);
    assert_eq!(Repr::parse(&p, SRC, group).unwrap_err(), Error::Malformed);
}

#[test]
fn zero_interval_is_malformed() {
    let repr = Repr {
        adver_int_cs: 0,
        ..v3_repr()
    };
    let mut buf = [0u8; 12];
    repr.emit(
        &mut Packet::new_unchecked(&mut buf[..]),
        SRC,
        GROUP,
        V3Checksum::PseudoHeader,
    );
    assert_eq!(
        Repr::parse(&Packet::new_unchecked(&buf[..]), SRC, GROUP).unwrap_err(),
        Error::Malformed
    );
}

#[test]
fn v2_interval_is_whole_seconds_within_a_byte() {
    for (cs, secs) in [(50u16, 1u8), (100, 1), (250, 2), (30000, 255)] {
        let repr = Repr {
            adver_int_cs: cs,
            ..v2_repr()
        };
        let mut buf = [0u8; 20];
        repr.emit(
            &mut Packet::new_unchecked(&mut buf[..]),
            SRC,
            GROUP,
            V3Checksum::MessageOnly,
        );
        assert_eq!(Packet::new_unchecked(&buf[..]).adver_int(), secs);
    }
}
