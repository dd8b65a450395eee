//! Removal of lab namespaces even when the test or demo is interrupted: every
//! namespace is registered here, and a signal thread deletes them on Ctrl-C.

use std::process::Command;
use std::sync::Mutex;

static NAMESPACES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub(crate) fn register(ns: &str) {
    if let Ok(mut v) = NAMESPACES.lock() {
        v.push(ns.to_string());
    }
}

pub(crate) fn unregister(ns: &str) {
    if let Ok(mut v) = NAMESPACES.lock() {
        v.retain(|n| n != ns);
    }
}

/// Kills every process inside `ns`, then deletes it. Errors are ignored: this is
/// best-effort teardown, and a namespace that is already gone is fine.
pub fn delete_namespace(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).status();
}

/// Deletes every registered namespace.
pub fn delete_all() {
    let list: Vec<String> = match NAMESPACES.lock() {
        Ok(mut v) => std::mem::take(&mut *v),
        Err(_) => return,
    };
    for ns in list.iter().rev() {
        delete_namespace(ns);
    }
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// On SIGINT/SIGTERM, removes the lab and exits with 130. A handler plus a
/// watcher thread rather than blocking the signals: a blocked mask would be
/// inherited by every process the lab starts (vigil, keepalived, tcpdump).
/// Call once, first thing in `main`.
pub fn install_signal_cleanup() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic.
        let _ = unsafe { sigaction(sig, &action) };
    }
    std::thread::spawn(|| loop {
        if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
            eprintln!("\ninterrupted: removing the lab");
            delete_all();
            std::process::exit(130);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    });
}
