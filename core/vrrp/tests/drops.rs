//! Every malformed or mismatched advert is dropped, counted under its own
//! reason, and leaves the timers alone. Packets go in as bytes through
//! `handle_packet`, so the wire parser's errors are covered too.

use std::net::{IpAddr, Ipv4Addr};

mod direct;

use direct::{bytes, meta, started, GROUP, PEER, SELF};
use vigil_vrrp::{
    Action, Auth, DropReason, InstanceConfig, Instant, Repr, Router, RxMeta, State, V3Checksum,
    Version,
};
use vigil_wire::vrrp::Packet;

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 150));
const PASS: [u8; 8] = *b"1111\0\0\0\0";

fn instance() -> InstanceConfig {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51);
    c.priority = 80;
    c.auth = Auth::Simple(PASS);
    c.virtual_addresses = vec![VIP];
    c
}

fn good() -> Repr {
    Repr {
        version: Version::V2,
        vrid: 51,
        priority: 100,
        adver_int_cs: 100,
        auth: Auth::Simple(PASS),
        addresses: vec![VIP],
    }
}

/// Rewrite one field with the view's setters, then fix the checksum.
fn patched(repr: &Repr, f: impl FnOnce(&mut Packet<&mut [u8]>)) -> Vec<u8> {
    let mut b = bytes(repr, PEER, GROUP);
    let mut p = Packet::new_unchecked(&mut b[..]);
    f(&mut p);
    p.fill_checksum(PEER, GROUP, V3Checksum::PseudoHeader);
    b
}

/// Feed `payload` at 1 s and return the counters of VI_1 and the global ones.
fn feed(c: InstanceConfig, m: RxMeta<'_>, payload: &[u8]) -> (Router, vigil_vrrp::Counters) {
    let mut r = started(c);
    r.handle_packet(Instant::from_secs(1), &m, payload);
    let id = r.instance_id("VI_1").unwrap();
    let counters = r.instance(id).unwrap().counters;
    (r, counters)
}

fn assert_dropped(c: InstanceConfig, m: RxMeta<'_>, payload: &[u8], reason: DropReason) {
    let (r, counters) = feed(c, m, payload);
    assert_eq!(counters.dropped(reason), 1, "{reason}: {counters:?}");
    assert_eq!(counters.dropped_total(), 1, "{reason}: counted once");
    assert_eq!(counters.adverts_received, 0, "{reason}");
    // A dropped advert does not reset the down timer (set at start: 3.6875 s).
    assert_eq!(
        r.poll_timeout(),
        Some(Instant::from_micros(3_687_500)),
        "{reason}"
    );
}

#[test]
fn a_valid_advert_is_counted_and_resets_the_timer() {
    let (r, counters) = feed(
        instance(),
        meta(PEER, GROUP, 255),
        &bytes(&good(), PEER, GROUP),
    );
    assert_eq!(counters.adverts_received, 1);
    assert_eq!(counters.dropped_total(), 0);
    assert_eq!(
        r.poll_timeout(),
        Some(Instant::from_micros(1_000_000 + 3_687_500))
    );
}

#[test]
fn ttl_other_than_255_on_multicast() {
    let b = bytes(&good(), PEER, GROUP);
    assert_dropped(instance(), meta(PEER, GROUP, 254), &b, DropReason::Ttl);
}

#[test]
fn version_mismatch_parsed_and_unparsable() {
    let mut v3 = good();
    v3.version = Version::V3;
    v3.auth = Auth::None;
    let b = bytes(&v3, PEER, GROUP);
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::Version);
    let b = patched(&good(), |p| p.set_version(4));
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::Version);
}

#[test]
fn wrong_type() {
    let b = patched(&good(), |p| p.set_kind(2));
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::Type);
}

#[test]
fn unknown_vrid_is_counted_globally() {
    let mut other = good();
    other.vrid = 77;
    let (r, counters) = feed(
        instance(),
        meta(PEER, GROUP, 255),
        &bytes(&other, PEER, GROUP),
    );
    assert_eq!(counters.dropped_total(), 0);
    assert_eq!(r.global_counters().dropped(DropReason::UnknownVrid), 1);
    let mut on_other_iface = meta(PEER, GROUP, 255);
    on_other_iface.interface = "eth1";
    let (r, _) = feed(instance(), on_other_iface, &bytes(&good(), PEER, GROUP));
    assert_eq!(r.global_counters().dropped(DropReason::UnknownVrid), 1);
}

