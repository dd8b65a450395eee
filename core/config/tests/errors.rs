//! One test per error class: the exact FILE:LINE:COL reported.

mod common;

use common::{errors, ok, parse_with, BASE};
use vigil_config::{Problem, Severity};

const FILE: &str = "/etc/keepalived/keepalived.conf";

/// The single error of `text`, as (line, col, problem).
fn only_error(text: &str) -> (u32, u32, Problem) {
    let e = errors(text);
    assert_eq!(
        e.len(),
        1,
        "expected one error, got:\n{}",
        common::render(&e)
    );
    assert_eq!(e[0].file, FILE);
    (e[0].line, e[0].col, e[0].problem.clone())
}

/// Parses text keepalived runs with one warning; returns the warning and
/// the configuration.
fn only_warning(text: &str) -> ((u32, u32, Problem), vigil_model::Config) {
    let (c, w) = match common::parse_with(text, &[], false) {
        Ok(x) => x,
        Err(d) => panic!("refused:\n{}", common::render(&d)),
    };
    assert_eq!(
        w.len(),
        1,
        "expected one warning, got:\n{}",
        common::render(&w)
    );
    ((w[0].line, w[0].col, w[0].problem.clone()), c)
}

fn instance(body: &str) -> String {
    format!("vrrp_instance VI_1 {{\n{body}}}\n")
}

#[test]
fn vrid_out_of_range() {
    let t = instance("    interface eth0\n    virtual_router_id 256\n");
    let (l, c, p) = only_error(&t);
    assert_eq!((l, c), (3, 23));
    assert!(
        matches!(
            p,
            Problem::OutOfRange {
                min: 1,
                max: 255,
                ..
            }
        ),
        "{p:?}"
    );
    let t = instance("    interface eth0\n    virtual_router_id 0\n");
    assert_eq!(only_error(&t).0, 3);
}

#[test]
fn priority_out_of_range() {
    let t = instance("    interface eth0\n    virtual_router_id 5\n    priority 0\n");
    let (l, c, p) = only_error(&t);
    assert_eq!((l, c), (4, 14));
    assert_eq!(p.to_string(), "priority: out of range 1..255 (0)");
}

#[test]
fn advert_int_out_of_range_for_v2_and_v3() {
    let t = instance("    interface eth0\n    virtual_router_id 5\n    advert_int 0.5\n");
    let (l, c, p) = only_error(&t);
    assert_eq!(
        (l, c, p),
        (4, 16, Problem::AdvertIntForVersion("0.5".into(), 2))
    );
    let t = instance("    interface eth0\n    virtual_router_id 5\n    advert_int 256\n");
    assert_eq!(only_error(&t).0, 4);
    // VRRPv3: centiseconds up to 40.95 s.
    let t = instance(
        "    interface eth0\n    version 3\n    virtual_router_id 5\n    advert_int 0.005\n",
    );
    let (l, c, p) = only_error(&t);
    assert_eq!(
        (l, c, p),
        (5, 16, Problem::AdvertIntForVersion("0.005".into(), 3))
    );
    let t =
        instance("    interface eth0\n    version 3\n    virtual_router_id 5\n    advert_int 41\n");
    assert_eq!(only_error(&t).0, 5);
    let c = ok(&instance(
        "    interface eth0\n    version 3\n    virtual_router_id 5\n    advert_int 0.1\n",
    ));
    assert_eq!(
        c.instances[0].advert_int,
        std::time::Duration::from_millis(100)
    );
    let c = ok(&instance(
        "    interface eth0\n    version 3\n    virtual_router_id 5\n    advert_int 40.95\n",
    ));
    assert_eq!(
        c.instances[0].advert_int,
        std::time::Duration::from_millis(40_950)
    );
}

#[test]
fn unknown_track_script() {
    let t = "vrrp_script chk {\n  script /bin/true\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 5\n  track_script {\n    chk\n    nope weight 10\n  }\n}\n";
    // keepalived: "track script nope not found, ignoring...".
    let (found, c) = only_warning(t);
    assert_eq!(found, (9, 5, Problem::UnknownTrackScript("nope".into())));
    let names: Vec<_> = c.instances[0]
        .track_scripts
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["chk"]);
}

