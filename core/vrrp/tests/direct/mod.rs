//! One router on `eth0` driven by hand (no simulated LAN), for the tests
//! that feed it packets themselves: the addresses, a started router, and the
//! bytes and receive metadata of an advert.

#![allow(dead_code)] // each test binary uses a different subset

use std::net::{IpAddr, Ipv4Addr};

use vigil_vrrp::{Family, InstanceConfig, Instant, Repr, Router, RouterConfig, RxMeta, V3Checksum};
use vigil_wire::vrrp::Packet;

/// VRRP's IPv4 multicast group.
pub const GROUP: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
/// The other router.
pub const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 100));
/// This router's address on `eth0`.
pub const SELF: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 200));

/// A router with the one instance `c`, `eth0` at [`SELF`], started, its
/// start-up actions drained.
pub fn started(c: InstanceConfig) -> Router {
    let mut r = Router::new(RouterConfig {
        instances: vec![c],
        ..Default::default()
    });
    r.handle_address(Instant::ZERO, "eth0", Family::V4, Some(SELF));
    r.handle_start(Instant::ZERO);
    while r.poll_action().is_some() {}
    r
}

/// `repr` as sent from `src` to `dst`.
pub fn bytes(repr: &Repr, src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(
        &mut Packet::new_unchecked(&mut b[..]),
        src,
        dst,
        V3Checksum::PseudoHeader,
    );
    b
}

/// How a packet from `src` to `dst` arrived on `eth0`.
pub fn meta(src: IpAddr, dst: IpAddr, ttl: u8) -> RxMeta<'static> {
    RxMeta {
        interface: "eth0",
        src,
        dst,
        ttl: Some(ttl),
    }
}
