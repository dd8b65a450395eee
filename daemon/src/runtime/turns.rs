//! The loop's turns: wait (events, readable VRRP sockets, the next timer),
//! read every queued advert, fire the timers that are due, then carry out
//! the actions. The packet and timer side of [`Daemon`]; start-up, events,
//! dispatch and reload live in `daemon.rs`.
//!
//! Receive coalescing and the flood pause keep the loop's wake-ups (and so
//! its CPU) bounded by time, not by the packet rate; [`Breather`] keeps a
//! realtime loop from running so long without sleeping that RLIMIT_RTTIME
//! kills it.

use vigil_vrrp as vrrp;

use super::daemon::{now, Daemon};
use super::event::Event;
use crate::os::clock;
use crate::os::sched::Policy;
use crate::os::signals::Signal;

/// Wake-ups for timers are rounded up to this tick, so that instances due
/// within one tick fire in one wake-up (200 instances at advert_int 0.02
/// would otherwise wake the loop 10,000 times a second). A tick late is
/// nothing next to a Master_Down_Interval of at least 30 ms.
const TIMER_TICK_US: u64 = 1_000;
/// Socket batches read in a row before timers fire anyway: a backlog (a
/// late wake-up) is read to the end before any Master_Down_Timer fires, but
/// a flood that never ends cannot hold the timers back (adverts still go out).
/// 8 x 256 packets outlast what the 1 MiB socket buffer can queue.
const MAX_BATCHES_BEFORE_TIMERS: u32 = 8;
/// Receive coalescing: once a wake-up has read packets, the sockets are not
/// waited on again for this long (timers and events still wake the loop).
/// At 10,000 adverts/s that reads ~20 per wake-up instead of one, which is
/// most of the backup's CPU. Each advert still counts from its kernel
/// receive time, and every wake-up reads the queue before firing timers,
/// so the delay never turns a queued advert into a missed one; it only
/// postpones reactions (a higher priority, priority 0) by up to this much,
/// small next to the 13 ms Skew_Time of a 20 ms interval. It is also the
/// pause an endless flood gets after each run of batches, which bounds its
/// CPU and lets a realtime loop sleep (RLIMIT_RTTIME).
const RX_COALESCE_US: u64 = 2_000;

/// What ended a wait of the loop.
enum Wake {
    /// An event, or `None` when every sender is gone.
    Event(Option<Event>),
    Readable,
    Timer,
}

/// Longest a realtime loop runs without sleeping: well inside keepalived's
/// default RLIMIT_RTTIME of 10 ms (soft limit 5 ms).
const BREATHE_EVERY_US: u64 = 2_000;
/// The nap that resets the kernel's RLIMIT_RTTIME count (any real sleep).
const NAP: std::time::Duration = std::time::Duration::from_micros(20);

/// Naps now and then under SCHED_RR, where the kernel counts CPU used
/// without sleeping (RLIMIT_RTTIME) and kills at the hard limit: 200
/// instances going MASTER at once (netlink, ARP, adverts) or a backlog of
/// adverts are work enough to reach it. Under normal scheduling it does
/// nothing.
pub(super) struct Breather {
    /// The realtime policy in force; `None` under normal scheduling.
    realtime: Option<Policy>,
    /// When the loop last slept, on the monotonic clock (µs).
    since: u64,
}

impl Breather {
    pub(super) fn new(realtime: Option<Policy>) -> Breather {
        Breather {
            realtime,
            since: clock::now_us(),
        }
    }

    /// The loop slept (a wait that lasted).
    pub(super) fn slept(&mut self, now_us: u64) {
        self.since = now_us;
    }

    /// Naps if the loop has run [`BREATHE_EVERY_US`] since it last slept.
    pub(super) fn breathe(&mut self) {
        if self.realtime.is_none() {
            return;
        }
        let now = clock::now_us();
        if now.saturating_sub(self.since) >= BREATHE_EVERY_US {
            std::thread::sleep(NAP);
            self.since = clock::now_us();
        }
    }

    /// Normal scheduling for the loop's thread until [`restore`](Self::restore).
    pub(super) fn relax(&mut self) {
        if let Some(p) = &self.realtime {
            for e in crate::os::sched::relax_thread(0, p) {
                log::warn!("scheduling: {e}");
            }
        }
    }

    /// The realtime policy again, after [`relax`](Self::relax).
    pub(super) fn restore(&mut self) {
        if let Some(p) = &self.realtime {
            for e in crate::os::sched::apply_thread(0, p) {
                log::warn!("scheduling: {e}");
            }
            self.since = clock::now_us();
        }
    }
}

/// A wait shorter than this may not have slept at all (ready at once).
const SLEPT_US: u64 = 50;

