//! Polling with a deadline: lab assertions wait for the network to converge
//! instead of sleeping fixed amounts.

use std::time::{Duration, Instant};

use crate::Host;

/// Polls `cond` every `step` until it returns `Some`, or `timeout` passes.
/// Returns the value and the time it took.
pub fn until<T>(
    timeout: Duration,
    step: Duration,
    mut cond: impl FnMut() -> Option<T>,
) -> Option<(T, Duration)> {
    let start = Instant::now();
    loop {
        if let Some(v) = cond() {
            return Some((v, start.elapsed()));
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(step);
    }
}

/// Like [`until`] for a boolean condition; `Err` names what was awaited.
pub fn for_cond(
    timeout: Duration,
    what: &str,
    mut cond: impl FnMut() -> bool,
) -> Result<Duration, String> {
    until(timeout, Duration::from_millis(5), || cond().then_some(()))
        .map(|(_, d)| d)
        .ok_or_else(|| format!("timed out after {timeout:?} waiting for {what}"))
}

/// Asserts that `cond` stays true for the whole `period`.
pub fn holds(period: Duration, what: &str, mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while start.elapsed() < period {
        if !cond() {
            return Err(format!(
                "{what} stopped holding after {:?}",
                start.elapsed()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Waits until `owner` holds `addr` on eth0 and `other` does not (a VIP
/// moved, or stayed, where it should); returns the time it took.
pub fn only_on(owner: &Host, other: &Host, addr: &str, timeout: f64) -> Result<Duration, String> {
    for_cond(
        Duration::from_secs_f64(timeout),
        &format!("{addr} on {} only", owner.name),
        || owner.has_addr("eth0", addr) && !other.has_addr("eth0", addr),
    )
}
