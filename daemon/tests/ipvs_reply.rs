//! IPVS replies from hand-made bytes: dumped services and destinations
//! (PAD attributes, 16-byte addresses, HASHED, old STATS), info, timeouts,
//! the family id, the collector's seq/pid/multipart/error handling, typed
//! decode errors and the one-line kernel error messages.
#![cfg(target_endian = "little")]

mod ipvs_util;

use ipvs_util::*;
use nix::errno::Errno;
use vigil::os::ipvs::decode::{self, Collector, Refusal};
use vigil::os::ipvs::{IpvsError, Op, Timeouts};
use vigil_lvs::{
    Command, DestKey, Destination, Family, Forwarding, IpProto, ServiceKey, TunCsum, Tunnel,
    FLAG_ONEPACKET, FLAG_PERSISTENT,
};

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