impl Daemon {
    /// Runs until stopped; returns the exit code.
    ///
    /// Each turn: carry out the pending actions; sleep until an event, a
    /// readable VRRP socket (unless a receive-coalescing pause runs) or the
    /// next deadline (rounded up to the timer tick); then read every queued
    /// advert *before* firing timers, each with its kernel receive time, so
    /// a loop that wakes up late hears the master's waiting adverts before
    /// it declares the master down.
    pub async fn run(mut self, mut policy: Policy) -> u8 {
        let realtime = crate::os::sched::current().0 == nix::libc::SCHED_RR;
        self.breather = Breather::new(realtime.then_some(policy));
        let mut timer = smol::Timer::never();
        let mut drained = true;
        let mut batches = 0u32;
        // End of the receive-coalescing pause, on the monotonic clock (µs).
        let mut quiet_until: Option<u64> = None;
        // An endless flood hit the batch limit: wait out the pause first.
        let mut paused = false;
        loop {
            // Events can follow each other without a sleep (200 address
            // events after 200 instances went MASTER), not only actions.
            self.breather.breathe();
            self.drain().await;
            let now_us = clock::now_us();
            if quiet_until.is_some_and(|q| q <= now_us) {
                quiet_until = None;
            }
            let wake = if drained || paused {
                paused = false;
                let due = self
                    .router
                    .poll_timeout()
                    .map(|d| d.as_micros().div_ceil(TIMER_TICK_US) * TIMER_TICK_US);
                match due.into_iter().chain(quiet_until).min() {
                    Some(at) => timer.set_after(clock::until(now_us, at)),
                    None => timer = smol::Timer::never(),
                }
                let (rx, net, ah, timer) = (&self.rx, &self.net, &self.ah, &mut timer);
                let listen = quiet_until.is_none();
                let event = async { Wake::Event(rx.recv().await.ok()) };
                let readable = async {
                    if listen {
                        smol::future::poll_fn(|cx| {
                            // Both polled, so that each registers the waker.
                            let (v, a) = (net.poll_readable(cx), ah.poll_readable(cx));
                            if v.is_ready() {
                                v
                            } else {
                                a
                            }
                        })
                        .await;
                        Wake::Readable
                    } else {
                        smol::future::pending::<Wake>().await
                    }
                };
                let timeout = async {
                    timer.await;
                    Wake::Timer
                };
                let w = smol::future::or(event, smol::future::or(readable, timeout)).await;
                let after = clock::now_us();
                if after.saturating_sub(now_us) >= SLEPT_US {
                    self.breather.slept(after);
                }
                w
            } else {
                // A batch limit left packets queued: go on reading, but let
                // a pending event (a signal, the control socket) in too.
                match self.rx.try_recv() {
                    Ok(ev) => Wake::Event(Some(ev)),
                    Err(_) => Wake::Readable,
                }
            };
            let (read, all) = self.read_sockets();
            drained = all;
            if read > 0 && quiet_until.is_none() {
                quiet_until = Some(clock::now_us() + RX_COALESCE_US);
            }
            if let Wake::Event(Some(ev)) = wake {
                // A reload reads and applies a whole configuration: too
                // long a stretch for SCHED_RR under RLIMIT_RTTIME.
                let reload = matches!(ev, Event::Signal(Signal::Reload));
                if reload {
                    self.breather.relax();
                }
                let code = self.handle(now(), ev).await;
                if reload {
                    self.breather.restore();
                }
                if let Some(code) = code {
                    return code;
                }
            }
            batches = if drained { 0 } else { batches + 1 };
            if batches > 0 && batches < MAX_BATCHES_BEFORE_TIMERS {
                continue;
            }
            if batches > 0 {
                // An endless flood: timers now, then a pause before more.
                quiet_until = Some(clock::now_us() + RX_COALESCE_US);
                paused = true;
            }
            batches = 0;
            let now = now();
            if let Some(due) = self.router.poll_timeout().filter(|d| *d <= now) {
                let late = now.as_micros().saturating_sub(due.as_micros());
                if let Some(p) = crate::os::sched::auto_raise(&policy, late) {
                    self.raise(&mut policy, p, late);
                }
                self.router.handle_timeout(now);
            }
        }
    }

    /// `max_auto_priority`: a timer ran `late_us` late; the loop and its
    /// I/O helper go to `p`, as keepalived's `increment_process_priority`.
    fn raise(&mut self, policy: &mut Policy, p: Policy, late_us: u64) {
        let errs = crate::os::sched::apply(&p);
        if !errs.is_empty() {
            for e in errs {
                log::warn!("max_auto_priority: {e}");
            }
            // Refused: stop trying (the next step would be refused too).
            policy.max_auto = 0;
            return;
        }
        for tid in crate::os::sched::threads_named("async-io") {
            for e in crate::os::sched::apply_thread(tid, &p) {
                log::warn!("max_auto_priority (I/O helper thread): {e}");
            }
        }
        log::info!(
            "A timer expired {}.{:06} seconds ago: realtime priority now {}",
            late_us / 1_000_000,
            late_us % 1_000_000,
            p.rt_priority.unwrap_or(0)
        );
        *policy = p;
        self.breather = Breather::new(Some(p));
    }

    /// Feeds every queued VRRP message to the router, timed by its receive
    /// timestamp; returns how many were read and false when a socket had
    /// more than one batch queued.
    fn read_sockets(&mut self) -> (usize, bool) {
        let now = now();
        let (router, breather) = (&mut self.router, &mut self.breather);
        let mut n = 0usize;
        let at = |age: std::time::Duration| {
            let age = u64::try_from(age.as_micros()).unwrap_or(u64::MAX);
            vrrp::Instant::from_micros(now.as_micros().saturating_sub(age))
        };
        let drained = self.net.read_packets(|meta, age, payload| {
            n += 1;
            if n.is_multiple_of(64) {
                breather.breathe();
            }
            router.handle_packet_at(now, at(age), meta, payload);
        });
        let ah = self
            .ah
            .read_packets(&self.net.links, |meta, age, datagram| {
                n += 1;
                router.handle_ah_packet_at(now, at(age), meta, datagram);
            });
        (n, drained && ah)
    }
}
