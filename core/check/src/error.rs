//! Why a probe result was not applied.

use core::fmt;

use crate::id::CheckerId;

/// A result [`handle_probe_result`](crate::Checkers::handle_probe_result)
/// ignored; harmless, worth a debug log or a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// No checker has this id.
    UnknownChecker(CheckerId),
    /// The checker has no probe in flight: a duplicate, or a result that
    /// arrived after the watchdog had already counted the probe as timed out.
    NotInFlight(CheckerId),
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ignored::UnknownChecker(c) => write!(f, "{c}: no such checker"),
            Ignored::NotInFlight(c) => write!(f, "{c}: no probe in flight"),
        }
    }
}
