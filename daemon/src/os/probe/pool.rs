//! TCP_CHECK without a reactor: the LVS thread's own epoll instance, a slab
//! of connects in flight and a deadline heap, so a thousand checks a second
//! cost one `epoll_wait` per batch of completions on that thread and wake no
//! other thread (smol's `async-io` reactor would be woken, then wake us, for
//! every readiness and every per-probe timer).
//!
//! Where a raw socket opens, checks go half-open instead (`halfopen.rs`:
//! one SYN per check, on this same epoll); the connects below take what it
//! cannot, or everything with `VIGIL_TCP_CHECK=connect`.
//!
//! Steady state allocates nothing: slots and heap entries are reused, the
//! event buffer is fixed. Results are the same as [`super::run`]'s TCP
//! probe: connected within the timeout passes, the errno sorting is
//! `connect::classify` / `connect::not_run`.
//!
//! Close: by reset (SO_LINGER 0). The verdict is taken when the handshake
//! completes, before any close, so how we close does not change it; a reset
//! saves the FIN exchange (4 segments instead of 7 per check) and leaves no
//! TIME_WAIT entry per check on the director. keepalived 2.2.7 closes
//! gracefully (SO_LINGER 5 s); keepalived 1.x reset as we do.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::libc;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use socket2::{Protocol, SockAddr, Socket, Type};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

use super::connect::{self, Target};
use super::halfopen::HalfOpen;

/// Keys at or above this are the caller's (see [`TcpPool::watch`]).
pub const USER_KEY: u64 = 1 << 63;

/// The keys of the half-open engine's raw sockets (IPv4, IPv6); connect
/// keys stay below 2^62.
const RAW_V4: u64 = USER_KEY - 1;
const RAW_V6: u64 = USER_KEY - 2;
/// The key of the half-open engine's next-hop events.
const HOPS: u64 = USER_KEY - 3;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 256;

/// One connect in flight, or a free slot.
struct Slot {
    sock: Option<Socket>,
    token: u64,
    /// Bumped on every reuse: a stale heap entry or event names an older
    /// generation and is ignored.
    gen: u32,
    deadline_us: u64,
}

/// The TCP probes in flight on one thread.
pub struct TcpPool {
    epoll: Epoll,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// (deadline, slot, generation), earliest first; entries of finished
    /// connects stay until they reach the top and are dropped there.
    timers: BinaryHeap<Reverse<(u64, u32, u32)>>,
    events: Vec<EpollEvent>,
    live: usize,
    /// SYN checks on raw sockets, when they could be opened (see
    /// `halfopen.rs`); the connects above take what it cannot.
    half: Option<HalfOpen>,
}

/// Which engine a [`TcpPool`] runs TCP_CHECK with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEngine {
    /// Half-open (one SYN per check), connects only where it cannot.
    HalfOpen,
    /// A full connect per check.
    Connect,
}

/// What [`TcpPool::wait`] saw besides TCP completions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Woken {
    /// Bit n: the fd watched with key `USER_KEY + n` is readable.
    pub keys: u64,
}

fn key(slot: u32, gen: u32) -> u64 {
    (u64::from(gen & GEN_MASK) << 32) | u64::from(slot)
}

const GEN_MASK: u32 = 0x3fff_ffff;

impl TcpPool {
    /// The half-open engine where raw sockets can be opened (else, or with
    /// `VIGIL_TCP_CHECK=connect` in the environment, full connects).
    pub fn new() -> io::Result<TcpPool> {
        if std::env::var_os("VIGIL_TCP_CHECK").is_some_and(|v| v == "connect") {
            return TcpPool::with(TcpEngine::Connect);
        }
        match TcpPool::with(TcpEngine::HalfOpen) {
            Ok(p) => Ok(p),
            Err(e) => {
                log::info!("TCP_CHECK: no raw socket ({e}): full connects");
                TcpPool::with(TcpEngine::Connect)
            }
        }
    }

