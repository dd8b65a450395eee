//! The alert mails' text as keepalived 2.2.7 writes it (smtp.c,
//! vrrp_notify.c, ipwrapper.c and the checkers): the subject
//! `[ROUTER_ID] VRRP Instance NAME - Entering MASTER state`, a one-line
//! body, and the message's headers.

use alloc::format;
use alloc::string::String;

use crate::VrrpState;

/// keepalived's buffer sizes: a longer subject or body is cut there.
pub const MAX_SUBJECT: usize = 255;
pub const MAX_BODY: usize = 511;
/// keepalived formats the `To:` list and the whole DATA block in buffers of
/// 1024 bytes.
const MAX_TO: usize = 1023;

/// One alert: what it says, not yet to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
    s
}

fn mail(subject: String, body: &str) -> Mail {
    Mail {
        subject: cut(subject, MAX_SUBJECT),
        body: cut(String::from(body), MAX_BODY),
    }
}

/// keepalived's subject tail and body for an instance's state; `None`
/// where it sends nothing.
fn instance_text(state: VrrpState) -> (&'static str, &'static str) {
    match state {
        VrrpState::Master => (
            "Entering MASTER state",
            "=> VRRP Instance is now owning VRRP VIPs <=",
        ),
        VrrpState::Backup => (
            "Entering BACKUP state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        VrrpState::Fault => (
            "Entering FAULT state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        VrrpState::Stop => ("Stopping", "=> VRRP Instance stopping <="),
        VrrpState::Deleted => ("Deleted", "=> VRRP Deleted at reload <="),
    }
}

impl Mail {
    /// `[RID] VRRP Instance NAME - Entering MASTER state`.
    pub fn instance(router_id: &str, name: &str, state: VrrpState) -> Mail {
        let (what, body) = instance_text(state);
        mail(format!("[{router_id}] VRRP Instance {name} - {what}"), body)
    }

    /// `[RID] VRRP Group NAME - Entering MASTER state`; keepalived has no
    /// mail for a deleted group.
    pub fn group(router_id: &str, name: &str, state: VrrpState) -> Option<Mail> {
        let (what, body) = match state {
            VrrpState::Master => (
                "Entering MASTER state",
                "=> All VRRP group instances are now in MASTER state <=",
            ),
            VrrpState::Backup => (
                "Entering BACKUP state",
                "=> All VRRP group instances are now in BACKUP state <=",
            ),
            VrrpState::Fault => (
                "Entering FAULT state",
                "=> All VRRP group instances are now in FAULT state <=",
            ),
            VrrpState::Stop => (
                "Stopping",
                "=> All VRRP group instances are now stopping <=",
            ),
            VrrpState::Deleted => return None,
        };
        Some(mail(
            format!("[{router_id}] VRRP Group {name} - {what}"),
            body,
        ))
    }

    /// `[RID] Realserver RS of virtual server VS - UP|DOWN`, with the
    /// checker's body (see [`checker_body`]).
    pub fn real_server(router_id: &str, rs: &str, vs: &str, up: bool, body: &str) -> Mail {
        let state = if up { "UP" } else { "DOWN" };
        mail(
            format!("[{router_id}] Realserver {rs} of virtual server {vs} - {state}"),
            body,
        )
    }

    /// `[RID] Virtualserver VS - UP|DOWN` with keepalived's quorum body:
    /// `=> Gained quorum 1+0=1 <= 2 <=` (`Lost`, `Starting with quorum
    /// up|down`), or `=> Shutting down <=` at stop.
    pub fn virtual_server(router_id: &str, vs: &str, up: bool, body: &str) -> Mail {
        let state = if up { "UP" } else { "DOWN" };
        mail(format!("[{router_id}] Virtualserver {vs} - {state}"), body)
    }
}

/// The body of a virtual server's quorum mail.
pub fn quorum_body(up: bool, initial: bool, quorum: u32, hysteresis: u32, weight: u64) -> String {
    let what = match (up, initial) {
        (true, true) => "Starting with quorum up",
        (true, false) => "Gained quorum",
        (false, true) => "Starting with quorum down",
        (false, false) => "Lost quorum",
    };
    let threshold = i64::from(quorum) - i64::from(hysteresis);
    format!("=> {what} {quorum}+{hysteresis}={threshold} <= {weight} <=")
}

/// A real server's body, as each keepalived checker words it; `kind` is
/// the checker keyword (`TCP_CHECK`, `HTTP_GET`, ...).
pub fn checker_body(kind: &str, up: bool) -> &'static str {
    match (kind, up) {
        ("TCP_CHECK", true) => "=> TCP CHECK succeed on service <=",
        ("TCP_CHECK", false) => "=> TCP CHECK failed on service <=",
        ("UDP_CHECK", true) => "=> UDP CHECK succeed on service <=",
        ("UDP_CHECK", false) => "=> UDP CHECK failed on service <=",
        ("PING_CHECK", true) => "=> ICMP CHECK succeed on service <=",
        ("PING_CHECK", false) => "=> ICMP CHECK failed on service <=",
        ("DNS_CHECK", true) => "=> DNS_CHECK: succeed on service <=",
        ("DNS_CHECK", false) => "=> DNS_CHECK: failed on service <=",
        ("HTTP_GET" | "SSL_GET", false) => "=> CHECK failed on service : HTTP request failed <=",
        ("MISC_CHECK", true) => "=> MISC CHECK succeeded on service <=",
        ("MISC_CHECK", false) => "=> MISC CHECK failed on service <=",
        ("SMTP_CHECK", false) => "=> CHECK failed on service <=",
        (_, true) => "=> CHECK succeed on service <=",
        (_, false) => "=> CHECK failed on service <=",
    }
}

