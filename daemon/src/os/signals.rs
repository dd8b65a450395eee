//! SIGTERM, SIGINT, SIGHUP and SIGCHLD as an async stream for smol.
//!
//! A self-pipe rather than signalfd: signalfd only works if the signals are
//! blocked in *every* thread, and smol's reactor and blocking pool start threads
//! we do not control; a handler works whatever thread the kernel picks. The
//! handler only sets an atomic flag and writes one byte to a non-blocking pipe
//! (both async-signal-safe), so a burst of signals can never fill the pipe and
//! lose one: the flags are the truth, the byte only wakes the reader.

use core::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc::c_int;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal as NixSignal};
use smol::Async;

/// The signals the daemon reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGTERM: shut down, releasing VIPs.
    Terminate,
    /// SIGINT: same as SIGTERM (foreground runs).
    Interrupt,
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGCHLD: a child changed state (reapers may want to look).
    Child,
}

impl Signal {
    /// In the order `next` reports simultaneous signals: stopping first.
    const ALL: [Signal; 4] = [
        Signal::Terminate,
        Signal::Interrupt,
        Signal::Reload,
        Signal::Child,
    ];

    fn nix(self) -> NixSignal {
        match self {
            Signal::Terminate => NixSignal::SIGTERM,
            Signal::Interrupt => NixSignal::SIGINT,
            Signal::Reload => NixSignal::SIGHUP,
            Signal::Child => NixSignal::SIGCHLD,
        }
    }

    fn index(self) -> usize {
        match self {
            Signal::Terminate => 0,
            Signal::Interrupt => 1,
            Signal::Reload => 2,
            Signal::Child => 3,
        }
    }
}

/// Why the signal stream could not be set up.
#[derive(Debug)]
pub enum SignalError {
    /// Only one `Signals` may exist per process (handlers are process-wide).
    AlreadyInstalled,
    /// pipe2() failed.
    Pipe(Errno),
    /// sigaction() failed for this signal.
    Sigaction(NixSignal, Errno),
    /// Registering the pipe with the smol reactor failed.
    Reactor(io::Error),
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalError::AlreadyInstalled => f.write_str("signal handlers already installed"),
            SignalError::Pipe(e) => write!(f, "cannot create signal pipe: {e}"),
            SignalError::Sigaction(s, e) => write!(f, "cannot install handler for {s}: {e}"),
            SignalError::Reactor(e) => write!(f, "cannot register signal pipe: {e}"),
        }
    }
}

impl std::error::Error for SignalError {}

static INSTALLED: AtomicBool = AtomicBool::new(false);
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
static PENDING: [AtomicBool; 4] = [
    AtomicBool::new(false),
    AtomicBool::new(false),
    AtomicBool::new(false),
    AtomicBool::new(false),
];

extern "C" fn on_signal(sig: c_int) {
    let saved = Errno::last_raw();
    let which = match sig {
        nix::libc::SIGTERM => 0,
        nix::libc::SIGINT => 1,
        nix::libc::SIGHUP => 2,
        _ => 3,
    };
    PENDING[which].store(true, Ordering::SeqCst);
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let b = [1u8];
        // SAFETY: write(2) is async-signal-safe; fd is the non-blocking write
        // end of our pipe, valid until `Signals` is dropped, which first
        // resets WAKE_FD. A full pipe (EAGAIN) is fine: the reader is awake.
        unsafe { nix::libc::write(fd, b.as_ptr().cast(), 1) };
    }
    Errno::set_raw(saved);
}

/// The process's signal stream. Dropping it restores the default actions.
pub struct Signals {
    reader: Async<File>,
    _writer: OwnedFd,
    previous: Vec<(NixSignal, SigAction)>,
}

