//! `vrrp_track_process NAME { ... }` and the tracker references an instance
//! or a sync group lists under `track_file` / `track_process`.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use serde::{Deserialize, Serialize};

/// How a process's parameters are compared with the configured ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParamMatch {
    /// No parameters given and no `param_match`: only the name counts.
    None,
    /// Parameters given (or bare `param_match`): the same parameters, no more.
    Exact,
    /// `param_match partial`: the configured parameters come first.
    Partial,
    /// `param_match initial`: as partial, and the last configured parameter
    /// may be a prefix of the process's.
    Initial,
}

/// A `vrrp_track_process` block (keepalived 2.2.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackProcess {
    /// The block's NAME, referenced by `track_process`.
    pub name: String,
    /// `process NAME [PARAM ...]`: the name, matched against
    /// /proc/PID/comm, or argv[0] with `full_command`.
    pub process: String,
    /// The parameters after the name.
    pub params: Vec<String>,
    /// `param_match [initial|partial]`.
    pub param_match: ParamMatch,
    /// `full_command`, implied by parameters or `param_match`: compare the
    /// whole command line instead of the 15-byte comm.
    pub full_command: bool,
    /// `weight N [reverse]`, -254..=254; default 0 (quorum lost = FAULT).
    pub weight: i16,
    /// `reverse` of `weight`.
    pub reverse: bool,
    /// `quorum N`: fewest matching processes for up; default 1.
    pub quorum: u32,
    /// `quorum_max N`: most for up; default unbounded (`u32::MAX`).
    pub quorum_max: u32,
    /// `fork_delay SECS` (or `delay`): a quorum gained by a fork counts
    /// after this long.
    #[serde(with = "crate::compact_duration")]
    pub fork_delay: Duration,
    /// `terminate_delay SECS` (or `delay`): a quorum lost by an exit counts
    /// after this long.
    #[serde(with = "crate::compact_duration")]
    pub terminate_delay: Duration,
}

impl TrackProcess {
    /// Block `name` tracking `process` by name only, with keepalived
    /// 2.2.7's defaults (weight 0, quorum 1, no quorum_max, no delays).
    pub fn new(name: String, process: String) -> Self {
        TrackProcess {
            name,
            process,
            params: Vec::new(),
            param_match: ParamMatch::None,
            full_command: false,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: u32::MAX,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
        }
    }
}

/// A `track_file` or `track_process` entry of an instance or sync group,
/// its weight resolved (the entry's own, else the tracked block's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    /// Name of the `track_file` / `vrrp_track_process` block.
    pub name: String,
    /// `weight N`.
    pub weight: i16,
    /// `reverse`.
    pub reverse: bool,
}

/// A `track_file` block's `init_file [VALUE] [overwrite]`: create the file
/// at start with VALUE (default 0), or rewrite it with `overwrite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitFile {
    pub value: i64,
    pub overwrite: bool,
}
