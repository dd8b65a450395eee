//! Raw VRRP sockets between two namespaces over a veth pair.

mod os_util;

use std::net::IpAddr;
use std::time::Duration;

use os_util::Pair;
use vigil::os::vrrp_socket::{Config, Family, Meta, VrrpSocket, GROUP_V4, GROUP_V6};

fn ifindex() -> u32 {
    nix::net::if_::if_nametoindex("eth0").expect("eth0 index")
}

/// Open a receiver in b, then send `payload` from a; return what b got.
fn exchange(
    pair: &Pair,
    rx: Config,
    tx: Config,
    dst: Option<IpAddr>,
    payload: &'static [u8],
) -> (Vec<u8>, Meta) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let b_name = pair.b.name.clone();
    let receiver = {
        std::thread::spawn(move || {
            os_util::enter(&b_name);
            let mut rx = rx;
            rx.ifindex = ifindex();
            let sock = VrrpSocket::open(&rx).expect("open receiver");
            ready_tx.send(()).unwrap();
            smol::block_on(async {
                let mut buf = [0u8; 1500];
                let got = smol::future::or(async { Some(sock.recv(&mut buf).await) }, async {
                    smol::Timer::after(Duration::from_secs(5)).await;
                    None
                })
                .await
                .expect("nothing received within 5 s")
                .expect("recv");
                (buf[..got.len].to_vec(), got)
            })
        })
    };
    ready_rx.recv().unwrap();
    pair.a.run(move || {
        let mut tx = tx;
        tx.ifindex = ifindex();
        let sock = VrrpSocket::open(&tx).expect("open sender");
        smol::block_on(async {
            match dst {
                Some(d) => sock.send_to(payload, d).await,
                None => sock.send(payload).await,
            }
        })
        .expect("send");
    });
    receiver.join().unwrap()
}

const ADVERT: &[u8] = b"\x21\x33\x64\x01\x00\x01\xaa\xbb\x0a\x09\x00\x64";

#[test]
fn multicast_v4_arrives_with_ttl_255_and_group_destination() {
    let pair = or_skip!(Pair::new());
    let cfg = Config::multicast("eth0", 0, Family::V4);
    let (bytes, meta) = exchange(&pair, cfg.clone(), cfg, None, ADVERT);
    assert_eq!(meta.ttl, 255);
    assert_eq!(meta.dst, IpAddr::V4(GROUP_V4));
    assert_eq!(meta.src, "10.9.0.1".parse::<IpAddr>().unwrap());
    assert!(meta.ifindex > 0);
    // IPv4 raw sockets deliver the IP header: 20 bytes, protocol 112, TTL 255.
    assert_eq!(bytes.len(), 20 + ADVERT.len());
    assert_eq!(bytes[9], 112);
    assert_eq!(bytes[8], 255);
    assert_eq!(&bytes[20..], ADVERT);
}

#[test]
fn unicast_v4_from_a_chosen_source() {
    let pair = or_skip!(Pair::new());
    pair.a.sh("ip addr add 10.9.0.11/24 dev eth0");
    let rx = Config::unicast("eth0", 0, Family::V4);
    let mut tx = Config::unicast("eth0", 0, Family::V4);
    tx.source = Some("10.9.0.11".parse().unwrap());
    let (bytes, meta) = exchange(&pair, rx, tx, Some("10.9.0.2".parse().unwrap()), ADVERT);
    assert_eq!(meta.dst, "10.9.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(meta.src, "10.9.0.11".parse::<IpAddr>().unwrap());
    assert_eq!(meta.ttl, 255);
    assert_eq!(&bytes[20..], ADVERT);
}

#[test]
fn multicast_v6_arrives_with_hop_limit_255() {
    let pair = or_skip!(Pair::new());
    // The kernel fills the VRRP checksum at offset 6; give it a v3 advert.
    let cfg = Config::multicast("eth0", 0, Family::V6);
    let payload: &'static [u8] = b"\x31\x33\x64\x01\x00\x64\x00\x00\xfd\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00";
    let (bytes, meta) = exchange(&pair, cfg.clone(), cfg, None, payload);
    assert_eq!(meta.ttl, 255);
    assert_eq!(meta.dst, IpAddr::V6(GROUP_V6));
    match meta.src {
        IpAddr::V6(s) => assert!(s.is_unicast_link_local(), "source {s}"),
        other => panic!("v4 source {other}"),
    }
    // No IP header on IPv6 raw sockets; checksum filled by the kernel.
    assert_eq!(bytes.len(), payload.len());
    assert_eq!(&bytes[..6], &payload[..6]);
    assert_ne!(&bytes[6..8], &[0, 0]);
}

#[test]
fn unicast_v6_from_a_chosen_source() {
    let pair = or_skip!(Pair::new());
    let rx = Config::unicast("eth0", 0, Family::V6);
    let mut tx = Config::unicast("eth0", 0, Family::V6);
    tx.source = Some("fd00:9::1".parse().unwrap());
    let payload: &'static [u8] = b"\x31\x33\x64\x00\x00\x64\x00\x00";
    let (_, meta) = exchange(&pair, rx, tx, Some("fd00:9::2".parse().unwrap()), payload);
    assert_eq!(meta.src, "fd00:9::1".parse::<IpAddr>().unwrap());
    assert_eq!(meta.dst, "fd00:9::2".parse::<IpAddr>().unwrap());
    assert_eq!(meta.ttl, 255);
}

#[test]
fn ttl_is_read_from_the_packet_not_assumed() {
    let pair = or_skip!(Pair::new());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let b_name = pair.b.name.clone();
    let receiver = std::thread::spawn(move || {
        os_util::enter(&b_name);
        let mut c = Config::unicast("eth0", 0, Family::V4);
        c.ifindex = ifindex();
        let sock = VrrpSocket::open(&c).unwrap();
        ready_tx.send(()).unwrap();
        smol::block_on(async {
            let mut buf = [0u8; 1500];
            smol::future::or(async { Some(sock.recv(&mut buf).await.unwrap()) }, async {
                smol::Timer::after(Duration::from_secs(5)).await;
                None
            })
            .await
        })
    });
    ready_rx.recv().unwrap();
    pair.a.run(|| {
        // A plain raw socket with the default-ish TTL of a forwarded packet.
        let s = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(112)),
        )
        .unwrap();
        s.set_ttl_v4(64).unwrap();
        let dst: std::net::SocketAddr = "10.9.0.2:0".parse().unwrap();
        s.send_to(ADVERT, &dst.into()).unwrap();
    });
    let meta = receiver.join().unwrap().expect("nothing received");
    assert_eq!(meta.ttl, 64);
}

