//! TCP_CHECK's two engines (`TcpPool` half-open and full connect) between
//! two namespaces: the same verdict for a listener, a closed port, a
//! dropped SYN, an ICMP unreachable and a full accept queue, over IPv4 and
//! IPv6; `bind_port` honoured; a stray SYN-ACK or reset with the wrong ack
//! decides nothing; the kernel resets the half-open connection itself.
//!
//! Layout (os_util::Pair): `a` probes from 10.9.0.1 / fd00:9::1; `b`
//! serves on 10.9.0.2 / fd00:9::2 and routes 10.84.0.0/24 and fd84::/64
//! to "unreachable" (so it answers ICMP errors); from `a`, 10.85.0.5 and
//! fd85::5 are neighbours with a MAC nobody has (their frames are dropped).

mod os_util;

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use os_util::{Netns, Pair};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vigil::os::clock;
use vigil::os::probe::{TcpEngine, TcpPool};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

const ENGINES: [TcpEngine; 2] = [TcpEngine::HalfOpen, TcpEngine::Connect];

struct Lab {
    pair: Pair,
}

impl Lab {
    fn new() -> Result<Lab, String> {
        let pair = Pair::new()?;
        let b = pair.b.try_sh(
            "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
             net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
             && ip route add unreachable 10.84.0.0/24 && ip -6 route add unreachable fd84::/64",
        );
        let a = pair.a.try_sh(
            "ip route add 10.84.0.0/24 via 10.9.0.2 && ip -6 route add fd84::/64 via fd00:9::2 \
             && ip route add 10.85.0.0/24 dev eth0 \
             && ip neigh add 10.85.0.5 lladdr 02:00:00:00:00:01 dev eth0 nud permanent \
             && ip -6 route add fd85::/64 dev eth0 \
             && ip -6 neigh add fd85::5 lladdr 02:00:00:00:00:01 dev eth0 nud permanent",
        );
        for out in [a, b] {
            if !out.status.success() {
                return Err(format!(
                    "cannot build the lab: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        Ok(Lab { pair })
    }
}

struct Addrs {
    server: &'static str,
    unreachable: &'static str,
    dropped: &'static str,
}

const V4: Addrs = Addrs {
    server: "10.9.0.2",
    unreachable: "10.84.0.7",
    dropped: "10.85.0.5",
};
const V6: Addrs = Addrs {
    server: "fd00:9::2",
    unreachable: "fd84::7",
    dropped: "fd85::5",
};

fn tcp(addr: &str, port: u16, bind_port: Option<u16>, timeout_ms: u64) -> ProbeKind {
    ProbeKind::Tcp {
        connect_ip: addr.parse().unwrap(),
        port,
        bindto: None,
        bind_port,
        timeout: Duration::from_millis(timeout_ms),
    }
}

fn pool(engine: TcpEngine) -> TcpPool {
    let p = TcpPool::with(engine).unwrap();
    assert_eq!(p.engine(), engine);
    p
}

/// Runs the pool until `n` results came or `limit` passed.
fn pump(
    pool: &mut TcpPool,
    n: usize,
    limit: Duration,
    t0: Instant,
    out: &mut Vec<(u64, ProbeResult, Duration)>,
) {
    let mut done = Vec::new();
    let end = Instant::now() + limit;
    while out.len() < n && Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        let wait = pool
            .next_deadline()
            .map(|d| clock::until(clock::now_us(), d))
            .map_or(left, |d| d.min(left));
        pool.wait(Some(wait), clock::now_us, &mut done).unwrap();
        out.extend(done.drain(..).map(|(t, r)| (t, r, t0.elapsed())));
    }
}

/// Starts every probe (token = index) and collects the results, sorted.
fn run_all(engine: TcpEngine, kinds: &[ProbeKind]) -> Vec<(u64, ProbeResult, Duration)> {
    let mut p = pool(engine);
    let mut done = Vec::new();
    let t0 = Instant::now();
    for (i, k) in kinds.iter().enumerate() {
        assert!(p.start(i as u64, k, clock::now_us(), &mut done));
    }
    let mut out: Vec<_> = done.drain(..).map(|(t, r)| (t, r, t0.elapsed())).collect();
    pump(&mut p, kinds.len(), Duration::from_secs(5), t0, &mut out);
    assert_eq!(p.in_flight(), 0, "checks left in flight");
    out.sort_by_key(|(t, _, _)| *t);
    out
}

fn listen(ns: &Netns, addr: &'static str, port: u16, backlog: i32) -> Socket {
    ns.run(move || {
        let ip: IpAddr = addr.parse().unwrap();
        let s = Socket::new(Domain::for_address((ip, port).into()), Type::STREAM, None).unwrap();
        s.set_reuse_address(true).unwrap();
        s.bind(&SockAddr::from(SocketAddr::new(ip, port))).unwrap();
        s.listen(backlog).unwrap();
        s.set_nonblocking(true).unwrap();
        s
    })
}

/// Request sockets (SYN_RECV) in `ns` on local `port`: the half-open
/// engine leaves none once the kernel has reset them.
fn syn_recv(ns: &Netns, port: u16) -> usize {
    ns.run(move || {
        ["tcp", "tcp6"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(format!("/proc/thread-self/net/{f}")).ok())
            .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
            .filter(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                c.len() > 3
                    && c[1].rsplit(':').next() == Some(&format!("{port:04X}"))
                    && c[3] == "03"
            })
            .count()
    })
}

fn verdicts(v6: bool) {
    let lab = or_skip!(Lab::new());
    let a = if v6 { &V6 } else { &V4 };
    let port = if v6 { 8106 } else { 8104 };
    let l = listen(&lab.pair.b, a.server, port, 128);
    for engine in ENGINES {
        let kinds = [
            tcp(a.server, port, None, 1000),
            tcp(a.server, port + 1, None, 1000),
            tcp(a.dropped, 80, None, 600),
            tcp(a.unreachable, 80, None, 1000),
        ];
        let out = lab.pair.a.run(move || run_all(engine, &kinds));
        println!("{engine:?} v6={v6}: {out:?}");
        assert_eq!(out.len(), 4);
        assert_eq!(out[0].1, ProbeResult::Ok, "{engine:?}");
        assert_eq!(
            out[1].1,
            ProbeResult::Failed(FailReason::Refused),
            "{engine:?}"
        );
        assert_eq!(out[2].1, ProbeResult::Failed(FailReason::ConnectTimeout));
        assert!(out[2].2 >= Duration::from_millis(600), "{:?}", out[2].2);
        assert_eq!(
            out[3].1,
            ProbeResult::Failed(FailReason::Unreachable),
            "{engine:?}"
        );
        // Linux ends a connect at once on ICMP host unreachable, but takes
        // ICMPv6 "no route" as a soft error (the verdict at the deadline).
        let (lo, hi) = if v6 { (1000, 1300) } else { (0, 500) };
        let took = out[3].2;
        assert!(
            took >= Duration::from_millis(lo) && took < Duration::from_millis(hi),
            "{engine:?}: {took:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
        // The server saw a connection only from the full connect; the
        // half-open one was reset by our kernel (no SYN_RECV left).
        assert_eq!(syn_recv(&lab.pair.b, port), 0, "{engine:?}");
        let accepted = l.accept().is_ok();
        assert_eq!(accepted, engine == TcpEngine::Connect, "{engine:?}");
        while l.accept().is_ok() {}
    }
}

#[test]
fn verdicts_ipv4() {
    verdicts(false);
}

#[test]
fn verdicts_ipv6() {
    verdicts(true);
}

/// A listener whose accept queue is full drops SYNs: a timeout; once the
/// queue has room, the SYN sent again after 1 s passes, as keepalived's
/// connect does.
#[test]
fn full_accept_queue_times_out_then_the_retransmission_passes() {
    let lab = or_skip!(Lab::new());
    for (a, port) in [(&V4, 8110u16), (&V6, 8111)] {
        for engine in ENGINES {
            let l = listen(&lab.pair.b, a.server, port, 0);
            let server = a.server;
            let _filler = lab.pair.a.run(move || {
                let s: IpAddr = server.parse().unwrap();
                TcpStream::connect((s, port)).unwrap()
            });
            std::thread::sleep(Duration::from_millis(100));
            let kinds = [tcp(a.server, port, None, 600)];
            let out = lab.pair.a.run(move || run_all(engine, &kinds));
            assert_eq!(
                out[0].1,
                ProbeResult::Failed(FailReason::ConnectTimeout),
                "{engine:?} {server}"
            );
            // Room made 300 ms into a 2.5 s check.
            let kinds = [tcp(a.server, port, None, 2500)];
            let t = lab
                .pair
                .a
                .run(move || std::thread::spawn(move || run_all(engine, &kinds)));
            std::thread::sleep(Duration::from_millis(300));
            while l.accept().is_err() {
                std::thread::sleep(Duration::from_millis(10));
            }
            let out = t.join().unwrap();
            println!("{engine:?} {server}: {out:?}");
            assert_eq!(out[0].1, ProbeResult::Ok, "{engine:?} {server}");
            let took = out[0].2;
            assert!(
                took >= Duration::from_millis(900) && took < Duration::from_millis(1800),
                "{engine:?} {server}: {took:?}"
            );
        }
    }
}

/// Outgoing SYNs seen on `a`'s eth0 (a packet socket): (source port,
/// destination port, sequence number).
struct Sniffer(Socket);

impl Sniffer {
    fn new() -> Sniffer {
        let proto = Protocol::from(i32::from((nix::libc::ETH_P_ALL as u16).to_be()));
        let s = Socket::new(Domain::PACKET, Type::DGRAM, Some(proto)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Sniffer(s)
    }

    fn syn_to(&self, dport: u16, limit: Duration) -> Option<(u16, u32)> {
        let end = Instant::now() + limit;
        let mut buf = [std::mem::MaybeUninit::new(0u8); 2048];
        while Instant::now() < end {
            let Ok(n) = self.0.recv(&mut buf) else {
                continue;
            };
            let b: Vec<u8> = buf[..n]
                .iter()
                .map(|x| unsafe { x.assume_init() })
                .collect();
            let tcp = match b.first().map(|v| v >> 4) {
                Some(4) if b.get(9) == Some(&6) => &b[usize::from(b[0] & 15) * 4..],
                Some(6) if b.get(6) == Some(&6) => &b[40..],
                _ => continue,
            };
            if tcp.len() >= 20 && tcp[13] == 0x02 && u16::from_be_bytes([tcp[2], tcp[3]]) == dport {
                let sport = u16::from_be_bytes([tcp[0], tcp[1]]);
                return Some((sport, u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]])));
            }
        }
        None
    }
}

fn csum(words: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for w in words.chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sends from `a` to itself a segment that claims to come from the
/// dropped host's port 80 (IPPROTO_RAW: our own IPv4 header).
fn inject(to_port: u16, flags: u8, ack: u32) {
    let (src, dst) = ([10u8, 85, 0, 5], [10u8, 9, 0, 1]);
    let mut tcp = [0u8; 20];
    tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&to_port.to_be_bytes());
    tcp[4..8].copy_from_slice(&0x5555_0000u32.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    tcp[14..16].copy_from_slice(&1024u16.to_be_bytes());
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&[0, 6, 0, 20]);
    pseudo.extend_from_slice(&tcp);
    let c = csum(&pseudo);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut pkt = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0];
    pkt.extend_from_slice(&src);
    pkt.extend_from_slice(&dst);
    pkt.extend_from_slice(&tcp);
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255))).unwrap();
    let to = SocketAddr::from((dst, 0));
    s.send_to(&pkt, &SockAddr::from(to)).unwrap();
}

