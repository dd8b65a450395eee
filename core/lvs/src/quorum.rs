//! The quorum of a virtual server: is the live weight enough to serve?
//!
//! keepalived's rule (check/ipwrapper.c, update_quorum_state): the quorum is
//! gained when the sum of the live real servers' weights reaches
//! `quorum + hysteresis`, and lost when it falls below `quorum - hysteresis`
//! or to zero. The gap between the two thresholds keeps a weight hovering
//! around `quorum` from flapping the sorry server in and out.

/// A change of quorum, for the `quorum_up` / `quorum_down` scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuorumEvent {
    /// The quorum is now up (`quorum_up`) or down (`quorum_down`).
    pub up: bool,
    /// First evaluation since start (or reset). keepalived runs `quorum_up`
    /// at start when the quorum is met, but `quorum_down` at start only when
    /// a sorry server is configured.
    pub initial: bool,
}

/// Quorum state of one virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuorumState {
    /// `None` until the first [`QuorumState::update`].
    up: Option<bool>,
}

impl QuorumState {
    /// Not evaluated yet; [`QuorumState::is_up`] says down until then.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the quorum is currently met.
    pub fn is_up(&self) -> bool {
        self.up == Some(true)
    }

    /// Whether [`QuorumState::update`] has been called since start.
    pub fn is_known(&self) -> bool {
        self.up.is_some()
    }

    /// Feeds the current live weight (see [`crate::live_weight`]); returns
    /// the transition, if any. The first call always reports the state found.
    pub fn update(
        &mut self,
        live_weight: u64,
        quorum: u32,
        hysteresis: u32,
    ) -> Option<QuorumEvent> {
        let gain_at = u64::from(quorum) + u64::from(hysteresis);
        let up = match self.up {
            None | Some(false) => live_weight >= gain_at,
            Some(true) => !Self::lost(live_weight, quorum, hysteresis),
        };
        let initial = self.up.is_none();
        if self.up == Some(up) {
            return None;
        }
        self.up = Some(up);
        Some(QuorumEvent { up, initial })
    }

    /// The loss condition. keepalived also drops the quorum at zero weight;
    /// that part is skipped when `quorum + hysteresis` is 0, since zero would
    /// then regain it at once and flap on every evaluation.
    fn lost(live_weight: u64, quorum: u32, hysteresis: u32) -> bool {
        let zero = live_weight == 0 && u64::from(quorum) + u64::from(hysteresis) > 0;
        let below = quorum
            .checked_sub(hysteresis)
            .is_some_and(|lose_below| live_weight < u64::from(lose_below));
        zero || below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(up: bool, initial: bool) -> Option<QuorumEvent> {
        Some(QuorumEvent { up, initial })
    }

    #[test]
    fn first_update_reports_the_state_found() {
        let mut q = QuorumState::new();
        assert!(!q.is_known() && !q.is_up());
        assert_eq!(q.update(3, 3, 0), ev(true, true));
        assert!(q.is_up());
        assert_eq!(q.update(3, 3, 0), None);

        let mut q = QuorumState::new();
        assert_eq!(q.update(2, 3, 0), ev(false, true));
        assert!(q.is_known() && !q.is_up());
    }

    #[test]
    fn hysteresis_separates_gain_and_loss() {
        // quorum 5, hysteresis 2: gained at 7, lost below 3.
        let mut q = QuorumState::new();
        assert_eq!(q.update(6, 5, 2), ev(false, true));
        assert_eq!(q.update(7, 5, 2), ev(true, false));
        for w in [6, 5, 4, 3] {
            assert_eq!(q.update(w, 5, 2), None, "weight {w} keeps it up");
        }
        assert_eq!(q.update(2, 5, 2), ev(false, false));
        for w in [3, 4, 5, 6] {
            assert_eq!(q.update(w, 5, 2), None, "weight {w} keeps it down");
        }
        assert_eq!(q.update(9, 5, 2), ev(true, false));
    }

    #[test]
    fn zero_weight_loses_even_when_hysteresis_covers_the_quorum() {
        let mut q = QuorumState::new();
        assert_eq!(q.update(4, 1, 3), ev(true, true));
        assert_eq!(q.update(1, 1, 3), None);
        assert_eq!(q.update(0, 1, 3), ev(false, false));
    }

    #[test]
    fn zero_quorum_does_not_flap() {
        let mut q = QuorumState::new();
        assert_eq!(q.update(0, 0, 0), ev(true, true));
        assert_eq!(q.update(0, 0, 0), None);
    }
}
