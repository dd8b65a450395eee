//! `vrrp_script NAME { ... }`: a periodic health script that VRRP instances track.

use alloc::string::String;
use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::command::Command;

/// A tracking script. Its exit status, filtered by `rise`/`fall`, either
/// adjusts the priority of the instances tracking it (`weight` != 0) or puts
/// them in FAULT (`weight` == 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpScript {
    /// The block's NAME, referenced by `track_script`.
    pub name: String,
    /// `script "PATH ARGS"`; required. `user USER [GROUP]` lands in
    /// `script.run_as`.
    pub script: Command,
    /// `interval SECS`: time between runs; default 1 s.
    #[serde(with = "crate::compact_duration")]
    pub interval: Duration,
    /// `timeout SECS`: a run lasting longer counts as a failure; keepalived's
    /// default (0) means "the interval", which is what is stored.
    #[serde(with = "crate::compact_duration")]
    pub timeout: Duration,
    /// `weight N [reverse]`, -253..=253; default 0 (failure = FAULT).
    pub weight: i16,
    /// The `reverse` flag of `weight`: adjust in the opposite direction.
    pub weight_reverse: bool,
    /// `fall N`: consecutive failures before KO; default 1.
    pub fall: u32,
    /// `rise N`: consecutive successes before OK; default 1.
    pub rise: u32,
    /// `init_fail`: start in the failed state; default false (starts OK).
    pub init_fail: bool,
}
