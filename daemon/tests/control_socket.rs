//! The control socket over a real unix socket: round trip, file mode, slow
//! and bad clients, stale and missing sockets, client timeouts.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use smol::future;
use vigil::control::server::MAX_PENDING;
use vigil::control::{
    query, query_with_timeout, render, BindError, InstanceExtra, QueryError, Request, Server,
    StatusExtra,
};
use vigil_vrrp::{InstanceConfig, Router, RouterConfig};

/// A private scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("vigil-ctl-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir(&p).unwrap();
        Scratch(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn router() -> Router {
    Router::new(RouterConfig {
        instances: vec![InstanceConfig::new("VI_1", "eth0", 51)],
        ..Default::default()
    })
}

fn extra() -> StatusExtra {
    StatusExtra {
        pid: std::process::id(),
        uptime: Duration::from_secs(7),
        config_path: "/etc/keepalived/keepalived.conf".into(),
        now: vigil_vrrp::Instant::from_secs(7),
        instances: vec![InstanceExtra {
            interface: "eth0".into(),
            vrid: 51,
            vips: Vec::new(),
        }],
        scripts: Vec::new(),
        sync_groups: Vec::new(),
        lvs: Vec::new(),
    }
}

/// The event loop's use of the server: accept, render, spawn the reply.
async fn serve(mut ctl: Server) {
    let (router, extra) = (router(), extra());
    loop {
        let conn = ctl.accept().await;
        let reply = render(&conn.request(), &router, &extra);
        smol::spawn(async move {
            let _ = conn.reply(reply).await;
        })
        .detach();
    }
}

/// Run `client` on a blocking thread while `ctl` serves.
fn with_server<T: Send + 'static>(ctl: Server, client: impl FnOnce() -> T + Send + 'static) -> T {
    smol::block_on(future::or(smol::unblock(client), async move {
        serve(ctl).await;
        unreachable!()
    }))
}

#[test]
fn status_round_trip_and_socket_mode() {
    let dir = Scratch::new("rt");
    let path = dir.path("vigil.sock");
    // A permissive umask must not leak into the socket's mode.
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let ctl = Server::bind(&path).unwrap();
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(ctl.path(), path);

    let p = path.clone();
    let (json, text) = with_server(ctl, move || {
        (
            query(&p, Request::Status { json: true }).unwrap(),
            query(&p, Request::Status { json: false }).unwrap(),
        )
    });
    assert_eq!(
        json,
        render(&Request::Status { json: true }, &router(), &extra())
    );
    assert!(json.starts_with(&format!("{{\"pid\":{},", std::process::id())));
    assert!(text.contains("VRRP instance VI_1\n"), "{text}");
    // Dropping the server removed its socket file.
    assert!(!path.exists());
}

#[test]
fn a_silent_client_is_dropped_without_delaying_others() {
    let dir = Scratch::new("silent");
    let path = dir.path("vigil.sock");
    let mut ctl = Server::bind(&path).unwrap();
    let timeout = Duration::from_millis(400);
    ctl.set_request_timeout(timeout);
    let p = path.clone();
    let (silent_gone, other_answered) = with_server(ctl, move || {
        let start = Instant::now();
        let mut silent = UnixStream::connect(&p).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let asked = Instant::now();
        let answer = query(&p, Request::Status { json: false }).unwrap();
        let other = asked.elapsed();
        assert!(answer.starts_with("vigil pid "));
        // The silent client gets EOF (no reply) once its time is up.
        silent
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut got = Vec::new();
        silent.read_to_end(&mut got).unwrap();
        assert!(got.is_empty(), "{got:?}");
        (start.elapsed(), other)
    });
    assert!(
        other_answered < timeout,
        "second client waited {other_answered:?}"
    );
    assert!(silent_gone >= timeout, "dropped early: {silent_gone:?}");
    assert!(silent_gone < timeout * 4, "dropped late: {silent_gone:?}");
    eprintln!("answer while a client idles: {other_answered:?}; idle client dropped after {silent_gone:?}");
}

