//! Include resolution and parsing over an in-memory file set: the input is
//! split at NUL bytes into the main file and `/etc/keepalived/N.conf`
//! (N = 1, 2, ...), which the main file can include by name or glob.
//! No panic, the caps hold, and the same input gives the same tree twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_config::{include, parser, Findings, Limits, MemoryLoader};

const MAIN: &str = "/etc/keepalived/keepalived.conf";

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let main = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let mut loader = MemoryLoader::new();
    for (i, p) in parts.enumerate().take(16) {
        let path = format!("/etc/keepalived/{}.conf", i + 1);
        loader.insert(&path, &String::from_utf8_lossy(p));
    }
    let limits = Limits {
        file_bytes: 4096,
        total_bytes: 16384,
        depth: 6,
        files: 12,
        reported: 8,
        ..Limits::DEFAULT
    };
    let run = || {
        let mut found = Findings::new(&limits);
        let ex = include::expand(MAIN, &main, &loader, &limits, &mut found);
        assert!(ex.sources.files().len() <= limits.files);
        let tree = parser::parse(ex.tokens, &limits, &mut found);
        (tree, found.into_sorted())
    };
    let first = run();
    assert!(depth(&first.0) <= limits.depth);
    assert_eq!(first, run());
});

fn depth(stmts: &[parser::Stmt]) -> usize {
    stmts
        .iter()
        .filter_map(|s| s.block.as_ref())
        .map(|b| 1 + depth(&b.stmts))
        .max()
        .unwrap_or(0)
}
