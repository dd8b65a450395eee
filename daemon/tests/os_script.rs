//! The script runner and script security against real processes and files.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use vigil::os::script::{run, spawn, Outcome, Output, Script, SpawnError};
use vigil::os::script_security::{check_script_security, Insecurity, SecurityError};

/// A private scratch directory (0755), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("vigil-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(p)
    }

    fn script(&self, name: &str, body: &str, mode: u32) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Process state letter from /proc, or None if the process is gone.
fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the parenthesised command name.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Our own zombie children.
fn our_zombies() -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut z = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.first() == Some(&"Z") && f.get(1) == Some(&me.as_str()) {
            z.push(pid);
        }
    }
    z
}

/// Fail if any zombie child of ours lasts: tests run in parallel, so a
/// sibling's child may be a zombie for the instant before its runner reaps it.
fn assert_no_lasting_zombies() {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let z = our_zombies();
        if z.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "lasting zombies: {z:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn timeout_kills_the_script_and_its_child() {
    let dir = Scratch::new("hang");
    let pidfile = dir.0.join("child.pid");
    let script = dir.script(
        "hang.sh",
        &format!("sleep 60 & echo $! > {}\nwait", pidfile.display()),
        0o755,
    );
    let mut s = Script::new([script.to_str().unwrap()]);
    s.timeout = Some(Duration::from_millis(300));
    let t0 = Instant::now();
    let outcome = smol::block_on(run(&s)).unwrap();
    assert_eq!(outcome, Outcome::TimedOut);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let child: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The grandchild got SIGKILL with its group: gone, or a zombie of init.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match proc_state(child) {
            None | Some('Z') | Some('X') => break,
            Some(st) if Instant::now() > deadline => panic!("child {child} still {st}"),
            Some(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    assert_no_lasting_zombies();
}

#[test]
fn exit_codes_and_signals_are_reported() {
    let dir = Scratch::new("codes");
    let ok = dir.script("ok.sh", "exit 0", 0o755);
    let seven = dir.script("seven.sh", "exit 7", 0o755);
    let killed = dir.script("killed.sh", "kill -TERM $$", 0o755);
    smol::block_on(async {
        assert_eq!(
            run(&Script::new([ok.to_str().unwrap()])).await,
            Ok(Outcome::Exited(0))
        );
        assert_eq!(
            run(&Script::new([seven.to_str().unwrap()])).await,
            Ok(Outcome::Exited(7))
        );
        assert_eq!(
            run(&Script::new([killed.to_str().unwrap()])).await,
            Ok(Outcome::Signaled(nix::libc::SIGTERM))
        );
        // Arguments are passed through.
        let args = dir.script("args.sh", "[ \"$1\" = MASTER ] && [ \"$2\" = VI_1 ]", 0o755);
        assert_eq!(
            run(&Script::new([args.to_str().unwrap(), "MASTER", "VI_1"])).await,
            Ok(Outcome::Exited(0))
        );
    });
    assert_no_lasting_zombies();
}

#[test]
fn missing_and_unexecutable_scripts_are_typed_errors() {
    let dir = Scratch::new("missing");
    let noexec = dir.script("noexec.sh", "exit 0", 0o644);
    let missing = dir.0.join("missing.sh");
    smol::block_on(async {
        assert_eq!(
            run(&Script::new([missing.to_str().unwrap()])).await,
            Err(SpawnError::NotFound(missing.display().to_string()))
        );
        let r = run(&Script::new([noexec.to_str().unwrap()])).await;
        // Root may read a 0644 file but not execute it: EACCES.
        assert_eq!(
            r,
            Err(SpawnError::NotExecutable(noexec.display().to_string()))
        );
    });
}

#[test]
fn many_concurrent_scripts_leave_no_zombies() {
    smol::block_on(async {
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                smol::spawn(async move {
                    let mut s = Script::new(["sh", "-c", &format!("exit {}", i % 3)]);
                    s.output = Output::Log;
                    run(&s).await.unwrap()
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await, Outcome::Exited((i % 3) as i32));
        }
    });
    let child = spawn(&Script::new(["sleep", "30"])).unwrap();
    drop(child); // killed and reaped by Drop
    assert_no_lasting_zombies();
}

#[test]
fn runs_as_another_user() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: not root");
        return;
    }
    let dir = Scratch::new("user");
    let out = dir.0.join("id.txt");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut s = Script::new([
        "sh",
        "-c",
        &format!("id -u > {0}; id -g >> {0}", out.display()),
    ]);
    s.run_as = Some((65534, 65534));
    assert_eq!(smol::block_on(run(&s)), Ok(Outcome::Exited(0)));
    let ids = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        ids.split_whitespace().collect::<Vec<_>>(),
        ["65534", "65534"]
    );
}

