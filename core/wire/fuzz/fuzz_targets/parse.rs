//! Every vigil-wire parser of ours on arbitrary input: none may panic, and a
//! parsed advert must emit back to bytes that parse to the same value.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vigil_wire::vrrp::{self, Repr, V3Checksum};
use vigil_wire::{ipv4, ipv6};

fn round_trip(repr: &Repr, src: IpAddr, dst: IpAddr) {
    for csum in [V3Checksum::PseudoHeader, V3Checksum::MessageOnly] {
        let mut buf = vec![0xa5u8; repr.buffer_len()];
        repr.emit(&mut vrrp::Packet::new_unchecked(&mut buf[..]), src, dst, csum);
        let again = Repr::parse(&vrrp::Packet::new_unchecked(&buf[..]), src, dst);
        assert_eq!(again.as_ref(), Ok(repr));
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = ipv4::payload(data);
    let _ = ipv6::payload(data);
    if let Ok((ip, repr)) = vrrp::parse_ipv4(data) {
        round_trip(&repr, ip.src.into(), ip.dst.into());
    }
    if let Ok((ip, repr)) = vrrp::parse_ipv6(data) {
        round_trip(&repr, ip.src.into(), ip.dst.into());
    }
    // First byte picks the address family of a bare VRRP message.
    let Some((&sel, msg)) = data.split_first() else { return };
    let (src, dst): (IpAddr, IpAddr) = if sel & 1 == 0 {
        (Ipv4Addr::new(192, 168, 67, 100).into(), Ipv4Addr::new(224, 0, 0, 18).into())
    } else {
        ("fe80::1".parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::LOCALHOST).into(), vrrp::MCAST_GROUP_V6.into())
    };
    if let Ok(p) = vrrp::Packet::new_checked(msg) {
        let _ = (p.address_v4(usize::from(sel)), p.address_v6(usize::from(sel)), p.auth_data());
        if let Ok(repr) = Repr::parse(&p, src, dst) {
            round_trip(&repr, src, dst);
        }
    }
});