/// Who sends and receives, and the client's name in `HELO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub helo: String,
    pub from: String,
    /// One `RCPT TO` each, in order; never empty when mail is sent.
    pub to: alloc::vec::Vec<String>,
}

impl Envelope {
    /// The `To:` header: the recipients joined by `, `, cut at keepalived's
    /// 1023 bytes (whole addresses only).
    pub fn to_header(&self) -> String {
        let mut out = String::new();
        for (i, a) in self.to.iter().enumerate() {
            let sep = if i == 0 { 0 } else { 2 };
            if out.len() + sep + a.len() > MAX_TO {
                break;
            }
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(a);
        }
        out
    }

    /// The DATA block after the `354`: headers, a blank line, the body,
    /// and the terminating `.` line, as keepalived sends it
    /// (`X-Mailer: Keepalived` kept for filters that match on it).
    pub fn data(&self, date: &str, mail: &Mail) -> String {
        format!(
            "Date: {date}\r\nFrom: {}\r\nSubject: {}\r\nX-Mailer: Keepalived\r\nTo: {}\r\n\r\n{}\r\n\r\n.\r\n",
            self.from,
            mail.subject,
            self.to_header(),
            mail.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn subjects() {
        assert_eq!(
            Mail::instance("r1", "VI_1", VrrpState::Master).subject,
            "[r1] VRRP Instance VI_1 - Entering MASTER state"
        );
        assert_eq!(
            Mail::instance("r1", "VI_1", VrrpState::Stop).body,
            "=> VRRP Instance stopping <="
        );
        assert_eq!(
            Mail::group("r1", "G", VrrpState::Backup).map(|m| m.subject),
            Some("[r1] VRRP Group G - Entering BACKUP state".into())
        );
        assert!(Mail::group("r1", "G", VrrpState::Deleted).is_none());
        assert_eq!(
            Mail::real_server("r", "[10.0.0.2]:tcp:80", "[1.1.1.1]:tcp:80", false, "b").subject,
            "[r] Realserver [10.0.0.2]:tcp:80 of virtual server [1.1.1.1]:tcp:80 - DOWN"
        );
        assert_eq!(
            quorum_body(false, false, 3, 1, 1),
            "=> Lost quorum 3+1=2 <= 1 <="
        );
        let long = "x".repeat(400);
        assert_eq!(
            Mail::instance("r", &long, VrrpState::Master).subject.len(),
            255
        );
    }

    #[test]
    fn data_block() {
        let e = Envelope {
            helo: "h".into(),
            from: "root@r1".into(),
            to: vec!["a@x".into(), "b@y".into()],
        };
        let m = Mail::instance("r1", "VI_1", VrrpState::Backup);
        assert_eq!(
            e.data("Mon, 01 Mar 2021 09:44:08 +0000", &m),
            "Date: Mon, 01 Mar 2021 09:44:08 +0000\r\nFrom: root@r1\r\n\
             Subject: [r1] VRRP Instance VI_1 - Entering BACKUP state\r\n\
             X-Mailer: Keepalived\r\nTo: a@x, b@y\r\n\r\n\
             => VRRP Instance is no longer owning VRRP VIPs <=\r\n\r\n.\r\n"
        );
        let many = Envelope {
            to: (0..200)
                .map(|i| alloc::format!("user{i}@example.org"))
                .collect(),
            ..e
        };
        let h = many.to_header();
        assert!(h.len() <= 1023 && h.ends_with(".org"));
    }
}