#[test]
fn a_bad_request_gets_an_error_line() {
    let dir = Scratch::new("bad");
    let path = dir.path("vigil.sock");
    let ctl = Server::bind(&path).unwrap();
    let p = path.clone();
    let (bad, long, ok) = with_server(ctl, move || {
        let exchange = |req: &[u8]| {
            let mut s = UnixStream::connect(&p).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(req).unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        (
            exchange(b"frobnicate\n"),
            exchange(&[b'x'; 1000]),
            // No newline, but half-closed: still a request.
            {
                let mut s = UnixStream::connect(&p).unwrap();
                s.write_all(b"status json").unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                out
            },
        )
    });
    assert_eq!(
        bad,
        "error: unknown command \"frobnicate\" (expected \"status\")\n"
    );
    assert_eq!(long, "error: request longer than 256 bytes\n");
    assert!(ok.starts_with("{\"pid\":"), "{ok}");
}

#[test]
fn clients_beyond_the_pending_bound_are_turned_away() {
    let dir = Scratch::new("bound");
    let path = dir.path("vigil.sock");
    let mut ctl = Server::bind(&path).unwrap();
    ctl.set_request_timeout(Duration::from_secs(3));
    let p = path.clone();
    let refused_after = with_server(ctl, move || {
        let idle: Vec<UnixStream> = (0..MAX_PENDING)
            .map(|_| UnixStream::connect(&p).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let start = Instant::now();
        let mut extra = UnixStream::connect(&p).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut got = Vec::new();
        extra.read_to_end(&mut got).unwrap();
        drop(idle);
        start.elapsed()
    });
    assert!(refused_after < Duration::from_secs(1), "{refused_after:?}");
}

#[test]
fn query_errors_name_the_problem() {
    let dir = Scratch::new("qerr");
    let missing = dir.path("missing.sock");
    let err = query(&missing, Request::Status { json: false }).unwrap_err();
    assert_eq!(err, QueryError::NoSocket(missing.clone()));
    assert_eq!(
        err.to_string(),
        format!(
            "no control socket at {}: is vigil running?",
            missing.display()
        )
    );

    // A socket file left behind by a dead daemon.
    let stale = dir.path("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    assert_eq!(
        query(&stale, Request::Status { json: false }).unwrap_err(),
        QueryError::NotListening(stale.clone())
    );

    // Something listens but never answers.
    let mute = dir.path("mute.sock");
    let _mute = UnixListener::bind(&mute).unwrap();
    let start = Instant::now();
    let t = Duration::from_millis(300);
    assert_eq!(
        query_with_timeout(&mute, Request::Status { json: false }, t).unwrap_err(),
        QueryError::Timeout(t)
    );
    assert!(start.elapsed() >= t && start.elapsed() < t * 4);

    let long = dir.path(&"x".repeat(120));
    assert_eq!(
        query(&long, Request::Status { json: false }).unwrap_err(),
        QueryError::PathTooLong(long.clone())
    );
}

#[test]
fn bind_replaces_only_stale_sockets() {
    let dir = Scratch::new("bind");
    // Stale: replaced.
    let stale = dir.path("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let ctl = Server::bind(&stale).unwrap();
    // Live: refused, and the live socket keeps working.
    assert_eq!(
        Server::bind(&stale).unwrap_err(),
        BindError::InUse(stale.clone())
    );
    let p = stale.clone();
    let answer = with_server(ctl, move || query(&p, Request::Status { json: false }));
    assert!(answer.unwrap().starts_with("vigil pid "));

    // A regular file is never removed.
    let file = dir.path("file");
    std::fs::write(&file, "keep me").unwrap();
    assert_eq!(
        Server::bind(&file).unwrap_err(),
        BindError::NotASocket(file.clone())
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

    let nodir = dir.path("nodir").join("vigil.sock");
    assert_eq!(
        Server::bind(&nodir).unwrap_err(),
        BindError::NoParentDir(dir.path("nodir"))
    );
    let long = dir.path(&"x".repeat(120));
    assert_eq!(
        Server::bind(&long).unwrap_err(),
        BindError::PathTooLong(long.clone())
    );
}

#[test]
fn drop_leaves_a_replaced_socket_alone() {
    let dir = Scratch::new("drop");
    let path = dir.path("vigil.sock");
    let ctl = Server::bind(&path).unwrap();
    // Another daemon took the path over (e.g. after removing ours).
    std::fs::remove_file(&path).unwrap();
    let _other = UnixListener::bind(&path).unwrap();
    drop(ctl);
    assert!(path_is_socket(&path));
}

fn path_is_socket(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_socket())
}

/// `vigil status --control PATH` as `uid:gid`: its exit status.
fn status_as(path: &Path, uid: u32, gid: u32) -> Option<i32> {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["status", "--control"])
        .arg(path)
        .uid(uid)
        .gid(gid)
        .output()
        .ok()?
        .status
        .code()
}

#[test]
fn only_root_and_the_control_group_are_answered() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: needs root to run clients as other users");
        return;
    }
    let dir = Scratch::new("peer");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path("vigil.sock");
    let mut ctl = Server::bind(&path).unwrap();
    // nobody (65534) in group 65534: admitted only once that group is allowed.
    ctl.allow_group(65534).unwrap();
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    // Loosen the file so the credential check itself is what refuses.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let p = path.clone();
    let (member, stranger) = with_server(ctl, move || {
        (status_as(&p, 65534, 65534), status_as(&p, 65534, 4242))
    });
    assert_eq!(member, Some(0), "a member of the control group is answered");
    assert_ne!(stranger, Some(0), "a stranger is not");
}
