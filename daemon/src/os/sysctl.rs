//! Per-interface sysctls under /proc/sys/net (`net.ipv4.conf.IF.arp_ignore`
//! and the like). The files are per network namespace: the one of the
//! process that opens them, which is the daemon's.
//!
//! Values are small integers; a file that is missing (no such interface, no
//! IPv6) or holds something else reads as an error, never as a default.

use core::fmt;
use std::io;

/// A sysctl could not be read or written.
#[derive(Debug)]
pub struct SysctlError {
    pub path: String,
    pub err: io::Error,
}

impl fmt::Display for SysctlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.err)
    }
}

impl std::error::Error for SysctlError {}

/// `net.ipv4.conf.IF.PARAM` or `net.ipv6.conf.IF.PARAM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    Ipv4,
    Ipv6,
}

/// The file of `PARAM` on `iface` (`all` and `default` are interfaces here).
pub fn path(tree: Tree, iface: &str, param: &str) -> String {
    let t = match tree {
        Tree::Ipv4 => "ipv4",
        Tree::Ipv6 => "ipv6",
    };
    format!("/proc/sys/net/{t}/conf/{iface}/{param}")
}

/// Reads an integer sysctl.
pub fn get(tree: Tree, iface: &str, param: &str) -> Result<u32, SysctlError> {
    let path = path(tree, iface, param);
    let text = std::fs::read_to_string(&path).map_err(|err| SysctlError {
        path: path.clone(),
        err,
    })?;
    text.trim().parse().map_err(|_| SysctlError {
        path,
        err: io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a number: {text:?}"),
        ),
    })
}

/// Writes an integer sysctl.
pub fn set(tree: Tree, iface: &str, param: &str, value: u32) -> Result<(), SysctlError> {
    let path = path(tree, iface, param);
    std::fs::write(&path, format!("{value}\n")).map_err(|err| SysctlError { path, err })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_dots_in_names() {
        // `sysctl` would read dots as separators; the file path keeps them.
        assert_eq!(
            path(Tree::Ipv4, "vrrp.51", "arp_ignore"),
            "/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore"
        );
        assert_eq!(
            path(Tree::Ipv6, "eth0", "disable_ipv6"),
            "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"
        );
    }

    #[test]
    fn missing_interface_is_an_error() {
        let e = get(Tree::Ipv4, "no-such-if-xyz", "arp_ignore");
        assert!(e.is_err());
    }
}
