//! `global_defs { umask }` as keepalived applies it: the process umask
//! (files and scripts' children inherit it) and a notify FIFO's mode, 0644
//! under it. A test binary of its own: the umask is process-wide.

use std::os::unix::fs::PermissionsExt;

use vigil::os::{fifo, users};

#[test]
fn umask_governs_new_files_and_fifos() {
    let dir = std::env::temp_dir().join(format!("vigil-umask-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // keepalived's default, then `umask 027`, then `umask IWGRP|IWOTH`.
    for (configured, file, fifo_mode) in [
        (None, 0o600, 0o600),
        (Some(0o027), 0o640, 0o640),
        (Some(0o022), 0o644, 0o644),
    ] {
        assert_eq!(users::apply_umask(configured), configured.unwrap_or(0o177));
        let f = dir.join(format!("f{file:o}"));
        std::fs::write(&f, "1\n").unwrap();
        assert_eq!(mode(&f), file, "file under {configured:?}");
        let p = dir.join(format!("p{fifo_mode:o}"));
        assert!(fifo::create(&p, None).unwrap());
        assert_eq!(mode(&p), fifo_mode, "FIFO under {configured:?}");
        // A child (a script) inherits it.
        let out = std::process::Command::new("sh")
            .args(["-c", "umask"])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(
            u16::from_str_radix(&shown, 8).unwrap(),
            configured.unwrap_or(0o177)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
