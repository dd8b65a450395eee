//! Monotonic time as plain numbers, so that the state machines (VRRP, health
//! checkers) never read a clock: the shell converts its monotonic clock into
//! [`Instant`] once, and tests jump time freely. No I/O, no `std`.
#![no_std]

extern crate alloc;

use core::fmt;
use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in monotonic time: microseconds since an origin chosen by the caller.
///
/// Only differences matter; the origin is never interpreted. Arithmetic
/// saturates instead of overflowing, so no input can make it panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// An instant `us` microseconds after the origin.
    pub const fn from_micros(us: u64) -> Instant {
        Instant(us)
    }

    /// An instant `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(ms.saturating_mul(1_000))
    }

    /// An instant `s` seconds after the origin.
    pub const fn from_secs(s: u64) -> Instant {
        Instant(s.saturating_mul(1_000_000))
    }

    /// Microseconds since the origin.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + us` microseconds, saturating.
    pub const fn plus_micros(self, us: u64) -> Instant {
        Instant(self.0.saturating_add(us))
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.plus_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Display for Instant {
    /// Seconds with microsecond precision, as in `12.345678s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// Whole microseconds of a duration, saturating at `u64::MAX`.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_micros(u64::MAX - 1);
        assert_eq!((t + Duration::from_secs(1)).as_micros(), u64::MAX);
        assert_eq!(Instant::ZERO - t, Duration::ZERO);
    }

    #[test]
    fn display_keeps_microseconds() {
        assert_eq!(
            alloc::format!("{}", Instant::from_micros(3_687_500)),
            "3.687500s"
        );
        assert_eq!(
            Instant::from_millis(1_500) - Instant::from_secs(1),
            Duration::from_millis(500)
        );
    }
}
