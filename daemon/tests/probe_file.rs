//! FILE_CHECK reads: a file holding 0, a nonzero number, garbage, an
//! out-of-range number, and a missing file.

#[allow(dead_code)]
mod os_util;
mod probe_util;

use probe_util::{root_env, row, timed};
use vigil_check::{FailReason, ProbeKind, ProbeResult};

fn file(path: &str) -> ProbeKind {
    ProbeKind::File {
        path: path.into(),
        weight: 0,
        reverse: false,
    }
}

#[test]
fn values_are_read_as_keepalived_reads_them() {
    let dir = std::env::temp_dir().join(format!("vigil-probe-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, Option<&str>, ProbeResult); 5] = [
        ("zero", Some("0\n"), ProbeResult::FileValue(0)),
        ("nonzero", Some("  12\n"), ProbeResult::FileValue(12)),
        ("garbage", Some("down"), ProbeResult::FileValue(0)),
        (
            "out of range",
            Some("99999999999"),
            ProbeResult::NotRun(FailReason::FileNumber),
        ),
        ("missing", None, ProbeResult::FileValue(0)),
    ];
    for (name, content, want) in cases {
        let path = dir.join(name.replace(' ', "_"));
        match content {
            Some(c) => std::fs::write(&path, c).unwrap(),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
        let (r, took) = timed(&file(path.to_str().unwrap()), &root_env());
        row(&format!("FILE {name}"), &r, took);
        assert_eq!(r, want, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
