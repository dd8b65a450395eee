//! The daemon's load in a child process (`vigil __load-config`): the same
//! configuration and the same diagnostics as the in-process parse, and a
//! child that hangs, floods the pipe or lies about its result is refused.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use vigil::loader::{load, LoadFailure};
use vigil::os::child_load::{run, ChildError, Refusal, Reply, Request, REPLY_CAP};
use vigil_config::{LoadAnyError, Options};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-child-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn vigil(path: &str, id: &str, seed: u64) -> Request {
    Request {
        program: env!("CARGO_BIN_EXE_vigil").into(),
        ..Request::new(path, id, seed)
    }
}

fn other(program: &str, args: &[&str], deadline: Duration) -> Request {
    Request {
        program: program.into(),
        args: args.iter().map(Into::into).collect(),
        deadline,
        cap: REPLY_CAP,
    }
}

fn here(
    path: &str,
    id: &str,
    seed: u64,
) -> Result<(vigil_model::Config, Vec<String>), Vec<String>> {
    let opts = Options {
        config_id: Some(id),
        random_seed: Some(seed),
        ..Options::default()
    };
    match load(path, opts) {
        Ok((c, w)) => Ok((c, w.iter().map(ToString::to_string).collect())),
        Err(LoadFailure::Config(LoadAnyError::Text(d))) => {
            Err(d.iter().map(ToString::to_string).collect())
        }
        Err(_) => panic!("unexpected failure"),
    }
}

const GOOD: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n\
@r1 priority 150\n@r2 priority 50\n nopreempt_typo 1\n virtual_ipaddress {\n  192.168.67.150/24\n }\n}\n\
virtual_server 192.168.67.150 80 {\n real_server 192.168.67.10 80 {\n  TCP_CHECK {\n  }\n }\n}\n";

#[test]
fn a_good_config_comes_back_equal_with_its_warnings() {
    let d = dir("good");
    let p = d.join("good.conf");
    std::fs::write(&p, GOOD).unwrap();
    let p = p.to_str().unwrap();
    for (id, prio) in [("r1", 150), ("r2", 50)] {
        let (want, want_w) = here(p, id, 7).unwrap();
        match run(&vigil(p, id, 7)).unwrap() {
            Reply::Loaded { config, warnings } => {
                assert_eq!(*config, want, "the config id and seed reach the child");
                assert_eq!(config.instances[0].priority, prio);
                assert_eq!(warnings, want_w);
                assert!(!warnings.is_empty(), "the unknown keyword warns");
                assert!(warnings[0].contains("good.conf:6:"), "{warnings:?}");
            }
            other => panic!("{other:?}"),
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn errors_are_the_same_lines_as_in_process() {
    let d = dir("bad");
    let p = d.join("bad.conf");
    std::fs::write(
        &p,
        "vrrp_instance VI_1 {\n virtual_router_id 300\n priority 0\n}\nbogus_block {\n}\n",
    )
    .unwrap();
    let p = p.to_str().unwrap();
    let want = here(p, "r1", 1).unwrap_err();
    match run(&vigil(p, "r1", 1)).unwrap() {
        Reply::Refused(Refusal::Text { lines, errors }) => {
            assert_eq!(lines, want);
            assert!(errors >= 1 && errors <= lines.len());
            assert!(lines.iter().any(|l| l.contains("bad.conf:2:")), "{lines:?}");
        }
        other => panic!("{other:?}"),
    }
    match run(&vigil(d.join("none.conf").to_str().unwrap(), "r1", 1)).unwrap() {
        Reply::Refused(Refusal::Io(e)) => assert!(e.contains("none.conf"), "{e}"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_child_that_hangs_is_killed_at_the_deadline() {
    let t0 = Instant::now();
    let r = run(&other("sleep", &["30"], Duration::from_millis(300))).unwrap();
    let took = t0.elapsed();
    assert_eq!(
        r,
        Reply::Refused(Refusal::Child(ChildError::Deadline(Duration::from_millis(
            300
        ))))
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    // Its stdout closed, then hanging: the exit is awaited by the same deadline.
    let t0 = Instant::now();
    let r = run(&other(
        "sh",
        &["-c", "exec >&-; exec sleep 30"],
        Duration::from_millis(300),
    ))
    .unwrap();
    assert!(
        matches!(r, Reply::Refused(Refusal::Child(ChildError::Deadline(_)))),
        "{r:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(3));
}

#[test]
fn an_oversized_or_false_reply_is_refused() {
    let r = run(&other(
        "head",
        &["-c", "3000000", "/dev/zero"],
        Duration::from_secs(10),
    ))
    .unwrap();
    assert_eq!(
        r,
        Reply::Refused(Refusal::Child(ChildError::TooLarge(REPLY_CAP)))
    );
    // Exit 0 and nothing said; garbage.
    let r = run(&other("true", &[], Duration::from_secs(10))).unwrap();
    assert!(
        matches!(r, Reply::Refused(Refusal::Child(ChildError::Status(_)))),
        "{r:?}"
    );
    let r = run(&other("echo", &["hello"], Duration::from_secs(10))).unwrap();
    assert!(matches!(r, Reply::Refused(Refusal::Child(_))), "{r:?}");
    // Cannot start: the caller falls back to parsing in-process.
    assert!(run(&other("/nonexistent/vigil", &[], Duration::from_secs(1))).is_err());
}
