//! Checks and keepalived's normalisations applied by `Router::new`.

use crate::prelude::*;
use alloc::collections::BTreeSet as HashSet;

use vigil_wire::vrrp::{Auth, Version};

use crate::config::{Family, InitialState, InstanceConfig, RouterConfig};
use crate::error::ConfigError;
use crate::instance::PRIORITY_OWNER;

/// Largest tracker weight keepalived accepts (254 is turned into 253).
const MAX_WEIGHT: i32 = 253;

/// Most addresses an advert can carry: the 8-bit count for v2 and IPv4; the
/// packet size bounds IPv6 (keepalived keeps well under an MTU).
fn max_addresses(family: Family) -> usize {
    match family {
        Family::V4 => 255,
        Family::V6 => 80,
    }
}

/// Refuse what cannot run, then apply keepalived's silent fixes (each logged).
pub(crate) fn validate(mut config: RouterConfig) -> Result<RouterConfig, ConfigError> {
    let mut names = HashSet::new();
    for inst in &mut config.instances {
        if inst.family == Family::V6 && inst.version == Version::V2 {
            // RFC 3768 is IPv4 only; keepalived runs IPv6 instances as v3.
            log::warn!(
                "({}) VRRPv2 does not support IPv6 - using version 3",
                inst.name
            );
            inst.version = Version::V3;
            inst.auth = Auth::None;
        }
    }
    for (n, inst) in config.instances.iter().enumerate() {
        if !names.insert(inst.name.as_str()) {
            return Err(ConfigError::DuplicateInstance(inst.name.clone()));
        }
        check_instance(inst, &config)?;
        for other in &config.instances[..n] {
            if other.interface == inst.interface
                && other.vrid == inst.vrid
                && other.family == inst.family
            {
                return Err(ConfigError::DuplicateVrid {
                    instance: inst.name.clone(),
                    other: other.name.clone(),
                });
            }
        }
    }
    let mut scripts = HashSet::new();
    for s in &config.scripts {
        if !scripts.insert(s.name.as_str()) {
            return Err(ConfigError::DuplicateScript(s.name.clone()));
        }
        if s.interval.is_zero() {
            return Err(ConfigError::ZeroScriptInterval(s.name.clone()));
        }
        if s.rise == 0 || s.fall == 0 {
            return Err(ConfigError::ZeroRiseFall(s.name.clone()));
        }
        if s.weight.abs() > MAX_WEIGHT {
            return Err(ConfigError::WeightOutOfRange {
                instance: String::new(),
                tracked: s.name.clone(),
            });
        }
    }
    let mut groups = HashSet::new();
    let mut grouped = HashSet::new();
    for g in &config.sync_groups {
        if !groups.insert(g.name.as_str()) {
            return Err(ConfigError::DuplicateGroup(g.name.clone()));
        }
        for m in &g.members {
            if !names.contains(m.as_str()) {
                return Err(ConfigError::UnknownGroupMember {
                    group: g.name.clone(),
                    instance: m.clone(),
                });
            }
            if !grouped.insert(m.as_str()) {
                return Err(ConfigError::MemberOfTwoGroups(m.clone()));
            }
        }
    }
    for inst in &mut config.instances {
        normalise(inst);
    }
    crate::group_track::apply(&mut config);
    Ok(config)
}

fn check_instance(inst: &InstanceConfig, config: &RouterConfig) -> Result<(), ConfigError> {
    let name = || inst.name.clone();
    if inst.vrid == 0 {
        return Err(ConfigError::ZeroVrid(name()));
    }
    if inst.priority == 0 {
        return Err(ConfigError::ZeroPriority(name()));
    }
    let interval_ok = match inst.version {
        Version::V2 => {
            inst.advert_int_cs >= 100
                && inst.advert_int_cs.is_multiple_of(100)
                && inst.advert_int_cs <= 25_500
        }
        Version::V3 => (1..=4095).contains(&inst.advert_int_cs),
    };
    if !interval_ok {
        return Err(ConfigError::AdvertInterval {
            instance: name(),
            centis: inst.advert_int_cs,
        });
    }
    if inst.version == Version::V3 && inst.auth != Auth::None {
        return Err(ConfigError::AuthOnV3(name()));
    }
    if inst.down_timer_adverts == 0 {
        return Err(ConfigError::ZeroDownTimerAdverts(name()));
    }
    if inst.virtual_addresses.len() > max_addresses(inst.family) {
        return Err(ConfigError::TooManyAddresses(name()));
    }
    let same_family = inst
        .virtual_addresses
        .iter()
        .chain(inst.unicast_peers.iter())
        .chain(inst.unicast_src.iter())
        .chain(inst.multicast_group.iter());
    for addr in same_family {
        if Family::of(addr) != inst.family {
            return Err(ConfigError::AddressFamily {
                instance: name(),
                addr: *addr,
            });
        }
    }
    for t in &inst.track_scripts {
        let Some(script) = config.scripts.iter().find(|s| s.name == t.name) else {
            return Err(ConfigError::UnknownScript {
                instance: name(),
                script: t.name.clone(),
            });
        };
        if t.weight.unwrap_or(script.weight).abs() > MAX_WEIGHT {
            return Err(ConfigError::WeightOutOfRange {
                instance: name(),
                tracked: t.name.clone(),
            });
        }
    }
    for t in &inst.track_interfaces {
        if t.weight.abs() > MAX_WEIGHT {
            return Err(ConfigError::WeightOutOfRange {
                instance: name(),
                tracked: t.name.clone(),
            });
        }
    }
    Ok(())
}

