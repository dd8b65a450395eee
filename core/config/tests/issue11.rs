//! The VRRP keywords of issue 11, read as keepalived 2.2.7 reads them:
//! `unicast_ttl`, `garp_extra_if` / `vmac_garp_intvl` (and the global
//! forms), `max_auto_priority`, `min_auto_priority_delay`,
//! `fifo_write_vrrp_states_on_reload`, and the instance's resolved strict
//! mode; none of them is "not acted on" any more, and `show` round-trips.

mod common;

use common::parse_with;
use std::time::Duration;
use vigil_model::{Config, ExtraIfGarp};

fn read(global: &str, inst: &str, peers: bool) -> (Config, Vec<String>) {
    let peer = if peers {
        "    unicast_peer {\n        10.0.0.3\n    }\n"
    } else {
        ""
    };
    let text = format!(
        "global_defs {{\n{global}\n}}\nvrrp_instance VI_1 {{\n    interface eth0\n    \
         virtual_router_id 51\n{inst}\n{peer}    virtual_ipaddress {{\n        10.0.0.1/24\n    }}\n}}\n"
    );
    match parse_with(&text, &[], false) {
        Ok((c, w)) => (c, w.iter().map(|d| d.problem.to_string()).collect()),
        Err(d) => panic!("refused:\n{}", common::render(&d)),
    }
}

/// `show` of `c` read back gives `c` again.
fn round_trip(c: &Config) {
    let text = vigil_config::show(c);
    let (again, _) =
        parse_with(&text, &[], false).unwrap_or_else(|d| panic!("{}\n{text}", common::render(&d)));
    assert_eq!(&again, c, "{text}");
}

#[test]
fn unicast_ttl_needs_peers() {
    let (c, w) = read("", "    unicast_ttl 7", true);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.instances[0].unicast_ttl, Some(7));
    round_trip(&c);
    let (c, w) = read("", "    unicast_ttl 7", false);
    assert_eq!(c.instances[0].unicast_ttl, None);
    assert_eq!(w, ["unicast_ttl without unicast peers - ignoring"]);
    let (c, w) = read("", "    unicast_ttl 256", true);
    assert_eq!(c.instances[0].unicast_ttl, None);
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn garp_extra_if_both_spellings_and_the_global_default() {
    let every = |s| {
        Some(ExtraIfGarp {
            interval: Duration::from_secs(s),
            all: false,
        })
    };
    let (c, w) = read("", "    garp_extra_if 10", false);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.instances[0].garp_extra_if, every(10));
    let (c, w) = read("", "    vmac_garp_intvl 5 all", false);
    assert_eq!(
        w,
        ["keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\""]
    );
    let all5 = Some(ExtraIfGarp {
        interval: Duration::from_secs(5),
        all: true,
    });
    assert_eq!(c.instances[0].garp_extra_if, all5);
    round_trip(&c);
    // The global default, and an instance's explicit 0 against it.
    let (c, w) = read("    vrrp_garp_extra_if 30", "", false);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.instances[0].garp_extra_if, every(30));
    let (c, _) = read("    vrrp_vmac_garp_intvl 30", "    garp_extra_if 0", false);
    assert_eq!(c.global.vrrp_garp_extra_if, every(30));
    assert_eq!(c.instances[0].garp_extra_if, None);
    round_trip(&c);
    // Bad words: keepalived ignores the keyword with a message.
    for bad in [
        "garp_extra_if",
        "garp_extra_if x",
        "garp_extra_if 86401",
        "garp_extra_if all",
    ] {
        let (c, w) = read("", &format!("    {bad}"), false);
        assert_eq!(c.instances[0].garp_extra_if, None, "{bad}");
        assert_eq!(w.len(), 1, "{bad}: {w:?}");
    }
    let (c, w) = read("    vrrp_garp_extra_if 0", "", false);
    assert_eq!((c.global.vrrp_garp_extra_if, w.len()), (None, 1));
}

#[test]
fn auto_priority_and_fifo_states() {
    let (c, w) = read(
        "    max_auto_priority 20\n    min_auto_priority_delay 500000\n    fifo_write_vrrp_states_on_reload",
        "",
        false,
    );
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.global.vrrp_sched.max_auto_priority, 20);
    assert_eq!(c.global.vrrp_sched.min_auto_priority_delay_us, 500_000);
    assert!(c.global.fifo_write_vrrp_states_on_reload);
    round_trip(&c);
    let (c, _) = read("    max_auto_priority", "", false);
    assert_eq!(
        c.global.vrrp_sched.max_auto_priority, 99,
        "no value: the maximum"
    );
    round_trip(&c);
    let (c, w) = read("    max_auto_priority 100", "", false);
    assert_eq!((c.global.vrrp_sched.max_auto_priority, w.len()), (0, 1));
    let (c, _) = read("    max_auto_priority -1", "", false);
    assert_eq!(c.global.vrrp_sched.max_auto_priority, -1);
}

#[test]
fn strict_mode_is_resolved_per_instance() {
    let (c, _) = read("    vrrp_strict", "", false);
    assert!(c.instances[0].strict);
    round_trip(&c);
    let (c, _) = read("    vrrp_strict", "    strict_mode off", false);
    assert!(!c.instances[0].strict);
    round_trip(&c);
    let (c, _) = read("", "    strict_mode", false);
    assert!(c.instances[0].strict);
    round_trip(&c);
    let (c, _) = read("", "", false);
    assert!(!c.instances[0].strict);
}
