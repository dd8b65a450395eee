//! Every seed configuration maps into a state-machine configuration the router
//! accepts, with the values keepalived would run.

use std::path::PathBuf;

use vigil::loader::load;
use vigil::runtime::plan::Plan;
use vigil_config::Options;
use vigil_vrrp::{Auth, Family, Router, Version};

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/seed-configs")
}

fn plan(name: &str) -> Plan {
    let path = seeds().join(name);
    let Ok((config, _)) = load(path.to_str().unwrap(), Options::default()) else {
        panic!("{name} does not load");
    };
    Plan::new(&config).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_seed_config_builds_a_router() {
    let mut n = 0;
    for e in std::fs::read_dir(seeds()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "conf") {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let plan = plan(&name);
            assert!(!plan.router.instances.is_empty(), "{name}");
            // The config crate is the one validator: what it let through
            // needs none of the state machine's clamps.
            assert_eq!(plan.router.clone().clamped(), plan.router, "{name}");
            let _ = Router::new(plan.router.clone());
            n += 1;
        }
    }
    assert_eq!(n, 11);
}

#[test]
fn seed_01_master() {
    let p = plan("01-single-master.master.conf");
    let i = &p.router.instances[0];
    assert_eq!(
        (i.name.as_str(), i.vrid, i.priority, i.advert_int_cs),
        ("VI_1", 51, 100, 100)
    );
    assert_eq!((i.version, i.family), (Version::V2, Family::V4));
    assert_eq!(i.auth, Auth::Simple(*b"1111\0\0\0\0"));
    assert_eq!(i.multicast_group, Some("224.0.0.44".parse().unwrap()));
    assert_eq!(i.garp.garp_interval, std::time::Duration::from_secs(1));
    let shell = &p.instances["VI_1"];
    assert_eq!(shell.vips[0].label.as_deref(), Some("eth0:0"));
    assert_eq!(
        (shell.vips[0].prefix_len, shell.vips[0].dev.as_str()),
        (24, "eth0")
    );
    assert!(shell.multicast);
}

#[test]
fn seed_04_unicast_source_and_peer() {
    let p = plan("04-unicast.conf");
    let i = &p.router.instances[0];
    assert_eq!(i.unicast_src, Some("192.168.67.100".parse().unwrap()));
    assert_eq!(
        i.unicast_peers,
        vec!["192.168.67.200".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(i.preempt_delay, std::time::Duration::from_secs(10));
    assert!(!p.instances["VI_1"].multicast);
}

#[test]
fn seed_02_nopreempt() {
    let i = &plan("02-nopreempt.conf").router.instances[0];
    assert!(i.nopreempt);
}

fn plan_text(tag: &str, text: &str) -> Plan {
    let dir = std::env::temp_dir().join(format!("vigil-plan-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("k.conf");
    std::fs::write(&path, text).unwrap();
    let Ok((config, _)) = load(path.to_str().unwrap(), Options::default()) else {
        panic!("{tag} does not load");
    };
    std::fs::remove_dir_all(&dir).unwrap();
    Plan::new(&config).unwrap()
}

#[test]
fn seed_09_track_script_weight() {
    let text = std::fs::read_to_string(seeds().join("09-track-script.conf")).unwrap();
    // A root-owned script that exists is tracked with its weight.
    let p = plan_text(
        "ok",
        &text.replace("/etc/keepalived/scripts/haproxy.sh", "/bin/true"),
    );
    let s = &p.router.scripts[0];
    assert_eq!(
        (s.name.as_str(), s.weight, s.fall, s.rise),
        ("TEST_CHECK", -30, 2, 2)
    );
    assert_eq!(s.timeout, Some(std::time::Duration::from_secs(2)));
    assert_eq!(p.router.instances[0].track_scripts[0].name, "TEST_CHECK");
    assert_eq!(p.scripts["TEST_CHECK"].argv[0], "/bin/true");
    // With enable_script_security a script that cannot be checked (here: missing)
    // is disabled, as keepalived does, and no longer tracked.
    let p = plan_text(
        "missing",
        &text.replace(
            "/etc/keepalived/scripts/haproxy.sh",
            "/nonexistent/haproxy.sh",
        ),
    );
    assert!(p.router.scripts.is_empty());
    assert!(p.router.instances[0].track_scripts.is_empty());
}