/// Open a receiver in b, send `msgs` from a in one `try_send_batch`, and
/// return (sent count, what b read with `try_recv`: payloads and stamps).
fn exchange_batch(
    pair: &Pair,
    rx: Config,
    tx: Config,
    msgs: Vec<(&'static [u8], IpAddr)>,
) -> (usize, Vec<(Vec<u8>, bool)>) {
    let want = msgs.len();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let b_name = pair.b.name.clone();
    let receiver = std::thread::spawn(move || {
        os_util::enter(&b_name);
        let mut rx = rx;
        rx.ifindex = ifindex();
        let sock = VrrpSocket::open(&rx).expect("open receiver");
        ready_tx.send(()).unwrap();
        let (mut buf, mut cmsg) = (vec![0u8; 4096], vigil::os::vrrp_socket::cmsg_buffer());
        let mut got = Vec::new();
        let t0 = std::time::Instant::now();
        while got.len() < want && t0.elapsed() < Duration::from_secs(5) {
            match sock.try_recv(&mut buf, &mut cmsg).expect("try_recv") {
                Some(d) => got.push((buf[d.payload.clone()].to_vec(), d.stamp.is_some())),
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        got
    });
    ready_rx.recv().unwrap();
    let sent = pair.a.run(move || {
        let mut tx = tx;
        tx.ifindex = ifindex();
        let sock = VrrpSocket::open(&tx).expect("open sender");
        let mut bytes = Vec::new();
        let mut ranges = Vec::new();
        for (m, dst) in &msgs {
            ranges.push((bytes.len()..bytes.len() + m.len(), *dst));
            bytes.extend_from_slice(m);
        }
        sock.try_send_batch(&bytes, &ranges).expect("send batch")
    });
    (sent, receiver.join().unwrap())
}

const ADVERT2: &[u8] = b"\x21\x34\x64\x01\x00\x01\xaa\xbb\x0a\x09\x00\x65";
const ADVERT3: &[u8] = b"\x21\x35\x64\x01\x00\x01\xaa\xbb\x0a\x09\x00\x66";

#[test]
fn a_batch_goes_out_in_order_in_one_call_and_arrives_stamped() {
    let pair = or_skip!(Pair::new());
    let cfg = Config::multicast("eth0", 0, Family::V4);
    let g = IpAddr::V4(GROUP_V4);
    let msgs = vec![(ADVERT, g), (ADVERT2, g), (ADVERT3, g)];
    let (sent, got) = exchange_batch(&pair, cfg.clone(), cfg, msgs);
    assert_eq!(sent, 3);
    let payloads: Vec<&[u8]> = got.iter().map(|(p, _)| p.as_slice()).collect();
    assert_eq!(payloads, vec![ADVERT, ADVERT2, ADVERT3]);
    assert!(
        got.iter().all(|(_, stamped)| *stamped),
        "SO_TIMESTAMPNS missing"
    );
}

#[test]
fn a_batch_from_a_chosen_source_goes_message_by_message() {
    let pair = or_skip!(Pair::new());
    pair.a.sh("ip addr add 10.9.0.11/24 dev eth0");
    let rx = Config::unicast("eth0", 0, Family::V4);
    let mut tx = Config::unicast("eth0", 0, Family::V4);
    tx.source = Some("10.9.0.11".parse().unwrap());
    let peer: IpAddr = "10.9.0.2".parse().unwrap();
    let (sent, got) = exchange_batch(&pair, rx, tx, vec![(ADVERT, peer), (ADVERT2, peer)]);
    assert_eq!(sent, 2);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, ADVERT);
    assert_eq!(got[1].0, ADVERT2);
}

#[test]
fn a_batch_to_the_other_family_is_refused_whole() {
    let pair = or_skip!(Pair::new());
    let refused = pair.a.run(|| {
        let mut c = Config::multicast("eth0", 0, Family::V4);
        c.ifindex = ifindex();
        let sock = VrrpSocket::open(&c).expect("open");
        let v6: IpAddr = "ff02::12".parse().unwrap();
        sock.try_send_batch(ADVERT, &[(0..ADVERT.len(), v6)])
            .is_err()
    });
    assert!(refused);
}