fn insecure_path(e: SecurityError) -> (PathBuf, Insecurity) {
    match e {
        SecurityError::Insecure { path, why } => (path, why),
        other => panic!("expected Insecure, got {other}"),
    }
}

#[test]
fn script_security_refuses_writable_scripts_and_directories() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: not root (files must be root-owned)");
        return;
    }
    let dir = Scratch::new("security");
    let good = dir.script("good.sh", "exit 0", 0o755);
    // The temp dir is sticky (/tmp): allowed. Check it holds for the base.
    let base = std::fs::canonicalize(std::env::temp_dir()).unwrap();
    let sticky = std::fs::metadata(&base).unwrap().permissions().mode() & 0o1000 != 0;
    if !sticky && check_script_security(&good).is_err() {
        println!("skipped: {} is not a safe base directory", base.display());
        return;
    }
    check_script_security(&good).unwrap();

    let world = dir.script("world.sh", "exit 0", 0o757);
    let (path, why) = insecure_path(check_script_security(&world).unwrap_err());
    assert_eq!(
        (path.as_path(), why),
        (world.as_path(), Insecurity::WorldWritable)
    );

    // A group-writable script is fine for group root, not for another group.
    let grp = dir.script("grp.sh", "exit 0", 0o775);
    check_script_security(&grp).unwrap();
    nix::unistd::chown(&grp, None, Some(nix::unistd::Gid::from_raw(100))).unwrap();
    let (_, why) = insecure_path(check_script_security(&grp).unwrap_err());
    assert_eq!(why, Insecurity::GroupWritable(100));

    // A script owned by another user.
    let owned = dir.script("owned.sh", "exit 0", 0o755);
    nix::unistd::chown(&owned, Some(nix::unistd::Uid::from_raw(1000)), None).unwrap();
    let (_, why) = insecure_path(check_script_security(&owned).unwrap_err());
    assert_eq!(why, Insecurity::OwnerNotRoot(1000));

    // A safe script inside a world-writable (non-sticky) directory.
    let open_dir = dir.0.join("open");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let inside = open_dir.join("inside.sh");
    std::fs::write(&inside, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&inside, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (path, why) = insecure_path(check_script_security(&inside).unwrap_err());
    assert_eq!(
        (path.as_path(), why),
        (open_dir.as_path(), Insecurity::WorldWritable)
    );
    // The error names the directory.
    let msg = check_script_security(&inside).unwrap_err().to_string();
    assert!(msg.contains(&open_dir.display().to_string()), "{msg}");

    // Making that directory sticky makes it acceptable again (like /tmp).
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    check_script_security(&inside).unwrap();

    // A root-owned symlink to an unsafe script is judged by its target.
    let link = dir.0.join("link.sh");
    std::os::unix::fs::symlink(&world, &link).unwrap();
    let (path, _) = insecure_path(check_script_security(&link).unwrap_err());
    assert_eq!(path, world);
}

#[test]
fn logged_output_does_not_wait_for_grandchildren_holding_the_pipe() {
    let mut s = Script::new(["sh", "-c", "echo started; sleep 30 & exit 4"]);
    s.output = Output::Log;
    let mut child = spawn(&s).unwrap();
    let pgid = nix::unistd::Pid::from_raw(child.pid() as i32);
    let t0 = Instant::now();
    assert_eq!(smol::block_on(child.wait()), Outcome::Exited(4));
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    // The background sleep is still in the script's group: clean it up.
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
}
