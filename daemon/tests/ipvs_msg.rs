//! IPVS generic netlink requests against bytes written out by hand from
//! linux/ip_vs.h (attribute numbers and types, notes/ipvs.md 1.3-1.11):
//! every command, v4/v6, fwmark, each forwarding method and tunnel type,
//! flags, PE, dumps and the family lookup. Replies: ipvs_reply.rs.
//!
//! Host-order fields are written little-endian, so this file is for
//! little-endian targets (x86_64, aarch64).
#![cfg(target_endian = "little")]

mod ipvs_util;

use ipvs_util::*;
use vigil::os::ipvs::encode::{request, Request};
use vigil::os::ipvs::{family, Timeouts};
use vigil_lvs::{
    Command, DestKey, Family, Forwarding, IpProto, ServiceKey, TunCsum, Tunnel, FLAG_MH_FALLBACK,
    FLAG_MH_PORT, FLAG_ONEPACKET, FLAG_PERSISTENT,
};

/// SERVICE nest of TCP 192.168.1.1:80, identity only.
const TCP80_ID: &str = "
    3000 0180                          # SERVICE, nested, 48 bytes
      0600 0100 0200 0000              # AF = AF_INET (host u16) + pad
      0600 0200 0600 0000              # PROTOCOL = 6
      1400 0300 c0a80101 00000000 00000000 00000000  # ADDR, 16-byte union
      0600 0400 0050 0000              # PORT = 80, big-endian
";

