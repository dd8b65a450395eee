//! A minimal test runner for the lab: tests run one at a time (they measure
//! timings), each may be skipped with a reason, and the closing line counts passed,
//! failed and skipped separately, so a skipped test is never reported as passed.

use std::time::Instant;

pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

pub type TestFn = fn() -> Outcome;

/// Turns a `Result` into an outcome.
pub fn check(r: Result<(), String>) -> Outcome {
    match r {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    }
}

/// Runs `tests` (filtered by the first non-flag argument, as libtest does) and exits
/// non-zero if any failed.
pub fn run(tests: &[(&str, TestFn)]) -> ! {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let global_skip = crate::netns::unavailable();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for (name, f) in tests {
        if filter.as_deref().is_some_and(|flt| !name.contains(flt)) {
            continue;
        }
        let start = Instant::now();
        let outcome = match &global_skip {
            Some(why) => Outcome::Skip(why.clone()),
            None => f(),
        };
        let secs = start.elapsed().as_secs_f64();
        match outcome {
            Outcome::Pass => {
                passed += 1;
                println!("test {name} ... ok ({secs:.1} s)");
            }
            Outcome::Fail(e) => {
                failed += 1;
                println!("test {name} ... FAILED ({secs:.1} s)\n{e}\n");
                failures.push(*name);
            }
            Outcome::Skip(why) => {
                skipped += 1;
                println!("test {name} ... skipped: {why}");
            }
        }
    }
    if !failures.is_empty() {
        println!("\nfailures: {}", failures.join(", "));
    }
    println!("\nlab: {passed} passed, {failed} failed, {skipped} skipped");
    std::process::exit(if failed > 0 { 1 } else { 0 });
}
