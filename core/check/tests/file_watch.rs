//! `Checkers::file_changed`: a FILE_CHECK whose file changed is due at
//! once (the shell watches the file with inotify, as keepalived does),
//! other checkers keep their schedule.

use vigil_check::{Action, Checkers, Instant, ProbeKind, ProbeResult};
use vigil_config::{parse_text, MemoryLoader, Options};

#[test]
fn a_changed_file_is_read_at_once() {
    let text = "track_file a {\nfile /run/a\n}\ntrack_file b {\nfile /run/b\n}
        virtual_server 10.0.0.1 80 {
            delay_loop 60
            real_server 10.0.0.10 80 {
                FILE_CHECK {\ntrack_file a\n}
                FILE_CHECK {\ntrack_file b\n}
            }
        }";
    let (cfg, _) = parse_text("k.conf", text, &MemoryLoader::new(), Options::default()).unwrap();
    let mut c = Checkers::new(&cfg, 1);
    assert_eq!(c.file_paths(), ["/run/a", "/run/b"]);
    let probes = |c: &mut Checkers, at: Instant| -> Vec<String> {
        c.handle_timeout(at);
        let mut out = Vec::new();
        while let Some(a) = c.poll_action() {
            if let Action::Probe {
                checker,
                kind: ProbeKind::File { path, .. },
            } = a
            {
                c.handle_probe_result(at, checker, ProbeResult::FileValue(0))
                    .unwrap();
                out.push(path);
            }
        }
        out
    };
    // Before the start nothing is due, a change or not.
    c.file_changed(Instant::ZERO, "/run/a");
    c.handle_start(Instant::ZERO);
    assert_eq!(
        probes(&mut c, Instant::from_secs(61)).len(),
        2,
        "first readings"
    );
    let t = Instant::from_secs(70);
    assert!(probes(&mut c, t).is_empty(), "next due at 121 s");
    c.file_changed(t, "/run/b");
    assert_eq!(probes(&mut c, t), ["/run/b"]);
    c.file_changed(t, "/run/elsewhere");
    assert!(probes(&mut c, t).is_empty());
}