#[test]
fn bad_address_and_prefix() {
    let t = instance("    interface eth0\n    virtual_router_id 5\n    virtual_ipaddress {\n        10.0.0.300/24\n    }\n");
    let (l, c, p) = only_error(&t);
    assert_eq!(
        (l, c, p),
        (5, 9, Problem::BadAddress("10.0.0.300/24".into()))
    );
    let t = instance("    interface eth0\n    virtual_router_id 5\n    virtual_ipaddress {\n        10.0.0.3/33\n    }\n");
    let (l, c, p) = only_error(&t);
    assert_eq!((l, c, p), (5, 9, Problem::BadPrefix("10.0.0.3/33".into())));
    let t = instance("    interface eth0\n    virtual_router_id 5\n    unicast_src_ip 10.1\n");
    assert_eq!(only_error(&t).0, 4);
}

#[test]
fn duplicate_vrid_on_one_interface_and_family() {
    let t =
        format!("{BASE}vrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 51\n}}\n");
    let (l, c, p) = only_error(&t);
    assert_eq!((l, c), (10, 23));
    assert!(
        matches!(p, Problem::DuplicateVrid { vrid: 51, ref other, .. } if other == "VI_1"),
        "{p:?}"
    );
    // Another interface, or the other family, is fine.
    ok(&format!(
        "{BASE}vrrp_instance VI_2 {{\n    interface eth1\n    virtual_router_id 51\n}}\n"
    ));
    ok(&format!(
        "{BASE}vrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {{\n        fd00::1/64\n    }}\n}}\n"
    ));
}

#[test]
fn unicast_peer_of_the_wrong_family() {
    let t = instance(
        "    interface eth0\n    virtual_router_id 5\n    virtual_ipaddress {\n        10.0.0.1\n    }\n    unicast_peer {\n        10.0.0.2\n        fd00::2\n    }\n",
    );
    // keepalived skips the address with a warning.
    let ((l, c, p), config) = only_warning(&t);
    assert_eq!((l, c), (9, 9));
    assert!(matches!(p, Problem::Ignored(w) if w.contains("fd00::2")));
    assert_eq!(config.instances[0].unicast_peers.len(), 1);
}

#[test]
fn block_never_closed() {
    let t = "global_defs {\n  router_id x\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 5\n  virtual_ipaddress {\n    10.0.0.1\n}\n";
    let (l, c, p) = only_error(t);
    assert_eq!(
        (l, c, p),
        (4, 1, Problem::UnclosedBlock("vrrp_instance".into()))
    );
}

#[test]
fn auth_type_ah_is_accepted() {
    let t = instance("    interface eth0\n    virtual_router_id 5\n    authentication {\n        auth_type AH\n        auth_pass 1234567890\n    }\n");
    let (cfg, warnings) = parse_with(&t, &[], false).unwrap();
    assert_eq!(cfg.instances[0].auth, vigil_model::Auth::Ah(*b"12345678"));
    assert!(warnings
        .iter()
        .all(|d| !matches!(d.problem, Problem::AhInitialMaster)));
}

#[test]
fn auth_type_ah_clears_state_master_as_keepalived_does() {
    let t = instance("    state MASTER\n    priority 100\n    interface eth0\n    virtual_router_id 5\n    authentication {\n        auth_type AH\n        auth_pass x\n    }\n");
    let (cfg, warnings) = parse_with(&t, &[], false).unwrap();
    assert_eq!(cfg.instances[0].state, vigil_model::InitialState::Backup);
    let w: Vec<_> = warnings
        .iter()
        .filter(|d| d.problem == Problem::AhInitialMaster)
        .collect();
    assert_eq!(w.len(), 1, "{warnings:?}");
    // The owner keeps MASTER.
    let t = t.replace("priority 100", "priority 255");
    let (cfg, _) = parse_with(&t, &[], false).unwrap();
    assert_eq!(cfg.instances[0].state, vigil_model::InitialState::Master);
}

#[test]
fn sync_group_naming_an_unknown_instance() {
    let t = format!(
        "vrrp_sync_group G {{\n    group {{\n        VI_1\n        VI_9\n    }}\n}}\n{BASE}"
    );
    // keepalived: "Virtual router VI_9 specified in sync group G doesn't exist - ignoring".
    let (found, c) = only_warning(&t);
    assert_eq!(found, (4, 9, Problem::UnknownSyncMember("VI_9".into())));
    assert_eq!(c.sync_groups[0].instances, ["VI_1"]);
}

#[test]
fn missing_value_and_not_a_number() {
    let t = instance("    interface eth0\n    virtual_router_id\n");
    let (l, c, p) = only_error(&t);
    assert_eq!(
        (l, c, p),
        (3, 5, Problem::MissingValue("virtual_router_id".into()))
    );
    let t = instance("    interface eth0\n    virtual_router_id fifty\n");
    let (l, c, p) = only_error(&t);
    assert_eq!(
        (l, c, p),
        (
            3,
            23,
            Problem::NotANumber("virtual_router_id".into(), "fifty".into())
        )
    );
}

