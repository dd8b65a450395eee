//! Trackers from config text: vrrp_track_process, track_file (weight,
//! init_file), track_process / track_file in instances and sync groups,
//! sync-group track_interface / track_script; accept / no_accept; vrrp_strict.

mod common;

use common::{errors, ok, parse_with, render};
use std::time::Duration;
use vigil_config::Severity;
use vigil_model::{Auth, InitialState, ParamMatch};

const TRACKERS: &str = r#"
track_file flag {
    file /run/flag
    weight -5 reverse
    init_file 3 overwrite
}
vrrp_track_process web {
    process nginx -g "daemon off;"
    param_match partial
    weight -30
    quorum 2
    quorum_max 4
    delay 0.5
    fork_delay 2
}
vrrp_track_process nosshd {
    process sshd
    quorum_max 0
}
vrrp_script chk {
    script "/bin/true"
    weight 7
}
vrrp_sync_group G {
    group {
        VI_1
    }
    track_interface {
        eth9 weight -10
    }
    track_script {
        chk
    }
    track_file {
        flag weight 2
    }
    track_process {
        web
        nosshd weight 0 reverse
    }
    sync_group_tracking_weight
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1/24
    }
    track_file {
        flag
    }
    track_process {
        web weight 12 reverse
        missing
    }
    no_accept
}
"#;

#[test]
fn trackers_are_read_with_keepalived_defaults() {
    let c = ok(TRACKERS);
    let f = &c.track_files[0];
    assert_eq!((f.weight, f.reverse), (-5, true));
    let init = f.init_file.unwrap();
    assert_eq!((init.value, init.overwrite), (3, true));
    let p = &c.track_processes[0];
    assert_eq!(p.process, "nginx");
    assert_eq!(p.params, vec!["-g".to_string(), "daemon off;".to_string()]);
    assert_eq!(p.param_match, ParamMatch::Partial);
    assert!(p.full_command);
    assert_eq!((p.weight, p.quorum, p.quorum_max), (-30, 2, 4));
    assert_eq!(p.terminate_delay, Duration::from_millis(500));
    assert_eq!(p.fork_delay, Duration::from_secs(2));
    let q = &c.track_processes[1];
    assert_eq!((q.quorum, q.quorum_max, q.full_command), (0, 0, false));
    assert_eq!(q.param_match, ParamMatch::None);
    let i = &c.instances[0];
    assert_eq!(i.track_files[0].weight, -5, "the file's own weight");
    assert!(i.track_files[0].reverse);
    assert_eq!(i.track_processes.len(), 1, "an unknown process is skipped");
    assert_eq!(
        (i.track_processes[0].weight, i.track_processes[0].reverse),
        (12, true)
    );
    assert!(!i.accept);
    let g = &c.sync_groups[0];
    assert_eq!(g.track_interfaces[0].weight, -10);
    assert_eq!(g.track_scripts[0].weight, 7, "the script's own weight");
    assert_eq!(g.track_files[0].weight, 2);
    assert_eq!(g.track_processes.len(), 2);
    assert!(g.track_processes[1].reverse);
    assert!(g.tracking_weight);
}

#[test]
fn trackers_survive_show() {
    let c = ok(TRACKERS);
    let text = vigil_config::show(&c);
    let again = ok(&text);
    assert_eq!(c, again, "show:\n{text}");
}

#[test]
fn no_tracker_keyword_is_left_unacted() {
    let (_, diags) = parse_with(TRACKERS, &[], false).unwrap();
    let not_acted: Vec<_> = diags
        .iter()
        .filter(|d| d.to_string().contains("not acted on"))
        .collect();
    assert!(not_acted.is_empty(), "{}", render(&diags));
    assert!(render(&diags).contains("track_process missing not found"));
}

#[test]
fn a_process_block_without_process_is_dropped() {
    let (c, d) = parse_with("vrrp_track_process p {\n    weight 2\n}\n", &[], false).unwrap();
    assert!(c.track_processes.is_empty());
    assert!(render(&d).contains(":1:1: warning: vrrp_track_process p without process"));
}

#[test]
fn quorum_above_quorum_max_is_ignored() {
    let c = ok("vrrp_track_process p {\n    process x\n    quorum_max 2\n    quorum 3\n}\n");
    assert_eq!(
        (c.track_processes[0].quorum, c.track_processes[0].quorum_max),
        (1, 2)
    );
}

fn strict(body: &str) -> String {
    let text = format!(
        "global_defs {{\n    vrrp_strict\n}}\nvrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n{body}}}\n"
    );
    match parse_with(&text, &[], false) {
        Ok((_, d)) | Err(d) => render(&d),
    }
}

#[test]
fn vrrp_strict_refusals_have_their_line() {
    let vip = "    virtual_ipaddress {\n        10.0.0.1\n    }\n";
    let out = strict("");
    assert!(
        out.contains(":4:15: error: strict mode: no virtual_ipaddress"),
        "{out}"
    );
    let out = strict(&format!(
        "{vip}    unicast_peer {{\n        10.0.0.2\n    }}\n"
    ));
    assert!(
        out.contains(":11:9: error: strict mode: unicast peers are not supported"),
        "{out}"
    );
    let out = strict(&format!(
        "{vip}    authentication {{\n        auth_type PASS\n        auth_pass x\n    }}\n    preempt_delay 5\n    state MASTER\n    priority 100\n"
    ));
    assert!(
        out.contains("warning: strict mode: authentication is not supported"),
        "{out}"
    );
    assert!(out.contains("warning: strict mode: preempt_delay"), "{out}");
    assert!(
        out.contains("warning: strict mode: state MASTER must match"),
        "{out}"
    );
    assert!(!out.contains("not acted on"), "{out}");
}

#[test]
fn vrrp_strict_forced_settings() {
    let text = "global_defs {\n    vrrp_strict\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    state MASTER\n    priority 100\n    accept\n    preempt_delay 3\n    authentication {\n        auth_type PASS\n        auth_pass x\n    }\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\nvrrp_instance OWN {\n    interface eth0\n    virtual_router_id 52\n    priority 255\n    virtual_ipaddress {\n        10.0.0.2\n    }\n}\n";
    let c = ok(text);
    let i = &c.instances[0];
    assert_eq!(i.state, InitialState::Backup);
    assert!(!i.accept, "v2 accept is reset");
    assert_eq!(i.auth, Auth::None);
    assert!(i.preempt_delay.is_zero());
    assert!(c.instances[1].accept, "the owner accepts");
    // Per instance: strict_mode off under vrrp_strict keeps accept.
    let c = ok(&text.replace("    accept\n", "    accept\n    strict_mode off\n"));
    assert!(c.instances[0].accept);
    // Each reset is a warning (an error under `vigil check --strict`).
    let (_, d) = parse_with(text, &[], false).unwrap();
    let resets = d.iter().filter(|d| d.severity == Severity::Warning).count();
    assert_eq!(resets, 4, "{}", render(&d));
}

#[test]
fn accept_defaults() {
    let base = common::BASE;
    assert!(ok(base).instances[0].accept);
    let e = errors(
        "vrrp_track_process p {\n    process x\n}\nvrrp_track_process p {\n    process y\n}\n",
    );
    assert!(
        render(&e).contains(":4:20: error: duplicate vrrp_track_process name (p)"),
        "{}",
        render(&e)
    );
}