#[test]
fn bind_port_is_used_and_a_stray_reply_decides_nothing() {
    let lab = or_skip!(Lab::new());
    let out = lab.pair.a.run(|| {
        let sniff = Sniffer::new();
        let mut p = pool(TcpEngine::HalfOpen);
        let mut done = Vec::new();
        let t0 = Instant::now();
        let k = tcp(V4.dropped, 80, Some(40123), 3000);
        assert!(p.start(7, &k, clock::now_us(), &mut done));
        assert!(done.is_empty(), "{done:?}");
        // The SYN leaves at the next wait.
        let mut out = Vec::new();
        pump(&mut p, 1, Duration::from_millis(20), t0, &mut out);
        assert!(out.is_empty(), "{out:?}");
        // Up to the first retransmission (1 s, same ISN) and beyond: a
        // loaded host may keep this thread from the sniffer that long.
        let (sport, isn) = sniff
            .syn_to(80, Duration::from_millis(2500))
            .expect("our SYN");
        assert_eq!(sport, 40123);
        // Wrong acks, a SYN-ACK and a reset: nothing decided.
        inject(40123, 0x12, isn.wrapping_add(2));
        inject(40123, 0x14, isn);
        inject(40123, 0x12, isn.wrapping_add(1) ^ 0x8000_0000);
        pump(&mut p, 1, Duration::from_millis(300), t0, &mut out);
        assert!(out.is_empty(), "a stray reply decided: {out:?}");
        // The right one does: so the injected ones did arrive.
        inject(40123, 0x12, isn.wrapping_add(1));
        pump(&mut p, 1, Duration::from_secs(1), t0, &mut out);
        out
    });
    println!("{out:?}");
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0, &out[0].1), (7, &ProbeResult::Ok));
    // Decided by the SYN-ACK, before the 3 s timeout.
    assert!(out[0].2 < Duration::from_millis(2900), "{:?}", out[0].2);
}

