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

/// Allocations one exchange of `req` took.
fn allocs_once(path: &Path, req: &[u8]) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    assert!(exchange(path, req) > 0);
    // The reply task finishes after the client sees EOF.
    std::thread::sleep(Duration::from_millis(20));
    ALLOCS.load(Ordering::SeqCst) - before
}

/// Fewest allocations an exchange of each request took over many rounds,
/// the requests taking turns so that each sees the same host (the reactor's
/// own bookkeeping adds noise upwards, never downwards, and more of it
/// while the host is loaded).
fn allocs_per_request<const N: usize>(path: &Path, reqs: [&[u8]; N]) -> [usize; N] {
    let mut fewest = [usize::MAX; N];
    for _ in 0..48 {
        for (req, f) in reqs.iter().zip(fewest.iter_mut()) {
            *f = (*f).min(allocs_once(path, req));
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
    std::thread::spawn(move || {
        smol::block_on(async {
            loop {
                let conn = ctl.accept().await;
                smol::spawn(async move {
                    let _ = conn.reply(b"ok\n").await;
                })
                .detach();
            }
        })
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
    println!("allocations per request: 7 B {short}, 256 B {long_n}, 1000 B (refused) {refused}");
    assert_eq!(short, long_n, "a longer request must not allocate more");
    let _ = std::fs::remove_dir_all(&dir);
}
