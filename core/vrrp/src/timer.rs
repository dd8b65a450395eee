//! An instance's timers: an enum indexing a fixed table of deadlines (as in
//! quinn-proto), so that the earliest one is found without allocation.

use crate::time::Instant;

/// The timers of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// BACKUP: Master_Down_Timer; MASTER: Adver_Timer.
    Main,
    /// Next packet of the current gratuitous ARP/NA burst.
    GarpStep,
    /// The second burst, `garp_master_delay` after becoming master.
    GarpSecondBurst,
    /// The next `garp_master_refresh` burst.
    GarpRefresh,
    /// The next `garp_extra_if` announcement.
    GarpExtraIf,
}

impl Timer {
    const ALL: [Timer; 5] = [
        Timer::Main,
        Timer::GarpStep,
        Timer::GarpSecondBurst,
        Timer::GarpRefresh,
        Timer::GarpExtraIf,
    ];
}

/// Deadlines indexed by [`Timer`]; `None` is a stopped timer.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; 5],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    pub(crate) fn stop_all(&mut self) {
        self.deadlines = [None; 5];
    }

    /// The earliest running timer; ties go to the lower enum value.
    pub(crate) fn next(&self) -> Option<(Timer, Instant)> {
        Timer::ALL
            .iter()
            .filter_map(|t| self.get(*t).map(|at| (*t, at)))
            .min_by_key(|(_, at)| *at)
    }

    /// The earliest timer whose deadline is at or before `now`, stopped.
    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        let (timer, at) = self.next()?;
        if at > now {
            return None;
        }
        self.stop(timer);
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_timers_come_out_earliest_first() {
        let mut t = TimerTable::default();
        t.set(Timer::GarpRefresh, Instant::from_secs(3));
        t.set(Timer::Main, Instant::from_secs(2));
        t.set(Timer::GarpStep, Instant::from_secs(5));
        assert_eq!(t.next(), Some((Timer::Main, Instant::from_secs(2))));
        let now = Instant::from_secs(4);
        assert_eq!(t.take_expired(now), Some(Timer::Main));
        assert_eq!(t.take_expired(now), Some(Timer::GarpRefresh));
        assert_eq!(t.take_expired(now), None);
        assert_eq!(t.get(Timer::GarpStep), Some(Instant::from_secs(5)));
        t.stop_all();
        assert_eq!(t.next(), None);
    }
}
