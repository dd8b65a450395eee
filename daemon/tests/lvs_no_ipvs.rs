//! A kernel without IPVS: `vigil run` with a `virtual_server` stops at start
//! with one clear line (never a crash, never a half-started daemon). Runs
//! in a throw-away namespace: the daemon never speaks VRRP on the host.

mod os_util;

use std::process::Command;

#[test]
fn missing_ipvs_is_a_clear_start_up_error() {
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        println!("skipped: this kernel has IPVS");
        return;
    }
    let ns = match os_util::Netns::new() {
        Ok(n) => n,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let conf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/seed-configs/07-lvs-dr.conf"
    );
    let sock = std::env::temp_dir().join(format!("vigil-noipvs-{}.sock", std::process::id()));
    let out = Command::new("timeout")
        .args([
            "10",
            "ip",
            "netns",
            "exec",
            &ns.name,
            env!("CARGO_BIN_EXE_vigil"),
        ])
        .args(["run", "-n", "-l", "-f", conf, "--control"])
        .arg(&sock)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("IPVS is not available in this kernel"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
