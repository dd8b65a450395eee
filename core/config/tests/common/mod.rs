//! Helpers shared by the scenario tests.
#![allow(dead_code)]

pub mod gen;

use std::path::Path;

use vigil_config::{parse_text, Diagnostic, MemoryLoader, Options, Severity};
use vigil_model::Config;

/// The workspace's copy of the seed configurations.
pub fn seed_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/seed-configs")
}

/// A memory loader holding every file under `dir`, keyed by absolute path.
pub fn load_tree(dir: &Path) -> MemoryLoader {
    let mut l = MemoryLoader::new();
    fn walk(l: &mut MemoryLoader, dir: &Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(l, &p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                l.insert(p.to_str().unwrap(), &text);
            }
        }
    }
    walk(&mut l, dir);
    l
}

/// Parses `text` as `/etc/keepalived/keepalived.conf` with extra files.
pub fn parse_with(
    text: &str,
    files: &[(&str, &str)],
    strict: bool,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut l = MemoryLoader::new();
    for (p, t) in files {
        l.insert(p, t);
    }
    parse_text(
        "/etc/keepalived/keepalived.conf",
        text,
        &l,
        Options {
            strict,
            ..Options::default()
        },
    )
}

/// Parses text that must be valid; returns the config.
pub fn ok(text: &str) -> Config {
    match parse_with(text, &[], false) {
        Ok((c, _)) => c,
        Err(d) => panic!("unexpected errors:\n{}", render(&d)),
    }
}

/// Parses text that must be refused; returns the errors only.
pub fn errors(text: &str) -> Vec<Diagnostic> {
    match parse_with(text, &[], false) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect(),
    }
}

/// One diagnostic per line.
pub fn render(d: &[Diagnostic]) -> String {
    d.iter().map(|d| format!("{d}\n")).collect()
}

/// A minimal valid instance, for tests that only vary one thing.
pub const BASE: &str = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.1/24\n    }\n}\n";
