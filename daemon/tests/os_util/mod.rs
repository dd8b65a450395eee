//! Shared helpers for the `os_*` tests: throw-away network namespaces.
//!
//! Every namespace gets a unique name `vt-<pid>-<n>` and is deleted by a Drop
//! guard, also when the test fails. When we are not root or `ip netns` does
//! not work (no CAP_SYS_ADMIN, no iproute2), the tests print
//! `skipped: <reason>` and return without failing.

#![allow(dead_code)]

use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace deleted on drop.
pub struct Netns {
    pub name: String,
}

fn ip(args: &[&str]) -> Result<Output, String> {
    Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))
}

impl Netns {
    /// Create a namespace with `lo` up, or explain why not.
    pub fn new() -> Result<Netns, String> {
        if !nix::unistd::geteuid().is_root() {
            return Err("not root".into());
        }
        let name = format!(
            "vt-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let out = ip(&["netns", "add", &name])?;
        if !out.status.success() {
            return Err(format!(
                "ip netns add failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let ns = Netns { name };
        // No duplicate address detection: link-local addresses must be usable
        // as soon as a link is up, or early IPv6 sends go out without one.
        ns.sh("ip link set lo up; sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 || true");
        Ok(ns)
    }

    /// Run a command line inside the namespace; panic if it fails.
    pub fn sh(&self, cmd: &str) -> String {
        let out = self.try_sh(cmd);
        assert!(
            out.status.success(),
            "`{cmd}` in {} failed: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run a command line inside the namespace.
    pub fn try_sh(&self, cmd: &str) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, "sh", "-c", cmd])
            .output()
            .expect("run ip netns exec")
    }

    /// Run `f` on a fresh thread that has entered the namespace, so sockets
    /// and netlink handles it opens live there.
    pub fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let name = self.name.clone();
        std::thread::spawn(move || {
            enter(&name);
            f()
        })
        .join()
        .expect("namespace thread panicked")
    }
}

/// Moves the calling thread into the namespace `name` (one made by the
/// test), so that the sockets it opens from now on live there.
pub fn enter(name: &str) {
    let file = std::fs::File::open(format!("/run/netns/{name}")).expect("open netns file");
    // SAFETY: setns on our own thread with a valid namespace fd.
    let r = unsafe { nix::libc::setns(file.as_raw_fd(), nix::libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Two namespaces joined by a veth pair, both ends called `eth0` and up,
/// with 10.9.0.1/24 + fd00:9::1/64 in `a` and 10.9.0.2/24 + fd00:9::2/64 in `b`.
pub struct Pair {
    pub a: Netns,
    pub b: Netns,
}

impl Pair {
    pub fn new() -> Result<Pair, String> {
        let a = Netns::new()?;
        let b = Netns::new()?;
        let out = a.try_sh(&format!(
            "ip link add eth0 type veth peer name eth0 netns {}",
            b.name
        ));
        if !out.status.success() {
            return Err(format!(
                "cannot create veth: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        for (ns, n) in [(&a, 1), (&b, 2)] {
            ns.sh(&format!(
                "ip addr add 10.9.0.{n}/24 dev eth0 && ip addr add fd00:9::{n}/64 dev eth0 nodad && ip link set eth0 up"
            ));
        }
        // Carrier-on reaches IPv6 through linkwatch, which may wait up to a
        // second: only then do the link-local address and the multicast
        // route exist. Wait for them on both sides.
        for ns in [&a, &b] {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !ns.sh("ip -6 route show table local").contains("ff00::/8") {
                if std::time::Instant::now() > deadline {
                    return Err(format!("no IPv6 multicast route in {} after 5 s", ns.name));
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        Ok(Pair { a, b })
    }

    /// The MAC of `eth0` in `ns`.
    pub fn mac(ns: &Netns) -> String {
        ns.sh("cat /sys/class/net/eth0/address").trim().to_string()
    }
}

/// Return early from a test with "skipped: <reason>" when `r` is an error.
#[macro_export]
macro_rules! or_skip {
    ($r:expr) => {
        match $r {
            Ok(v) => v,
            Err(reason) => {
                println!("skipped: {reason}");
                return;
            }
        }
    };
}
