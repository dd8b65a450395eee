//! vigil-guest-rs: the real servers of the load-balancing benchmark
//! (tests/guest/bench/), and the clock of the removal measurement.
//!
//! `ip netns exec RS vigil-guest-rs --addrs 192.168.67.10-29 --ports 8001-8050
//!     --victim 192.168.67.10:8001 --service 192.168.67.150:8001 --ipvs-netns /proc/PID/ns/net`
//!
//! One process listens on every ADDR:PORT (20 x 50 = 1,000 real servers) and
//! accepts and closes each connection, as a TCP_CHECK wants; epoll, so a
//! thousand checks a second cost one wake-up each, not a scan of every socket.
//! Signals drive it (a busybox shell has nothing finer):
//! - SIGUSR1 starts removal samples: close the victim's listener (its checks
//!   are refused from then on), ask the director's IPVS table (a netlink socket
//!   made in the namespace given, see ipvs.rs) for the victim's service every
//!   20 ms until the victim is gone and print `REMOVAL <s>`; reopen it, poll every 50 ms until it is back
//!   (`BACK <s>`), wait a random 0-1 s (so the death falls anywhere in the check
//!   period), again, until SIGTERM.
//! - SIGUSR2 prints `ACCEPTED <connections so far> <monotonic s>`.
//! - SIGTERM/SIGINT print `REMOVALS n=.. min=.. median=.. max=..` and exit.

mod ipvs;

use nix::libc;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: vigil-guest-rs --addrs A.B.C.X-Y --ports P-Q --victim ADDR:PORT
    --service VIP:PORT --ipvs-netns PATH";

static START: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    match sig {
        libc::SIGUSR1 => START.store(true, Ordering::SeqCst),
        libc::SIGUSR2 => COUNT.store(true, Ordering::SeqCst),
        _ => STOP.store(true, Ordering::SeqCst),
    }
}

struct Args {
    addrs: Vec<Ipv4Addr>,
    ports: Vec<u16>,
    victim: SocketAddrV4,
    service: SocketAddrV4,
    netns: String,
}

fn range(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u32 = a.parse().map_err(|_| format!("{s:?}: not a range"))?;
    let b: u32 = b.parse().map_err(|_| format!("{s:?}: not a range"))?;
    if a > b || b - a > 2000 {
        return Err(format!("{s:?}: an empty or too long range"));
    }
    Ok((a, b))
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let (mut addrs, mut ports, mut victim, mut netns) = (Vec::new(), Vec::new(), None, None);
    let mut service = None;
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let val = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addrs" => {
                let (base, last) = val.rsplit_once('.').ok_or("--addrs A.B.C.X-Y")?;
                let (x, y) = range(last)?;
                for n in x..=y.min(255) {
                    addrs.push(
                        format!("{base}.{n}")
                            .parse()
                            .map_err(|_| format!("--addrs {val:?}"))?,
                    );
                }
            }
            "--ports" => {
                let (p, q) = range(val)?;
                ports = (p..=q.min(65535)).map(|p| p as u16).collect();
            }
            "--victim" => victim = Some(val.parse().map_err(|_| format!("--victim {val:?}"))?),
            "--service" => service = Some(val.parse().map_err(|_| format!("--service {val:?}"))?),
            "--ipvs-netns" => netns = Some(val.clone()),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let victim: SocketAddrV4 = victim.ok_or("--victim is required")?;
    if !addrs.contains(victim.ip()) || !ports.contains(&victim.port()) {
        return Err("--victim must be one of --addrs x --ports".into());
    }
    Ok(Args {
        addrs,
        ports,
        victim,
        service: service.ok_or("--service is required")?,
        netns: netns.ok_or("--ipvs-netns is required")?,
    })
}

struct Epoll(i32);

