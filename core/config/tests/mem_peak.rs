//! Peak heap of reading a configuration at the input caps: a router has tens
//! of MiB, so the worst input `vigil check` accepts (or refuses) must stay
//! under [`BOUND`]. Counted with a peak-tracking global allocator (this test
//! binary only); `--nocapture` prints each figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use vigil_config::{parse_text, Limits, MemoryLoader, Options};

struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// What a 64 MB router can give `vigil check` (or a reload) at worst. At the
/// caps of `Limits::DEFAULT` (81,920 words: the 1,000 x 4 scale table is
/// 77,000) the worst input measured 15.1 MiB: 13,653 bare instances, whose
/// model alone is 14 MiB (1,080 bytes each).
const BOUND: usize = 16 << 20;

/// One measurement at a time: the counters are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

const MAIN: &str = "/etc/keepalived/keepalived.conf";

/// Peak heap above what was live before, while parsing `main` with `files`
/// (the loader's copies are not counted; each read's copy is, as a read
/// from disk would be).
fn peak_of(main: &str, files: &[(String, String)]) -> usize {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut l = MemoryLoader::new();
    for (p, t) in files {
        l.insert(p, t);
    }
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let r = parse_text(MAIN, main, &l, Options::default());
    let peak = PEAK.load(Ordering::SeqCst) - base;
    drop(r);
    peak
}

/// Text of about `bytes` made of `unit` repeated.
fn fill(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len())
}

fn report(what: &str, text_bytes: usize, peak: usize) {
    println!(
        "{what}: {:.2} MiB of text, peak heap {:.2} MiB",
        text_bytes as f64 / 1048576.0,
        peak as f64 / 1048576.0
    );
}

/// The statement is the tree's unit: 81,920 of them at the cap.
#[test]
fn a_statement_stays_small() {
    assert!(std::mem::size_of::<vigil_config::parser::Stmt>() <= 72);
}

#[test]
fn the_worst_inputs_within_the_caps_stay_under_the_bound() {
    let caps = Limits::DEFAULT;
    let mut worst = Vec::new();
    // Many small blocks: one instance per few tokens, up to the token cap,
    // in one file at the file cap.
    let vips: String = (0..60_000)
        .map(|n| format!("10.{}.{}.1\n", (n / 256) % 256, n % 256))
        .collect();
    let track: String = (0..40_000).map(|n| format!("e{n}\n")).collect();
    let shapes = [
        (
            "instances with notify",
            (0..40_000)
                .map(|n| format!("vrrp_instance I{n} {{\ninterface eth0\nvirtual_router_id {}\nnotify /n\n}}\n", n % 255 + 1))
                .collect(),
        ),
        (
            "checked real servers",
            format!(
                "virtual_server 10.0.0.1 80 {{\n{}}}\n",
                fill("real_server 10.0.1.1 80 {\nTCP_CHECK {\n}\n}\n", caps.file_bytes - 100)
            ),
        ),
        (
            "tracked interfaces",
            format!(
                "vrrp_instance VI_1 {{\ninterface eth0\nvirtual_router_id 1\ntrack_interface {{\n{track}}}\n}}\n"
            ),
        ),
        (
            "instances",
            (0..40_000)
                .map(|n| format!("vrrp_instance I{n} {{\ninterface eth0\nvirtual_router_id {}\n}}\n", n % 255 + 1))
                .collect(),
        ),
        (
            "bare instances",
            (0..40_000)
                .map(|n| format!("vrrp_instance I{n} {{\nvirtual_router_id {}\n}}\n", n % 255 + 1))
                .collect(),
        ),
        (
            "bare virtual servers",
            (0..40_000)
                .map(|n| format!("virtual_server 10.0.{}.{} 80 {{\n}}\n", n / 256 % 256, n % 256))
                .collect(),
        ),
        (
            "sync groups",
            (0..40_000)
                .map(|n| format!("vrrp_sync_group G{n} {{\ngroup {{\nI{n}\n}}\n}}\n"))
                .collect(),
        ),
        ("small statements", fill("nopreempt\n", caps.file_bytes)),
        (
            "small blocks",
            fill("vrrp_script s {\nscript x\n}\n", caps.file_bytes),
        ),
        (
            "virtual addresses",
            format!(
                "vrrp_instance VI_1 {{\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {{\n{vips}}}\n}}\n"
            ),
        ),
        (
            "real servers",
            format!(
                "virtual_server 10.0.0.1 80 {{\n{}}}\n",
                fill("real_server 10.0.1.1 80 {\nweight 1\n}\n", caps.file_bytes - 100)
            ),
        ),
        (
            "long words",
            fill(
                &format!("{}\n", "w".repeat(caps.word_bytes)),
                caps.file_bytes,
            ),
        ),
        (
            "long quoted words in blocks",
            fill(
                &format!("vrrp_script s {{\nscript \"{}\"\n}}\n", "q".repeat(caps.word_bytes - 2)),
                caps.file_bytes,
            ),
        ),
    ];
    for (what, text) in &shapes {
        let text = &text[..text.len().min(caps.file_bytes)];
        let peak = peak_of(text, &[]);
        report(what, text.len(), peak);
        worst.push((what.to_string(), peak));
    }
    // Includes up to the total cap: many small files, or few at the file cap.
    let many = (caps.total_bytes / (caps.files - 1)).max(1);
    let long_word = format!("{}\n", "w".repeat(caps.word_bytes));
    let long_script = format!(
        "vrrp_script s {{\nscript \"{}\"\n}}\n",
        "q".repeat(caps.word_bytes - 2)
    );
    for (what, unit, per) in [
        ("many includes of comments", "# a comment line\n", many),
        (
            "many includes of blocks",
            "vrrp_script s {\nscript x\n}\n",
            many,
        ),
        (
            "includes of long words",
            long_word.as_str(),
            caps.file_bytes,
        ),
        (
            "includes of long quoted words",
            long_script.as_str(),
            caps.file_bytes,
        ),
        (
            "includes of blocks",
            "vrrp_script s {\nscript x\n}\n",
            caps.file_bytes,
        ),
    ] {
        let n = (caps.total_bytes / per).min(caps.files - 1);
        let files: Vec<(String, String)> = (0..n)
            .map(|i| (format!("/etc/keepalived/d/{i:05}.conf"), fill(unit, per)))
            .collect();
        let total: usize = files.iter().map(|f| f.1.len()).sum();
        assert!(total > caps.total_bytes / 2, "{what}: only {total} bytes");
        let peak = peak_of("include d/*.conf\n", &files);
        report(what, total, peak);
        worst.push((what.to_string(), peak));
    }
    // Past the caps: refused, and the refusal is cheap too.
    let mut over = fill("nopreempt\n", caps.file_bytes);
    over.push_str(&"#".repeat(caps.file_bytes + 1 - over.len()));
    let peak = peak_of(&over, &[]);
    report("one file over the cap (refused)", over.len(), peak);
    worst.push(("over the cap".into(), peak));
    for (what, peak) in &worst {
        assert!(
            *peak <= BOUND,
            "{what}: peak heap {peak} bytes over the {BOUND}-byte bound"
        );
    }
}
