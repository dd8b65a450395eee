//! vigil-lab-flood: sends crafted VRRP (IP protocol 112) packets from inside a lab
//! namespace, to check that a router shrugs them off and counts each drop.
//!
//! `ip netns exec NS vigil-lab-flood --kind ttl --src 192.168.67.10 [options]`
//!
//! The socket is raw with protocol IPPROTO_RAW, which implies IP_HDRINCL: the
//! whole IPv4 header (TTL included) is ours. The count and the running time are
//! both bounded, so a mistake cannot flood for long.

use vigil_lab::bench::craft;
// The flood test's counter expectations, unit-tested here (a harness = false
// test cannot run unit tests).

use craft::{Kind, Victim};
use nix::sys::socket::{
    self, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: vigil-lab-flood --kind KIND --src ADDR [--dst ADDR] [--dev IFACE]
    [--count N] [--rate PPS] [--max-secs S] [--vrid N] [--password PW | --no-auth]
    [--advert-int S] [--vip ADDR]... [--priority N] [--seed N]
kinds: ttl checksum short vrid password version interval garbage valid
defaults: --dst 224.0.0.18 --dev eth0 --count 1000 --rate 1000 (0: no pacing)
          --max-secs 30 --vrid 51 --password 1111 --advert-int 1 --priority 254";

/// Hard ceilings, whatever the arguments say.
const MAX_COUNT: u64 = 1_000_000;
const MAX_SECS: u64 = 300;

struct Args {
    kind: Kind,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    dev: String,
    count: u64,
    rate: u64,
    max_secs: u64,
    victim: Victim,
    seed: u64,
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut kind = None;
    let mut src = None;
    let mut a = Args {
        kind: Kind::Garbage,
        src: Ipv4Addr::UNSPECIFIED,
        dst: Ipv4Addr::new(224, 0, 0, 18),
        dev: "eth0".into(),
        count: 1000,
        rate: 1000,
        max_secs: 30,
        victim: Victim {
            vrid: 51,
            password: Some("1111".into()),
            advert_int: 1,
            vips: Vec::new(),
            priority: 254,
        },
        seed: 0x5eed,
    };
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        if flag == "--no-auth" {
            a.victim.password = None;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let val = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |max: u64| -> Result<u64, String> {
            val.parse::<u64>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("{flag}: {val:?} is not a number up to {max}"))
        };
        let addr = || -> Result<Ipv4Addr, String> {
            val.parse()
                .map_err(|_| format!("{flag}: {val:?} is not an IPv4 address"))
        };
        match flag.as_str() {
            "--kind" => {
                kind = Some(Kind::parse(val).ok_or_else(|| format!("unknown kind {val:?}"))?)
            }
            "--src" => src = Some(addr()?),
            "--dst" => a.dst = addr()?,
            "--dev" => a.dev = val.clone(),
            "--count" => a.count = num(MAX_COUNT)?,
            "--rate" => a.rate = num(1_000_000)?,
            "--max-secs" => a.max_secs = num(MAX_SECS)?,
            "--vrid" => a.victim.vrid = num(255)? as u8,
            "--password" => a.victim.password = Some(val.clone()),
            "--advert-int" => a.victim.advert_int = num(255)? as u8,
            "--vip" => a.victim.vips.push(addr()?),
            "--priority" => a.victim.priority = num(255)? as u8,
            "--seed" => a.seed = num(u64::MAX)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    a.kind = kind.ok_or("--kind is required")?;
    // The source must be given: the attacker sends as itself, never as a router.
    a.src = src.ok_or("--src is required (the attacker's own address)")?;
    Ok(a)
}

fn run(a: &Args) -> Result<(u64, Duration), String> {
    let fd = socket::socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::Raw,
    )
    .map_err(|e| format!("raw socket: {e} (needs CAP_NET_RAW)"))?;
    if a.dst.is_multicast() {
        // Link-local multicast has no route: the device picks the way out.
        socket::setsockopt(&fd, sockopt::BindToDevice, &a.dev.clone().into())
            .map_err(|e| format!("bind to {}: {e}", a.dev))?;
    }
    let to = SockaddrIn::from(SocketAddrV4::new(a.dst, 0));
    let mut rng = craft::rng(a.seed);
    let start = Instant::now();
    let limit = Duration::from_secs(a.max_secs);
    let mut sent = 0u64;
    while sent < a.count && start.elapsed() < limit {
        let (vrrp, ttl) = craft::payload(a.kind, &a.victim, a.src, a.dst, &mut rng);
        let pkt = craft::ipv4(a.src, a.dst, ttl, &vrrp);
        match socket::sendto(fd.as_raw_fd(), &pkt, &to, MsgFlags::empty()) {
            Ok(_) => sent += 1,
            // A full send queue: wait a little and retry the same slot.
            Err(nix::errno::Errno::ENOBUFS | nix::errno::Errno::EAGAIN) => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            Err(e) => return Err(format!("send to {}: {e}", a.dst)),
        }
        if a.rate > 0 {
            let due = Duration::from_secs_f64(sent as f64 / a.rate as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    Ok((sent, start.elapsed()))
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("vigil-lab-flood: {e}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok((sent, took)) => {
            println!(
                "sent {sent} {} packets to {} in {:.3} s",
                args.kind.name(),
                args.dst,
                took.as_secs_f64()
            );
            if sent < args.count {
                eprintln!("vigil-lab-flood: stopped by --max-secs before --count");
                std::process::exit(3);
            }
        }
        Err(e) => {
            eprintln!("vigil-lab-flood: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse_args(&v)
    }

    #[test]
    fn defaults_and_options() {
        let a = args("--kind vrid --src 192.168.67.10").unwrap();
        assert_eq!((a.kind, a.count, a.rate), (Kind::Vrid, 1000, 1000));
        assert_eq!(a.dst, Ipv4Addr::new(224, 0, 0, 18));
        let a = args(
            "--kind ttl --src 10.0.0.1 --dst 224.0.0.44 --count 5 --rate 0 --vrid 9 \
             --no-auth --vip 10.0.0.9 --vip 10.0.0.8 --priority 1",
        )
        .unwrap();
        assert_eq!(
            (a.count, a.rate, a.victim.vrid, a.victim.priority),
            (5, 0, 9, 1)
        );
        assert_eq!(a.victim.password, None);
        assert_eq!(a.victim.vips.len(), 2);
    }

    #[test]
    fn refusals() {
        assert!(args("--src 10.0.0.1").is_err());
        assert!(args("--kind ttl").is_err());
        assert!(args("--kind ttl --src 10.0.0.1 --count 2000000").is_err());
        assert!(args("--kind ttl --src 10.0.0.1 --max-secs 301").is_err());
        assert!(args("--kind ttl --src 10.0.0.1 --vrid 256").is_err());
        assert!(args("--kind bogus --src 10.0.0.1").is_err());
        assert!(args("--kind ttl --src nowhere").is_err());
        assert!(args("--kind ttl --src 10.0.0.1 --count").is_err());
    }
}
