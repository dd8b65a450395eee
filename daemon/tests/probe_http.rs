//! HTTP_GET against servers written for the test, inside a namespace: the
//! request bytes, statuses, digests, and servers that never answer, close at
//! once, trickle, or are not there; results and timings.

mod os_util;
mod probe_util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use probe_util::{ip, lab, probe_in, row, within, DROPPED, SERVER, SLACK};
use vigil_check::md5::Md5;
use vigil_check::{FailReason, HttpUrl, ProbeKind, ProbeResult};
use vigil_model::{HttpProtocol, StatusRange};

/// What the test server does with each connection.
#[derive(Clone)]
enum Behaviour {
    /// Read the request, answer these bytes, close.
    Answer(Vec<u8>),
    /// Read the request, then hold the connection open and say nothing.
    Silent,
    /// Close without reading.
    CloseAtOnce,
    /// Read the request, then send these bytes one every 300 ms.
    Trickle(Vec<u8>),
}

/// Serves `b` on SERVER:`port` in the namespace; requests come out of the
/// receiver, with the client's port.
fn serve(ns: &os_util::Netns, port: u16, b: Behaviour) -> mpsc::Receiver<(String, u16)> {
    let l = ns.run(move || TcpListener::bind((SERVER, port)).unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(c) = conn else { return };
            let (b, tx) = (b.clone(), tx.clone());
            std::thread::spawn(move || handle(c, b, tx));
        }
    });
    rx
}

fn read_request(c: &mut TcpStream) -> String {
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&req).into_owned()
}

fn handle(mut c: TcpStream, b: Behaviour, tx: mpsc::Sender<(String, u16)>) {
    let peer = c.peer_addr().map(|a| a.port()).unwrap_or(0);
    match b {
        Behaviour::CloseAtOnce => return,
        _ => {
            let req = read_request(&mut c);
            let _ = tx.send((req, peer));
        }
    }
    match b {
        Behaviour::Answer(bytes) => {
            let _ = c.write_all(&bytes);
        }
        Behaviour::Silent => std::thread::sleep(Duration::from_secs(30)),
        Behaviour::Trickle(bytes) => {
            for byte in bytes {
                if c.write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        Behaviour::CloseAtOnce => {}
    }
}

fn url(path: &str, digest: Option<String>) -> HttpUrl {
    HttpUrl {
        path: path.into(),
        virtualhost: None,
        status: vec![StatusRange {
            first: 200,
            last: 299,
        }],
        digest,
    }
}

fn http(addr: &str, port: u16, timeout_ms: u64, urls: Vec<HttpUrl>) -> ProbeKind {
    ProbeKind::Http {
        tls: false,
        connect_ip: ip(addr),
        port,
        bindto: None,
        bind_port: None,
        timeout: Duration::from_millis(timeout_ms),
        protocol: HttpProtocol::V10,
        urls,
    }
}

const BODY: &[u8] = b"<html>vigil health page</html>\n";

fn md5_hex(b: &[u8]) -> String {
    let mut m = Md5::new();
    m.update(b);
    m.finish().to_string()
}

fn ok_response() -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.0 200 OK\r\nServer: t\r\nContent-Length: {}\r\n\r\n",
        BODY.len()
    )
    .into_bytes();
    r.extend_from_slice(BODY);
    r
}

#[test]
fn status_200_with_the_right_digest_passes_and_the_request_is_keepalived_s() {
    let ns = or_skip!(lab());
    let reqs = serve(&ns, 8080, Behaviour::Answer(ok_response()));
    let k = http(
        SERVER,
        8080,
        1000,
        vec![url("/health", Some(md5_hex(BODY)))],
    );
    let (r, took) = probe_in(&ns, k);
    row("HTTP 200 + right digest", &r, took);
    assert_eq!(r, ProbeResult::Ok);
    assert!(took < SLACK, "{took:?}");
    let (req, _) = reqs.recv_timeout(Duration::from_secs(1)).unwrap();
    assert_eq!(
        req,
        "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.77.0.1:8080\r\n\r\n"
    );
}

#[test]
fn a_wrong_digest_fails() {
    let ns = or_skip!(lab());
    let _reqs = serve(&ns, 8080, Behaviour::Answer(ok_response()));
    let k = http(SERVER, 8080, 1000, vec![url("/", Some(md5_hex(b"other")))]);
    let (r, took) = probe_in(&ns, k);
    row("HTTP 200 + wrong digest", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::DigestMismatch));
}

