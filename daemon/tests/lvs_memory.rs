//! Live heap of the load-balancing side at scale (1,000 virtual servers x
//! 4 real servers with TCP_CHECK, the guest scale benchmark's table): the
//! parsed configuration (text and binary form), the engine's checkers and
//! its record of the table, and what a one-line reload leaves behind.
//! Counted with a counting global allocator (this test binary only, one
//! test so nothing else allocates meanwhile); `--nocapture` prints the
//! figures. The budgets are what the 6 MiB RSS goal leaves for the heap
//! next to a ~1.3 MiB static binary and its stacks. The daemon parses text
//! in a child process (`os/child_load.rs`), so its reloads are measured
//! from the binary form; the in-process parse (the fallback) is printed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::mem::size_of;
use std::sync::atomic::{AtomicIsize, Ordering};

use vigil::runtime::lvs::{Engine, MemoryBackend};
use vigil_check::Instant;
use vigil_config::{from_binary, parse_text, to_binary, MemoryLoader, Options};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grow(n: usize) {
    let now = LIVE.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grow(new_size - layout.size());
        } else {
            LIVE.fetch_sub((layout.size() - new_size) as isize, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// Live bytes added by `f`'s result, and the peak above the start while it
/// ran.
fn measure<T>(f: impl FnOnce() -> T) -> (T, isize, isize) {
    let before = live();
    PEAK.store(before, Ordering::SeqCst);
    let v = f();
    (v, live() - before, PEAK.load(Ordering::SeqCst) - before)
}

fn kib(n: isize) -> f64 {
    n as f64 / 1024.0
}

/// The guest benchmark's table (tests/guest/bench/gen-conf at delay_loop
/// 30); `changed` gets weight 2.
fn table_conf(nvs: u16, nrs: u8, changed: Option<(u16, u8)>) -> String {
    let mut s = String::from(
        "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n \
         priority 150\n version 3\n advert_int 0.1\n virtual_ipaddress {\n  192.168.67.150/24\n }\n}\n",
    );
    for v in 0..nvs {
        s += &format!(
            "virtual_server 192.168.67.150 {} {{\n delay_loop 30\n lb_algo rr\n lb_kind DR\n protocol TCP\n",
            8001 + v
        );
        for r in 0..nrs {
            let w = if changed == Some((v, r)) { 2 } else { 1 };
            s += &format!(
                " real_server 192.168.67.{} {} {{\n  weight {w}\n  TCP_CHECK {{\n   connect_timeout 1\n   retry 2\n   delay_before_retry 1\n  }}\n }}\n",
                10 + r,
                8001 + v
            );
        }
        s += "}\n";
    }
    s
}

fn parse(text: &str) -> vigil_model::Config {
    match parse_text("scale.conf", text, &MemoryLoader::new(), Options::default()) {
        Ok((c, _)) => c,
        Err(d) => panic!("refused: {d:?}"),
    }
}

#[test]
fn heap_at_1000_by_4() {
    let text = table_conf(1000, 4, None);
    let text2 = table_conf(1000, 4, Some((500, 0)));
    let (mut config, config_parsed, parse_peak) = measure(|| parse(&text));
    let ((), shrunk, _) = measure(|| config.shrink_to_fit());
    let config_text = config_parsed + shrunk; // as the engine keeps it
    let bin = to_binary(&config).unwrap();
    let (from_bin, config_bin, bin_peak) = measure(|| from_binary(&bin).unwrap());
    assert_eq!(from_bin, config, "the binary form reads back equal");
    drop(from_bin);

    // The engine: checkers, planner and its record of the table. The fake
    // kernel's table is counted apart (the real one lives in the kernel).
    // The engine takes the Config: its figure is the checkers and planner
    // plus what it keeps of the Config, minus the Config handed in.
    let (mut engine, engine_new, _) = measure(|| Engine::new(config, MemoryBackend::default(), 1));
    let engine_new = engine_new + config_text;
    let ((), _, start_peak) = measure(|| engine.start(Instant::from_secs(0)));
    let (kept_copy, kept, _) = measure(|| engine.config().clone());
    drop(kept_copy);
    let (table_copy, table, _) = measure(|| engine.installed().clone());
    assert_eq!(table_copy.len(), 1000);
    drop(table_copy);

    // The worker takes every output (probes, alerts) as it comes. The
    // first probes of all 4,000 checkers are due within 1 s + warmup
    // (delay_loop): all at once after 40 s. The queues
    // give their room back once drained.
    while engine.poll_out().is_some() {}
    let before_burst = live();
    let ((), _, burst_peak) = measure(|| {
        engine.handle_timeout(Instant::from_secs(40));
        let mut n = 0;
        while engine.poll_out().is_some() {
            n += 1;
        }
        assert_eq!(n, 4000, "every checker's first probe");
    });
    let after_burst = live() - before_burst;
    // A one-line reload as the daemon does it: a child process parses the
    // text and sends the binary form back; the daemon decodes it and hands
    // it over. The child's parse peak is not in the daemon's heap.
    let bin2 = to_binary(&parse(&text2)).unwrap();
    let before_reload = live();
    let ((), _, reload_peak) = measure(|| {
        let next = from_binary(&bin2).unwrap();
        engine.reload(Instant::from_secs(41), next)
    });
    while engine.poll_out().is_some() {}
    // The fake kernel logs the one command sent.
    let after_reload = live() - before_reload;
    assert_eq!(engine.apply_stats().last_commands, 1);
    // The same reload parsed in-process (the fallback when no child can
    // be started), back to the first table.
    let ((), _, text_reload_peak) = measure(|| {
        let next = parse(&text);
        engine.reload(Instant::from_secs(42), next)
    });
    while engine.poll_out().is_some() {}

    println!(
        "sizes (B): Checker {}, ProbeKind {}, model RealServer {}, model Checker {}, VirtualServer {}, \
         Destination {}, Command {}",
        size_of::<vigil_check::Checker>(),
        size_of::<vigil_check::ProbeKind>(),
        size_of::<vigil_model::RealServer>(),
        size_of::<vigil_model::Checker>(),
        size_of::<vigil_model::VirtualServer>(),
        size_of::<vigil_lvs::Destination>(),
        size_of::<vigil_lvs::Command>(),
    );
    println!(
        "first probes of 4,000 checkers at once: peak {:.0} KiB, {:+.0} KiB kept",
        kib(burst_peak),
        kib(after_burst)
    );
    println!(
        "1,000 x 4: Config {:.0} KiB from text as parsed, {:.0} KiB kept (parse peak {:.0} KiB), {:.0} KiB from binary \
         (peak {:.0} KiB, {} B on flash); engine (checkers, planner) {:.0} KiB with the Config, of which the Config it keeps {:.0} KiB; \
         start peak {:.0} KiB; one Table copy {:.0} KiB; one-line reload (binary from the child): \
         peak {:.0} KiB above the running engine, {:+.0} KiB left; the same parsed in-process: peak {:.0} KiB",
        kib(config_parsed),
        kib(config_text),
        kib(parse_peak),
        kib(config_bin),
        kib(bin_peak),
        bin.len(),
        kib(engine_new),
        kib(kept),
        kib(start_peak),
        kib(table),
        kib(reload_peak),
        kib(after_reload),
        kib(text_reload_peak),
    );
    // Budgets (KiB): the parsed config, what the engine keeps of it (no
    // checker blocks), the checkers, one table copy, a reload's peak as
    // the daemon does it; a reload must not leave more behind than it found.
    assert!(kib(config_text) < 1100.0, "Config from text");
    assert!(kib(config_bin) < 1100.0, "Config from binary");
    assert!(kib(kept) < 520.0, "the Config the engine keeps");
    assert!(
        kib(engine_new) < 1800.0,
        "engine: the checkers (core/check) and the Config it keeps"
    );
    assert!(kib(table) < 400.0, "one Table copy");
    assert!(kib(reload_peak) < 2600.0, "a reload from the binary form");
    assert!(after_reload.abs() < 64 * 1024, "a reload leaks nothing");
    assert!(
        kib(after_burst) < 200.0,
        "a burst of probes leaves its queues"
    );
}
