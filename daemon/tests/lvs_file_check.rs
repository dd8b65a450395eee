//! FILE_CHECK through the LVS thread: the tracked file is watched with
//! inotify, as keepalived watches it, so a write (or a file renamed over
//! it) moves the real server's weight at once although the virtual
//! server's delay_loop is 60 s. An in-memory table stands in for IPVS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil::runtime::lvs::{Lvs, MemoryBackend, Prober};
use vigil_config::{parse_text, MemoryLoader, Options};

/// The status views' publish period plus scheduling on a busy host.
const SLACK: Duration = Duration::from_millis(700);

fn installed(lvs: &Lvs) -> Option<u32> {
    let v = lvs.views();
    v.first()
        .and_then(|vs| vs.real_servers.first())
        .and_then(|rs| rs.installed)
}

fn wait_for(lvs: &Lvs, limit: Duration, want: Option<u32>) -> Result<Duration, Option<u32>> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if installed(lvs) == want {
            return Ok(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(installed(lvs))
}

#[test]
fn a_write_or_a_rename_is_read_at_once() {
    let dir = std::env::temp_dir().join(format!("vigil-filecheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("weight");
    std::fs::write(&path, "0\n").unwrap();
    let text = format!(
        "track_file w {{
            file {}
            weight 1
        }}
        virtual_server 10.77.0.100 80 {{
            delay_loop 60
            lb_algo rr
            lb_kind DR
            real_server 10.77.0.1 80 {{
                weight 3
                FILE_CHECK {{
                    track_file w
                }}
            }}
        }}",
        path.display()
    );
    let (cfg, _) = parse_text("k.conf", &text, &MemoryLoader::new(), Options::default()).unwrap();
    let prober: Prober =
        Arc::new(|kind, env| Box::pin(async move { vigil::os::probe::run(&kind, &env).await }));
    let lvs = Lvs::start(cfg, || Ok(MemoryBackend::default()), prober).unwrap();
    // The first reading (1 s after the start, plus warmup up to delay_loop,
    // 0 here: FILE_CHECK has none): weight 3 + 0.
    wait_for(&lvs, Duration::from_secs(70), Some(3)).expect("first reading");
    std::fs::write(&path, "5\n").unwrap();
    let t = wait_for(&lvs, SLACK, Some(8)).expect("written in place");
    eprintln!("FILE_CHECK: written in place -> weight 8 after {t:?}");
    let tmp = dir.join("weight.new");
    std::fs::write(&tmp, "2\n").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let t = wait_for(&lvs, SLACK, Some(5)).expect("replaced by a rename");
    eprintln!("FILE_CHECK: replaced by a rename -> weight 5 after {t:?}");
    std::fs::write(&path, "4\n").unwrap();
    let t = wait_for(&lvs, SLACK, Some(7)).expect("written after the rename");
    eprintln!("FILE_CHECK: written after the rename -> weight 7 after {t:?}");
    drop(lvs);
    std::fs::remove_dir_all(&dir).unwrap();
}
