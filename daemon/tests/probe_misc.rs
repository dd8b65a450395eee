//! MISC_CHECK through the script runner: exit codes, a hanging program
//! killed at misc_timeout, a signal, a missing program, the user it runs as
//! and script security; results and timings. Needs no namespace (nothing
//! goes on the network); the user and security cases need root.

mod probe_util;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use probe_util::{root_env, row, timed, within, SLACK};
use vigil::os::probe::ProbeEnv;
use vigil_check::{FailReason, ProbeKind, ProbeResult};
use vigil_model::{Command, RunAs};

// probe_util's namespace helpers are unused here.
#[allow(dead_code)]
mod os_util;

/// A root-owned 0755 scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("vigil-probe-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(p)
    }

    fn script(&self, name: &str, body: &str, mode: u32) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn misc(text: &str, timeout_ms: u64) -> ProbeKind {
    ProbeKind::Misc {
        command: Command::new(text, None),
        timeout: Duration::from_millis(timeout_ms),
        dynamic: false,
    }
}

#[test]
fn exit_codes_are_reported_with_arguments() {
    let d = Scratch::new("exit");
    let s = d.script("exit.sh", "exit \"$1\"", 0o755);
    for code in [0u8, 1, 7] {
        let (r, took) = timed(&misc(&format!("{s} {code}"), 2000), &root_env());
        row(&format!("MISC exit {code}"), &r, took);
        assert_eq!(r, ProbeResult::MiscExit(code));
        assert!(took < SLACK, "{took:?}");
    }
}

#[test]
fn a_hanging_program_is_killed_at_misc_timeout() {
    let d = Scratch::new("hang");
    let marker = d.0.join("grandchild-alive");
    // A grandchild in the same group must die with it.
    let s = d.script(
        "hang.sh",
        &format!("(sleep 3; touch {}) & sleep 30", marker.display()),
        0o755,
    );
    let (r, took) = timed(&misc(&s, 1000), &root_env());
    row("MISC hangs (misc_timeout 1s)", &r, took);
    assert_eq!(r, ProbeResult::TimedOut);
    assert!(within(took, Duration::from_secs(1), SLACK), "{took:?}");
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!marker.exists(), "the program's group was not killed");
}

#[test]
fn signals_and_missing_programs_fail() {
    let d = Scratch::new("sig");
    let s = d.script("sig.sh", "kill -TERM $$", 0o755);
    let (r, took) = timed(&misc(&s, 1000), &root_env());
    row("MISC killed by SIGTERM", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::Signal(15)));
    let (r, took) = timed(&misc("/nonexistent/vigil-check.sh", 1000), &root_env());
    row("MISC missing program", &r, took);
    assert_eq!(r, ProbeResult::Failed(FailReason::Spawn));
}

#[test]
fn runs_as_its_user_or_the_default_script_user() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: not root");
        return;
    }
    let d = Scratch::new("user");
    // Exit 0 only as uid 65534 (nobody).
    let s = d.script(
        "who.sh",
        "[ \"$(id -u)\" = 65534 ] && exit 0; exit 3",
        0o755,
    );
    let mut k = misc(&s, 2000);
    let (r, _) = timed(&k, &root_env());
    assert_eq!(r, ProbeResult::MiscExit(3), "as root");
    if let ProbeKind::Misc { command, .. } = &mut k {
        command.run_as = Some(RunAs {
            user: "nobody".into(),
            group: None,
        });
    }
    let (r, took) = timed(&k, &root_env());
    row("MISC user nobody", &r, took);
    assert_eq!(r, ProbeResult::MiscExit(0), "as its user");
    let env = ProbeEnv {
        script_security: false,
        script_user: (65534, 65534),
    };
    let (r, _) = timed(&misc(&s, 2000), &env);
    assert_eq!(r, ProbeResult::MiscExit(0), "as the default script user");
    if let ProbeKind::Misc { command, .. } = &mut k {
        command.run_as = Some(RunAs {
            user: "vigil-no-such-user".into(),
            group: None,
        });
    }
    let (r, _) = timed(&k, &root_env());
    assert_eq!(r, ProbeResult::NotRun(FailReason::ScriptDisabled));
}

#[test]
fn script_security_disables_an_unsafe_program_run_as_root() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: not root");
        return;
    }
    let d = Scratch::new("sec");
    let unsafe_script = d.script("open.sh", "exit 0", 0o777);
    let safe_script = d.script("closed.sh", "exit 0", 0o755);
    let secure = ProbeEnv {
        script_security: true,
        script_user: (0, 0),
    };
    let (r, took) = timed(&misc(&unsafe_script, 1000), &secure);
    row("MISC world-writable, script security", &r, took);
    assert_eq!(r, ProbeResult::NotRun(FailReason::ScriptDisabled));
    let (r, _) = timed(&misc(&safe_script, 1000), &secure);
    assert_eq!(r, ProbeResult::MiscExit(0));
    // Without script security the same program runs.
    let (r, _) = timed(&misc(&unsafe_script, 1000), &root_env());
    assert_eq!(r, ProbeResult::MiscExit(0));
}