#[test]
fn bind_port_ipv6_and_the_retransmitted_syn() {
    let lab = or_skip!(Lab::new());
    let l = listen(&lab.pair.b, V6.server, 8120, 128);
    let (sport, again) = lab.pair.a.run(|| {
        let sniff = Sniffer::new();
        let kinds = [tcp(V6.server, 8120, Some(40124), 1000)];
        let out = run_all(TcpEngine::HalfOpen, &kinds);
        assert_eq!(out[0].1, ProbeResult::Ok);
        let (sport, _) = sniff
            .syn_to(8120, Duration::from_millis(500))
            .expect("our SYN");
        // To a dropped host, the SYN goes again after 1 s with the same ISN.
        let kinds = [tcp(V6.dropped, 81, None, 1500)];
        let t = std::thread::spawn(move || run_all(TcpEngine::HalfOpen, &kinds));
        let first = sniff
            .syn_to(81, Duration::from_millis(500))
            .expect("first SYN");
        let t1 = Instant::now();
        let second = sniff
            .syn_to(81, Duration::from_millis(1500))
            .expect("second SYN");
        let out = t.join().unwrap();
        assert_eq!(out[0].1, ProbeResult::Failed(FailReason::ConnectTimeout));
        assert_eq!(first, second);
        (sport, t1.elapsed())
    });
    assert_eq!(sport, 40124);
    assert!(again > Duration::from_millis(700), "{again:?}");
    assert!(l.accept().is_err(), "the server saw a connection");
}

