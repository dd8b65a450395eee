//! Outputs of the checkers, drained with
//! [`Checkers::poll_action`](crate::Checkers::poll_action).

use crate::id::CheckerId;
use crate::probe::ProbeKind;

/// Something the shell (or vigil-lvs) must act on. `vs` / `rs` are indices
/// into `Config::virtual_servers` and its `real_servers` (see [`RsId`]).
///
/// [`RsId`]: crate::RsId
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Perform this probe, then report with
    /// [`handle_probe_result`](crate::Checkers::handle_probe_result).
    Probe {
        /// Which checker asks.
        checker: CheckerId,
        /// What to do.
        kind: ProbeKind,
    },
    /// Every checker of the real server now passes: put it (back) in service.
    RealServerUp {
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
    },
    /// A checker of the real server was declared down: take it out of service
    /// (or weight 0 with `inhibit_on_failure`; vigil-lvs decides).
    RealServerDown {
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
    },
    /// A checker went up or down without changing its real server's state
    /// (another checker of it is down): keepalived mails it unless
    /// `no_checker_emails`.
    CheckerChange {
        /// The checker.
        checker: CheckerId,
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
        /// The checker's new state.
        up: bool,
    },
    /// `misc_dynamic` changed the real server's weight (whether or not it is
    /// up; the table uses it when the server is in service).
    SetWeight {
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
        /// The new weight.
        weight: u32,
    },
    /// Run the real server's `notify_up` (`up`) or `notify_down` command;
    /// emitted only when that command is configured, right after the
    /// matching `RealServerUp` / `RealServerDown`.
    Notify {
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
        /// Which hook.
        up: bool,
    },
}
