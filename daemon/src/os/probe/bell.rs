//! A wake-up another thread (or a waker) can post to the LVS thread's
//! epoll loop: an eventfd, counted, so posts between two waits merge into
//! one wake-up.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::eventfd::{EfdFlags, EventFd};

#[derive(Debug)]
pub struct Bell(EventFd);

impl Bell {
    pub fn new() -> io::Result<Bell> {
        EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map(Bell)
            .map_err(io::Error::from)
    }

    /// Wakes the loop; a full counter (never in practice) already wakes it.
    pub fn post(&self) {
        let _ = self.0.write(1);
    }

    /// Takes the pending posts, so the fd stops being readable.
    pub fn drain(&self) {
        let _ = self.0.read();
    }
}

impl AsFd for Bell {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
