//! Clamps that make any [`RouterConfig`] runnable: `Router::new` and
//! `Router::reconfigure` cannot fail.
//!
//! Refusing a configuration, with FILE:LINE, is the config crate's job
//! (core/config/src/validate); it also applies keepalived's fixes. A config
//! it produced passes through here unchanged. These clamps exist because a
//! `RouterConfig` can also be built by hand or come from a binary file: the
//! state machine must then stay within what the wire format carries instead
//! of refusing, panicking, or spinning on a zero interval. Uniqueness of
//! names and VRIDs is not re-checked: every lookup takes the first match.

use core::time::Duration;

use vigil_wire::vrrp::{Auth, Version};

use crate::config::{Family, InstanceConfig, RouterConfig};

/// Largest tracker weight (keepalived's range is -253..=253).
const MAX_WEIGHT: i32 = 253;
/// Shortest script interval and timeout: one timer tick.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Most addresses an advert carries: the 8-bit count for IPv4; the packet
/// size for IPv6 (80 x 16 bytes stays under a 1280-byte MTU).
fn max_addresses(family: Family) -> usize {
    match family {
        Family::V4 => 255,
        Family::V6 => 80,
    }
}

impl RouterConfig {
    /// This configuration with values outside what the wire carries
    /// clamped. A configuration from the config crate comes back unchanged
    /// (the daemon's tests compare).
    pub fn clamped(self) -> RouterConfig {
        clamped(self)
    }
}

/// `config` as the router runs it: clamped, then sync-group tracking set up.
pub(crate) fn runnable(config: RouterConfig) -> RouterConfig {
    let mut config = clamped(config);
    // Not a check: a sync group's trackers are handed to its members.
    crate::group_track::apply(&mut config);
    config
}

/// `config` with every value brought into the range the machine runs.
fn clamped(mut config: RouterConfig) -> RouterConfig {
    for inst in &mut config.instances {
        clamp_instance(inst);
    }
    for s in &mut config.scripts {
        s.interval = s.interval.max(MIN_INTERVAL);
        s.timeout = s.timeout.map(|t| t.max(MIN_INTERVAL));
        s.rise = s.rise.max(1);
        s.fall = s.fall.max(1);
        s.weight = s.weight.clamp(-MAX_WEIGHT, MAX_WEIGHT);
    }
    config
}

fn clamp_instance(inst: &mut InstanceConfig) {
    let family = inst.family;
    if family == Family::V6 {
        // RFC 3768 is IPv4 only.
        inst.version = Version::V3;
    }
    if inst.version == Version::V3 {
        inst.auth = Auth::None;
    }
    inst.priority = inst.priority.max(1);
    inst.down_timer_adverts = inst.down_timer_adverts.max(1);
    inst.advert_int_cs = match inst.version {
        // Whole seconds in an 8-bit field.
        Version::V2 => inst.advert_int_cs.div_ceil(100).clamp(1, 255) * 100,
        // Centiseconds in a 12-bit field.
        Version::V3 => inst.advert_int_cs.clamp(1, 4095),
    };
    let same = |a: &core::net::IpAddr| Family::of(a) == family;
    inst.virtual_addresses.retain(same);
    inst.excluded_addresses.retain(same);
    inst.unicast_peers.retain(same);
    inst.unicast_src = inst.unicast_src.filter(same);
    inst.multicast_group = inst.multicast_group.filter(same);
    let max = max_addresses(family);
    if inst.virtual_addresses.len() > max {
        let excess = inst.virtual_addresses.split_off(max);
        inst.excluded_addresses.splice(0..0, excess);
    }
    for t in &mut inst.track_scripts {
        t.weight = t.weight.map(|w| w.clamp(-MAX_WEIGHT, MAX_WEIGHT));
    }
    for t in &mut inst.track_interfaces {
        t.weight = t.weight.clamp(-MAX_WEIGHT, MAX_WEIGHT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ScriptConfig, TrackedInterface};

    #[test]
    fn a_valid_config_is_unchanged() {
        let mut i = InstanceConfig::new("VI_1", "eth0", 51);
        i.virtual_addresses = vec!["192.0.2.1".parse().unwrap()];
        i.advert_int_cs = 300;
        let cfg = RouterConfig {
            instances: vec![i],
            scripts: vec![ScriptConfig::new("chk")],
            ..Default::default()
        };
        assert_eq!(clamped(cfg.clone()), cfg);
    }

    #[test]
    fn out_of_range_values_are_clamped() {
        let mut i = InstanceConfig::new("VI_1", "eth0", 51);
        i.priority = 0;
        i.down_timer_adverts = 0;
        i.advert_int_cs = 150;
        i.virtual_addresses = vec!["192.0.2.1".parse().unwrap(), "fe80::1".parse().unwrap()];
        i.track_interfaces = vec![TrackedInterface {
            name: "eth1".into(),
            weight: i32::MAX,
            reverse: false,
        }];
        let mut v6 = InstanceConfig::new("VI_6", "eth0", 52);
        v6.family = Family::V6;
        v6.auth = Auth::Simple([1; 8]);
        v6.advert_int_cs = 0;
        v6.virtual_addresses = (0..100u16)
            .map(|n| core::net::IpAddr::V6(core::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n)))
            .collect();
        let mut s = ScriptConfig::new("chk");
        s.interval = Duration::ZERO;
        s.rise = 0;
        s.fall = 0;
        s.weight = -1000;
        let out = clamped(RouterConfig {
            instances: vec![i, v6],
            scripts: vec![s],
            ..Default::default()
        });
        let (i, v6, s) = (&out.instances[0], &out.instances[1], &out.scripts[0]);
        assert_eq!((i.priority, i.down_timer_adverts), (1, 1));
        assert_eq!(i.advert_int_cs, 200, "v2 rounds up to whole seconds");
        assert_eq!(i.virtual_addresses.len(), 1, "the IPv6 address is dropped");
        assert_eq!(i.track_interfaces[0].weight, 253);
        assert_eq!((v6.version, v6.auth), (Version::V3, Auth::None));
        assert_eq!(v6.advert_int_cs, 1);
        assert_eq!(v6.virtual_addresses.len(), 80);
        assert_eq!(v6.excluded_addresses.len(), 20);
        assert_eq!(
            (s.interval, s.rise, s.fall, s.weight),
            (MIN_INTERVAL, 1, 1, -253)
        );
    }
}
