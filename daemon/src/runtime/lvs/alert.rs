//! The LVS side of notifications, as keepalived's checker process sends
//! them (ipwrapper.c, the checkers): a FIFO line per real server change
//! (`RS [10.0.0.2]:tcp:80 [192.168.1.10]:tcp:80 DOWN`) and per quorum
//! change (`VS [192.168.1.10]:tcp:80 UP`), and the alert mails of servers
//! with `smtp_alert` (a real server's defaults to on once mail is set up,
//! as in 2.2.7). keepalived words a real server's mail after the checker
//! that decided it; vigil judges per real server and uses its first
//! checker's words.

use vigil_model::Config;
use vigil_notify::fifo::{rs_line, vs_line};
use vigil_notify::mail::{checker_body, quorum_body, Mail};
use vigil_notify::names;

use super::engine::Alert;
use crate::runtime::fifo::lvs_targets;
use crate::runtime::mail::Mailer;

/// Writes the FIFO line of `a` and queues its mail.
pub fn send(config: &Config, mailer: &Mailer, a: Alert) {
    let g = &config.global;
    match a {
        Alert::RealServer { vs, rs, up, check } => {
            let Some(v) = config.virtual_servers.get(vs) else {
                return;
            };
            let Some(r) = v.real_servers.get(rs) else {
                return;
            };
            let (vn, rn) = (names::vs(v), names::rs(v, r));
            lvs_targets().write(&rs_line(&rn, &vn, up));
            if mailer.enabled() && g.checker_alert(r.smtp_alert, true) {
                let body = checker_body(check, up);
                mailer.send(Mail::real_server(mailer.router_id(), &rn, &vn, up, body));
            }
        }
        Alert::Checker { vs, rs, up, kind } => {
            if mailer.enabled() {
                if let Some(m) = checker_mail(config, mailer.router_id(), (vs, rs), up, kind) {
                    mailer.send(m);
                }
            }
        }
        Alert::Quorum {
            vs,
            up,
            initial,
            weight,
        } => {
            let Some(v) = config.virtual_servers.get(vs) else {
                return;
            };
            let vn = names::vs(v);
            lvs_targets().write(&vs_line(&vn, up));
            if mailer.enabled() && g.checker_alert(v.smtp_alert, false) {
                let body = quorum_body(up, initial, v.quorum, v.hysteresis, weight);
                mailer.send(Mail::virtual_server(mailer.router_id(), &vn, up, &body));
            }
        }
        Alert::Shutdown { vs, rs } => {
            let Some(v) = config.virtual_servers.get(vs) else {
                return;
            };
            let vn = names::vs(v);
            let body = "=> Shutting down <=";
            let rid = mailer.router_id();
            match rs {
                Some(i) => {
                    let Some(r) = v.real_servers.get(i) else {
                        return;
                    };
                    let rn = names::rs(v, r);
                    lvs_targets().write(&rs_line(&rn, &vn, false));
                    if mailer.enabled() && g.checker_alert(r.smtp_alert, true) {
                        mailer.send(Mail::real_server(rid, &rn, &vn, false, body));
                    }
                }
                None => {
                    lvs_targets().write(&vs_line(&vn, false));
                    if mailer.enabled() && g.checker_alert(v.smtp_alert, false) {
                        mailer.send(Mail::virtual_server(rid, &vn, false, body));
                    }
                }
            }
        }
    }
}

