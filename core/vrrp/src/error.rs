//! Reasons a [`RouterConfig`](crate::RouterConfig) is refused by `Router::new`
//! or `Router::reconfigure`.

use crate::prelude::*;
use core::fmt;
use core::net::IpAddr;

/// A configuration the state machine cannot run; each variant one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Two instances share a name.
    DuplicateInstance(String),
    /// VRID 0 is reserved (valid: 1..=255).
    ZeroVrid(String),
    /// Priority 0 is reserved for "stopping" adverts (valid: 1..=255).
    ZeroPriority(String),
    /// v2: 1..=255 whole seconds; v3: 1..=4095 centiseconds.
    AdvertInterval { instance: String, centis: u16 },
    /// A virtual address, peer or source of the other family.
    AddressFamily { instance: String, addr: IpAddr },
    /// More addresses than the 8-bit count field (or the packet) can carry.
    TooManyAddresses(String),
    /// VRRPv3 has no authentication.
    AuthOnV3(String),
    /// Two instances on one interface with the same VRID and family.
    DuplicateVrid { instance: String, other: String },
    /// `down_timer_adverts` must be at least 1.
    ZeroDownTimerAdverts(String),
    /// `track_script` names a script that is not defined.
    UnknownScript { instance: String, script: String },
    /// `track_*` weight outside -253..=253.
    WeightOutOfRange { instance: String, tracked: String },
    /// Two scripts share a name.
    DuplicateScript(String),
    /// A script's interval is zero.
    ZeroScriptInterval(String),
    /// A script's rise or fall is zero.
    ZeroRiseFall(String),
    /// Two sync groups share a name.
    DuplicateGroup(String),
    /// A sync group names an instance that is not defined.
    UnknownGroupMember { group: String, instance: String },
    /// An instance is listed in more than one sync group (or twice in one).
    MemberOfTwoGroups(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::DuplicateInstance(n) => write!(f, "({n}) instance defined twice"),
            ConfigError::ZeroVrid(n) => write!(f, "({n}) virtual_router_id must be 1..255"),
            ConfigError::ZeroPriority(n) => write!(f, "({n}) priority must be 1..255"),
            ConfigError::AdvertInterval { instance, centis } => write!(
                f,
                "({instance}) advert_int {centis} cs out of range (v2: whole seconds 1..255, v3: 0.01..40.95 s)"
            ),
            ConfigError::AddressFamily { instance, addr } => {
                write!(f, "({instance}) address {addr} is not of the instance's family")
            }
            ConfigError::TooManyAddresses(n) => write!(f, "({n}) too many virtual addresses"),
            ConfigError::AuthOnV3(n) => write!(f, "({n}) VRRPv3 does not support authentication"),
            ConfigError::DuplicateVrid { instance, other } => {
                write!(f, "({instance}) same interface, VRID and family as {other}")
            }
            ConfigError::ZeroDownTimerAdverts(n) => write!(f, "({n}) down_timer_adverts must be at least 1"),
            ConfigError::UnknownScript { instance, script } => {
                write!(f, "({instance}) tracks undefined script {script}")
            }
            ConfigError::WeightOutOfRange { instance, tracked } => {
                write!(f, "({instance}) weight for {tracked} must be -253..253")
            }
            ConfigError::DuplicateScript(n) => write!(f, "script {n} defined twice"),
            ConfigError::ZeroScriptInterval(n) => write!(f, "script {n}: interval must be positive"),
            ConfigError::ZeroRiseFall(n) => write!(f, "script {n}: rise and fall must be at least 1"),
            ConfigError::DuplicateGroup(n) => write!(f, "sync group {n} defined twice"),
            ConfigError::UnknownGroupMember { group, instance } => {
                write!(f, "sync group {group} names undefined instance {instance}")
            }
            ConfigError::MemberOfTwoGroups(n) => write!(f, "({n}) is a member of more than one sync group"),
        }
    }
}

impl core::error::Error for ConfigError {}