#[test]
fn add_service_whole_message() {
    let msg = request(
        FAM,
        5,
        &Request::Apply(&Command::AddService(service(tcp80(), "wlc"))),
    );
    let want = hex("
        68000000 2400 0500 05000000 00000000  # nlmsghdr: len 104, IPVS, REQUEST|ACK, seq 5, pid 0
        01 01 0000                            # NEW_SERVICE, version 1
        5400 0180                             # SERVICE nest, 84 bytes
          0600 0100 0200 0000                 # AF 2
          0600 0200 0600 0000                 # PROTOCOL 6
          1400 0300 c0a80101 00000000 00000000 00000000
          0600 0400 0050 0000                 # PORT 80 (be16)
          0800 0600 776c6300                  # SCHED_NAME \"wlc\\0\"
          0c00 0700 00000000 ffffffff         # FLAGS {0, mask ~0}
          0800 0800 00000000                  # TIMEOUT 0
          0800 0900 ffffffff                  # NETMASK 255.255.255.255
    ");
    assert_eq!(msg, want);
}

#[test]
fn edit_service_v6_persistent_with_pe_and_ops() {
    let mut s = service(
        ServiceKey::Addr {
            addr: ip("2001:db8::1"),
            port: 5060,
            protocol: IpProto::Udp,
        },
        "rr",
    );
    s.flags = FLAG_PERSISTENT | FLAG_ONEPACKET | 0x2; // HASHED is never sent
    s.timeout = 360;
    s.netmask = 64;
    s.pe_name = Some("sip".into());
    let msg = request(FAM, 9, &Request::Apply(&Command::EditService(s)));
    let want = hex("
        5c00 0180                          # SERVICE, 92 bytes
          0600 0100 0a00 0000              # AF 10
          0600 0200 1100 0000              # PROTOCOL 17
          1400 0300 20010db8 00000000 00000000 00000001
          0600 0400 13c4 0000              # PORT 5060 (be16)
          0700 0600 727200 00              # SCHED_NAME \"rr\\0\" + pad
          0800 0b00 73697000               # PE_NAME \"sip\\0\"
          0c00 0700 05000000 ffffffff      # FLAGS PERSISTENT|ONEPACKET
          0800 0800 68010000               # TIMEOUT 360
          0800 0900 40000000               # NETMASK: IPv6 prefix 64 as host u32
    ");
    assert_eq!(body(&msg, ACK, 9, 2), want);
}

#[test]
fn fwmark_services_carry_no_protocol_address_or_port() {
    let v6 = ServiceKey::Fwmark {
        mark: 7,
        family: Family::V6,
    };
    let mut s = service(v6, "mh");
    s.flags = FLAG_PERSISTENT | FLAG_MH_FALLBACK | FLAG_MH_PORT;
    s.timeout = 300;
    let msg = request(FAM, 1, &Request::Apply(&Command::AddService(s)));
    let want = hex("
        3800 0180
          0600 0100 0a00 0000              # AF 10
          0800 0500 07000000               # FWMARK 7
          0700 0600 6d6800 00              # \"mh\"
          0c00 0700 19000000 ffffffff      # PERSISTENT|SCHED1|SCHED2
          0800 0800 2c010000               # TIMEOUT 300
          0800 0900 80000000               # prefix 128
    ");
    assert_eq!(body(&msg, ACK, 1, 1), want);

    let v4 = ServiceKey::Fwmark {
        mark: 0x01020304,
        family: Family::V4,
    };
    let msg = request(FAM, 2, &Request::Apply(&Command::DelService(v4)));
    let want = hex("
        1400 0180
          0600 0100 0200 0000
          0800 0500 04030201               # FWMARK, host order
    ");
    assert_eq!(body(&msg, ACK, 2, 3), want);
}

#[test]
fn sctp_service_with_an_ipv4_granularity() {
    let mut s = service(
        ServiceKey::Addr {
            addr: ip("10.1.2.3"),
            port: 3868,
            protocol: IpProto::Sctp,
        },
        "lblcr",
    );
    s.flags = FLAG_PERSISTENT;
    s.timeout = 60;
    s.netmask = 24;
    let msg = request(FAM, 3, &Request::Apply(&Command::AddService(s)));
    let want = hex("
        5800 0180
          0600 0100 0200 0000
          0600 0200 8400 0000              # PROTOCOL 132
          1400 0300 0a010203 00000000 00000000 00000000
          0600 0400 0f1c 0000              # PORT 3868
          0a00 0600 6c626c637200 0000      # \"lblcr\\0\"
          0c00 0700 01000000 ffffffff
          0800 0800 3c000000               # 60 s
          0800 0900 ffffff00               # 255.255.255.0, network order
    ");
    assert_eq!(body(&msg, ACK, 3, 1), want);
}

#[test]
fn add_dest_dr_with_thresholds() {
    let mut d = dest("10.0.0.1", 80, Forwarding::Dr);
    d.weight = 0x102;
    d.u_threshold = 100;
    d.l_threshold = 10;
    let msg = request(FAM, 4, &Request::Apply(&Command::AddDest(tcp80(), d)));
    let want = [
        hex(TCP80_ID),
        hex("
        4800 0280                          # DEST nest, 72 bytes (sibling of SERVICE)
          0600 0b00 0200 0000              # ADDR_FAMILY 2
          1400 0100 0a000001 00000000 00000000 00000000
          0600 0200 0050 0000              # PORT 80 (be16)
          0800 0300 03000000               # FWD_METHOD DROUTE
          0800 0400 02010000               # WEIGHT 258
          0800 0500 64000000               # U_THRESH 100
          0800 0600 0a000000               # L_THRESH 10
        "),
    ]
    .concat();
    assert_eq!(body(&msg, ACK, 4, 5), want);
}

#[test]
fn edit_dest_nat_v6() {
    let key = ServiceKey::Addr {
        addr: ip("2001:db8::1"),
        port: 80,
        protocol: IpProto::Tcp,
    };
    let d = dest("2001:db8::a", 8080, Forwarding::Nat);
    let msg = request(FAM, 6, &Request::Apply(&Command::EditDest(key, d)));
    let want = hex("
        3000 0180
          0600 0100 0a00 0000
          0600 0200 0600 0000
          1400 0300 20010db8 00000000 00000000 00000001
          0600 0400 0050 0000
        4800 0280
          0600 0b00 0a00 0000              # ADDR_FAMILY 10
          1400 0100 20010db8 00000000 00000000 0000000a
          0600 0200 1f90 0000              # PORT 8080
          0800 0300 00000000               # MASQ
          0800 0400 01000000
          0800 0500 00000000
          0800 0600 00000000
    ");
    assert_eq!(body(&msg, ACK, 6, 6), want);
}

/// The DEST nest of 10.0.0.1:80 TUNNEL weight 1 with `tun` between WEIGHT
/// and U_THRESH.
fn tunnel_dest(len: &str, tun: &str) -> Vec<u8> {
    [
        hex(TCP80_ID),
        hex(&format!("{len} 0280")),
        hex("
          0600 0b00 0200 0000
          1400 0100 0a000001 00000000 00000000 00000000
          0600 0200 0050 0000
          0800 0300 02000000               # FWD_METHOD TUNNEL
          0800 0400 01000000
        "),
        hex(tun),
        hex("
          0800 0500 00000000
          0800 0600 00000000
        "),
    ]
    .concat()
}

#[test]
fn every_tunnel_type() {
    let cases = [
        (
            Tunnel::ipip(),
            "5000",
            "0500 0d00 00 000000", // TUN_TYPE 0 (u8 + pad); no port, no flags
        ),
        (
            Tunnel::gue(6080, TunCsum::Csum),
            "6000",
            "0500 0d00 01 000000  0600 0e00 17c0 0000  0600 0f00 0100 0000", // GUE, port be16, csum
        ),
        (
            Tunnel::gue(6081, TunCsum::RemCsum),
            "6000",
            "0500 0d00 01 000000  0600 0e00 17c1 0000  0600 0f00 0200 0000",
        ),
        (
            Tunnel {
                port: 99, // ignored for GRE: not sent
                ..Tunnel::gre(TunCsum::NoCsum)
            },
            "5800",
            "0500 0d00 02 000000  0600 0f00 0000 0000",
        ),
        (
            Tunnel::gre(TunCsum::Csum),
            "5800",
            "0500 0d00 02 000000  0600 0f00 0100 0000",
        ),
    ];
    for (t, len, tun) in cases {
        let d = dest("10.0.0.1", 80, Forwarding::Tun(t));
        let msg = request(FAM, 7, &Request::Apply(&Command::AddDest(tcp80(), d)));
        assert_eq!(body(&msg, ACK, 7, 5), tunnel_dest(len, tun), "{t:?}");
    }
}

#[test]
fn del_dest_sends_the_identity_only() {
    let key = DestKey {
        addr: ip("10.0.0.1"),
        port: 80,
    };
    let msg = request(FAM, 8, &Request::Apply(&Command::DelDest(tcp80(), key)));
    let want = [
        hex(TCP80_ID),
        hex("
        2800 0280
          0600 0b00 0200 0000
          1400 0100 0a000001 00000000 00000000 00000000
          0600 0200 0050 0000
        "),
    ]
    .concat();
    assert_eq!(body(&msg, ACK, 8, 7), want);
}

#[test]
fn commands_without_attributes_and_dumps() {
    assert_eq!(
        body(
            &request(FAM, 1, &Request::Apply(&Command::Flush)),
            ACK,
            1,
            17
        ),
        b""
    );
    assert_eq!(body(&request(FAM, 2, &Request::Info), ACK, 2, 15), b"");
    assert_eq!(body(&request(FAM, 3, &Request::Timeouts), ACK, 3, 13), b"");
    assert_eq!(body(&request(FAM, 4, &Request::Services), DUMP, 4, 4), b"");
    let t = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 0,
    };
    let want = hex("
        0800 0400 84030000                 # TIMEOUT_TCP 900
        0800 0500 78000000                 # TIMEOUT_TCP_FIN 120
        0800 0600 00000000                 # TIMEOUT_UDP 0 = unchanged
    ");
    assert_eq!(
        body(&request(FAM, 5, &Request::SetTimeouts(&t)), ACK, 5, 12),
        want
    );
    let key = tcp80();
    assert_eq!(
        body(&request(FAM, 6, &Request::Dests(&key)), DUMP, 6, 8),
        hex(TCP80_ID)
    );
}

#[test]
fn family_lookup_request() {
    let want = hex("
        20000000 1000 0500 2a000000 00000000  # len 32, GENL_ID_CTRL, REQUEST|ACK, seq 42
        03 01 0000                            # CTRL_CMD_GETFAMILY, version 1
        0900 0200 49505653 00 000000          # CTRL_ATTR_FAMILY_NAME \"IPVS\\0\" + pad
    ");
    assert_eq!(family::request(42, "IPVS"), want);
}