#[test]
fn bindto_is_the_source_and_a_missing_one_is_not_run() {
    let lab = or_skip!(Lab::new());
    let _l4 = listen(&lab.pair.b, V4.server, 8130, 128);
    let _l6 = listen(&lab.pair.b, V6.server, 8130, 128);
    lab.pair
        .a
        .sh("ip addr add 10.9.0.11/24 dev eth0 && ip addr add fd00:9::11/64 dev eth0 nodad");
    let bound = |ip: &str, server: &str| ProbeKind::Tcp {
        connect_ip: server.parse().unwrap(),
        port: 8130,
        bindto: Some(ip.parse().unwrap()),
        bind_port: None,
        timeout: Duration::from_millis(800),
    };
    for engine in ENGINES {
        let kinds = [
            bound("10.9.0.11", V4.server),
            bound("fd00:9::11", V6.server),
            bound("10.9.0.99", V4.server),
            bound("fd00:9::99", V6.server),
        ];
        let (out, src4, src6) = lab.pair.a.run(move || {
            let sniff = Sniffer::new();
            let out = run_all(engine, &kinds);
            let mut srcs = (None, None);
            // The sources of the SYNs that went out, from the packet socket.
            let mut buf = [std::mem::MaybeUninit::new(0u8); 2048];
            while let Ok(n) = sniff.0.recv(&mut buf) {
                let b: Vec<u8> = buf[..n]
                    .iter()
                    .map(|x| unsafe { x.assume_init() })
                    .collect();
                match b.first().map(|v| v >> 4) {
                    Some(4) if b.len() >= 40 && b[9] == 6 && b[33] == 0x02 => {
                        srcs.0 = Some(IpAddr::from([b[12], b[13], b[14], b[15]]))
                    }
                    Some(6) if b.len() >= 60 && b[6] == 6 && b[53] == 0x02 => {
                        let a: [u8; 16] = b[8..24].try_into().unwrap();
                        srcs.1 = Some(IpAddr::from(a))
                    }
                    _ => {}
                }
            }
            (out, srcs.0, srcs.1)
        });
        println!("{engine:?}: {out:?} {src4:?} {src6:?}");
        assert_eq!(out[0].1, ProbeResult::Ok, "{engine:?}");
        assert_eq!(out[1].1, ProbeResult::Ok, "{engine:?}");
        assert!(
            matches!(out[2].1, ProbeResult::NotRun(FailReason::Socket(_))),
            "{engine:?}"
        );
        assert!(
            matches!(out[3].1, ProbeResult::NotRun(FailReason::Socket(_))),
            "{engine:?}"
        );
        assert_eq!(src4, Some("10.9.0.11".parse().unwrap()), "{engine:?}");
        assert_eq!(src6, Some("fd00:9::11".parse().unwrap()), "{engine:?}");
    }
}

