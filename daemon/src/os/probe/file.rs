//! FILE_CHECK: the number in the tracked file, read as keepalived reads it
//! (the first 127 bytes, non-blocking open; missing, unreadable or empty is
//! 0). The LVS loop watches the file with inotify, as keepalived does, and
//! reads it as soon as it changes (runtime/lvs/worker.rs), besides every
//! delay_loop.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

use nix::libc;
use vigil_check::{file, FailReason, ProbeResult};

pub(super) fn probe(path: &str) -> ProbeResult {
    let mut buf = [0u8; 127];
    let n = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .and_then(|mut f| f.read(&mut buf))
        .unwrap_or(0);
    match file::value(&buf[..n]) {
        Some(v) => ProbeResult::FileValue(v),
        None => {
            log::info!("FILE_CHECK {path}: number out of range, ignored");
            ProbeResult::NotRun(FailReason::FileNumber)
        }
    }
}
