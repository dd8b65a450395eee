//! The built `vigil` binary on the seed configurations and on broken files:
//! exit codes and messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/seed-configs")
        .canonicalize()
        .unwrap()
}

fn vigil(args: &[&str]) -> Output {
    Command::new(VIGIL).args(args).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory unique to this test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn seeds() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(seed_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    v
}

#[test]
fn check_accepts_every_seed_config_strictly() {
    for p in seeds() {
        let p = p.to_str().unwrap();
        let o = vigil(&["check", "-f", p]);
        assert_eq!(code(&o), 0, "{p}: {}", stderr(&o));
        assert!(stderr(&o).contains("configuration OK"), "{}", stderr(&o));
        // --strict refuses exactly the seeds with warnings, which are all
        // keywords vigil reads but does not act on yet (mail).
        let warned = stderr(&o).contains("warning:");
        assert!(
            stderr(&o)
                .lines()
                .filter(|l| l.contains("warning:"))
                .all(|l| l.contains("parsed but not acted on")),
            "{}",
            stderr(&o)
        );
        let o = vigil(&["check", "-f", p, "--strict"]);
        assert_eq!(code(&o), if warned { 1 } else { 0 }, "{p}: {}", stderr(&o));
        // keepalived's spelling.
        assert_eq!(code(&vigil(&["-t", "-f", p])), 0);
    }
}

#[test]
fn compile_then_show_gives_the_same_text_as_show_of_the_source() {
    let dir = scratch("compile");
    for p in seeds() {
        let src = p.to_str().unwrap();
        let out = dir.join(p.file_name().unwrap()).with_extension("vigil");
        let out = out.to_str().unwrap();
        let o = vigil(&["compile", src, "-o", out]);
        assert_eq!(code(&o), 0, "{src}: {}", stderr(&o));
        let bin = std::fs::read(out).unwrap();
        assert_eq!(&bin[..4], b"VIGL");
        let from_text = vigil(&["show", src]);
        assert!(
            bin.len() * 2 < from_text.stdout.len(),
            "{src}: binary not compact"
        );
        let from_bin = vigil(&["show", out]);
        assert_eq!(code(&from_text), 0);
        assert_eq!(from_text.stdout, from_bin.stdout, "{src}");
        // A binary config is also a valid input to check (and so to run: both
        // load through the same sniffing loader). `run` itself is never started
        // here: it would be a real daemon in the host's namespace.
        assert_eq!(code(&vigil(&["check", "-f", out])), 0);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn keepalived_flags_with_config_test_load_and_exit_zero() {
    // keepalived's own flags without a subcommand, plus -t (config test) so that
    // no daemon starts in the host's namespace.
    let p = seed_dir().join("09-track-script.conf");
    let o = vigil(&["-f", p.to_str().unwrap(), "-n", "-l", "-D", "-S", "0", "-t"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 vrrp_instance, 1 vrrp_script"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn broken_config_exits_one_with_located_errors() {
    let dir = scratch("broken");
    let f = dir.join("bad.conf");
    std::fs::write(
        &f,
        "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n  priority 0\n}\n",
    )
    .unwrap();
    let path = f.to_str().unwrap();
    let o = vigil(&["check", "-f", path]);
    assert_eq!(code(&o), 1);
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "{path}:3:21: error: virtual_router_id: out of range 1..255 (300)"
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "{path}:4:12: error: priority: out of range 1..255 (0)"
        )),
        "{e}"
    );
    assert!(e.contains("configuration refused (2 errors)"), "{e}");
    assert_eq!(code(&vigil(&["run", "-f", path])), 1);
    assert_eq!(
        code(&vigil(&[
            "compile",
            path,
            "-o",
            dir.join("o").to_str().unwrap()
        ])),
        1
    );
    assert!(
        !dir.join("o").exists(),
        "nothing written for a refused config"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn warnings_pass_unless_strict() {
    let dir = scratch("warn");
    let f = dir.join("w.conf");
    std::fs::write(
        &f,
        "global_defs {\n  router_id r\n  some_future_option 1\n}\n",
    )
    .unwrap();
    let path = f.to_str().unwrap();
    let o = vigil(&["check", "-f", path]);
    assert_eq!(code(&o), 0);
    assert!(
        stderr(&o).contains(&format!(
            "{path}:3:3: warning: unknown keyword in global_defs"
        )),
        "{}",
        stderr(&o)
    );
    let o = vigil(&["check", "-f", path, "--strict"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(&format!("{path}:3:3: error: unknown keyword")),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn damaged_binary_is_refused_with_its_reason() {
    let dir = scratch("damaged");
    let out = dir.join("c.vigil");
    let src = seed_dir().join("07-lvs-dr.conf");
    assert_eq!(
        code(&vigil(&[
            "compile",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap()
        ])),
        0
    );
    let mut b = std::fs::read(&out).unwrap();
    let n = b.len();
    b[n - 3] ^= 0x40;
    std::fs::write(&out, &b).unwrap();
    let o = vigil(&["show", out.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("CRC"), "{}", stderr(&o));
    b.truncate(n - 10);
    std::fs::write(&out, &b).unwrap();
    let o = vigil(&["check", "-f", out.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_file_and_bad_usage_have_their_own_exit_codes() {
    let o = vigil(&["check", "-f", "/nonexistent/vigil.conf"]);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("/nonexistent/vigil.conf"));
    assert_eq!(code(&vigil(&["compile", "x"])), 2);
    assert_eq!(code(&vigil(&["frobnicate"])), 2);
    let o = vigil(&["--help"]);
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("check"));
}

#[test]
fn config_id_selects_conditional_lines_and_detail_shows_them() {
    let dir = scratch("cond");
    let f = dir.join("c.conf");
    std::fs::write(
        &f,
        "$VRID=51\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id $VRID\n\
         @r1 priority 200\n@^r1 priority 100\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n",
    )
    .unwrap();
    let path = f.to_str().unwrap();
    let prio = |id: &str| {
        let o = vigil(&["show", path, "-i", id]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        out.lines()
            .find(|l| l.trim_start().starts_with("priority"))
            .map(|l| l.trim().to_string())
    };
    assert_eq!(prio("r1").as_deref(), Some("priority 200"));
    assert_eq!(prio("r2").as_deref(), Some("priority 100"));
    let o = vigil(&["check", "-f", path, "-i", "r1", "-D"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{path}:5:1: note: conditional @r1: line kept")),
        "{e}"
    );
    assert!(
        e.contains(&format!("{path}:6:1: note: conditional @^r1: line skipped")),
        "{e}"
    );
    // keepalived's spelling: -t with -i.
    assert_eq!(code(&vigil(&["-t", "-f", path, "-i", "r1"])), 0);
    std::fs::remove_dir_all(dir).unwrap();
}