#[test]
fn unknown_keyword_is_a_warning_with_its_place_and_an_error_when_strict() {
    let t = format!(
        "global_defs {{\n    router_id x\n    frobnicate 3 {{\n        a b\n    }}\n}}\n{BASE}"
    );
    let (c, w) = parse_with(&t, &[], false).unwrap();
    assert_eq!(c.instances.len(), 1);
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].severity, w[0].line, w[0].col),
        (Severity::Warning, 3, 5)
    );
    assert_eq!(
        w[0].to_string(),
        format!("{FILE}:3:5: warning: unknown keyword in global_defs, skipped (frobnicate)")
    );
    let e = parse_with(&t, &[], true).unwrap_err();
    assert_eq!(
        (e[0].severity, e[0].line, e[0].col),
        (Severity::Error, 3, 5)
    );
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    let t = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 300\n  priority 0\n  advert_int x\n}\nvrrp_instance B {\n  interface eth0\n  state SOMETIMES\n  virtual_router_id 9\n}\n";
    let e = errors(t);
    let lines: Vec<u32> = e.iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 4, 5, 9], "{}", common::render(&e));
}

#[test]
fn message_format_is_file_line_col_message_offending_text() {
    let e = errors(&instance(
        "    interface eth0\n    virtual_router_id 5\n    priority 300\n",
    ));
    assert_eq!(
        e[0].to_string(),
        format!("{FILE}:4:14: error: priority: out of range 1..255 (300)")
    );
}

#[test]
fn inline_comments_quoted_strings_and_utf8() {
    let t = "global_defs {\n  router_id a#b ! c\n}\n# 注释 comment\nvrrp_instance VI_1 {   ! 实例\n  state MASTER # 备机设置为 BACKUP\n  interface eth0\n  virtual_router_id 51 # x\n  priority 100 ! y\n  notify_master \"/bin/notify.sh master # not a comment\" root wheel\n  virtual_ipaddress {\n    10.0.0.1/24 # vip\n  }\n}\n";
    let c = ok(t);
    assert_eq!(c.global.router_id.as_deref(), Some("a"));
    let i = &c.instances[0];
    assert_eq!((i.priority, i.virtual_router_id), (100, 51));
    let n = i.notify.master.as_ref().unwrap();
    assert_eq!(n.text, "/bin/notify.sh master # not a comment");
    assert_eq!(
        n.argv,
        ["/bin/notify.sh", "master", "#", "not", "a", "comment"]
    );
    let r = n.run_as.as_ref().unwrap();
    assert_eq!(
        (r.user.as_str(), r.group.as_deref()),
        ("root", Some("wheel"))
    );
}

#[test]
fn utf8_before_an_error_counts_characters_in_columns() {
    let t = instance("    interface eth0\n    virtual_router_id 5\n    \"优先级\" 1\n");
    let (c, w) = parse_with(&t, &[], false).unwrap();
    assert_eq!(c.instances.len(), 1);
    assert_eq!((w[0].line, w[0].col), (4, 5));
    let t = instance("    interface eth0\n    virtual_router_id 5\n    state \"主\" BACKUP\n");
    let e = errors(&t);
    // "主" is one character: BACKUP would be at col 15; the bad state at 11.
    assert_eq!((e[0].line, e[0].col), (4, 11));
}

#[test]
fn defaults_follow_keepalived() {
    let c = ok("vrrp_instance A {\n  interface eth0\n  state MASTER\n  virtual_router_id 1\n}\nvrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n}\nvrrp_instance C {\n  interface eth0\n  virtual_router_id 3\n  priority 255\n}\n");
    let p: Vec<_> = c.instances.iter().map(|i| (i.priority, i.state)).collect();
    use vigil_model::InitialState::*;
    assert_eq!(p, [(255, Master), (100, Backup), (255, Master)]);
    let c = ok("global_defs {\n  vrrp_strict\n  vrrp_garp_master_delay 2\n}\nvrrp_script s {\n  script x\n  interval 3\n}\nvrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  use_vmac\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n");
    let (i, s) = (&c.instances[0], &c.scripts[0]);
    assert!(!i.accept, "vrrp_strict implies no_accept");
    assert_eq!(i.garp_master_delay, std::time::Duration::from_secs(2));
    assert_eq!(i.use_vmac.as_deref(), Some("vrrp.1"));
    assert_eq!(
        s.timeout,
        std::time::Duration::from_secs(3),
        "script timeout defaults to interval"
    );
    assert_eq!((s.fall, s.rise, s.weight), (1, 1, 0));
}
