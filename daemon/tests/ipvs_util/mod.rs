//! Helpers shared by the IPVS message, rendering and kernel tests.
#![allow(dead_code)]

use std::net::IpAddr;

use vigil_lvs::{Destination, Forwarding, IpProto, Service, ServiceKey};

pub const FAM: u16 = 0x24;

/// Bytes from whitespace-separated hex; `#` starts a comment to the end of
/// the line.
pub fn hex(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in s.lines() {
        let code = line.split('#').next().unwrap_or("");
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(digits.len().is_multiple_of(2), "odd hex in {line:?}");
        for i in (0..digits.len()).step_by(2) {
            out.push(u8::from_str_radix(&digits[i..i + 2], 16).unwrap());
        }
    }
    out
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Checks the nlmsghdr and genlmsghdr; returns the attributes.
pub fn body(msg: &[u8], flags: u16, seq: u32, cmd: u8) -> Vec<u8> {
    assert_eq!(
        u32::from_le_bytes(msg[0..4].try_into().unwrap()) as usize,
        msg.len()
    );
    assert_eq!(u16::from_le_bytes([msg[4], msg[5]]), FAM, "family id");
    assert_eq!(u16::from_le_bytes([msg[6], msg[7]]), flags, "flags");
    assert_eq!(u32::from_le_bytes(msg[8..12].try_into().unwrap()), seq);
    assert_eq!(&msg[12..16], &[0, 0, 0, 0], "pid 0");
    assert_eq!(&msg[16..20], &[cmd, 1, 0, 0], "cmd, version 1");
    msg[20..].to_vec()
}

pub const ACK: u16 = 0x0005; // REQUEST | ACK
pub const DUMP: u16 = 0x0301; // REQUEST | DUMP

pub fn addr_key(protocol: IpProto, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        addr: ip(addr),
        port,
        protocol,
    }
}

pub fn tcp80() -> ServiceKey {
    addr_key(IpProto::Tcp, "192.168.1.1", 80)
}

/// A service without a persistence engine.
pub fn service_with(
    key: ServiceKey,
    sched: &str,
    flags: u32,
    timeout: u32,
    netmask: u8,
) -> Service {
    Service {
        key,
        scheduler: sched.into(),
        flags,
        timeout,
        netmask,
        pe_name: None,
    }
}

pub fn service(key: ServiceKey, sched: &str) -> Service {
    service_with(key, sched, 0, 0, key.family().full_prefix())
}

/// A destination without connection thresholds.
pub fn weighted(addr: &str, port: u16, forwarding: Forwarding, weight: u32) -> Destination {
    Destination {
        addr: ip(addr),
        port,
        forwarding,
        weight,
        u_threshold: 0,
        l_threshold: 0,
    }
}

pub fn dest(addr: &str, port: u16, forwarding: Forwarding) -> Destination {
    weighted(addr, port, forwarding, 1)
}
