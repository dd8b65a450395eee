//! The status reply rendered from a real `Router`: exact JSON for a fixed
//! state, values after a small scenario, escaping of strange names.

#[path = "control_json.rs"]
mod control_json;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use control_json::{parse, Value};
use vigil::control::{render, InstanceExtra, Request, StatusExtra};
use vigil_vrrp::{
    Auth, DropReason, Family, InstanceConfig, Instant, Repr, Router, RouterConfig, RxMeta,
    ScriptConfig, SyncGroupConfig, TrackedScript, Version,
};

const JSON: Request = Request::Status { json: true };
const TEXT: Request = Request::Status { json: false };
const ODD: &str = "we\"ird\\na\tme\n\u{1}é\u{2028}";

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn extra_for(instances: Vec<InstanceExtra>, now: Instant) -> StatusExtra {
    StatusExtra {
        pid: 4242,
        uptime: Duration::from_secs(3_723),
        config_path: PathBuf::from("/etc/keepalived/keepalived.conf"),
        now,
        instances,
        scripts: Vec::new(),
        sync_groups: Vec::new(),
        lvs: Vec::new(),
    }
}

fn vi1() -> InstanceConfig {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51);
    c.virtual_addresses = vec![v4(192, 168, 67, 150)];
    c
}

fn vi1_extra() -> InstanceExtra {
    InstanceExtra {
        interface: "eth0".into(),
        vrid: 51,
        vips: vec![(v4(192, 168, 67, 150), 24)],
    }
}

