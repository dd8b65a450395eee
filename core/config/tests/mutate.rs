//! Seeded mutation test over real configurations: keepalived's own samples
//! and configurations from the wild (tests/data/keepalived-samples/,
//! tests/data/keepalived-wild/), each damaged in many small ways (byte
//! flips, line deletions and duplications, braces added or removed, words
//! swapped, truncation). For every mutant: no panic, bounded time, the same
//! result twice (errors and model identical), and an accepted model printed
//! by `show` reads back to itself.
//!
//! The seed is printed; `VIGIL_MUTATE_SEED=N` replays a run.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use vigil_config::{load_any, parse_text, show, MemoryLoader, Options};
use vigil_rng::SplitMix;

/// Mutants per file (each with 1 to 4 mutations).
const PER_FILE: usize = 150;
const DEFAULT_SEED: u64 = 0x05ee_d0fb_00d5;
/// Per input, debug build; a linear reader takes milliseconds.
const PER_INPUT: Duration = Duration::from_secs(2);

/// splitmix64 (shared), with an index that is 0 for an empty range.
struct Rng(SplitMix);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.0.next_u64() % n as u64) as usize
        }
    }
}

fn lines(b: &[u8]) -> Vec<&[u8]> {
    b.split_inclusive(|&c| c == b'\n').collect()
}

/// Byte ranges of the whitespace-separated words.
fn words(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &c) in b.iter().enumerate() {
        match (c.is_ascii_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, b.len()));
    }
    out
}

/// One mutation; returns its name (for the failure message).
fn mutate(rng: &mut Rng, b: &mut Vec<u8>) -> &'static str {
    match rng.below(7) {
        0 if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
            "byte flip"
        }
        1 => {
            let ls = lines(b);
            let k = rng.below(ls.len());
            *b = ls
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .flat_map(|(_, l)| l.iter().copied())
                .collect();
            "line deletion"
        }
        2 => {
            let ls = lines(b);
            let k = rng.below(ls.len());
            let mut out = Vec::with_capacity(b.len() * 2);
            for (i, l) in ls.iter().enumerate() {
                out.extend_from_slice(l);
                if i == k {
                    out.extend_from_slice(l);
                }
            }
            *b = out;
            "line duplication"
        }
        3 => {
            let i = rng.below(b.len() + 1);
            b.insert(i, if rng.below(2) == 0 { b'{' } else { b'}' });
            "brace insertion"
        }
        4 => {
            let braces: Vec<usize> = b
                .iter()
                .enumerate()
                .filter(|(_, &c)| c == b'{' || c == b'}')
                .map(|(i, _)| i)
                .collect();
            if !braces.is_empty() {
                b.remove(braces[rng.below(braces.len())]);
            }
            "brace removal"
        }
        5 => {
            let w = words(b);
            if w.len() >= 2 {
                let (x, y) = (rng.below(w.len()), rng.below(w.len()));
                let (a, c) = (w[x.min(y)], w[x.max(y)]);
                if a != c {
                    let mut out = b[..a.0].to_vec();
                    out.extend_from_slice(&b[c.0..c.1]);
                    out.extend_from_slice(&b[a.1..c.0]);
                    out.extend_from_slice(&b[a.0..a.1]);
                    out.extend_from_slice(&b[c.1..]);
                    *b = out;
                }
            }
            "word swap"
        }
        _ => {
            let n = rng.below(b.len() + 1);
            b.truncate(n);
            "truncation"
        }
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data");
    let mut files = Vec::new();
    for dir in ["keepalived-samples", "keepalived-wild"] {
        let mut names: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}: the corpora must be in the repository"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_none_or(|x| x != "md" && x != "tsv"))
            .collect();
        names.sort();
        for p in names {
            let name = format!(
                "/etc/keepalived/{dir}/{}",
                p.file_name().unwrap().to_string_lossy()
            );
            files.push((name, std::fs::read(&p).unwrap()));
        }
    }
    files
}

#[test]
fn mutated_real_configs_never_panic_and_read_the_same_twice() {
    let seed = std::env::var("VIGIL_MUTATE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    println!("mutate: seed {seed} (VIGIL_MUTATE_SEED={seed} replays it)");
    let files = corpus();
    assert!(
        files.len() >= 80,
        "corpora incomplete: {} files",
        files.len()
    );
    // Includes in the mutants resolve among the corpus files themselves.
    let mut loader = MemoryLoader::new();
    for (name, bytes) in &files {
        if let Ok(t) = std::str::from_utf8(bytes) {
            loader.insert(name, t);
        }
    }
    let mut rng = Rng(SplitMix::new(seed));
    let started = Instant::now();
    let (mut accepted, mut refused, mut slowest) = (0usize, 0usize, Duration::ZERO);
    for (name, original) in &files {
        for case in 0..PER_FILE {
            let mut b = original.clone();
            let mut applied = Vec::new();
            for _ in 0..1 + rng.below(4) {
                applied.push(mutate(&mut rng, &mut b));
            }
            let what = format!("{name} case {case} ({})", applied.join(", "));
            let t = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let opts = Options::default();
                let first = load_any(&b, name, &loader, opts);
                let again = load_any(&b, name, &loader, opts);
                assert_eq!(first, again, "not deterministic");
                if let Ok((config, _)) = &first {
                    let shown = show(config);
                    match parse_text("shown.conf", &shown, &loader, opts) {
                        Ok((back, _)) => assert_eq!(&back, config, "show round trip"),
                        Err(e) => panic!("show output refused: {e:?}\n{shown}"),
                    }
                }
                first.is_ok()
            }));
            let took = t.elapsed();
            slowest = slowest.max(took);
            match outcome {
                Ok(true) => accepted += 1,
                Ok(false) => refused += 1,
                Err(_) => panic!("seed {seed}: panic on {what}"),
            }
            assert!(took < PER_INPUT, "seed {seed}: {what} took {took:?}");
        }
    }
    println!(
        "mutate: {} mutants of {} files: {accepted} accepted, {refused} refused, slowest {slowest:?}, total {:?}",
        accepted + refused,
        files.len(),
        started.elapsed()
    );
    assert!(
        accepted > 0 && refused > 0,
        "mutations too mild or too harsh"
    );
}
