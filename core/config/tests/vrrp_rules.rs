//! The rules core/vrrp used to apply itself (`Router::new` refused or fixed
//! them): they are the config crate's now, each with its FILE:LINE.

mod common;

use common::{errors, parse_with, render};
use vigil_config::{effective_preempt, Problem};
use vigil_model::Auth;

/// Line and message of each warning of `text`, which must be accepted.
fn warnings(text: &str) -> (vigil_model::Config, Vec<(u32, String)>) {
    match parse_with(text, &[], false) {
        Ok((c, w)) => (
            c,
            w.iter().map(|d| (d.line, d.problem.to_string())).collect(),
        ),
        Err(d) => panic!("refused:\n{}", render(&d)),
    }
}

fn instance(name: &str, body: &str) -> String {
    format!("vrrp_instance {name} {{\n    interface eth0\n{body}}}\n")
}

#[test]
fn an_instance_defined_twice_is_refused_at_the_second() {
    let t = instance("VI_1", "    virtual_router_id 1\n")
        + &instance("VI_1", "    virtual_router_id 2\n");
    let e = errors(&t);
    assert_eq!(e.len(), 1, "{}", render(&e));
    assert_eq!(e[0].line, 5);
    assert_eq!(
        e[0].problem,
        Problem::DuplicateName("vrrp_instance", "VI_1".into())
    );
}

#[test]
fn zero_rise_or_fall_is_refused() {
    for kw in ["rise", "fall"] {
        let t = format!("vrrp_script chk {{\n    script /bin/true\n    {kw} 0\n}}\n");
        let e = errors(&t);
        assert_eq!(e.len(), 1, "{}", render(&e));
        assert_eq!(e[0].line, 3, "{kw}");
    }
}

#[test]
fn a_member_of_two_sync_groups_is_refused() {
    let t = instance("VI_1", "    virtual_router_id 1\n")
        + "vrrp_sync_group G1 {\n    group {\n        VI_1\n    }\n}\n"
        + "vrrp_sync_group G2 {\n    group {\n        VI_1\n    }\n}\n";
    let e = errors(&t);
    assert_eq!(e.len(), 1, "{}", render(&e));
    assert_eq!(
        (e[0].line, e[0].problem.clone()),
        (12, Problem::InTwoSyncGroups("VI_1".into()))
    );
}

#[test]
fn authentication_on_v3_is_ignored_with_a_warning() {
    let body = "    virtual_router_id 1\n    version 3\n    authentication {\n        \
                auth_type PASS\n        auth_pass secret\n    }\n";
    let (c, w) = warnings(&instance("VI_1", body));
    assert_eq!(c.instances[0].auth, Auth::None);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, 1);
    assert!(
        w[0].1.contains("VRRPv3 has no authentication"),
        "{}",
        w[0].1
    );
    // v2 keeps it.
    let (c, w) = warnings(&instance("VI_1", &body.replace("version 3", "version 2")));
    assert!(matches!(c.instances[0].auth, Auth::Pass(_)));
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn more_vips_than_an_advert_carries_are_moved_to_excluded() {
    let vips: String = (0..300)
        .map(|n| format!("        10.{}.{}.1\n", n / 256, n % 256))
        .collect();
    let body = format!("    virtual_router_id 1\n    virtual_ipaddress {{\n{vips}    }}\n");
    let (c, w) = warnings(&instance("VI_1", &body));
    let i = &c.instances[0];
    assert_eq!(
        (i.virtual_addresses.len(), i.excluded_addresses.len()),
        (255, 45)
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].1.contains("45 moved"), "{}", w[0].1);
    let v6: String = (0..81).map(|n| format!("        fd00::{n:x}\n")).collect();
    let body = format!("    virtual_router_id 1\n    virtual_ipaddress {{\n{v6}    }}\n");
    let (c, _) = warnings(&instance("VI_1", &body));
    assert_eq!(c.instances[0].virtual_addresses.len(), 80);
}

#[test]
fn state_master_and_owner_preempt_at_once_with_a_warning() {
    let cases = [
        // (body, preempts, delay secs, warnings)
        (
            "    state MASTER\n    priority 100\n    nopreempt\n    preempt_delay 10\n",
            true,
            0,
            2,
        ),
        (
            "    state BACKUP\n    priority 255\n    nopreempt\n    preempt_delay 10\n",
            true,
            10,
            1,
        ),
        (
            "    state BACKUP\n    nopreempt\n    preempt_delay 10\n",
            false,
            0,
            1,
        ),
        ("    state BACKUP\n    preempt_delay 10\n", true, 10, 0),
        ("    state BACKUP\n    nopreempt\n", false, 0, 0),
    ];
    for (extra, preempts, delay, n) in cases {
        let body = format!("    virtual_router_id 1\n{extra}");
        let (c, w) = warnings(&instance("VI_1", &body));
        let (p, d) = effective_preempt(&c.instances[0]);
        assert_eq!((p, d.as_secs()), (preempts, delay), "{extra}");
        assert_eq!(w.len(), n, "{extra}: {w:?}");
        assert!(w.iter().all(|(line, _)| *line == 1), "{w:?}");
    }
}
