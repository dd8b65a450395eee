//! The monotonic clock, read only here: the core crates receive time as plain
//! microsecond counts (`vigil_vrrp::Instant::from_micros`) so they never touch a
//! clock themselves.
//!
//! CLOCK_MONOTONIC does not jump when the wall clock is set (NTP on a router that
//! boots with no RTC), which is what VRRP timers need. Like keepalived we use it
//! rather than CLOCK_BOOTTIME: time spent suspended is not protocol time.

use std::time::Duration;

use nix::time::{clock_gettime, ClockId};

/// Microseconds on CLOCK_MONOTONIC since an unspecified origin (boot).
///
/// Never fails on Linux; should the call ever fail we return 0 rather than
/// panic, which the core treats as "no time has passed".
pub fn now_us() -> u64 {
    match clock_gettime(ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => {
            let secs = u64::try_from(ts.tv_sec()).unwrap_or(0);
            let nanos = u64::try_from(ts.tv_nsec()).unwrap_or(0);
            secs.saturating_mul(1_000_000).saturating_add(nanos / 1_000)
        }
        Err(_) => 0,
    }
}

/// CLOCK_REALTIME since the epoch: only to age the kernel's receive
/// timestamps (SO_TIMESTAMPNS is on this clock), never as protocol time.
pub fn realtime() -> Duration {
    match clock_gettime(ClockId::CLOCK_REALTIME) {
        Ok(ts) => Duration::new(
            u64::try_from(ts.tv_sec()).unwrap_or(0),
            u32::try_from(ts.tv_nsec()).unwrap_or(0).min(999_999_999),
        ),
        Err(_) => Duration::ZERO,
    }
}

/// How old a packet stamped `stamp` (CLOCK_REALTIME) is at `now` (same
/// clock): zero if the stamp is missing or in the future, at most `cap`, so
/// a wall-clock step between receipt and reading cannot age it absurdly.
pub fn age(now: Duration, stamp: Option<Duration>, cap: Duration) -> Duration {
    stamp
        .and_then(|s| now.checked_sub(s))
        .unwrap_or(Duration::ZERO)
        .min(cap)
}

/// How long to sleep from `now_us` until `deadline_us`; zero if it has passed.
/// Arms a `smol::Timer` from the core's `poll_timeout`.
pub fn until(now_us: u64, deadline_us: u64) -> Duration {
    Duration::from_micros(deadline_us.saturating_sub(now_us))
}

/// A monotonic timestamp `d` after `now_us`, saturating.
pub fn after(now_us: u64, d: Duration) -> u64 {
    now_us.saturating_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_close_to_std() {
        let a = now_us();
        let std0 = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let b = now_us();
        let std_elapsed = std0.elapsed().as_micros() as u64;
        assert!(b > a);
        // Both read CLOCK_MONOTONIC: the two measurements agree within 5 ms.
        assert!(
            (b - a).abs_diff(std_elapsed) < 5_000,
            "{} vs {}",
            b - a,
            std_elapsed
        );
        assert!(b - a >= 20_000);
    }

    #[test]
    fn packet_age_is_clamped() {
        let s = Duration::from_secs;
        let cap = s(1);
        assert_eq!(
            age(s(10), Some(Duration::from_millis(9_990)), cap),
            Duration::from_millis(10)
        );
        assert_eq!(age(s(10), Some(s(11)), cap), Duration::ZERO);
        assert_eq!(age(s(10), Some(s(2)), cap), cap);
        assert_eq!(age(s(10), None, cap), Duration::ZERO);
        assert!(realtime() > s(1_600_000_000));
    }

    #[test]
    fn until_and_after() {
        assert_eq!(until(1_000, 3_500), Duration::from_micros(2_500));
        assert_eq!(until(5_000, 3_500), Duration::ZERO);
        assert_eq!(after(1_000, Duration::from_millis(2)), 3_000);
        assert_eq!(after(u64::MAX - 1, Duration::from_secs(1)), u64::MAX);
    }
}
