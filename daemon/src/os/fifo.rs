//! Notify FIFOs as keepalived 2.2.7 opens them (lib/notify.c): created with
//! `mkfifo` if missing, mode 0644 under the umask (keepalived's default
//! 0177 leaves 0600; `global_defs { umask }` changes it), given to the
//! configured owner, then
//! opened `O_RDWR | O_NONBLOCK`: holding the read side ourselves, the open
//! never waits for a reader and a write never fails for want of one. With
//! no reader, lines collect in the pipe (64 KiB on Linux); once it is full
//! a write returns EAGAIN and the line is dropped: keepalived drops it
//! silently, vigil logs it once until a write succeeds again.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::sys::stat::Mode;

/// A FIFO that could not be made ready.
#[derive(Debug)]
pub enum FifoError {
    Create(PathBuf, Errno),
    Open(PathBuf, io::Error),
}

impl fmt::Display for FifoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FifoError::Create(p, e) => write!(f, "cannot create notify fifo {}: {e}", p.display()),
            FifoError::Open(p, e) => write!(f, "cannot open notify fifo {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for FifoError {}

/// An open notify FIFO; removed on drop if we created it.
#[derive(Debug)]
pub struct Fifo {
    path: PathBuf,
    file: File,
    created: bool,
    /// A line was dropped and logged; cleared by the next good write.
    full: AtomicBool,
}

/// What became of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Yes,
    /// The pipe is full (nobody reads): dropped.
    Full,
    /// Another error: dropped.
    Failed,
}

/// `mkfifo PATH` with mode 0644 under the umask (0600 by default) unless something is there already;
/// true when we created it. `owner` (uid, gid) is applied to a new FIFO.
pub fn create(path: &Path, owner: Option<(u32, u32)>) -> Result<bool, FifoError> {
    let mode = Mode::S_IRUSR | Mode::S_IWUSR | Mode::S_IRGRP | Mode::S_IROTH;
    match nix::unistd::mkfifo(path, mode) {
        Ok(()) => {
            // keepalived's 0644 under the process umask (0177 unless
            // `umask` says otherwise), read back rather than trusted.
            let mode = 0o644 & !u32::from(super::users::umask());
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
            if let Some((uid, gid)) = owner {
                let r = std::os::unix::fs::chown(path, Some(uid), Some(gid));
                if let Err(e) = r {
                    log::info!("Failed to set uid:gid for fifo {}: {e}", path.display());
                }
            }
            Ok(true)
        }
        Err(Errno::EEXIST) => Ok(false),
        Err(e) => Err(FifoError::Create(path.to_path_buf(), e)),
    }
}

impl Fifo {
    /// Opens `path` (see the module doc); `created` says whether to unlink
    /// it when dropped.
    pub fn open(path: &Path, created: bool) -> Result<Fifo, FifoError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(path);
        match file {
            Ok(file) => Ok(Fifo {
                path: path.to_path_buf(),
                file,
                created,
                full: AtomicBool::new(false),
            }),
            Err(e) => {
                if created {
                    let _ = std::fs::remove_file(path);
                }
                Err(FifoError::Open(path.to_path_buf(), e))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line (shorter than PIPE_BUF, so whole or not at all)
    /// without blocking.
    pub fn write_line(&self, line: &str) -> Written {
        match (&self.file).write(line.as_bytes()) {
            Ok(_) => {
                if self.full.swap(false, Ordering::Relaxed) {
                    log::info!("notify fifo {}: being read again", self.path.display());
                }
                Written::Yes
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if !self.full.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "notify fifo {} is full (no reader?): lines are dropped until it is read",
                        self.path.display()
                    );
                }
                Written::Full
            }
            Err(e) => {
                log::warn!("notify fifo {}: {e}", self.path.display());
                Written::Failed
            }
        }
    }
}

impl Drop for Fifo {
    /// keepalived unlinks first, so that a reader that loops reopening the
    /// path cannot reopen this FIFO.
    fn drop(&mut self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
