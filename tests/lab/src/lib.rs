//! A network-namespace lab: a bridge, routers and clients as namespaces joined by
//! veth pairs, with the real `vigil` and `keepalived` binaries running inside them.
//! Used by the lab tests (`tests/lab.rs`), the demo and the benchmark.
//!
//! Everything the lab creates carries a per-process prefix and is removed when the
//! [`Lab`] is dropped, and also on SIGINT/SIGTERM (see [`cleanup`]).

pub mod bench;
pub mod chaos;
pub mod cleanup;
pub mod harness;
pub mod netns;
pub mod proc;
pub mod scenario;
pub mod wait;
pub mod watch;

pub use netns::{Host, Lab};
pub use proc::{logs, Daemon, Kind};

/// The workspace root (where `target/` lives), without `..` components.
pub fn workspace_root() -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    p.canonicalize().unwrap_or(p)
}

/// The lines of a file a script appends to; none while it does not exist.
pub fn read_lines(p: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
