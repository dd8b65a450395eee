//! track_process against the real kernel: the proc connector reports a
//! process we start and stop, and the counter follows it (fork, exec,
//! exit); needs root (CAP_NET_ADMIN) and CONFIG_PROC_EVENTS, else skipped.

use std::time::{Duration, Instant};

use vigil::os::proc_connector::{ProcConnector, ProcEvent};
use vigil::runtime::process::Counter;
use vigil_model::{ParamMatch, TrackProcess};

fn spec(process: &str) -> TrackProcess {
    TrackProcess {
        params: vec!["30".into()],
        param_match: ParamMatch::Exact,
        full_command: true,
        ..TrackProcess::new("t".into(), process.into())
    }
}

/// Reads events until `done` says so or 5 s pass; applies them to `c`.
fn pump(conn: &ProcConnector, c: &mut Counter, done: impl Fn(&Counter) -> bool) -> bool {
    let t0 = Instant::now();
    let mut buf = vec![0u8; 65536];
    while t0.elapsed() < Duration::from_secs(5) {
        let mut evs: Vec<ProcEvent> = Vec::new();
        let got = smol::block_on(async {
            let read = async { conn.next(&mut buf, &mut evs).await.is_ok() };
            let timeout = async {
                smol::Timer::after(Duration::from_millis(200)).await;
                false
            };
            smol::future::or(read, timeout).await
        });
        if got {
            for e in &evs {
                c.apply(e);
            }
        }
        if done(c) {
            return true;
        }
    }
    false
}

#[test]
fn connector_follows_a_process_we_start_and_kill() {
    let conn = match ProcConnector::open() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped: proc connector unavailable ({e})");
            return;
        }
    };
    // A copy of sleep under a name nobody else runs.
    let dir = std::env::temp_dir().join(format!("vigil-tp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("vigilsleep");
    std::fs::copy("/bin/sleep", &bin).unwrap();
    let path = bin.display().to_string();
    let mut c = Counter::new(vec![spec(&path)]);
    c.scan();
    assert_eq!(c.count(0), 0);
    let t0 = Instant::now();
    let mut child = std::process::Command::new(&bin).arg("30").spawn().unwrap();
    assert!(pump(&conn, &mut c, |c| c.count(0) == 1), "start not seen");
    let seen = t0.elapsed();
    // The wrong parameters do not count.
    let mut other = std::process::Command::new(&bin).arg("31").spawn().unwrap();
    assert!(!pump(&conn, &mut c, |c| c.count(0) == 2) || c.count(0) == 1);
    child.kill().unwrap();
    child.wait().unwrap();
    let t1 = Instant::now();
    assert!(pump(&conn, &mut c, |c| c.count(0) == 0), "exit not seen");
    eprintln!("start seen after {seen:?}, exit after {:?}", t1.elapsed());
    other.kill().unwrap();
    other.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
