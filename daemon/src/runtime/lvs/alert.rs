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
        Alert::RealServer { vs, rs, up } => {
            let Some(v) = config.virtual_servers.get(vs) else {
                return;
            };
            let Some(r) = v.real_servers.get(rs) else {
                return;
            };
            let (vn, rn) = (names::vs(v), names::rs(v, r));
            lvs_targets().write(&rs_line(&rn, &vn, up));
            if mailer.enabled() && g.checker_alert(r.smtp_alert, true) {
                let kind = r.checkers.first().map_or("", |c| c.kind.keyword());
                let body = checker_body(kind, up);
                mailer.send(Mail::real_server(mailer.router_id(), &rn, &vn, up, body));
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
    }
}
