//! Identifiers: plain indices into the configuration the [`Checkers`] was
//! built from, so other crates (vigil-lvs, the shell) can look things up
//! without a translation table.
//!
//! [`Checkers`]: crate::Checkers

use core::fmt;

/// A checker: its position in the flat list of every checker, in
/// configuration order (virtual server, then real server, then checker).
/// [`Checkers::checker`](crate::Checkers::checker) maps it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckerId(pub usize);

/// A real server: `vs` indexes `Config::virtual_servers`, `rs` that virtual
/// server's `real_servers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RsId {
    /// Index into `Config::virtual_servers`.
    pub vs: usize,
    /// Index into `VirtualServer::real_servers`.
    pub rs: usize,
}

impl fmt::Display for CheckerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "checker #{}", self.0)
    }
}

impl fmt::Display for RsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vs #{} rs #{}", self.vs, self.rs)
    }
}