#[test]
fn bad_length() {
    let mut b = bytes(&good(), PEER, GROUP);
    b.pop();
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::Length);
    let (r, _) = feed(instance(), meta(PEER, GROUP, 255), &[0x21]);
    assert_eq!(
        r.global_counters().dropped(DropReason::Length),
        1,
        "too short for a VRID"
    );
}

#[test]
fn bad_checksum() {
    let mut b = bytes(&good(), PEER, GROUP);
    b[6] ^= 0x55;
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::Checksum);
}

#[test]
fn auth_type_mismatch_and_unknown_type() {
    let mut none = good();
    none.auth = Auth::None;
    let b = bytes(&none, PEER, GROUP);
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::AuthType);
    let b = patched(&good(), |p| p.set_auth_type(7));
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::AuthType);
}

#[test]
fn auth_password_mismatch() {
    let mut wrong = good();
    wrong.auth = Auth::Simple(*b"2222\0\0\0\0");
    let b = bytes(&wrong, PEER, GROUP);
    assert_dropped(
        instance(),
        meta(PEER, GROUP, 255),
        &b,
        DropReason::AuthPassword,
    );
}

#[test]
fn v2_interval_mismatch() {
    let mut slow = good();
    slow.adver_int_cs = 200;
    let b = bytes(&slow, PEER, GROUP);
    assert_dropped(instance(), meta(PEER, GROUP, 255), &b, DropReason::Interval);
}

#[test]
fn address_list_mismatch_unless_skipped() {
    let mut other = good();
    other.addresses = vec![IpAddr::V4(Ipv4Addr::new(192, 168, 67, 151))];
    let b = bytes(&other, PEER, GROUP);
    assert_dropped(
        instance(),
        meta(PEER, GROUP, 255),
        &b,
        DropReason::AddressList,
    );

    // skip_check_adv_addr skips the check only for the known master.
    let mut skip = instance();
    skip.skip_check_adv_addr = true;
    let mut r = started(skip);
    let m = meta(PEER, GROUP, 255);
    r.handle_packet(Instant::from_secs(1), &m, &b);
    r.handle_packet(Instant::from_secs(1), &m, &bytes(&good(), PEER, GROUP));
    r.handle_packet(Instant::from_secs(2), &m, &b);
    let c = r.instance(r.instance_id("VI_1").unwrap()).unwrap().counters;
    assert_eq!(
        (c.dropped(DropReason::AddressList), c.adverts_received),
        (1, 2)
    );
}

#[test]
fn unicast_source_not_a_peer() {
    let mut c = instance();
    c.unicast_peers = vec![PEER];
    c.check_unicast_src = true;
    let stranger = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 99));
    let b = bytes(&good(), stranger, SELF);
    assert_dropped(c, meta(stranger, SELF, 64), &b, DropReason::UnicastSource);
}

#[test]
fn family_mismatch() {
    let src: IpAddr = "fe80::1".parse().unwrap();
    let dst: IpAddr = "ff02::12".parse().unwrap();
    let v6 = Repr {
        version: Version::V3,
        vrid: 51,
        priority: 100,
        adver_int_cs: 100,
        auth: Auth::None,
        addresses: vec!["2001:db8::150".parse().unwrap()],
    };
    let b = bytes(&v6, src, dst);
    assert_dropped(instance(), meta(src, dst, 255), &b, DropReason::Family);
}

#[test]
fn unicast_advert_on_a_multicast_instance() {
    let b = bytes(&good(), PEER, SELF);
    assert_dropped(
        instance(),
        meta(PEER, SELF, 255),
        &b,
        DropReason::Destination,
    );
}

#[test]
fn zero_interval_is_malformed() {
    let b = patched(&good(), |p| p.set_adver_int(0));
    assert_dropped(
        instance(),
        meta(PEER, GROUP, 255),
        &b,
        DropReason::Malformed,
    );
}

#[test]
fn a_master_ignores_garbage_and_keeps_advertising() {
    let mut c = instance();
    c.priority = 255;
    let mut r = started(c);
    let id = r.instance_id("VI_1").unwrap();
    assert_eq!(r.instance(id).unwrap().state, State::Master);
    let mut junk = bytes(&good(), PEER, GROUP);
    junk[7] ^= 1;
    r.handle_packet(Instant::from_millis(500), &meta(PEER, GROUP, 255), &junk);
    assert_eq!(r.poll_action(), None);
    assert_eq!(r.poll_timeout(), Some(Instant::from_secs(1)));
    r.handle_timeout(Instant::from_secs(1));
    assert!(matches!(r.poll_action(), Some(Action::SendAdvert { .. })));
}
