//! IPVS generic netlink messages against bytes written out by hand from
//! linux/ip_vs.h (attribute numbers and types, notes/ipvs.md 1.3-1.11):
//! every request, the replies (dumps with PAD attributes and 16-byte
//! addresses), the answer collector, and the error lines.
//!
//! Host-order fields are written little-endian, so this file is for
//! little-endian targets (x86_64, aarch64).
#![cfg(target_endian = "little")]

use std::net::IpAddr;

use nix::errno::Errno;
use vigil::os::ipvs::decode::{self, Collector, Refusal};
use vigil::os::ipvs::encode::{request, Request};
use vigil::os::ipvs::{family, IpvsError, Op, Timeouts};
use vigil_lvs::{
    Command, DestKey, Destination, Family, Forwarding, IpProto, Service, ServiceKey, TunCsum,
    Tunnel, FLAG_MH_FALLBACK, FLAG_MH_PORT, FLAG_ONEPACKET, FLAG_PERSISTENT,
};

const FAM: u16 = 0x24;

/// Bytes from whitespace-separated hex; `#` starts a comment to the end of
/// the line.
fn hex(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in s.lines() {
        let code = line.split('#').next().unwrap_or("");
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(digits.len() % 2 == 0, "odd hex in {line:?}");
        for i in (0..digits.len()).step_by(2) {
            out.push(u8::from_str_radix(&digits[i..i + 2], 16).unwrap());
        }
    }
    out
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Checks the nlmsghdr and genlmsghdr; returns the attributes.
fn body(msg: &[u8], flags: u16, seq: u32, cmd: u8) -> Vec<u8> {
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

const ACK: u16 = 0x0005; // REQUEST | ACK
const DUMP: u16 = 0x0301; // REQUEST | DUMP

fn tcp80() -> ServiceKey {
    ServiceKey::Addr {
        addr: ip("192.168.1.1"),
        port: 80,
        protocol: IpProto::Tcp,
    }
}

fn service(key: ServiceKey, sched: &str) -> Service {
    Service {
        key,
        scheduler: sched.into(),
        flags: 0,
        timeout: 0,
        netmask: key.family().full_prefix(),
        pe_name: None,
    }
}

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

fn dest(addr: &str, port: u16, forwarding: Forwarding) -> Destination {
    Destination {
        addr: ip(addr),
        port,
        forwarding,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
    }
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

const PID: u32 = 0x1234;

/// A netlink message around `body` (family `ty`, our pid).
fn nlmsg(ty: u16, flags: u16, seq: u32, pid: u32, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&((16 + body.len()) as u32).to_le_bytes());
    m.extend_from_slice(&ty.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&seq.to_le_bytes());
    m.extend_from_slice(&pid.to_le_bytes());
    m.extend_from_slice(body);
    m
}

fn genl(cmd: u8, attrs: &str) -> Vec<u8> {
    [vec![cmd, 1, 0, 0], hex(attrs)].concat()
}

/// A dumped TCP [2001:db8::1]:443 sh service: HASHED set, STATS64 with PAD.
const V6_SERVICE: &str = "
    a800 0100                               # SERVICE (kernel sends it without NLA_F_NESTED)
      0600 0100 0a00 0000                   # AF 10
      0600 0200 0600 0000                   # TCP
      1400 0300 20010db8 00000000 00000000 00000001
      0600 0400 01bb 0000                   # 443
      0700 0600 736800 00                   # \"sh\"
      0c00 0700 1a000000 ffffffff           # HASHED|SCHED1|SCHED2
      0800 0800 00000000
      0800 0900 40000000                    # prefix 64
      5400 0c00                             # STATS64
        0400 0b00                           # PAD
        0c00 0100 05000000 00000000         # CONNS 5
        0c00 0200 00e1f505 00000000         # INPKTS 100000000
        0400 0b00                           # PAD
        0c00 0300 07000000 00000000         # OUTPKTS 7
        0c00 0400 00ca9a3b 00000000         # INBYTES 1000000000
        0c00 0500 09000000 00000000         # OUTBYTES 9
        0c00 0900 0a000000 00000000         # INBPS 10
";

#[test]
fn dumped_service_masks_hashed_and_skips_pad() {
    let e = decode::service(&hex(V6_SERVICE)).unwrap();
    let s = &e.service;
    assert_eq!(
        s.key,
        ServiceKey::Addr {
            addr: ip("2001:db8::1"),
            port: 443,
            protocol: IpProto::Tcp
        }
    );
    assert_eq!(
        (s.scheduler.as_str(), s.flags, s.timeout, s.netmask),
        ("sh", 0x18, 0, 64)
    );
    assert_eq!(s.pe_name, None);
    assert_eq!(
        (
            e.stats.conns,
            e.stats.inpkts,
            e.stats.outpkts,
            e.stats.inbytes,
            e.stats.outbytes
        ),
        (5, 100_000_000, 7, 1_000_000_000, 9)
    );
    assert_eq!((e.stats.inbps, e.stats.cps), (10, 0));
}

#[test]
fn dumped_fwmark_and_v4_services() {
    let e = decode::service(&hex("
        4000 0180
          0600 0100 0200 0000
          0800 0500 07000000                # FWMARK 7, no PROTOCOL/ADDR/PORT
          0700 0600 727200 00
          0c00 0700 03000000 ffffffff       # PERSISTENT|HASHED
          0800 0800 2c010000                # 300
          0800 0900 ffff0000                # 255.255.0.0
          0800 0b00 73697000                # PE sip
    "))
    .unwrap();
    let s = e.service;
    assert_eq!(
        s.key,
        ServiceKey::Fwmark {
            mark: 7,
            family: Family::V4
        }
    );
    assert_eq!((s.flags, s.timeout, s.netmask), (FLAG_PERSISTENT, 300, 16));
    assert_eq!(s.pe_name.as_deref(), Some("sip"));
    // Old STATS nest: u32 counters, u64 bytes.
    let e = decode::service(&hex("
        6c00 0180
          0600 0100 0200 0000
          0600 0200 1100 0000               # UDP
          1400 0300 c0a80101 00000000 00000000 00000000
          0600 0400 0035 0000               # 53
          0700 0600 727200 00
          0c00 0700 06000000 ffffffff       # HASHED|ONEPACKET
          0800 0800 00000000
          0800 0900 ffffffff
          1800 0a00                         # STATS
            0800 0100 03000000              # CONNS 3 (u32)
            0c00 0400 00010000 00000000     # INBYTES 256 (u64)
    "))
    .unwrap();
    assert_eq!(
        e.service.key,
        ServiceKey::Addr {
            addr: ip("192.168.1.1"),
            port: 53,
            protocol: IpProto::Udp
        }
    );
    assert_eq!((e.service.flags, e.service.netmask), (FLAG_ONEPACKET, 32));
    assert_eq!((e.stats.conns, e.stats.inbytes), (3, 256));
}

#[test]
fn dumped_dests_with_tunnels_and_counts() {
    let gue = hex("
        8c00 0200
          1400 0100 20010db8 00000000 00000000 00000011
          0600 0200 01bb 0000
          0800 0300 02000000                # TUNNEL
          0800 0400 03000000                # weight 3
          0800 0500 00000000
          0800 0600 00000000
          0800 0700 04000000                # ACTIVE 4
          0800 0800 05000000                # INACT 5
          0800 0900 06000000                # PERSIST 6
          0600 0b00 0a00 0000               # ADDR_FAMILY 10
          0500 0d00 01 000000               # GUE
          0600 0e00 17c0 0000               # port 6080
          0600 0f00 0200 0000               # remcsum
          1400 0c00
            0400 0b00                       # PAD
            0c00 0100 2a000000 00000000     # CONNS 42
    ");
    let d = decode::dest(&gue, Family::V6).unwrap();
    assert_eq!(
        d.dest,
        Destination {
            addr: ip("2001:db8::11"),
            port: 443,
            forwarding: Forwarding::Tun(Tunnel::gue(6080, TunCsum::RemCsum)),
            weight: 3,
            u_threshold: 0,
            l_threshold: 0,
        }
    );
    assert_eq!(
        (
            d.active_conns,
            d.inact_conns,
            d.persist_conns,
            d.stats.conns
        ),
        (4, 5, 6, 42)
    );
    // A DR dest: the kernel still reports zero tunnel fields; IPv4 from the
    // first 4 bytes; no ADDR_FAMILY means the service's.
    let dr = hex("
        5800 0200
          1400 0100 0a000001 00000000 00000000 00000000
          0600 0200 0050 0000
          0800 0300 03000000
          0800 0400 01000000
          0800 0500 64000000
          0800 0600 0a000000
          0500 0d00 00 000000
          0600 0e00 0000 0000
          0600 0f00 0000 0000
    ");
    let d = decode::dest(&dr, Family::V4).unwrap();
    assert_eq!(
        (
            d.dest.addr,
            d.dest.forwarding,
            d.dest.u_threshold,
            d.dest.l_threshold
        ),
        (ip("10.0.0.1"), Forwarding::Dr, 100, 10)
    );
    // LOCALNODE and an ipip tunnel whose ignored fields are canonicalised.
    let mut local = dr.clone();
    local[4 + 20 + 8 + 4] = 1;
    assert_eq!(
        decode::dest(&local, Family::V4).unwrap().dest.forwarding,
        Forwarding::Local
    );
}

#[test]
fn malformed_replies_are_typed_errors() {
    use vigil::os::ipvs::DecodeError;
    // Missing FWD_METHOD.
    let e = decode::dest(
        &hex("
        2000 0200
          1400 0100 0a000001 00000000 00000000 00000000
          0600 0200 0050 0000
    "),
        Family::V4,
    );
    assert_eq!(e, Err(DecodeError::Missing("DEST_ATTR_FWD_METHOD")));
    // A port of 4 bytes.
    let e = decode::service(&hex("
        1c00 0100
          0600 0100 0200 0000
          0800 0400 00500000
          0600 0200 0600 0000
    "));
    assert!(
        matches!(e, Err(DecodeError::Missing("SVC_ATTR_ADDR"))),
        "{e:?}"
    );
    // An attribute longer than its buffer.
    assert_eq!(
        decode::service(&hex("ff00 0100 0000")),
        Err(DecodeError::Truncated("attribute"))
    );
    // Unknown family and protocol.
    let e = decode::service(&hex("0c00 0100 0600 0100 0700 0000"));
    assert_eq!(e, Err(DecodeError::UnknownFamily(7)));
    let e = decode::service(&hex("
        3000 0100
          0600 0100 0200 0000
          0600 0200 0100 0000               # ICMP
          1400 0300 0a000001 00000000 00000000 00000000
          0600 0400 0050 0000
    "));
    assert_eq!(e, Err(DecodeError::UnknownProtocol(1)));
}

#[test]
fn info_timeouts_and_family_replies() {
    let i = decode::info(&hex("0800 0100 01020100  0800 0200 00100000")).unwrap();
    assert_eq!(
        (i.version, i.conn_tab_size, i.version_string()),
        (0x010201, 4096, "1.2.1".into())
    );
    let t = decode::timeouts(&hex(
        "0800 0400 84030000 0800 0500 78000000 0800 0600 2c010000",
    ))
    .unwrap();
    assert_eq!(
        t,
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }
    );
    let id = decode::family_id(&hex("
        0900 0200 49505653 00 000000        # FAMILY_NAME
        0600 0100 2400 0000                 # FAMILY_ID 0x24
        0800 0300 01000000                  # VERSION
        0800 0500 06000000                  # MAXATTR
    "))
    .unwrap();
    assert_eq!(id, FAM);
}

#[test]
fn collector_takes_a_multipart_dump_across_datagrams() {
    let svc = genl(1, V6_SERVICE);
    let mut c = Collector::new(11, PID, FAM);
    // An old answer (seq 10), a message for another socket, then ours.
    let first = [
        nlmsg(FAM, 0x2, 10, PID, &svc),
        nlmsg(FAM, 0x2, 11, PID + 1, &svc),
        nlmsg(FAM, 0x2, 11, PID, &svc),
    ]
    .concat();
    assert_eq!(c.feed(&first), Ok(false));
    let second = [
        nlmsg(FAM, 0x2, 11, PID, &svc),
        nlmsg(3, 0x2, 11, PID, &[0; 4]),
    ]
    .concat();
    assert_eq!(c.feed(&second), Ok(true));
    let replies = c.into_replies();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0], hex(V6_SERVICE));
}

#[test]
fn collector_ends_a_doit_at_its_ack_and_reports_errors() {
    // GET_INFO: reply, then ACK (error 0 + the request header).
    let mut c = Collector::new(3, PID, FAM);
    let info = genl(14, "0800 0100 01020100 0800 0200 00100000");
    let ack = [0i32.to_le_bytes().to_vec(), vec![0; 16]].concat();
    let dg = [nlmsg(FAM, 0, 3, PID, &info), nlmsg(2, 0x100, 3, PID, &ack)].concat();
    assert_eq!(c.feed(&dg), Ok(true));
    assert_eq!(c.into_replies().len(), 1);
    // An error for us.
    let mut c = Collector::new(4, PID, FAM);
    let err = [(-3i32).to_le_bytes().to_vec(), vec![0; 16]].concat();
    assert_eq!(
        c.feed(&nlmsg(2, 0, 4, PID, &err)),
        Err(Refusal::Kernel(Errno::ESRCH))
    );
    // An error for an older request is not ours.
    let mut c = Collector::new(5, PID, FAM);
    assert_eq!(c.feed(&nlmsg(2, 0, 4, PID, &err)), Ok(false));
    // A dump that fails midway says so in DONE.
    let mut c = Collector::new(6, PID, FAM);
    let done = (-22i32).to_le_bytes();
    assert_eq!(
        c.feed(&nlmsg(3, 2, 6, PID, &done)),
        Err(Refusal::Kernel(Errno::EINVAL))
    );
    // A length beyond the datagram.
    let mut c = Collector::new(7, PID, FAM);
    let mut bad = nlmsg(FAM, 0, 7, PID, &[1, 0, 0, 0]);
    bad[0] = 0xff;
    assert!(matches!(c.feed(&bad), Err(Refusal::Malformed(_))));
}

#[test]
fn kernel_errors_name_the_object_and_the_meaning() {
    let e = |cmd: Command, errno| {
        let (op, what) = vigil::os::ipvs::describe::command(&cmd);
        IpvsError::Kernel { op, what, errno }.to_string()
    };
    let v4 = tcp80();
    let d = dest("10.0.0.1", 80, Forwarding::Dr);
    assert_eq!(
        e(Command::AddDest(v4, d), Errno::ESRCH),
        "adding real server 10.0.0.1:80 to TCP 192.168.1.1:80: No such process (the virtual service does not exist)"
    );
    assert_eq!(
        e(Command::AddService(service(v4, "rr")), Errno::EEXIST),
        "adding virtual service TCP 192.168.1.1:80: File exists (the virtual service already exists)"
    );
    assert_eq!(
        e(Command::AddDest(v4, d), Errno::EEXIST),
        "adding real server 10.0.0.1:80 to TCP 192.168.1.1:80: File exists (the real server is already in this virtual service)"
    );
    assert_eq!(
        e(Command::EditService(service(v4, "nosuch")), Errno::ENOENT),
        "editing virtual service TCP 192.168.1.1:80: No such file or directory (no such scheduler or persistence engine in this kernel)"
    );
    let v6 = ServiceKey::Addr {
        addr: ip("2001:db8::1"),
        port: 53,
        protocol: IpProto::Udp,
    };
    assert_eq!(
        e(Command::DelDest(v6, DestKey { addr: ip("2001:db8::2"), port: 53 }), Errno::ENOENT),
        "removing real server [2001:db8::2]:53 from UDP [2001:db8::1]:53: No such file or directory (the real server is not in this virtual service)"
    );
    let fwm = ServiceKey::Fwmark {
        mark: 7,
        family: Family::V6,
    };
    assert_eq!(
        e(Command::AddService(service(fwm, "rr")), Errno::EINVAL),
        "adding virtual service FWM 7 IPv6: Invalid argument (invalid request: a missing attribute, a bad address or an out-of-range value)"
    );
    assert_eq!(
        e(Command::EditDest(v4, d), Errno::ERANGE),
        "editing real server 10.0.0.1:80 of TCP 192.168.1.1:80: Math result not representable (a value is out of range: negative weight, lower threshold above the upper one, or a name too long)"
    );
    assert_eq!(
        e(Command::Flush, Errno::EPERM),
        "flushing the IPVS table: Operation not permitted (IPVS needs CAP_NET_ADMIN in the initial user namespace)"
    );
    assert_eq!(
        IpvsError::Kernel {
            op: Op::Read,
            what: "dumping".into(),
            errno: Errno::EBUSY
        }
        .to_string(),
        "dumping: Device or resource busy"
    );
    let u = IpvsError::Unavailable("no \"IPVS\" family".into()).to_string();
    assert_eq!(
        u,
        "IPVS is not available in this kernel: no \"IPVS\" family"
    );
}