impl Epoll {
    fn new() -> Result<Epoll, String> {
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(format!(
                "epoll_create1: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(Epoll(fd))
    }
    fn ctl(&self, op: i32, fd: i32, token: u64) -> Result<(), String> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        if unsafe { libc::epoll_ctl(self.0, op, fd, &mut ev) } < 0 {
            return Err(format!("epoll_ctl: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        unsafe { libc::close(self.0) };
    }
}

fn listen(a: SocketAddrV4, ep: &Epoll, token: usize) -> Result<TcpListener, String> {
    // std sets SO_REUSEADDR, so the victim can be reopened at once.
    let l = TcpListener::bind(a).map_err(|e| format!("bind {a}: {e}"))?;
    l.set_nonblocking(true).map_err(|e| format!("{a}: {e}"))?;
    ep.ctl(libc::EPOLL_CTL_ADD, l.as_raw_fd(), token as u64)?;
    Ok(l)
}

enum Phase {
    Idle,
    /// Waiting for the victim to be in the table before killing it.
    Armed,
    Dying(Instant),
    Returning(Instant),
    Pause(Instant),
}

fn summary(samples: &[f64]) -> String {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    match (s.first(), s.last()) {
        (Some(lo), Some(hi)) => format!(
            "REMOVALS n={} min={lo:.3} median={:.3} max={hi:.3}",
            s.len(),
            s[s.len() / 2]
        ),
        _ => "REMOVALS n=0".into(),
    }
}

fn raise_nofile(want: u64) {
    let r = libc::rlimit {
        rlim_cur: want,
        rlim_max: want,
    };
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) };
}

fn install_signals() {
    for sig in [libc::SIGUSR1, libc::SIGUSR2, libc::SIGTERM, libc::SIGINT] {
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

fn run(a: &Args) -> Result<(), String> {
    raise_nofile((a.addrs.len() * a.ports.len() + 64) as u64);
    install_signals();
    let mut table = ipvs::Ipvs::open(&a.netns, a.service)?;
    let ep = Epoll::new()?;
    let mut socks: Vec<(SocketAddrV4, Option<TcpListener>)> = Vec::new();
    let mut victim = 0;
    for ip in &a.addrs {
        for port in &a.ports {
            let sa = SocketAddrV4::new(*ip, *port);
            if sa == a.victim {
                victim = socks.len();
            }
            let l = listen(sa, &ep, socks.len())?;
            socks.push((sa, Some(l)));
        }
    }
    println!("LISTENING {}", socks.len());
    let t0 = Instant::now();
    let (mut accepted, mut phase, mut next_poll) = (0u64, Phase::Idle, Instant::now());
    let (mut samples, mut rng) = (Vec::new(), u64::from(std::process::id()) | 1);
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    while !STOP.load(Ordering::SeqCst) {
        if START.swap(false, Ordering::SeqCst) {
            phase = Phase::Armed;
        }
        if COUNT.swap(false, Ordering::SeqCst) {
            println!("ACCEPTED {accepted} {:.3}", t0.elapsed().as_secs_f64());
        }
        let now = Instant::now();
        if !matches!(phase, Phase::Idle) && now >= next_poll {
            let every = if matches!(phase, Phase::Dying(_)) {
                20
            } else {
                50
            };
            next_poll = now + Duration::from_millis(every);
            phase = match phase {
                Phase::Armed if table.has_dest(a.victim)? => {
                    let sock = &mut socks[victim];
                    if let Some(l) = sock.1.take() {
                        ep.ctl(libc::EPOLL_CTL_DEL, l.as_raw_fd(), 0)?;
                    }
                    Phase::Dying(Instant::now())
                }
                Phase::Dying(t) if !table.has_dest(a.victim)? => {
                    let d = t.elapsed().as_secs_f64();
                    println!("REMOVAL {d:.3}");
                    samples.push(d);
                    socks[victim].1 = Some(listen(a.victim, &ep, victim)?);
                    Phase::Returning(Instant::now())
                }
                Phase::Dying(t) if t.elapsed() > Duration::from_secs(60) => {
                    println!("REMOVAL timeout");
                    socks[victim].1 = Some(listen(a.victim, &ep, victim)?);
                    Phase::Returning(Instant::now())
                }
                Phase::Returning(t) if table.has_dest(a.victim)? => {
                    println!("BACK {:.3}", t.elapsed().as_secs_f64());
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    Phase::Pause(Instant::now() + Duration::from_millis(rng % 1000))
                }
                Phase::Pause(until) if Instant::now() >= until => Phase::Armed,
                p => p,
            };
        }
        let wait = if matches!(phase, Phase::Idle) {
            200
        } else {
            next_poll
                .saturating_duration_since(Instant::now())
                .as_millis() as i32
                + 1
        };
        let n = unsafe { libc::epoll_wait(ep.0, events.as_mut_ptr(), events.len() as i32, wait) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("epoll_wait: {e}"));
        }
        for ev in &events[..n as usize] {
            let Some((_, Some(l))) = socks.get(ev.u64 as usize) else {
                continue;
            };
            loop {
                match l.accept() {
                    Ok(_) => accepted += 1, // dropped: closed at once
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    // ECONNABORTED and the like: the peer is gone; keep serving.
                    Err(_) => break,
                }
            }
        }
    }
    println!("ACCEPTED {accepted} {:.3}", t0.elapsed().as_secs_f64());
    println!("{}", summary(&samples));
    Ok(())
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let a = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vigil-guest-rs: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&a) {
        eprintln!("vigil-guest-rs: {e}");
        std::process::exit(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(&s.split(' ').map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn ranges_and_victim() {
        let a = args("--addrs 10.0.0.10-29 --ports 8001-8050 --victim 10.0.0.10:8001 --service 10.0.0.1:8001 --ipvs-netns /x");
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a.addrs.len(), a.ports.len()), (20, 50));
        assert_eq!(a.addrs[19], Ipv4Addr::new(10, 0, 0, 29));
        assert!(args("--addrs 10.0.0.10-29 --ports 8001 --victim 10.0.0.9:8001 --service 10.0.0.1:8001 --ipvs-netns /x").is_err());
        assert!(args("--addrs 10.0.0.29-10 --ports 1 --victim 10.0.0.29:1 --service 10.0.0.1:1 --ipvs-netns /x").is_err());
        assert!(args("--addrs 10.0.0.1 --ports 1 --victim 10.0.0.1:1").is_err());
    }

    #[test]
    fn summaries() {
        assert_eq!(
            summary(&[2.5, 2.1, 3.0]),
            "REMOVALS n=3 min=2.100 median=2.500 max=3.000"
        );
        assert_eq!(summary(&[]), "REMOVALS n=0");
    }
}
