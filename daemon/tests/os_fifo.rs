//! Notify FIFOs as keepalived opens them: created 0600, never blocking a
//! writer without a reader, dropping lines (and saying so) once the pipe is
//! full, unlinked on close only if we created them.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use vigil::os::fifo::{create, Fifo, Written};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-fifo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn no_reader_never_blocks_and_lines_wait() {
    let d = scratch("noreader");
    let p = d.join("n.fifo");
    assert!(create(&p, None).unwrap(), "created");
    let meta = std::fs::metadata(&p).unwrap();
    assert!(meta.file_type().is_fifo());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let f = Fifo::open(&p, true).unwrap();
    assert_eq!(f.write_line("INSTANCE \"VI_1\" MASTER 100\n"), Written::Yes);
    // A late reader still gets what was written.
    let mut r = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(&p)
        .unwrap();
    let mut buf = [0u8; 256];
    let n = r.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"INSTANCE \"VI_1\" MASTER 100\n");
    drop(r);
    // Nobody reads: the pipe fills, then lines are dropped, without blocking.
    let line = "x".repeat(100) + "\n";
    let t0 = std::time::Instant::now();
    let mut written = 0usize;
    let mut full = 0usize;
    for _ in 0..2000 {
        match f.write_line(&line) {
            Written::Yes => written += 1,
            Written::Full => full += 1,
            Written::Failed => panic!("write failed"),
        }
    }
    assert!(t0.elapsed().as_millis() < 1000, "writes blocked");
    assert!(
        (600..2000).contains(&written) && full > 0,
        "{written} {full}"
    );
    drop(f);
    assert!(!p.exists(), "a FIFO we created is removed");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_existing_fifo_is_used_and_kept() {
    let d = scratch("existing");
    let p = d.join("e.fifo");
    nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    assert!(!create(&p, None).unwrap(), "already there");
    let f = Fifo::open(&p, false).unwrap();
    assert_eq!(f.write_line("GROUP \"G\" BACKUP 0\n"), Written::Yes);
    drop(f);
    assert!(p.exists(), "not ours to remove");
    assert!(create(&d.join("missing/dir.fifo"), None).is_err());
    let _ = std::fs::remove_dir_all(&d);
}