impl Signals {
    /// Install handlers for SIGTERM, SIGINT, SIGHUP and SIGCHLD. Must run
    /// inside a smol-compatible context only for `next`; installing is sync.
    pub fn install() -> Result<Signals, SignalError> {
        if INSTALLED.swap(true, Ordering::SeqCst) {
            return Err(SignalError::AlreadyInstalled);
        }
        match Self::setup() {
            Ok(s) => Ok(s),
            Err(e) => {
                WAKE_FD.store(-1, Ordering::SeqCst);
                INSTALLED.store(false, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    fn setup() -> Result<Signals, SignalError> {
        let (r, w) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).map_err(SignalError::Pipe)?;
        let reader = Async::new(File::from(r)).map_err(SignalError::Reactor)?;
        WAKE_FD.store(w.as_raw_fd(), Ordering::SeqCst);
        for p in &PENDING {
            p.store(false, Ordering::SeqCst);
        }
        // SA_RESTART so that blocking calls elsewhere (netlink requests) are
        // not failed with EINTR because a child exited.
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
            SigSet::empty(),
        );
        let mut previous = Vec::new();
        for s in Signal::ALL {
            // SAFETY: the handler only touches atomics and write(2).
            match unsafe { sigaction(s.nix(), &action) } {
                Ok(old) => previous.push((s.nix(), old)),
                Err(e) => {
                    restore(&previous);
                    return Err(SignalError::Sigaction(s.nix(), e));
                }
            }
        }
        // A parent may have started us with these signals blocked (the mask is
        // inherited across exec): a daemon that cannot be stopped is worse than
        // one that ignores its parent's wishes.
        let mut set = SigSet::empty();
        for s in Signal::ALL {
            set.add(s.nix());
        }
        if let Err(e) = set.thread_unblock() {
            restore(&previous);
            return Err(SignalError::Sigaction(Signal::Terminate.nix(), e));
        }
        Ok(Signals {
            reader,
            _writer: w,
            previous,
        })
    }

    /// A signal that already arrived, if any, without waiting.
    pub fn try_next(&self) -> Option<Signal> {
        Signal::ALL
            .into_iter()
            .find(|s| PENDING[s.index()].swap(false, Ordering::SeqCst))
    }

    /// Wait for the next signal. Several deliveries of one signal between two
    /// calls are reported once, like the kernel does for standard signals.
    pub async fn next(&self) -> io::Result<Signal> {
        loop {
            if let Some(s) = self.try_next() {
                return Ok(s);
            }
            self.reader
                .read_with(|f| {
                    let mut buf = [0u8; 64];
                    let mut reader: &File = f;
                    // Drain every wake byte, then re-check the flags.
                    loop {
                        match reader.read(&mut buf) {
                            Ok(0) => return Ok(()),
                            Ok(_) => continue,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                return if PENDING.iter().any(|p| p.load(Ordering::SeqCst)) {
                                    Ok(())
                                } else {
                                    Err(e)
                                };
                            }
                            Err(e) => return Err(e),
                        }
                    }
                })
                .await?;
        }
    }
}

fn restore(previous: &[(NixSignal, SigAction)]) {
    for (s, old) in previous {
        // SAFETY: restoring the action that was in place before us.
        let _ = unsafe { sigaction(*s, old) };
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        restore(&self.previous);
        WAKE_FD.store(-1, Ordering::SeqCst);
        INSTALLED.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::raise;

    // One test only: handlers are process-wide and tests run in parallel.
    #[test]
    fn signals_arrive_in_priority_order_and_handlers_restore() {
        let s = Signals::install().unwrap();
        assert!(matches!(
            Signals::install(),
            Err(SignalError::AlreadyInstalled)
        ));
        assert_eq!(s.try_next(), None);
        smol::block_on(async {
            raise(NixSignal::SIGHUP).unwrap();
            assert_eq!(s.next().await.unwrap(), Signal::Reload);
            raise(NixSignal::SIGCHLD).unwrap();
            raise(NixSignal::SIGTERM).unwrap();
            raise(NixSignal::SIGCHLD).unwrap();
            assert_eq!(s.next().await.unwrap(), Signal::Terminate);
            assert_eq!(s.next().await.unwrap(), Signal::Child);
            assert_eq!(s.try_next(), None);
            // A signal from another thread wakes a waiting reader.
            let t = std::thread::spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                raise(NixSignal::SIGINT).unwrap();
            });
            assert_eq!(s.next().await.unwrap(), Signal::Interrupt);
            t.join().unwrap();
        });
        drop(s);
        // Reinstallable after drop.
        let again = Signals::install().unwrap();
        drop(again);
    }
}
