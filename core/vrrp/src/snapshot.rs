//! A read-only view of one instance, for status output and tests.

use core::net::IpAddr;

use crate::counters::Counters;
use crate::state::State;
use crate::time::Instant;

/// The observable state of an instance at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSnapshot<'a> {
    pub name: &'a str,
    pub state: State,
    /// Configured priority (lowered to 254 if another owner was heard).
    pub base_priority: u8,
    /// Base plus tracker weights, kept within 1..=254 (255 for the owner).
    pub effective_priority: u8,
    /// The current master: ourselves when MASTER, the last accepted advert's
    /// source when BACKUP, none otherwise.
    pub master: Option<IpAddr>,
    /// Priority of the last accepted advert while BACKUP.
    pub master_priority: Option<u8>,
    /// Master_Adver_Interval in centiseconds (v3 backups adopt the master's).
    pub advert_int_cs: u16,
    /// Whether the virtual addresses are installed (true iff MASTER).
    pub vips_installed: bool,
    pub counters: Counters,
    /// Time of the last state change.
    pub last_transition: Option<Instant>,
}
