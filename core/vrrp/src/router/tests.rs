//! Router-level unit tests (built only under `#[cfg(test)]`, see `router.rs`):
//! start/stop gating, time monotonicity, priority clamping.

use super::*;
use crate::config::InstanceConfig;
use core::net::Ipv4Addr;

fn router(priority: u8) -> Router {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51);
    c.priority = priority;
    c.virtual_addresses = vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 150))];
    let mut r = Router::new(RouterConfig {
        instances: vec![c],
        ..Default::default()
    });
    let addr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    r.handle_address(Instant::ZERO, "eth0", Family::V4, Some(addr));
    r
}

#[test]
fn nothing_happens_before_start_or_after_shutdown() {
    let mut r = router(100);
    assert_eq!(r.poll_timeout(), None);
    r.handle_timeout(Instant::from_secs(100));
    assert_eq!(r.poll_action(), None);
    r.handle_start(Instant::from_secs(1));
    assert!(r.poll_action().is_some());
    while r.poll_action().is_some() {}
    r.handle_shutdown(Instant::from_secs(2));
    while r.poll_action().is_some() {}
    assert_eq!(r.poll_timeout(), None);
    r.handle_timeout(Instant::from_secs(100));
    assert_eq!(r.poll_action(), None);
}

#[test]
fn time_never_goes_back() {
    let mut r = router(100);
    r.handle_start(Instant::from_secs(10));
    // 3 s + 156/256 s after start.
    assert_eq!(r.poll_timeout(), Some(Instant::from_micros(13_609_375)));
    // A stale `now` is read as the latest seen: nothing fires early.
    r.handle_timeout(Instant::from_secs(1));
    let id = r.instance_id("VI_1").unwrap();
    assert_eq!(r.instance(id).unwrap().state, State::Backup);
    r.handle_timeout(Instant::from_micros(13_609_375));
    assert_eq!(r.instance(id).unwrap().state, State::Master);
    assert_eq!(
        r.instance(id).unwrap().last_transition,
        Some(Instant::from_micros(13_609_375))
    );
}

#[test]
fn priority_is_clamped_to_1_254() {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51);
    c.priority = 250;
    c.track_interfaces = vec![crate::config::TrackedInterface {
        name: "eth1".into(),
        weight: 50,
        reverse: false,
    }];
    let mut low = c.clone();
    low.name = "VI_2".into();
    low.vrid = 52;
    low.priority = 10;
    low.track_interfaces[0].weight = -50;
    let mut r = Router::new(RouterConfig {
        instances: vec![c, low],
        ..Default::default()
    });
    r.handle_address(
        Instant::ZERO,
        "eth0",
        Family::V4,
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
    );
    r.handle_link(Instant::ZERO, "eth1", false);
    r.handle_start(Instant::ZERO);
    let prio = |r: &Router, n: &str| {
        r.instance(r.instance_id(n).unwrap())
            .unwrap()
            .effective_priority
    };
    assert_eq!((prio(&r, "VI_1"), prio(&r, "VI_2")), (250, 1));
    r.handle_link(Instant::from_secs(1), "eth1", true);
    assert_eq!((prio(&r, "VI_1"), prio(&r, "VI_2")), (254, 10));
}
