//! Issue 11's state-machine rules: `vrrp_strict`'s receive side (adverts
//! with authentication or to a unicast address dropped and counted, no
//! advert in answer to a lower priority) and `garp_extra_if`'s periodic
//! announcements while MASTER.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

mod direct;

use direct::{started, GROUP, PEER, SELF};
use vigil_vrrp::{
    Action, Auth, DropReason, InstanceConfig, Instant, Repr, Router, RxMeta, State, Version,
};

const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 150));
const EXTRA: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 9, 0, 1));

fn instance(strict: bool, prio: u8) -> InstanceConfig {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51);
    c.priority = prio;
    c.virtual_addresses = vec![VIP];
    c.strict = strict;
    c
}

fn advert(prio: u8, auth: Auth) -> Repr {
    Repr {
        version: Version::V2,
        vrid: 51,
        priority: prio,
        adver_int_cs: 100,
        auth,
        addresses: vec![VIP],
    }
}

fn meta(dst: IpAddr) -> RxMeta<'static> {
    direct::meta(PEER, dst, 255)
}

fn drops(r: &Router, reason: DropReason) -> u64 {
    let id = r.instance_id("VI_1").unwrap();
    r.instance(id).unwrap().counters.dropped(reason)
}

fn state(r: &Router) -> State {
    let id = r.instance_id("VI_1").unwrap();
    r.instance(id).unwrap().state
}

/// Runs the timers up to `until`, returning every action.
fn run(r: &mut Router, until: Instant) -> Vec<(Instant, Action)> {
    let mut out = Vec::new();
    while let Some(t) = r.poll_timeout().filter(|t| *t <= until) {
        r.handle_timeout(t);
        while let Some(a) = r.poll_action() {
            out.push((t, a));
        }
    }
    out
}

#[test]
fn strict_drops_authentication_even_when_configured() {
    // A hand-built config with both: strict wins (the config crate clears
    // the auth of a strict instance; keepalived does too).
    let mut c = instance(true, 80);
    c.auth = Auth::Simple(*b"1111\0\0\0\0");
    let mut r = started(c);
    let a = advert(200, Auth::Simple(*b"1111\0\0\0\0"));
    r.handle_advert(Instant::from_secs(1), &meta(GROUP), &a);
    assert_eq!(drops(&r, DropReason::AuthType), 1);
    // Not strict: the same advert is accepted.
    let mut c = instance(false, 80);
    c.auth = Auth::Simple(*b"1111\0\0\0\0");
    let mut r = started(c);
    r.handle_advert(Instant::from_secs(1), &meta(GROUP), &a);
    assert_eq!(drops(&r, DropReason::AuthType), 0);
}

#[test]
fn strict_backup_ignores_non_conforming_adverts_and_takes_over() {
    let mut r = started(instance(true, 80));
    let two = Repr {
        addresses: vec![VIP, EXTRA],
        ..advert(200, Auth::None)
    };
    let other = Repr {
        addresses: vec![EXTRA],
        ..advert(200, Auth::None)
    };
    // Every 1 s for 5 s: with authentication, to our unicast address, with
    // two addresses, with another address.
    for n in 0..5u64 {
        let at = Instant::from_millis(500 + n * 1000);
        run(&mut r, at);
        r.handle_advert(
            at,
            &meta(GROUP),
            &advert(200, Auth::Simple(*b"1111\0\0\0\0")),
        );
        r.handle_advert(at, &meta(SELF), &advert(200, Auth::None));
        r.handle_advert(at, &meta(GROUP), &two);
        r.handle_advert(at, &meta(GROUP), &other);
    }
    assert_eq!(drops(&r, DropReason::AuthType), 5);
    assert_eq!(drops(&r, DropReason::Destination), 5);
    assert_eq!(drops(&r, DropReason::AddressList), 10);
    assert_eq!(
        state(&r),
        State::Master,
        "none of them was a master's advert"
    );
    // The control: a conforming stream holds a strict backup.
    let mut r = started(instance(true, 80));
    for n in 0..5u64 {
        let at = Instant::from_millis(500 + n * 1000);
        run(&mut r, at);
        r.handle_advert(at, &meta(GROUP), &advert(200, Auth::None));
    }
    assert_eq!(state(&r), State::Backup);
}

fn adverts_after_lower(strict: bool) -> usize {
    let mut c = instance(strict, 200);
    c.initial_state = Some(vigil_vrrp::InitialState::Master);
    let mut r = started(c);
    run(&mut r, Instant::from_millis(4000));
    assert_eq!(state(&r), State::Master);
    let at = Instant::from_millis(4100);
    r.handle_advert(at, &meta(GROUP), &advert(100, Auth::None));
    let mut n = 0;
    while let Some(a) = r.poll_action() {
        n += usize::from(matches!(a, Action::SendAdvert { .. }));
    }
    n
}

#[test]
fn strict_master_does_not_answer_a_lower_priority() {
    assert_eq!(
        adverts_after_lower(false),
        1,
        "keepalived's default answers"
    );
    assert_eq!(adverts_after_lower(true), 0, "lower_prio_no_advert");
}

fn extra_if_announcements(interval: Duration, addrs: Vec<IpAddr>) -> Vec<Instant> {
    let mut c = instance(false, 200);
    c.initial_state = Some(vigil_vrrp::InitialState::Master);
    c.garp.master_delay = Duration::ZERO;
    c.garp.extra_if_interval = interval;
    c.garp.extra_if_addrs = addrs.clone();
    let mut r = started(c);
    run(&mut r, Instant::from_secs(10))
        .into_iter()
        .filter_map(|(t, a)| match a {
            Action::SendGratuitous { addrs: got, .. } if got == addrs => Some(t),
            _ => None,
        })
        .collect()
}

#[test]
fn extra_interfaces_are_announced_every_period_while_master() {
    let got = extra_if_announcements(Duration::from_secs(3), vec![EXTRA]);
    // Master at 0 (state MASTER, priority 200 is not the owner: the
    // backup's down timer first), then every 3 s.
    assert!(got.len() >= 2, "{got:?}");
    for w in got.windows(2) {
        assert_eq!(w[1] - w[0], Duration::from_secs(3), "{got:?}");
    }
    assert!(extra_if_announcements(Duration::ZERO, vec![EXTRA]).is_empty());
    assert!(extra_if_announcements(Duration::from_secs(3), vec![]).is_empty());
}

#[test]
fn extra_if_stops_when_master_leaves() {
    let mut c = instance(false, 100);
    c.garp.extra_if_interval = Duration::from_secs(1);
    c.garp.extra_if_addrs = vec![EXTRA];
    let mut r = started(c);
    // Backup: never announces.
    let before: Vec<_> = run(&mut r, Instant::from_millis(3000));
    assert!(!before
        .iter()
        .any(|(_, a)| matches!(a, Action::SendGratuitous { addrs, .. } if addrs == &vec![EXTRA])));
    // Master after the down timer, then a higher priority takes over.
    let as_master = run(&mut r, Instant::from_millis(6000));
    assert!(as_master
        .iter()
        .any(|(_, a)| matches!(a, Action::SendGratuitous { addrs, .. } if addrs == &vec![EXTRA])));
    r.handle_advert(
        Instant::from_millis(6000),
        &meta(GROUP),
        &advert(200, Auth::None),
    );
    while r.poll_action().is_some() {}
    assert_eq!(state(&r), State::Backup);
    let after = run(&mut r, Instant::from_millis(6500));
    assert!(!after
        .iter()
        .any(|(_, a)| matches!(a, Action::SendGratuitous { addrs, .. } if addrs == &vec![EXTRA])));
}
