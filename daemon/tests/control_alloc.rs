//! Heap use of the control socket per request: reading a request takes a
//! fixed-size buffer, so what a client sends never changes how often the
//! daemon allocates. Counted with a counting global allocator (this test
//! binary only); `--nocapture` prints the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use vigil::control::Server;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One request and its whole reply, with client buffers on the stack.
fn exchange(path: &Path, req: &[u8]) -> usize {
    let mut s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(req).unwrap();
    let mut buf = [0u8; 512];
    let mut total = 0;
    loop {
        match s.read(&mut buf).unwrap() {
            0 => return total,
            n => total += n,
        }
    }
}

/// Exchanges per measured block.
const BLOCK: usize = 48;

/// Allocations of `BLOCK` exchanges of `req` in a row. Counted per block,
/// not per exchange: a reply task that finishes late (a loaded host) moves
/// its allocations into the next window, which a per-exchange count would
/// read as noise in both directions; in a block only the edges can leak.
fn allocs_per_block(path: &Path, req: &[u8]) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    for _ in 0..BLOCK {
        assert!(exchange(path, req) > 0);
    }
    // The last reply task finishes after the client sees EOF.
    std::thread::sleep(Duration::from_millis(100));
    ALLOCS.load(Ordering::SeqCst) - before
}

/// Fewest allocations per block of each request over a few rounds, the
/// requests taking turns so that each sees the same host (the reactor's
/// own bookkeeping only adds).
fn allocs_per_request<const N: usize>(path: &Path, reqs: [&[u8]; N]) -> [usize; N] {
    let mut fewest = [usize::MAX; N];
    for _ in 0..3 {
        for (req, f) in reqs.iter().zip(fewest.iter_mut()) {
            *f = (*f).min(allocs_per_block(path, req));
        }
    }
    fewest
}

#[test]
fn request_size_does_not_change_allocations() {
    let dir = std::env::temp_dir().join(format!("vigil-ctl-alloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("vigil.sock");
    let mut ctl = Server::bind(&path).unwrap();
    // One thread runs the server and its reply tasks (as the daemon's loop
    // does): tasks on smol's global executor ran on another thread, whose
    // wake-ups allocated a varying amount per exchange on a loaded host.
    std::thread::spawn(move || {
        let ex = smol::LocalExecutor::new();
        smol::block_on(ex.run(async {
            loop {
                let conn = ctl.accept().await;
                ex.spawn(async move {
                    let _ = conn.reply(b"ok\n").await;
                })
                .detach();
            }
        }))
    });
    // Warm up: the reactor's and executor's first-use allocations.
    for _ in 0..4 {
        exchange(&path, b"status\n");
    }
    let mut long = b"status".to_vec();
    long.resize(255, b' ');
    long.push(b'\n');
    assert_eq!(long.len(), 256);
    let [short, long_n, refused] =
        allocs_per_request(&path, [b"status\n", &long[..], &[b'x'; 1000][..]]);
    let per = |n: usize| n as f64 / BLOCK as f64;
    println!(
        "allocations per request ({BLOCK} in a row): 7 B {:.2}, 256 B {:.2}, 1000 B (refused) {:.2}",
        per(short),
        per(long_n),
        per(refused)
    );
    // An allocation that grew with the request would add one per exchange.
    assert!(
        long_n < short + BLOCK * 3 / 4,
        "a longer request must not allocate more: {long_n} vs {short} per {BLOCK}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
