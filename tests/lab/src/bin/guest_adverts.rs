//! vigil-guest-adverts: how late a VRRP master's adverts are, seen from another
//! host on the same LAN (the load-balancing benchmark, tests/guest/bench/).
//!
//! `ip netns exec OBS vigil-guest-adverts --src 192.168.67.2 [--dev eth0] [--secs 30]`
//!
//! A raw IP-protocol-112 socket joined to 224.0.0.18 on DEV records the kernel's
//! receive time (ioctl SIOCGSTAMPNS after each recv) of every advert from SRC, so
//! the observer's own scheduling delay is not counted. Lateness = gap between successive adverts
//! minus the advertised interval (read from each packet: v2 seconds, v3
//! centiseconds). Prints one line:
//! `ADVERTS n=N interval_ms=I p50_ms=.. p99_ms=.. max_ms=.. min_ms=.. top_ms=a,b,c`
//! Exit 1 with fewer than two adverts, 2 on bad usage or a socket error.

use nix::libc;
use nix::sys::socket::{self, sockopt, MsgFlags};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: vigil-guest-adverts --src ADDR [--dev IFACE] [--secs S] [--vrid N]";
const PROTO_VRRP: i32 = 112;
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The kernel receive time of the last packet read (linux/sockios.h).
const SIOCGSTAMPNS: libc::c_ulong = 0x8907;

struct Args {
    src: Ipv4Addr,
    dev: String,
    secs: u64,
    vrid: Option<u8>,
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut a = Args {
        src: Ipv4Addr::UNSPECIFIED,
        dev: "eth0".into(),
        secs: 30,
        vrid: None,
    };
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let val = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {val:?}: {e}");
        match flag.as_str() {
            "--src" => a.src = val.parse().map_err(|e| bad(&e))?,
            "--dev" => a.dev = val.clone(),
            "--secs" => a.secs = val.parse().map_err(|e| bad(&e))?,
            "--vrid" => a.vrid = Some(val.parse().map_err(|e| bad(&e))?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if a.src.is_unspecified() {
        return Err("--src is required".into());
    }
    if a.secs == 0 || a.secs > 3600 {
        return Err("--secs must be 1..3600".into());
    }
    Ok(a)
}

/// One advert: kernel receive time (ns) and its advertised interval (ms).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    at_ns: i128,
    interval_ms: f64,
}

/// The advert interval of an IPv4 packet carrying VRRP from `src`, or `None`
/// for anything else (other sender, other VRID, priority 0, not an advert).
fn advert_interval_ms(pkt: &[u8], src: Ipv4Addr, vrid: Option<u8>) -> Option<f64> {
    let ihl = usize::from(*pkt.first()? & 0x0f) * 4;
    if pkt.first()? >> 4 != 4 || ihl < 20 || *pkt.get(9)? != PROTO_VRRP as u8 {
        return None;
    }
    if Ipv4Addr::new(*pkt.get(12)?, *pkt.get(13)?, *pkt.get(14)?, *pkt.get(15)?) != src {
        return None;
    }
    let v = pkt.get(ihl..)?;
    let (version, kind) = (v.first()? >> 4, v.first()? & 0x0f);
    if kind != 1 || vrid.is_some_and(|id| Some(&id) != v.get(1)) || *v.get(2)? == 0 {
        return None;
    }
    match version {
        2 => Some(f64::from(*v.get(5)?) * 1000.0),
        3 => Some(f64::from(u16::from_be_bytes([*v.get(4)?, *v.get(5)?]) & 0x0fff) * 10.0),
        _ => None,
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Lateness (ms) of each advert after the first: its gap minus the interval.
fn lateness(seen: &[Seen]) -> Vec<f64> {
    seen.windows(2)
        .map(|w| (w[1].at_ns - w[0].at_ns) as f64 / 1e6 - w[1].interval_ms)
        .collect()
}

fn report(seen: &[Seen]) -> Option<String> {
    let mut late = lateness(seen);
    if late.is_empty() {
        return None;
    }
    late.sort_by(f64::total_cmp);
    let top: Vec<String> = late
        .iter()
        .rev()
        .take(5)
        .map(|x| format!("{x:.2}"))
        .collect();
    Some(format!(
        "ADVERTS n={} interval_ms={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} min_ms={:.2} top_ms={}",
        seen.len(),
        seen[seen.len() - 1].interval_ms,
        percentile(&late, 50.0),
        percentile(&late, 99.0),
        late[late.len() - 1],
        late[0],
        top.join(",")
    ))
}

fn open(dev: &str) -> Result<OwnedFd, String> {
    // nix's SockProtocol has no VRRP; the raw fd is wrapped at once.
    let raw = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            PROTO_VRRP,
        )
    };
    if raw < 0 {
        return Err(format!("raw socket: {}", std::io::Error::last_os_error()));
    }
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let ifindex = nix::net::if_::if_nametoindex(dev).map_err(|e| format!("{dev}: {e}"))?;
    let mreq = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from(GROUP).to_be(),
        },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: ifindex as i32,
    };
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            (&mreq as *const libc::ip_mreqn).cast(),
            std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(format!(
            "join {GROUP} on {dev}: {}",
            std::io::Error::last_os_error()
        ));
    }
    let tv = nix::sys::time::TimeVal::new(0, 200_000);
    socket::setsockopt(&fd, sockopt::ReceiveTimeout, &tv)
        .map_err(|e| format!("SO_RCVTIMEO: {e}"))?;
    Ok(fd)
}

