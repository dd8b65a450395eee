//! keepalived 2.2.7's `auth_type AH` adverts (tests/captures/capture.sh, cases
//! v2-ah and v2-ah-unicast, `auth_pass 1111`): our ICV must verify theirs, and
//! sealing the same datagram must give back their exact bytes.

mod support;

use vigil_wire::ah::{self, Refusal, AH_LEN, IPPROTO_AH};
use vigil_wire::vrrp::{self, Auth, Packet, Repr};

const KEY: ah::Key = *b"1111\0\0\0\0";
const MASTER: [u8; 4] = [192, 168, 67, 100];

fn check(name: &str, unicast: bool, priority: u8) -> u32 {
    let bytes = support::get(name);
    assert_eq!(bytes[9], IPPROTO_AH, "{name}: protocol");
    let (h, at) = ah::open(&bytes, &KEY, unicast).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert_eq!(at, 20 + AH_LEN);
    assert_eq!(h.spi.to_be_bytes(), MASTER, "{name}: SPI is the source");
    // The VRRP message after the AH header: type 2, zero data, its checksum.
    let view = Packet::new_checked(&bytes[at..]).unwrap();
    let src = std::net::Ipv4Addr::from(MASTER).into();
    let dst = std::net::Ipv4Addr::new(bytes[16], bytes[17], bytes[18], bytes[19]).into();
    let repr = Repr::parse(&view, src, dst).unwrap();
    assert_eq!(repr.auth, Auth::Ah([0; 8]), "{name}");
    assert_eq!(repr.priority, priority, "{name}");
    // Emitting the advert with the key as config must not leak the key.
    let mut msg = vec![0xa5u8; repr.buffer_len()];
    let mut cfg = repr.clone();
    cfg.auth = Auth::Ah(KEY);
    cfg.emit(
        &mut Packet::new_unchecked(&mut msg[..]),
        src,
        dst,
        vrrp::V3Checksum::PseudoHeader,
    );
    assert_eq!(msg[..], bytes[at..], "{name}: VRRP message re-emitted");
    // Sealing what keepalived sent, AH blanked, gives keepalived's bytes.
    let mut again = bytes.clone();
    again[20..at].fill(0xa5);
    ah::seal(&mut again, &KEY, h.seq, unicast).unwrap();
    assert_eq!(again, bytes, "{name}: sealed");
    // And the wrong key, or the other TTL rule, does not verify.
    assert_eq!(
        ah::open(&bytes, b"2222\0\0\0\0", unicast),
        Err(Refusal::BadIcv)
    );
    h.seq
}

#[test]
fn multicast_first_advert() {
    assert_eq!(check("v2-ah", false, 100), 1, "keepalived counts from 1");
}

#[test]
fn multicast_priority_zero_on_sigterm() {
    assert!(check("v2-ah-prio0", false, 0) > 1);
}

#[test]
fn unicast_zeroes_the_ttl() {
    assert_eq!(check("v2-ah-unicast", true, 100), 1);
    // keepalived leaves TTL in the ICV for multicast only.
    let bytes = support::get("v2-ah-unicast");
    assert_eq!(ah::open(&bytes, &KEY, false), Err(Refusal::BadIcv));
    let mut other_ttl = bytes.clone();
    other_ttl[8] = 1;
    assert!(ah::open(&other_ttl, &KEY, true).is_ok());
}