/// The mail of a checker that changed while its real server stayed down,
/// if keepalived sends one: unless `no_checker_emails`, with the real
/// server's `smtp_alert`; the subject says DOWN (the server's state), the
/// body is the checker's.
fn checker_mail(
    config: &Config,
    router_id: &str,
    (vs, rs): (usize, usize),
    up: bool,
    kind: &str,
) -> Option<Mail> {
    let g = &config.global;
    let v = config.virtual_servers.get(vs)?;
    let r = v.real_servers.get(rs)?;
    if g.no_checker_emails || !g.checker_alert(r.smtp_alert, true) {
        return None;
    }
    let (vn, rn) = (names::vs(v), names::rs(v, r));
    Some(Mail::real_server(
        router_id,
        &rn,
        &vn,
        false,
        checker_body(kind, up),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::fifo::{create, Fifo};
    use crate::runtime::fifo::{Targets, LVS_TARGETS};
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::Arc;

    #[test]
    fn checker_mails_unless_no_checker_emails() {
        let conf = |g: &str, rs: &str| {
            let text = format!(
                "global_defs {{\n{g}\n}}\nvirtual_server 10.0.0.1 80 {{\n real_server 10.0.1.1 80 {{\n{rs}\n }}\n}}\n"
            );
            vigil_config::parse_text(
                "k.conf",
                &text,
                &vigil_config::MemoryLoader::new(),
                vigil_config::Options::default(),
            )
            .unwrap()
            .0
        };
        let m = checker_mail(&conf("", ""), "r1", (0, 0), true, "TCP_CHECK").unwrap();
        assert_eq!(
            m.subject,
            "[r1] Realserver [10.0.1.1]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN"
        );
        assert!(
            m.body.contains("=> TCP CHECK succeed on service <="),
            "{}",
            m.body
        );
        let m = checker_mail(&conf("", ""), "r1", (0, 0), false, "UDP_CHECK").unwrap();
        assert!(m.body.contains("=> UDP CHECK failed on service <="));
        let quiet = conf("no_checker_emails", "");
        assert!(checker_mail(&quiet, "r1", (0, 0), true, "TCP_CHECK").is_none());
        let off = conf("", "smtp_alert off");
        assert!(checker_mail(&off, "r1", (0, 0), true, "TCP_CHECK").is_none());
        assert!(checker_mail(&conf("", ""), "r1", (0, 5), true, "TCP_CHECK").is_none());
    }

    #[test]
    fn lvs_lines_as_keepalived_writes_them() {
        let text = "virtual_server 10.0.0.1 80 {\n protocol UDP\n quorum 2\n hysteresis 1\n \
                    real_server 10.0.1.1 80 {\n }\n real_server 10.0.1.2 8080 {\n }\n}\n\
                    virtual_server fwmark 7 {\n real_server 10.0.2.1 0 {\n }\n}\n";
        let (config, _) = vigil_config::parse_text(
            "k.conf",
            text,
            &vigil_config::MemoryLoader::new(),
            vigil_config::Options::default(),
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!("vigil-lvs-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lvs.fifo");
        let created = create(&path, None).unwrap();
        let fifo = Arc::new(Fifo::open(&path, created).unwrap());
        *LVS_TARGETS.lock().unwrap() = Some(Targets::new(vec![fifo]));
        let mailer = Mailer::default();
        send(
            &config,
            &mailer,
            Alert::RealServer {
                vs: 0,
                rs: 1,
                up: false,
                check: "TCP_CHECK",
            },
        );
        send(
            &config,
            &mailer,
            Alert::Quorum {
                vs: 0,
                up: false,
                initial: false,
                weight: 1,
            },
        );
        send(
            &config,
            &mailer,
            Alert::RealServer {
                vs: 1,
                rs: 0,
                up: true,
                check: "TCP_CHECK",
            },
        );
        send(
            &config,
            &mailer,
            Alert::RealServer {
                vs: 9,
                rs: 0,
                up: true,
                check: "TCP_CHECK",
            },
        );
        send(&config, &mailer, Alert::Shutdown { vs: 0, rs: Some(0) });
        send(&config, &mailer, Alert::Shutdown { vs: 1, rs: None });
        let mut r = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let mut buf = [0u8; 512];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&buf[..n]),
            "RS [10.0.1.2]:udp:8080 [10.0.0.1]:udp:80 DOWN\n\
             VS [10.0.0.1]:udp:80 DOWN\n\
             RS [10.0.2.1]:tcp:0 FWM 7 UP\n\
             RS [10.0.1.1]:udp:80 [10.0.0.1]:udp:80 DOWN\n\
             VS FWM 7 DOWN\n"
        );
        *LVS_TARGETS.lock().unwrap() = None;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
