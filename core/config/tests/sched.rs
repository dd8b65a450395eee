//! `vrrp_rt_priority`, `vrrp_priority`, `vrrp_no_swap`, `vrrp_rlimit_rttime`:
//! the VRRP process's scheduling, read into `GlobalDefs::vrrp_sched`.

mod common;

use common::{parse_with, BASE};
use vigil_model::ProcessSched;

fn read(global: &str) -> (vigil_model::Config, Vec<String>) {
    let text = format!("global_defs {{\n{global}\n}}\n{BASE}");
    match parse_with(&text, &[], false) {
        Ok((c, w)) => (c, w.iter().map(|d| d.problem.to_string()).collect()),
        Err(d) => panic!("refused:\n{}", common::render(&d)),
    }
}

#[test]
fn not_given_is_the_default() {
    let (c, w) = read("router_id r1");
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.global.vrrp_sched, ProcessSched::default());
    assert_eq!(c.global.vrrp_sched.rt_priority, None);
    assert_eq!(c.global.vrrp_sched.rlimit_rttime_us, 10_000);
}

#[test]
fn every_keyword_is_acted_on() {
    let (c, w) =
        read("vrrp_rt_priority 40\nvrrp_priority -5\nvrrp_no_swap\nvrrp_rlimit_rttime 50000");
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        c.global.vrrp_sched,
        ProcessSched {
            rt_priority: Some(40),
            nice: -5,
            no_swap: true,
            rlimit_rttime_us: 50_000,
            ..ProcessSched::default()
        }
    );
    // keepalived's older spelling.
    let (c, w) = read("vrrp_rlimit_rtime 20000");
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.global.vrrp_sched.rlimit_rttime_us, 20_000);
}

#[test]
fn zero_asks_for_normal_scheduling() {
    let (c, w) = read("vrrp_rt_priority 0");
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.global.vrrp_sched.rt_priority, Some(0));
}

#[test]
fn out_of_range_values_warn_and_keep_the_default() {
    for bad in [
        "vrrp_rt_priority 100",
        "vrrp_priority 20",
        "vrrp_priority -21",
        "vrrp_rlimit_rttime 0",
        "vrrp_rt_priority high",
    ] {
        let (c, w) = read(bad);
        assert_eq!(w.len(), 1, "{bad}: {w:?}");
        assert_eq!(c.global.vrrp_sched, ProcessSched::default(), "{bad}");
    }
}

#[test]
fn show_round_trips() {
    let (c, _) =
        read("vrrp_rt_priority 0\nvrrp_priority 3\nvrrp_no_swap\nvrrp_rlimit_rttime 30000");
    let text = vigil_config::show(&c);
    for line in [
        "vrrp_rt_priority 0",
        "vrrp_priority 3",
        "vrrp_no_swap",
        "vrrp_rlimit_rttime 30000",
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
    let again = match parse_with(&text, &[], false) {
        Ok((c, _)) => c,
        Err(d) => panic!("{}", common::render(&d)),
    };
    assert_eq!(again.global.vrrp_sched, c.global.vrrp_sched);
    // The defaults are written as nothing.
    let (d, _) = read("router_id r1");
    let text = vigil_config::show(&d);
    assert!(!text.contains("vrrp_rt_priority"), "{text}");
    assert!(!text.contains("vrrp_rlimit_rttime"), "{text}");
}
