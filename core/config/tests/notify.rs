//! Mail and FIFO keywords: read without "not acted on", resolved as
//! keepalived 2.2.7 resolves them, and written back by `show`.

mod common;

use common::parse_with;
use vigil_model::{Command, Config, NotifyFifo, RunAs};

fn read(text: &str) -> (Config, Vec<String>) {
    match parse_with(text, &[], false) {
        Ok((c, w)) => (c, w.iter().map(|d| d.problem.to_string()).collect()),
        Err(d) => panic!("refused:\n{}", common::render(&d)),
    }
}

const FULL: &str = r#"
global_defs {
    router_id r1
    notification_email {
        a@example.org
        b@example.org
    }
    notification_email_from vigil@example.org
    smtp_server 192.0.2.25 2525
    smtp_helo_name mx-client.example.org
    smtp_connect_timeout 7
    smtp_alert_vrrp off
    smtp_alert_checker
    notify_fifo_script "/usr/bin/reader -x" nobody
    notify_fifo /run/k.fifo nobody nogroup
    vrrp_notify_fifo /run/v.fifo
    lvs_notify_fifo /run/l.fifo
    lvs_notify_fifo_script /usr/bin/lvsreader
    vrrp_notify_priority_changes
    no_email_faults
}
vrrp_sync_group G {
    group {
        VI_1
    }
    smtp_alert
    notify_priority_changes off
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1/24
    }
    notify_deleted "/bin/deleted.sh arg"
    notify_master_rx_lower_pri /bin/lower.sh
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        10.0.0.2/24
    }
    smtp_alert
    notify_deleted
}
virtual_server 10.0.0.1 80 {
    smtp_alert off
    real_server 10.0.1.1 80 {
    }
    real_server 10.0.1.2 80 {
        smtp_alert no
    }
}
"#;

#[test]
fn every_keyword_read_and_resolved() {
    let (c, w) = read(FULL);
    assert!(w.is_empty(), "{w:?}");
    let g = &c.global;
    assert_eq!(g.notification_email, ["a@example.org", "b@example.org"]);
    assert_eq!(g.smtp_helo_name.as_deref(), Some("mx-client.example.org"));
    assert_eq!(g.smtp_connect_timeout.as_secs(), 7);
    assert!(g.mail_configured());
    assert_eq!(
        g.notify_fifo,
        Some(NotifyFifo {
            path: "/run/k.fifo".into(),
            owner: Some(RunAs {
                user: "nobody".into(),
                group: Some("nogroup".into())
            }),
            script: Some(Command::new(
                "/usr/bin/reader -x",
                Some(RunAs {
                    user: "nobody".into(),
                    group: None
                })
            )),
        })
    );
    assert_eq!(
        g.vrrp_notify_fifo.as_ref().map(|f| f.script.is_none()),
        Some(true)
    );
    assert!(g
        .lvs_notify_fifo
        .as_ref()
        .is_some_and(|f| f.script.is_some()));
    assert!(g.vrrp_notify_priority_changes && g.no_email_faults);
    // smtp_alert_vrrp off beats an unset instance; an instance's own wins.
    let (i1, i2) = (&c.instances[0], &c.instances[1]);
    assert!(!g.vrrp_alert(i1.smtp_alert));
    assert!(g.vrrp_alert(i2.smtp_alert));
    assert!(g.vrrp_alert(c.sync_groups[0].smtp_alert));
    assert_eq!(c.sync_groups[0].notify_priority_changes, Some(false));
    assert!(i1.notify_deleted && i2.notify_deleted);
    assert_eq!(
        i1.notify_deleted_script.as_ref().map(|c| c.argv.clone()),
        Some(vec!["/bin/deleted.sh".to_string(), "arg".to_string()])
    );
    assert!(i2.notify_deleted_script.is_none());
    assert!(i1.notify_master_rx_lower_pri.is_some());
    // Checkers: the virtual server's off; smtp_alert_checker for the first
    // real server; the second's own "no".
    let vs = &c.virtual_servers[0];
    assert!(!g.checker_alert(vs.smtp_alert, false));
    assert!(g.checker_alert(vs.real_servers[0].smtp_alert, true));
    assert!(!g.checker_alert(vs.real_servers[1].smtp_alert, true));
}

#[test]
fn defaults_as_keepalived() {
    let (c, _) = read(common::BASE);
    let g = &c.global;
    assert!(!g.mail_configured());
    assert!(!g.vrrp_alert(c.instances[0].smtp_alert));
    // A real server mails by default (keepalived 2.2.7), a virtual server not.
    assert!(g.checker_alert(None, true));
    assert!(!g.checker_alert(None, false));
    assert_eq!(g.smtp_connect_timeout.as_secs(), 30);
    let mut g2 = g.clone();
    g2.smtp_alert = Some(true);
    assert!(g2.vrrp_alert(None));
    g2.smtp_alert_vrrp = Some(false);
    assert!(!g2.vrrp_alert(None));
}

#[test]
fn a_second_fifo_is_ignored_with_a_warning() {
    let text = format!(
        "global_defs {{\n notify_fifo /a\n notify_fifo /b\n}}\n{}",
        common::BASE
    );
    let (c, w) = read(&text);
    assert_eq!(c.global.notify_fifo.map(|f| f.path), Some("/a".into()));
    assert_eq!(w.len(), 1, "{w:?}");
}

#[test]
fn show_round_trip() {
    let (c, _) = read(FULL);
    let text = vigil_config::show(&c);
    for kw in [
        "smtp_helo_name mx-client.example.org",
        "smtp_alert_vrrp off",
        "notify_fifo /run/k.fifo nobody nogroup",
        "notify_fifo_script \"/usr/bin/reader -x\" nobody",
        "notify_deleted \"/bin/deleted.sh arg\"",
        "notify_priority_changes off",
    ] {
        assert!(text.contains(kw), "{kw} missing in:\n{text}");
    }
    let (back, w) = read(&text);
    // `show` writes `accept` out, which is not acted on yet (not ours).
    assert!(w.iter().all(|x| x.ends_with("(accept)")), "{w:?}");
    assert_eq!(back, c);
}
