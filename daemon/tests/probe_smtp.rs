//! SMTP_CHECK against SMTP servers written for the test, inside a
//! namespace: one answering 220/250/221, one refusing with 554, one silent,
//! and a closed port; results and timings.

mod os_util;
mod probe_util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use probe_util::{ip, lab, probe_in, row, within, SERVER, SLACK};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

#[derive(Clone, Copy)]
enum Behaviour {
    /// 220 greeting, 250 to HELO, 221 to QUIT.
    Good,
    /// 554 greeting.
    Reject,
    /// 220, then 501 to HELO.
    BadHelo,
    /// Accepts and never writes.
    Silent,
}

/// Serves SMTP on SERVER:`port`; the lines received come out of the
/// receiver.
fn serve(ns: &os_util::Netns, port: u16, b: Behaviour) -> mpsc::Receiver<String> {
    let l = ns.run(move || TcpListener::bind((SERVER, port)).unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(c.try_clone().unwrap());
                let mut line = String::new();
                let mut next = |r: &mut BufReader<_>| {
                    line.clear();
                    let _ = r.read_line(&mut line);
                    let _ = tx.send(line.clone());
                };
                match b {
                    Behaviour::Silent => std::thread::sleep(Duration::from_secs(5)),
                    Behaviour::Reject => {
                        let _ = c.write_all(b"554 no service\r\n");
                    }
                    Behaviour::BadHelo => {
                        let _ = c.write_all(b"220 test ESMTP\r\n");
                        next(&mut r);
                        let _ = c.write_all(b"501 bad\r\n");
                    }
                    Behaviour::Good => {
                        let _ = c.write_all(b"220 test ESMTP\r\n");
                        next(&mut r);
                        let _ = c.write_all(b"250 test\r\n");
                        next(&mut r);
                        let _ = c.write_all(b"221 bye\r\n");
                    }
                }
            });
        }
    });
    rx
}

fn smtp(port: u16, timeout_ms: u64) -> ProbeKind {
    ProbeKind::Smtp {
        connect_ip: ip(SERVER),
        port,
        bindto: None,
        bind_port: None,
        timeout: Duration::from_millis(timeout_ms),
        helo_name: "probe.vigil.test".into(),
    }
}

#[test]
fn greeting_220_and_helo_250_pass_and_the_client_says_helo_then_quit() {
    let ns = or_skip!(lab());
    let lines = serve(&ns, 2525, Behaviour::Good);
    let (r, took) = probe_in(&ns, smtp(2525, 1000));
    row("SMTP 220/250", &r, took);
    assert_eq!(r, ProbeResult::Ok);
    assert!(took < SLACK, "{took:?}");
    let got: Vec<String> = (0..2)
        .map(|_| lines.recv_timeout(Duration::from_secs(1)).unwrap())
        .collect();
    assert_eq!(got, ["HELO probe.vigil.test\r\n", "QUIT\r\n"]);
}

#[test]
fn a_554_greeting_fails() {
    let ns = or_skip!(lab());
    let _l = serve(&ns, 2525, Behaviour::Reject);
    let (r, took) = probe_in(&ns, smtp(2525, 1000));
    row("SMTP 554 greeting", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::SmtpGreeting(554)));
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn a_refused_helo_fails() {
    let ns = or_skip!(lab());
    let _l = serve(&ns, 2525, Behaviour::BadHelo);
    let (r, took) = probe_in(&ns, smtp(2525, 1000));
    row("SMTP 501 to HELO", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::SmtpHelo(501)));
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn a_silent_server_fails_at_connect_timeout() {
    let ns = or_skip!(lab());
    let _l = serve(&ns, 2525, Behaviour::Silent);
    let (r, took) = probe_in(&ns, smtp(2525, 1000));
    row("SMTP silent (C=1s)", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::ResponseTimeout));
    assert!(within(took, Duration::from_secs(1), SLACK), "{took:?}");
}

#[test]
fn a_closed_port_is_refused() {
    let ns = or_skip!(lab());
    let (r, took) = probe_in(&ns, smtp(2526, 1000));
    row("SMTP closed port", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::Refused));
    assert!(took < SLACK, "{took:?}");
}
