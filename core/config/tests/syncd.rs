//! `lvs_sync_daemon`, `lvs_sync_daemon_interface` and `lvs_timeouts`.

mod common;

use common::{parse_with, BASE};
use vigil_model::{LvsTimeouts, SyncDaemon};

fn read(global: &str, rest: &str) -> (vigil_model::Config, Vec<String>) {
    let text = format!("global_defs {{\n{global}\n}}\n{rest}");
    match parse_with(&text, &[], false) {
        Ok((c, w)) => (c, w.iter().map(|d| d.problem.to_string()).collect()),
        Err(d) => panic!("refused:\n{}", common::render(&d)),
    }
}

#[test]
fn full_form_with_every_option() {
    let (c, w) = read(
        "lvs_sync_daemon eth1 VI_1 id 7 maxlen 1400 port 8850 ttl 3 group 239.1.2.3",
        BASE,
    );
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        c.global.lvs_sync_daemon,
        Some(SyncDaemon {
            interface: "eth1".into(),
            instance: "VI_1".into(),
            sync_id: 7,
            maxlen: Some(1400),
            port: Some(8850),
            ttl: Some(3),
            group: Some("239.1.2.3".parse().unwrap()),
        })
    );
}

#[test]
fn sync_id_defaults_to_the_vrid() {
    let (c, w) = read("lvs_sync_daemon eth1 inst VI_1", BASE);
    assert!(w.is_empty(), "{w:?}");
    let d = c.global.lvs_sync_daemon.unwrap();
    assert_eq!((d.instance.as_str(), d.sync_id), ("VI_1", 51));
    assert_eq!((d.maxlen, d.port, d.ttl, d.group), (None, None, None, None));
}

#[test]
fn old_positional_sync_id_is_taken_with_a_warning() {
    let (c, w) = read("lvs_sync_daemon eth1 VI_1 9", BASE);
    assert_eq!(c.global.lvs_sync_daemon.unwrap().sync_id, 9);
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn bad_options_are_ignored_like_keepalived() {
    let (c, w) = read(
        "lvs_sync_daemon eth1 VI_1 group 10.0.0.1 ttl 0 port 70000 bogus",
        BASE,
    );
    assert_eq!(w.len(), 4, "{w:?}");
    let d = c.global.lvs_sync_daemon.unwrap();
    assert_eq!((d.group, d.ttl, d.port), (None, None, None));
}

#[test]
fn unknown_or_missing_instance_runs_no_daemon() {
    let (c, w) = read("lvs_sync_daemon eth1 VI_9", BASE);
    assert_eq!(c.global.lvs_sync_daemon, None);
    assert!(w[0].contains("VI_9"), "{w:?}");
    let (c, w) = read("lvs_sync_daemon eth1", BASE);
    assert_eq!(c.global.lvs_sync_daemon, None);
    assert_eq!(w.len(), 1);
}

#[test]
fn first_daemon_wins() {
    let (c, w) = read("lvs_sync_daemon eth1 VI_1\nlvs_sync_daemon eth2 VI_1", BASE);
    assert_eq!(c.global.lvs_sync_daemon.unwrap().interface, "eth1");
    assert_eq!(w.len(), 1);
}

#[test]
fn per_instance_interface_drives_the_daemon() {
    let inst = BASE.replace(
        "    interface eth0\n",
        "    interface eth0\n    lvs_sync_daemon_interface eth3\n",
    );
    let (c, w) = read("", &inst);
    let d = c.global.lvs_sync_daemon.unwrap();
    assert_eq!(
        (d.interface.as_str(), d.instance.as_str(), d.sync_id),
        ("eth3", "VI_1", 51)
    );
    // keepalived says it is deprecated; nothing else.
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn timeouts() {
    let (c, w) = read("lvs_timeouts tcp 900 udp 30", BASE);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        c.global.lvs_timeouts,
        LvsTimeouts {
            tcp: 900,
            tcp_fin: 0,
            udp: 30
        }
    );
    let (c, w) = read("lvs_timeouts tcpfin 5 tcp x sctp 3", BASE);
    assert_eq!(c.global.lvs_timeouts.tcp_fin, 5);
    assert_eq!(c.global.lvs_timeouts.tcp, 0);
    assert_eq!(w.len(), 3, "{w:?}");
}

#[test]
fn show_round_trips() {
    let (c, _) = read(
        "lvs_sync_daemon eth1 VI_1 port 8850 group 239.1.2.3\nlvs_timeouts tcp 900 tcpfin 10",
        BASE,
    );
    let text = vigil_config::show(&c);
    assert!(
        text.contains("lvs_sync_daemon eth1 VI_1 id 51 port 8850 group 239.1.2.3"),
        "{text}"
    );
    assert!(text.contains("lvs_timeouts tcp 900 tcpfin 10"), "{text}");
    let (again, w) = match parse_with(&text, &[], false) {
        Ok((c, w)) => (c, w),
        Err(d) => panic!("{}", common::render(&d)),
    };
    // `show` writes every default, some of them "not acted on".
    assert!(
        !common::render(&w).contains("lvs_"),
        "{}",
        common::render(&w)
    );
    assert_eq!(again.global, c.global);
}
