//! The seed configurations (tests/data/seed-configs, copies of what users wrote for
//! keepalived) and the small text edits that turn one router's file into its
//! peer's, so every lab scenario runs the users' files unmodified on one side.

use std::path::PathBuf;

pub fn seed_dir() -> PathBuf {
    crate::workspace_root().join("tests/data/seed-configs")
}

/// The text of a seed configuration, e.g. `seed("01-single-master.master.conf")`.
pub fn seed(name: &str) -> Result<String, String> {
    let p = seed_dir().join(name);
    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Swaps `a` and `b` everywhere in `text`.
pub fn swap(text: &str, a: &str, b: &str) -> String {
    const MARK: &str = "\u{1}SWAP\u{1}";
    text.replace(a, MARK).replace(b, a).replace(MARK, b)
}

/// The peer of a two-router file: priorities 100 and 80 swapped, unicast source and
/// peer swapped, router_id renamed. States are kept (nopreempt needs BACKUP on both).
pub fn peer(text: &str) -> String {
    let t = swap(text, "priority 100", "priority 80");
    let t = swap(&t, "192.168.67.100", "192.168.67.200");
    t.replace("router_id ka-master", "router_id ka-slave")
}

/// Like [`peer`], also swapping MASTER and BACKUP states (dual master, track script).
pub fn peer_swapped_states(text: &str) -> String {
    swap(&peer(text), "state MASTER", "state BACKUP")
}