#[test]
fn json_of_an_unstarted_router_is_exact() {
    let router = Router::new(RouterConfig {
        instances: vec![vi1()],
        ..Default::default()
    });
    let extra = extra_for(vec![vi1_extra()], Instant::from_secs(5));
    let drops = DropReason::ALL
        .iter()
        .map(|r| format!("\"{}\":0", vigil::control::render::drop_key(*r)))
        .collect::<Vec<_>>()
        .join(",");
    let expected = format!(
        concat!(
            r#"{{"pid":4242,"uptime_s":3723,"config":"/etc/keepalived/keepalived.conf","#,
            r#""instances":[{{"name":"VI_1","interface":"eth0","vrid":51,"state":"INIT","#,
            r#""base_priority":100,"effective_priority":100,"master":null,"master_priority":null,"#,
            r#""advert_int_ms":1000,"last_transition_s_ago":null,"vips":["192.168.67.150/24"],"#,
            r#""vips_installed":false,"counters":{{"adverts_sent":0,"adverts_received":0,"#,
            r#""became_master":0,"released_master":0,"priority0_sent":0,"priority0_received":0,"#,
            r#""drops":{{{drops}}}}}}}],"virtual_servers":[],"sync_groups":[],"scripts":[],"global":{{"drops":{{{drops}}}}}}}"#,
            "\n"
        ),
        drops = drops
    );
    assert_eq!(render(&JSON, &router, &extra), expected);
    // The drop keys are the documented ones, in counter order.
    assert!(drops.starts_with(r#""ttl":0,"version":0,"type":0,"unknown_vrid":0,"length":0"#));
    assert!(drops.ends_with(
        r#""family":0,"destination":0,"malformed":0,"ah_icv":0,"ah_spi":0,"ah_replay":0"#
    ));
}

/// VI_1 becomes master at 4.609375 s; the odd-named instance has no address
/// on its interface and stays FAULT; a few packets are dropped.
fn scenario() -> (Router, StatusExtra) {
    let mut odd = InstanceConfig::new(ODD, "eth1", 52);
    odd.priority = 90;
    odd.track_scripts = vec![TrackedScript {
        name: "chk_x".into(),
        weight: Some(5),
        reverse: None,
    }];
    let mut router = Router::new(RouterConfig {
        instances: vec![vi1(), odd],
        scripts: vec![ScriptConfig::new("chk_x")],
        sync_groups: vec![SyncGroupConfig {
            name: "G\"1".into(),
            members: vec![ODD.into()],
            ..Default::default()
        }],
        processes: vec![],
    });
    let t = Instant::from_secs(1);
    router.handle_address(t, "eth0", Family::V4, Some(v4(192, 168, 67, 100)));
    router.handle_start(t);
    router.handle_timeout(Instant::from_micros(4_609_375));
    let meta = |ttl| RxMeta {
        interface: "eth0",
        src: v4(192, 168, 67, 2),
        dst: v4(224, 0, 0, 18),
        ttl: Some(ttl),
    };
    let advert = Repr {
        version: Version::V2,
        vrid: 51,
        priority: 50,
        adver_int_cs: 100,
        auth: Auth::None,
        addresses: vec![v4(192, 168, 67, 150)],
    };
    let t = Instant::from_secs(5);
    router.handle_advert(t, &meta(64), &advert);
    router.handle_advert(t, &meta(64), &advert);
    router.handle_packet(t, &meta(255), &[0x21, 51]);
    router.handle_packet(t, &meta(255), &[0x21, 99]);
    while router.poll_action().is_some() {}
    let mut extra = extra_for(
        vec![
            vi1_extra(),
            InstanceExtra {
                interface: "eth1".into(),
                vrid: 52,
                vips: Vec::new(),
            },
        ],
        Instant::from_millis(17_500),
    );
    extra.scripts = vec!["chk_x".into()];
    extra.sync_groups = vec!["G\"1".into()];
    (router, extra)
}

#[test]
fn json_reports_the_scenario() {
    let (router, extra) = scenario();
    let text = render(&JSON, &router, &extra);
    let doc = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        doc.keys(),
        [
            "pid",
            "uptime_s",
            "config",
            "instances",
            "virtual_servers",
            "sync_groups",
            "scripts",
            "global"
        ]
    );
    let insts = doc.get("instances").unwrap().items();
    assert_eq!(insts.len(), 2);
    let vi = &insts[0];
    assert_eq!(vi.at(&["state"]).str(), "MASTER");
    assert_eq!(vi.at(&["master"]).str(), "192.168.67.100");
    assert_eq!(vi.at(&["base_priority"]).num(), 100.0);
    assert_eq!(vi.at(&["effective_priority"]).num(), 100.0);
    assert_eq!(vi.at(&["vips_installed"]), &Value::Bool(true));
    // 17.5 s - 4.609375 s, truncated to milliseconds.
    assert_eq!(
        vi.at(&["last_transition_s_ago"]),
        &Value::Number("12.890".into())
    );
    assert_eq!(vi.at(&["counters", "became_master"]).num(), 1.0);
    assert!(vi.at(&["counters", "adverts_sent"]).num() >= 1.0);
    assert_eq!(vi.at(&["counters", "drops", "ttl"]).num(), 2.0);
    assert_eq!(vi.at(&["counters", "drops", "length"]).num(), 1.0);
    assert_eq!(vi.at(&["counters", "drops", "checksum"]).num(), 0.0);
    let drop_keys = vi.at(&["counters", "drops"]).keys();
    assert_eq!(drop_keys.len(), DropReason::ALL.len());

    let odd = &insts[1];
    assert_eq!(odd.at(&["name"]).str(), ODD, "escaping must round-trip");
    assert_eq!(odd.at(&["state"]).str(), "FAULT");
    assert_eq!(odd.at(&["master"]), &Value::Null);
    assert_eq!(odd.at(&["vips"]).items(), &[] as &[Value]);
    assert_eq!(
        doc.get("sync_groups").unwrap().items()[0]
            .at(&["name"])
            .str(),
        "G\"1"
    );
    assert_eq!(
        doc.get("sync_groups").unwrap().items()[0]
            .at(&["state"])
            .str(),
        "FAULT"
    );
    assert_eq!(
        doc.get("scripts").unwrap().items()[0].at(&["status"]).str(),
        "UNKNOWN"
    );
    assert_eq!(doc.at(&["global", "drops", "length"]).num(), 1.0);
    // Every counter equals the router's own.
    let id = router.instance_id("VI_1").unwrap();
    let c = router.instance(id).unwrap().counters;
    assert_eq!(
        vi.at(&["counters", "adverts_sent"]).num(),
        c.adverts_sent as f64
    );
    for r in DropReason::ALL {
        let key = vigil::control::render::drop_key(r);
        assert_eq!(
            vi.at(&["counters", "drops", key]).num(),
            c.dropped(r) as f64
        );
    }
}

#[test]
fn json_escapes_odd_names_without_raw_control_characters() {
    let (router, extra) = scenario();
    let text = render(&JSON, &router, &extra);
    // One line: nothing in a name can break it.
    assert_eq!(text.matches('\n').count(), 1);
    assert!(text.ends_with('\n'));
    assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'));
    assert!(text.contains(r#""name":"we\"ird\\na\tme\n\u0001é\u2028""#));
}

#[test]
fn text_has_one_block_per_instance() {
    let (router, extra) = scenario();
    let text = render(&TEXT, &router, &extra);
    eprintln!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "vigil pid 4242, up 1h 02m 03s, config /etc/keepalived/keepalived.conf"
    );
    assert_eq!(text.matches("VRRP instance ").count(), 2);
    for want in [
        "VRRP instance VI_1",
        "  state             MASTER for 12.890 s",
        "  interface         eth0, vrid 51",
        "  priority          100 (base 100)",
        "  master            192.168.67.100",
        "  advert interval   1000 ms",
        "  virtual IPs       192.168.67.150/24 (installed)",
        "  mastership        became 1, released 0",
        "  drops             ttl 2, length 1 (3 total)",
        "  state             FAULT for 16.500 s",
        "  virtual IPs       none (not installed)",
        "  chk_x             UNKNOWN",
        "Unmatched packets dropped: length 1 (1 total)",
    ] {
        assert!(lines.contains(&want), "missing {want:?} in\n{text}");
    }
    // The odd name cannot start a line of its own or carry raw controls.
    assert!(text.contains("VRRP instance we\"ird\\na\\tme\\n\\u{1}é\\u{2028}\n"));
    assert!(!text.bytes().any(|b| b < 0x20 && b != b'\n'));
}

fn lvs_views() -> Vec<vigil::control::VsView> {
    use vigil::control::{RsView, VsView};
    vec![VsView {
        name: "[192.168.67.150]:tcp:80".into(),
        scheduler: "rr".into(),
        quorum_up: true,
        suspended: false,
        sorry_active: false,
        real_servers: vec![
            RsView {
                name: "[192.168.67.10]:80".into(),
                up: false,
                weight: 1,
                installed: None,
                last: Some((Instant::from_secs(8), "failed: connection refused".into())),
                changed: Some(Instant::from_secs(8)),
                reason: Some("failed: connection refused".into()),
            },
            RsView {
                name: "[192.168.67.20]:80".into(),
                up: true,
                weight: 2,
                installed: Some(2),
                last: Some((Instant::from_secs(9), "ok".into())),
                changed: None,
                reason: None,
            },
        ],
    }]
}

#[test]
fn virtual_servers_in_both_views() {
    let router = Router::new(RouterConfig::default());
    let mut extra = extra_for(vec![], Instant::from_secs(10));
    extra.lvs = lvs_views();
    let text = render(&TEXT, &router, &extra);
    println!("{text}");
    assert!(text.contains("\nVirtual server [192.168.67.150]:tcp:80 rr, quorum up\n"));
    assert!(text.contains(
        "  [192.168.67.10]:80      DOWN  weight 1    not in table, changed 2.0 s ago, \
         down: failed: connection refused, last check failed: connection refused 2.0 s ago\n"
    ));
    assert!(text.contains(
        "  [192.168.67.20]:80      UP    weight 2    in table (weight 2), last check ok 1.0 s ago\n"
    ));
    let doc = parse(&render(&JSON, &router, &extra)).unwrap();
    let vs = &doc.get("virtual_servers").unwrap().items()[0];
    let rs = vs.get("real_servers").unwrap().items();
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[0].get("state"), Some(&Value::Str("DOWN".into())));
    assert_eq!(rs[0].get("installed_weight"), Some(&Value::Null));
    assert_eq!(
        rs[0].get("down_reason"),
        Some(&Value::Str("failed: connection refused".into()))
    );
    assert_eq!(
        rs[1].get("installed_weight"),
        Some(&Value::Number("2".into()))
    );
}