fn watch(a: &Args) -> Result<Vec<Seen>, String> {
    let fd = open(&a.dev)?;
    let end = Instant::now() + Duration::from_secs(a.secs);
    let mut seen = Vec::new();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        let len = match socket::recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(n) => n,
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("recv: {e}")),
        };
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // The first call turns stamping on and may find the packet unstamped.
        if unsafe { libc::ioctl(fd.as_raw_fd(), SIOCGSTAMPNS, &mut ts) } < 0 {
            continue;
        }
        let at_ns = i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec);
        if let Some(interval_ms) = advert_interval_ms(&buf[..len], a.src, a.vrid) {
            seen.push(Seen { at_ns, interval_ms });
        }
    }
    Ok(seen)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let a = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vigil-guest-adverts: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    match watch(&a) {
        Ok(seen) => match report(&seen) {
            Some(line) => println!("{line}"),
            None => {
                println!(
                    "ADVERTS n={} (fewer than two adverts from {})",
                    seen.len(),
                    a.src
                );
                std::process::exit(1);
            }
        },
        Err(e) => {
            eprintln!("vigil-guest-adverts: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(src: [u8; 4], vrrp: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 255, 112, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&[224, 0, 0, 18]);
        p.extend_from_slice(vrrp);
        p
    }

    #[test]
    fn intervals_by_version_and_filters() {
        let src = Ipv4Addr::new(192, 168, 67, 2);
        let v3 = pkt([192, 168, 67, 2], &[0x31, 51, 100, 1, 0x00, 10, 0, 0]);
        assert_eq!(advert_interval_ms(&v3, src, None), Some(100.0));
        assert_eq!(advert_interval_ms(&v3, src, Some(51)), Some(100.0));
        assert_eq!(advert_interval_ms(&v3, src, Some(52)), None);
        let v2 = pkt([192, 168, 67, 2], &[0x21, 51, 100, 1, 1, 1, 0, 0]);
        assert_eq!(advert_interval_ms(&v2, src, None), Some(1000.0));
        let other = pkt([192, 168, 67, 3], &[0x31, 51, 100, 1, 0x00, 10, 0, 0]);
        assert_eq!(advert_interval_ms(&other, src, None), None);
        let stop = pkt([192, 168, 67, 2], &[0x31, 51, 0, 1, 0x00, 10, 0, 0]);
        assert_eq!(advert_interval_ms(&stop, src, None), None);
        assert_eq!(advert_interval_ms(&v3[..22], src, None), None);
        assert_eq!(advert_interval_ms(&[], src, None), None);
    }

    #[test]
    fn lateness_and_percentiles() {
        let s = |ms: i128| Seen {
            at_ns: ms * 1_000_000,
            interval_ms: 100.0,
        };
        let late = lateness(&[s(0), s(100), s(203), s(301)]);
        assert_eq!(late.len(), 3);
        assert!((late[1] - 3.0).abs() < 1e-9 && (late[2] + 2.0).abs() < 1e-9);
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&sorted[..1], 99.0), 1.0);
        assert!(report(&[s(0)]).is_none());
        let line = report(&[s(0), s(100), s(203)]).unwrap_or_default();
        assert!(
            line.starts_with("ADVERTS n=3 interval_ms=100 p50_ms=0.00 p99_ms=3.00"),
            "{line}"
        );
    }
}