#[test]
fn status_500_fails() {
    let ns = or_skip!(lab());
    let _reqs = serve(
        &ns,
        8080,
        Behaviour::Answer(b"HTTP/1.1 500 Internal Server Error\r\n\r\noops".to_vec()),
    );
    let (r, took) = probe_in(&ns, http(SERVER, 8080, 1000, vec![url("/", None)]));
    row("HTTP 500", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::HttpStatus(500)));
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn every_url_is_checked_in_order_and_one_failure_fails() {
    let ns = or_skip!(lab());
    let reqs = serve(
        &ns,
        8080,
        Behaviour::Answer(b"HTTP/1.0 200 OK\r\n\r\nbody".to_vec()),
    );
    let urls = vec![url("/a", None), url("/b", Some(md5_hex(b"not body")))];
    let (r, took) = probe_in(&ns, http(SERVER, 8080, 1000, urls));
    row("HTTP 2 URLs, second digest wrong", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::DigestMismatch));
    let first = reqs.recv_timeout(Duration::from_secs(1)).unwrap().0;
    let second = reqs.recv_timeout(Duration::from_secs(1)).unwrap().0;
    assert!(first.starts_with("GET /a "), "{first}");
    assert!(second.starts_with("GET /b "), "{second}");
}

#[test]
fn accept_and_never_answer_is_cut_at_the_response_bound() {
    let ns = or_skip!(lab());
    let _reqs = serve(&ns, 8080, Behaviour::Silent);
    let (r, took) = probe_in(&ns, http(SERVER, 8080, 1000, vec![url("/", None)]));
    row("HTTP accepts, never answers (C=1s)", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::ResponseTimeout));
    // Connect is immediate; the response bound is one C.
    assert!(within(took, Duration::from_secs(1), SLACK), "{took:?}");
}

#[test]
fn a_trickling_server_is_cut_at_the_response_bound() {
    let ns = or_skip!(lab());
    let _reqs = serve(&ns, 8080, Behaviour::Trickle(ok_response()));
    let (r, took) = probe_in(&ns, http(SERVER, 8080, 1000, vec![url("/", None)]));
    row("HTTP trickles 1 byte/300 ms (C=1s)", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::ResponseTimeout));
    assert!(within(took, Duration::from_secs(1), SLACK), "{took:?}");
}

#[test]
fn close_at_once_has_no_header_end() {
    let ns = or_skip!(lab());
    let _reqs = serve(&ns, 8080, Behaviour::CloseAtOnce);
    let (r, took) = probe_in(&ns, http(SERVER, 8080, 1000, vec![url("/", None)]));
    row("HTTP closes at once", &r, took);
    // The close races our request: either EOF first (no header) or a reset.
    assert!(
        matches!(
            r,
            ProbeResult::Failed(FailReason::HttpNoHeaderEnd | FailReason::Reset)
        ),
        "{r}"
    );
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn not_listening_is_refused() {
    let ns = or_skip!(lab());
    let (r, took) = probe_in(&ns, http(SERVER, 8089, 1000, vec![url("/", None)]));
    row("HTTP not listening", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::Refused));
    assert!(took < SLACK, "{took:?}");
}

#[test]
fn dead_host_fails_at_the_connect_bound() {
    let ns = or_skip!(lab());
    let (r, took) = probe_in(&ns, http(DROPPED, 80, 1000, vec![url("/", None)]));
    row("HTTP dead host (C=1s)", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::ConnectTimeout));
    assert!(within(took, Duration::from_secs(1), SLACK), "{took:?}");
}

#[test]
fn http_1_1_vhost_and_bind_port() {
    let ns = or_skip!(lab());
    let reqs = serve(
        &ns,
        8080,
        Behaviour::Answer(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_vec()),
    );
    let mut u = url("/v", None);
    u.virtualhost = Some("www.example.com".into());
    let mut k = http(SERVER, 8080, 1000, vec![u]);
    if let ProbeKind::Http {
        protocol,
        bind_port,
        ..
    } = &mut k
    {
        *protocol = HttpProtocol::V11;
        *bind_port = Some(40222);
    }
    for i in 0..2 {
        let (r, took) = probe_in(&ns, k.clone());
        row(
            &format!("HTTP/1.1 vhost bind_port, probe {}", i + 1),
            &r,
            took,
        );
        assert_eq!(r, ProbeResult::Ok);
        let (req, port) = reqs.recv_timeout(Duration::from_secs(1)).unwrap();
        assert_eq!(port, 40222);
        assert_eq!(
            req,
            "GET /v HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.com\r\nConnection: close\r\n\r\n"
        );
    }
}

#[test]
fn ssl_get_is_reported_unsupported() {
    let ns = or_skip!(lab());
    let mut k = http(SERVER, 443, 1000, vec![url("/", None)]);
    if let ProbeKind::Http { tls, .. } = &mut k {
        *tls = true;
    }
    let (r, _) = probe_in(&ns, k);
    assert_eq!(r, ProbeResult::Failed(FailReason::TlsUnsupported));
    assert_eq!(
        r.to_string(),
        "failed: SSL_GET is not supported by this build"
    );
}
