//! Every seed configuration is accepted and survives
//! text -> model -> binary -> model -> show -> text -> model unchanged.

mod common;

use vigil_config::{from_binary, parse_file, parse_text, show, to_binary, Options};
use vigil_model::{Auth, CheckKind, InitialState, LbKind, Scheduler, VrrpVersion};

fn seed_files() -> Vec<String> {
    let dir = common::seed_dir().canonicalize().unwrap();
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    v.sort();
    assert!(v.len() >= 11, "seed configs missing: {v:?}");
    v
}

#[test]
fn every_seed_config_is_accepted_and_round_trips() {
    let dir = common::seed_dir().canonicalize().unwrap();
    let loader = common::load_tree(&dir);
    for path in seed_files() {
        let (config, warnings) = match parse_file(
            &loader,
            &path,
            Options {
                strict: true,
                ..Options::default()
            },
        ) {
            Ok(x) => x,
            Err(d) => panic!("{path}:\n{}", common::render(&d)),
        };
        // The only warnings: what vigil reads but does not act on yet (mail).
        let only_not_acted_on = |w: &[vigil_config::Diagnostic]| {
            w.iter()
                .all(|d| matches!(d.problem, vigil_config::Problem::NotActedOn(_)))
        };
        assert!(
            only_not_acted_on(&warnings),
            "{path}: {}",
            common::render(&warnings)
        );
        let bin = to_binary(&config).unwrap();
        let back = from_binary(&bin).unwrap();
        assert_eq!(back, config, "{path}: binary round trip");
        let text = show(&back);
        let (again, w) = parse_text(
            "shown.conf",
            &text,
            &loader,
            Options {
                strict: true,
                ..Options::default()
            },
        )
        .unwrap_or_else(|d| {
            panic!(
                "{path}: shown text refused:\n{}\n{text}",
                common::render(&d)
            )
        });
        assert!(only_not_acted_on(&w), "{path}: {}", common::render(&w));
        assert_eq!(again, config, "{path}: show round trip\n{text}");
        // Showing is a fixed point.
        assert_eq!(show(&again), text);
    }
}

#[test]
fn seed_values_are_resolved_as_keepalived_does() {
    let dir = common::seed_dir().canonicalize().unwrap();
    let loader = common::load_tree(&dir);
    let load = |name: &str| {
        parse_file(
            &loader,
            dir.join(name).to_str().unwrap(),
            Options::default(),
        )
        .unwrap()
        .0
    };

    let c = load("01-single-master.master.conf");
    assert_eq!(c.global.router_id.as_deref(), Some("ka-master"));
    assert_eq!(c.global.notification_email, ["haha@haha.org"]);
    assert_eq!(
        c.global
            .smtp_server
            .as_ref()
            .map(|s| (s.host.as_str(), s.port)),
        Some(("127.0.0.0", 25))
    );
    assert_eq!(c.global.vrrp_mcast_group4.to_string(), "224.0.0.44");
    assert!(c.global.vrrp_skip_check_adv_addr);
    assert!(!c.global.vrrp_strict);
    let i = &c.instances[0];
    assert_eq!(i.state, InitialState::Master);
    assert_eq!(i.priority, 100);
    assert_eq!(i.virtual_router_id, 51);
    assert_eq!(i.advert_int, std::time::Duration::from_secs(1));
    assert_eq!(i.version, VrrpVersion::V2);
    assert_eq!(i.auth, Auth::Pass(*b"1111\0\0\0\0"));
    let vip = &i.virtual_addresses[0];
    assert_eq!(
        (vip.addr.to_string(), vip.prefix_len),
        ("192.168.67.150".into(), 24)
    );
    assert_eq!(
        (vip.dev.as_deref(), vip.label.as_deref()),
        (Some("eth0"), Some("eth0:0"))
    );
    assert!(i.preempt && i.accept && i.skip_check_adv_addr);
    assert_eq!(i.garp_master_delay, std::time::Duration::from_secs(5));
    assert_eq!(i.garp_master_repeat, 5);

    assert!(!load("02-nopreempt.conf").instances[0].preempt);
    assert_eq!(
        load("03-preempt-delay.conf").instances[0].preempt_delay,
        std::time::Duration::from_secs(10)
    );
    let u = load("04-unicast.conf");
    assert_eq!(u.instances[0].src_ip.unwrap().to_string(), "192.168.67.100");
    assert_eq!(
        u.instances[0].unicast_peers[0].to_string(),
        "192.168.67.200"
    );

    let n = load("05-notify.conf");
    let f = n.instances[0].notify.fault.as_ref().unwrap();
    assert_eq!(f.text, "/etc/keepalived/mail.sh faild");
    assert_eq!(f.argv, ["/etc/keepalived/mail.sh", "faild"]);
    assert!(n.global.enable_script_security);
    assert_eq!(n.global.script_user.as_ref().unwrap().user, "root");

    let lvs = load("07-lvs-dr.conf");
    let vs = &lvs.virtual_servers[0];
    assert_eq!((vs.scheduler, vs.lb_kind), (Scheduler::Rr, LbKind::Dr));
    assert_eq!(vs.delay_loop, std::time::Duration::from_secs(6));
    let http = &vs.real_servers[0].checkers[0];
    assert!(
        matches!(&http.kind, CheckKind::HttpGet(h) if h.urls[0].path == "/" && h.urls[0].status_codes[0].first == 200)
    );
    assert_eq!(http.common.retry, 3);
    assert_eq!(
        http.common.connect_timeout,
        std::time::Duration::from_secs(2)
    );
    assert_eq!(http.common.connect_port, 80);
    assert_eq!(
        http.common.warmup,
        std::time::Duration::from_secs(6),
        "warmup defaults to delay_loop"
    );
    assert_eq!(
        vs.real_servers[1].lb_kind,
        LbKind::Dr,
        "real servers inherit lb_kind"
    );

    let t = load("09-track-script.conf");
    assert_eq!(t.scripts[0].weight, -30);
    assert_eq!((t.scripts[0].fall, t.scripts[0].rise), (2, 2));
    assert_eq!(
        t.instances[0].track_scripts[0].weight, -30,
        "track_script takes the script's weight"
    );

    let inc = load("10-include.conf");
    assert_eq!(inc.instances.len(), 1);
    assert_eq!(inc.instances[0].name, "VI_1");
}
