//! Benchmark (not a test): parse/validate a large generated configuration and
//! load its binary form.
//!
//! `cargo run --release -p vigil-config --example config_bench`

#[path = "../tests/common/gen.rs"]
mod gen;

use std::time::{Duration, Instant};

use vigil_config::{from_binary, parse_text, show, to_binary, MemoryLoader, Options};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let text = gen::big_config(200, 50, 20);
    let loader = MemoryLoader::new();
    let parse = || {
        parse_text("bench.conf", &text, &loader, Options::default())
            .expect("generated config is valid")
    };
    let (config, _) = parse();
    let bin = to_binary(&config).expect("encodes");
    assert_eq!(from_binary(&bin).expect("decodes"), config);
    let shown = show(&config);

    let parse_t = time(21, parse);
    let load_t = time(201, || from_binary(&bin).expect("decodes"));
    let encode_t = time(201, || to_binary(&config).expect("encodes"));
    let show_t = time(21, || show(&config));

    println!("config: 200 vrrp_instance, 50 virtual_server x 20 real_server");
    println!("| measure                    | value        |");
    println!("|----------------------------|--------------|");
    println!("| text size (generated)      | {:>9} B  |", text.len());
    println!("| text size (show, explicit) | {:>9} B  |", shown.len());
    println!("| binary size                | {:>9} B  |", bin.len());
    println!(
        "| binary / generated text    | {:>11.3}  |",
        bin.len() as f64 / text.len() as f64
    );
    println!(
        "| parse+validate text (med)  | {:>9.3} ms |",
        parse_t.as_secs_f64() * 1e3
    );
    println!(
        "| load binary (median)       | {:>9.3} ms |",
        load_t.as_secs_f64() * 1e3
    );
    println!(
        "| encode binary (median)     | {:>9.3} ms |",
        encode_t.as_secs_f64() * 1e3
    );
    println!(
        "| show (median)              | {:>9.3} ms |",
        show_t.as_secs_f64() * 1e3
    );
    let ok = |b: bool| if b { "ok" } else { "MISSED" };
    println!(
        "goals: binary load < 20 ms (it goes through the text validator): {}; \
         text parse < 20 ms: {}; binary <= 1/4 text: {}",
        ok(load_t < Duration::from_millis(20)),
        ok(parse_t < Duration::from_millis(20)),
        ok(bin.len() * 4 <= text.len())
    );
}