/// keepalived's `vrrp_complete_instance` fixes: an owner cannot be
/// non-preemptive; `state MASTER` clears nopreempt and preempt_delay;
/// preempt_delay means nothing with nopreempt.
fn normalise(inst: &mut InstanceConfig) {
    if inst.priority == PRIORITY_OWNER && inst.nopreempt {
        log::warn!(
            "({}) nopreempt is incompatible with priority 255 - clearing",
            inst.name
        );
        inst.nopreempt = false;
    }
    if inst.initial_state == Some(InitialState::Master) {
        if inst.nopreempt {
            log::warn!(
                "({}) nopreempt will not work with initial state MASTER - clearing",
                inst.name
            );
            inst.nopreempt = false;
        }
        if !inst.preempt_delay.is_zero() {
            log::warn!(
                "({}) preempt_delay will not work with initial state MASTER - clearing",
                inst.name
            );
            inst.preempt_delay = Default::default();
        }
    }
    if inst.nopreempt && !inst.preempt_delay.is_zero() {
        log::warn!(
            "({}) preempt_delay is incompatible with nopreempt - clearing",
            inst.name
        );
        inst.preempt_delay = Default::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ScriptConfig, SyncGroupConfig, TrackedScript};
    use core::time::Duration;

    fn one(inst: InstanceConfig) -> RouterConfig {
        RouterConfig {
            instances: vec![inst],
            ..Default::default()
        }
    }

    #[test]
    fn refuses_bad_instances() {
        let ok = InstanceConfig::new("VI_1", "eth0", 51);
        assert!(validate(one(ok.clone())).is_ok());
        let mut c = ok.clone();
        c.vrid = 0;
        assert_eq!(validate(one(c)), Err(ConfigError::ZeroVrid("VI_1".into())));
        let mut c = ok.clone();
        c.advert_int_cs = 150;
        assert!(matches!(
            validate(one(c)),
            Err(ConfigError::AdvertInterval { .. })
        ));
        let mut c = ok.clone();
        c.version = Version::V3;
        c.auth = Auth::Simple([1; 8]);
        assert_eq!(validate(one(c)), Err(ConfigError::AuthOnV3("VI_1".into())));
        let mut c = ok.clone();
        c.virtual_addresses = vec!["fe80::1".parse().unwrap()];
        assert!(matches!(
            validate(one(c)),
            Err(ConfigError::AddressFamily { .. })
        ));
        let mut c = ok.clone();
        c.track_scripts = vec![TrackedScript {
            name: "nope".into(),
            weight: None,
            reverse: None,
        }];
        assert!(matches!(
            validate(one(c)),
            Err(ConfigError::UnknownScript { .. })
        ));
        let cfg = RouterConfig {
            instances: vec![ok.clone(), ok.clone()],
            ..Default::default()
        };
        assert_eq!(
            validate(cfg),
            Err(ConfigError::DuplicateInstance("VI_1".into()))
        );
        let mut other = ok.clone();
        other.name = "VI_2".into();
        let cfg = RouterConfig {
            instances: vec![ok.clone(), other],
            ..Default::default()
        };
        assert!(matches!(
            validate(cfg),
            Err(ConfigError::DuplicateVrid { .. })
        ));
    }

    #[test]
    fn refuses_bad_scripts_and_groups() {
        let mut s = ScriptConfig::new("chk");
        s.rise = 0;
        let cfg = RouterConfig {
            scripts: vec![s],
            ..Default::default()
        };
        assert_eq!(validate(cfg), Err(ConfigError::ZeroRiseFall("chk".into())));
        let cfg = RouterConfig {
            instances: vec![InstanceConfig::new("VI_1", "eth0", 51)],
            sync_groups: vec![
                SyncGroupConfig {
                    name: "G1".into(),
                    members: vec!["VI_1".into()],
                    ..Default::default()
                },
                SyncGroupConfig {
                    name: "G2".into(),
                    members: vec!["VI_1".into()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            validate(cfg),
            Err(ConfigError::MemberOfTwoGroups("VI_1".into()))
        );
    }

    #[test]
    fn state_master_clears_nopreempt_and_delay() {
        let mut c = InstanceConfig::new("VI_1", "eth0", 51);
        c.initial_state = Some(InitialState::Master);
        c.nopreempt = true;
        c.preempt_delay = Duration::from_secs(10);
        let out = validate(one(c)).unwrap();
        assert!(!out.instances[0].nopreempt);
        assert!(out.instances[0].preempt_delay.is_zero());
    }
}