/// IPv4 SYNs whose neighbour the kernel knows are handed to the interface
/// (a packet socket) and are answered as before, on link and through a
/// gateway; a neighbour entry that changes (as a gratuitous ARP changes it)
/// is followed at once, and one that goes sends by the raw socket again.
#[test]
fn ipv4_syns_go_to_the_interface_and_follow_the_neighbour() {
    let lab = or_skip!(Lab::new());
    let port = 8110;
    let _l = listen(&lab.pair.b, V4.server, port, 128);
    let b = lab.pair.b.name.clone();
    lab.pair.a.run(move || {
        let sh = |cmd: &str| {
            let out = std::process::Command::new("sh")
                .args(["-c", cmd])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{cmd}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let mut p = pool(TcpEngine::HalfOpen);
        let check = |p: &mut TcpPool, token: u64, addr: &str| {
            let mut done = Vec::new();
            let t0 = Instant::now();
            assert!(p.start(
                token,
                &tcp(addr, port, None, 3000),
                clock::now_us(),
                &mut done
            ));
            let mut out: Vec<_> = done.drain(..).map(|(t, r)| (t, r, t0.elapsed())).collect();
            pump(p, 1, Duration::from_secs(4), t0, &mut out);
            assert_eq!(out.len(), 1, "token {token}: no verdict");
            // Events (the neighbour's) taken before the next check.
            pump(p, 2, Duration::from_millis(100), t0, &mut out);
            (out[0].1, out[0].2, p.syns_sent())
        };
        // No neighbour entry yet: the raw socket, which resolves it.
        let (r, _, sent) = check(&mut p, 1, V4.server);
        assert_eq!((r, sent.0), (ProbeResult::Ok, 0));
        assert!(sent.1 >= 1, "{sent:?}");
        // Resolved (the kernel's event): to the interface, on link...
        let (r, took, sent) = check(&mut p, 2, V4.server);
        assert_eq!((r, sent.0), (ProbeResult::Ok, 1), "{took:?}");
        // ... and through the gateway, whose ICMP error still decides.
        let (r, took, sent) = check(&mut p, 3, V4.unreachable);
        assert_eq!(r, ProbeResult::Failed(FailReason::Unreachable));
        assert_eq!(sent.0, 2);
        assert!(took < Duration::from_millis(500), "{took:?}");
        // The server's MAC changes and our kernel learns it: the next SYN
        // reaches it at once (had the old MAC been kept, the server would
        // drop it and only the raw retransmission after 1 s would pass).
        let mac = "02:00:00:00:00:42";
        sh(&format!(
            "ip netns exec {b} ip link set dev eth0 address {mac}"
        ));
        sh(&format!(
            "ip neigh replace {} lladdr {mac} dev eth0 nud reachable",
            V4.server
        ));
        let (r, took, sent) = check(&mut p, 4, V4.server);
        assert_eq!((r, sent.0), (ProbeResult::Ok, 3));
        assert!(took < Duration::from_millis(500), "{took:?}");
        // The entry goes: the raw socket again (the kernel resolves anew).
        let before = sent.1;
        sh(&format!("ip neigh del {} dev eth0", V4.server));
        std::thread::sleep(Duration::from_millis(50));
        let (r, _, sent) = check(&mut p, 5, V4.server);
        assert_eq!((r, sent.0), (ProbeResult::Ok, 3));
        assert!(sent.1 > before, "{sent:?}");
    });
}

/// A director whose firewall tracks connections and drops what conntrack
/// finds invalid (`ct state invalid drop`, common on routers) still gets
/// its verdicts at once: its SYNs stay on the raw socket, which conntrack
/// sees (a SYN handed to the interface would leave the SYN-ACK "invalid":
/// dropped, and the check passed only by the raw retransmission after 1 s).
#[test]
fn checks_pass_a_firewall_that_drops_invalid_packets() {
    let lab = or_skip!(Lab::new());
    let nft = lab.pair.a.try_sh(
        "nft add table inet vt && nft add chain inet vt in '{ type filter hook input priority 0; }' \
         && nft add rule inet vt in ct state invalid drop",
    );
    if !nft.status.success() {
        println!(
            "skipped: no nft ({})",
            String::from_utf8_lossy(&nft.stderr).trim()
        );
        return;
    }
    let port = 8112;
    let _l = listen(&lab.pair.b, V4.server, port, 128);
    lab.pair.a.run(move || {
        let mut p = pool(TcpEngine::HalfOpen);
        for token in 0..3u64 {
            let mut done = Vec::new();
            let t0 = Instant::now();
            assert!(p.start(
                token,
                &tcp(V4.server, port, None, 3000),
                clock::now_us(),
                &mut done
            ));
            let mut out: Vec<_> = done.drain(..).map(|(t, r)| (t, r, t0.elapsed())).collect();
            pump(&mut p, 1, Duration::from_secs(4), t0, &mut out);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].1, ProbeResult::Ok);
            assert!(out[0].2 < Duration::from_millis(500), "{:?}", out[0].2);
            pump(&mut p, 2, Duration::from_millis(100), t0, &mut out);
        }
        assert_eq!(p.syns_sent().0, 0, "a SYN went past conntrack");
    });
}