    /// A pool running `engine`; `HalfOpen` fails if no raw socket opens.
    pub fn with(engine: TcpEngine) -> io::Result<TcpPool> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let half = match engine {
            TcpEngine::HalfOpen => {
                let h = HalfOpen::new()?;
                for (fd, v6) in h.fds() {
                    let k = if v6 { RAW_V6 } else { RAW_V4 };
                    epoll.add(fd, EpollEvent::new(EpollFlags::EPOLLIN, k))?;
                }
                if let Some(fd) = h.hop_fd() {
                    epoll.add(fd, EpollEvent::new(EpollFlags::EPOLLIN, HOPS))?;
                }
                Some(h)
            }
            TcpEngine::Connect => None,
        };
        Ok(TcpPool {
            epoll,
            slots: Vec::new(),
            free: Vec::new(),
            timers: BinaryHeap::new(),
            events: vec![EpollEvent::empty(); EVENTS],
            live: 0,
            half,
        })
    }

    /// The engine this pool prefers.
    pub fn engine(&self) -> TcpEngine {
        match self.half {
            Some(_) => TcpEngine::HalfOpen,
            None => TcpEngine::Connect,
        }
    }

    /// Adds a caller's fd (an eventfd, say), level-triggered on input;
    /// `n` < 63 is the bit [`Woken::keys`] reports it under.
    pub fn watch<Fd: AsFd>(&self, fd: Fd, n: u32) -> io::Result<()> {
        let ev = EpollEvent::new(EpollFlags::EPOLLIN, USER_KEY + u64::from(n.min(62)));
        self.epoll.add(fd, ev).map_err(io::Error::from)
    }

    /// Half-open SYNs sent so far: (handed to interfaces by the packet
    /// socket, by the raw sockets); zeros for full connects.
    pub fn syns_sent(&self) -> (u64, u64) {
        self.half.as_ref().map_or((0, 0), HalfOpen::sent)
    }

    /// Connects in flight.
    pub fn in_flight(&self) -> usize {
        self.live + self.half.as_ref().map_or(0, HalfOpen::in_flight)
    }

    /// Starts `kind` if it is a TCP_CHECK (else `false`, nothing done). A
    /// connect that ends at once (refused on a local route, a bind error)
    /// is pushed to `done` right away.
    pub fn start(
        &mut self,
        token: u64,
        kind: &ProbeKind,
        now_us: u64,
        done: &mut Vec<(u64, ProbeResult)>,
    ) -> bool {
        let ProbeKind::Tcp {
            connect_ip,
            port,
            bindto,
            bind_port,
            timeout,
        } = kind
        else {
            return false;
        };
        let t = Target::new(connect_ip, port, bindto, bind_port);
        if let Some(h) = self.half.as_mut() {
            if h.start(token, &t, *timeout, now_us, done) {
                return true;
            }
        }
        match self.connect(&t) {
            Ok(None) => done.push((token, ProbeResult::Ok)),
            Ok(Some(sock)) => {
                if let Err(r) = self.file(token, sock, now_us, *timeout) {
                    done.push((token, r));
                }
            }
            Err(r) => done.push((token, r)),
        }
        true
    }

    /// A connecting socket, or `None` when it connected at once.
    fn connect(&self, t: &Target) -> Result<Option<Socket>, ProbeResult> {
        let s = connect::socket(t, Type::STREAM, Protocol::TCP)?;
        s.set_linger(Some(Duration::ZERO))
            .map_err(|e| connect::not_run(&e))?;
        match s.connect(&SockAddr::from(std::net::SocketAddr::new(t.ip, t.port))) {
            Ok(()) => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(Some(s)),
            Err(e) => Err(connect::classify(&e)),
        }
    }

    fn file(
        &mut self,
        token: u64,
        sock: Socket,
        now_us: u64,
        timeout: Duration,
    ) -> Result<(), ProbeResult> {
        let n = match self.free.pop() {
            Some(n) => n,
            None => {
                let n = u32::try_from(self.slots.len())
                    .map_err(|_| ProbeResult::NotRun(FailReason::Socket(libc::EMFILE)))?;
                self.slots.push(Slot {
                    sock: None,
                    token: 0,
                    gen: 0,
                    deadline_us: 0,
                });
                n
            }
        };
        let Some(slot) = self.slots.get_mut(n as usize) else {
            return Err(ProbeResult::NotRun(FailReason::Socket(libc::EINVAL)));
        };
        slot.gen = slot.gen.wrapping_add(1) & GEN_MASK;
        let ev = EpollEvent::new(EpollFlags::EPOLLOUT, key(n, slot.gen));
        if let Err(e) = self.epoll.add(&sock, ev) {
            self.free.push(n);
            return Err(connect::not_run(&e.into()));
        }
        let micros = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
        slot.deadline_us = now_us.saturating_add(micros);
        slot.token = token;
        slot.sock = Some(sock);
        self.timers.push(Reverse((slot.deadline_us, n, slot.gen)));
        self.live += 1;
        Ok(())
    }

    /// Ends slot `n` (closing drops it from the epoll set).
    fn end(&mut self, n: u32) -> Option<u64> {
        let slot = self.slots.get_mut(n as usize)?;
        let sock = slot.sock.take()?;
        drop(sock);
        self.free.push(n);
        self.live -= 1;
        Some(slot.token)
    }

    /// The earliest connect deadline (stale heap entries dropped first, so
    /// a finished connect never causes a wake-up).
    pub fn next_deadline(&mut self) -> Option<u64> {
        let half = self.half.as_mut().and_then(HalfOpen::next_deadline);
        let full = self.next_connect_deadline();
        half.into_iter().chain(full).min()
    }

    fn next_connect_deadline(&mut self) -> Option<u64> {
        while let Some(Reverse((d, n, gen))) = self.timers.peek().copied() {
            match self.slots.get(n as usize) {
                Some(s) if s.sock.is_some() && s.gen == gen => return Some(d),
                _ => {
                    self.timers.pop();
                }
            }
        }
        None
    }

    /// Waits up to `timeout` (`None`: until something happens), then
    /// pushes every finished connect to `done`; connects past their
    /// deadline at `now_us()` (read after the wait) count as timed out.
    pub fn wait(
        &mut self,
        timeout: Option<Duration>,
        now_us: impl Fn() -> u64,
        done: &mut Vec<(u64, ProbeResult)>,
    ) -> io::Result<Woken> {
        let ms = match timeout {
            None => EpollTimeout::NONE,
            // Rounded up: waking a little early would only spin.
            Some(d) => {
                let ms = d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::NONE)
            }
        };
        // The SYNs of the checks started since the last wait, in batches.
        if let Some(h) = self.half.as_mut() {
            h.flush(done);
        }
        let mut woken = Woken::default();
        let mut ms = ms;
        // The deadlines are judged at the time the wait returned, not after
        // the events were handled: a connect that completed meanwhile (a
        // preempted thread) is not in this batch, and must not count late.
        let mut woke_at = None;
        loop {
            let n = match self.epoll.wait(&mut self.events, ms) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => 0,
                Err(e) => return Err(e.into()),
            };
            woke_at.get_or_insert_with(&now_us);
            self.take(n, &mut woken, done);
            // A full buffer may leave completions behind: take them before
            // any deadline is judged, or they would count as timeouts.
            if n < self.events.len() {
                break;
            }
            ms = EpollTimeout::ZERO;
        }
        self.expire(woke_at.unwrap_or_else(&now_us), done);
        Ok(woken)
    }

    fn take(&mut self, n: usize, woken: &mut Woken, done: &mut Vec<(u64, ProbeResult)>) {
        for i in 0..n.min(self.events.len()) {
            let data = self.events[i].data();
            if data >= USER_KEY {
                woken.keys |= 1 << (data - USER_KEY).min(62);
                continue;
            }
            if data == HOPS {
                if let Some(h) = self.half.as_mut() {
                    h.hops_readable(crate::os::clock::now_us());
                }
                continue;
            }
            if data == RAW_V4 || data == RAW_V6 {
                let err = self.events[i].events().contains(EpollFlags::EPOLLERR);
                if let Some(h) = self.half.as_mut() {
                    h.readable(data == RAW_V6, err, done);
                }
                continue;
            }
            let (slot, gen) = ((data & 0xffff_ffff) as u32, (data >> 32) as u32);
            let flags = self.events[i].events();
            let result = match self.slots.get(slot as usize) {
                // Writable without an error or hang-up: connected (saves
                // the SO_ERROR read on the common path).
                Some(s)
                    if s.gen == gen
                        && s.sock.is_some()
                        && !flags.intersects(EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP) =>
                {
                    ProbeResult::Ok
                }
                Some(s) if s.gen == gen => match s.sock.as_ref().map(Socket::take_error) {
                    Some(Ok(None)) => ProbeResult::Ok,
                    Some(Ok(Some(e))) | Some(Err(e)) => connect::classify(&e),
                    None => continue,
                },
                _ => continue,
            };
            if let Some(token) = self.end(slot) {
                done.push((token, result));
            }
        }
    }

    /// Connects whose deadline is at or before `now_us` fail as timed out.
    pub fn expire(&mut self, now_us: u64, done: &mut Vec<(u64, ProbeResult)>) {
        if let Some(h) = self.half.as_mut() {
            h.expire(now_us, done);
        }
        while let Some(d) = self.next_connect_deadline() {
            if d > now_us {
                break;
            }
            let Some(Reverse((_, n, _))) = self.timers.pop() else {
                break;
            };
            // Connected after all (its event not read yet): a pass, as the
            // event would have said.
            let result = match self.slots.get(n as usize).and_then(|s| s.sock.as_ref()) {
                Some(s) if s.peer_addr().is_ok() => ProbeResult::Ok,
                Some(s) => match s.take_error() {
                    Ok(Some(e)) => connect::classify(&e),
                    _ => ProbeResult::Failed(FailReason::ConnectTimeout),
                },
                None => continue,
            };
            if let Some(token) = self.end(n) {
                done.push((token, result));
            }
        }
    }

    /// Drops every connect in flight (a stop).
    pub fn clear(&mut self) {
        for n in 0..self.slots.len() {
            let _ = self.end(n as u32);
        }
        self.timers.clear();
        if let Some(h) = self.half.as_mut() {
            h.clear();
        }
    }
}
