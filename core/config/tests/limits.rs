//! Every cap of `Limits` is enforced with a one-line, located refusal, and
//! the cost of reading grows linearly with the input: the inputs that used
//! to exhaust memory, overflow the stack or take minutes are refused (or
//! read) in well under the generous time bounds below, in a debug build.

use std::time::{Duration, Instant};

use vigil_config::{
    from_binary, parse_text, parse_text_with, Diagnostic, Limits, MemoryLoader, Options, Problem,
};

const MAIN: &str = "/etc/keepalived/keepalived.conf";

fn errors(r: Result<impl Sized, Vec<Diagnostic>>) -> Vec<Diagnostic> {
    match r {
        Ok(_) => panic!("accepted"),
        Err(d) => d,
    }
}

fn timed<T>(what: &str, bound: Duration, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    println!("{what}: {took:?}");
    assert!(took < bound, "{what} took {took:?} (bound {bound:?})");
    out
}

fn instances(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "vrrp_instance VI_{i} {{\n interface eth{}\n virtual_router_id {}\n priority 100\n virtual_ipaddress {{\n  10.{}.{}.1/24\n }}\n track_script {{\n  chk_{}\n }}\n}}\n",
            i / 255,
            i % 255 + 1,
            (i / 250) % 250,
            i % 250,
            i % 1000
        ));
    }
    s
}

fn scripts(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "vrrp_script chk_{i} {{\n script \"/bin/true\"\n}}\n"
        ));
    }
    s
}

/// Limits large enough to read the big inputs, to measure the cost itself.
const ROOMY: Limits = Limits {
    file_bytes: 64 << 20,
    total_bytes: 64 << 20,
    tokens: 1 << 24,
    ..Limits::DEFAULT
};

#[test]
fn ten_megabytes_are_refused_at_once_by_the_size_cap() {
    let text = scripts(400_000);
    assert!(text.len() > 10 << 20);
    let d = timed(
        "400,000 vrrp_script, 10+ MB",
        Duration::from_secs(3),
        || {
            errors(parse_text(
                MAIN,
                &text,
                &MemoryLoader::new(),
                Options::default(),
            ))
        },
    );
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].to_string(),
        format!("{MAIN}:1:1: error: cannot read file: larger than the 1048576-byte limit ({MAIN})")
    );
}

#[test]
fn cost_is_linear_in_instances_and_scripts() {
    let loader = MemoryLoader::new();
    // 100,000 instances (their VRIDs and names unique) tracking 1,000 of
    // 400,000 scripts: before, duplicate and lookup scans made this quadratic.
    let mut text = scripts(400_000);
    text.push_str(&instances(100_000));
    println!("input: {} bytes", text.len());
    let (config, _) = timed(
        "400,000 scripts + 100,000 instances",
        Duration::from_secs(30),
        || parse_text_with(MAIN, &text, &loader, Options::default(), &ROOMY).unwrap(),
    );
    assert_eq!(config.instances.len(), 100_000);
    assert_eq!(config.scripts.len(), 400_000);
    // Doubling the input must not much more than double the time (best of 3
    // each, so that a busy machine does not decide it).
    let best = |n: usize| {
        let text = instances(n);
        (0..3)
            .map(|_| {
                let t = Instant::now();
                let r = parse_text_with(MAIN, &text, &loader, Options::default(), &ROOMY);
                // keepalived ignores a track naming no script, with a warning.
                let warned = r.as_ref().is_ok_and(|(_, w)| {
                    w.iter()
                        .any(|d| matches!(d.problem, vigil_config::Problem::UnknownTrackScript(_)))
                });
                assert!(warned, "chk_ scripts are missing");
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let (small, big) = (best(10_000), best(40_000));
    println!("10,000 instances {small:?}, 40,000 instances {big:?}");
    assert!(
        big < small * 10,
        "4x input took {big:?} vs {small:?}: not linear"
    );
}

#[test]
fn the_largest_accepted_file_is_read_fast() {
    // Just under the token cap (about 400 KB of instances).
    let mut text = scripts(1000);
    text.push_str(&instances(2_800));
    assert!(text.len() < Limits::DEFAULT.file_bytes);
    println!("input: {} bytes", text.len());
    let (config, _) = timed("2,800 instances", Duration::from_secs(3), || {
        parse_text(MAIN, &text, &MemoryLoader::new(), Options::default()).unwrap()
    });
    assert_eq!(config.instances.len(), 2_800);
}

#[test]
fn any_nesting_depth_is_refused_without_overflowing_the_stack() {
    let text = "vrrp_instance {\n".repeat(60_000);
    let d = timed("60,000 nested blocks", Duration::from_secs(3), || {
        errors(parse_text(
            MAIN,
            &text,
            &MemoryLoader::new(),
            Options::default(),
        ))
    });
    let deep: Vec<_> = d
        .iter()
        .filter(|d| matches!(d.problem, Problem::TooDeep(16)))
        .collect();
    assert_eq!(deep.len(), 1);
    assert_eq!(
        deep[0].to_string(),
        format!(
            "{MAIN}:17:15: error: blocks nested deeper than the limit of 16; inner blocks skipped"
        )
    );
}

#[test]
fn includes_are_capped_per_file_in_total_and_in_number() {
    let mut l = MemoryLoader::new();
    let big = "#".repeat(Limits::DEFAULT.file_bytes + 1);
    let part = format!("{}\n", "#".repeat(99)).repeat(Limits::DEFAULT.file_bytes / 100);
    l.insert("/etc/keepalived/big.conf", &big);
    for i in 0..5 {
        l.insert(&format!("/etc/keepalived/part/{i}.conf"), &part);
    }
    for i in 0..1100 {
        l.insert(&format!("/etc/keepalived/many/{i:04}.conf"), "");
    }
    let text = "global_defs {\n}\ninclude big.conf\ninclude part/*.conf\ninclude many/*.conf\n";
    let d = errors(parse_text(MAIN, text, &l, Options::default()));
    let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        lines,
        [
            format!("{MAIN}:3:1: error: cannot read file: larger than the 1048576-byte limit (/etc/keepalived/big.conf)"),
            format!("{MAIN}:4:1: error: configuration files together exceed the 4194304-byte limit; include refused (/etc/keepalived/part/4.conf)"),
            format!("{MAIN}:5:1: error: more than 1024 configuration files; include refused"),
        ]
    );
}

#[test]
fn lines_words_and_tokens_are_capped() {
    let l = MemoryLoader::new();
    let text = format!(
        "global_defs {{\n router_id {}\n}}\n{}\n",
        "r".repeat(5000),
        "x".repeat(20_000)
    );
    let d = errors(parse_text(MAIN, &text, &l, Options::default()));
    let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        lines,
        [
            format!("{MAIN}:2:2: error: missing value (router_id)"),
            format!("{MAIN}:2:12: error: word longer than the 4096-byte limit; skipped"),
            format!("{MAIN}:4:1: error: line longer than the 16384-byte limit; skipped"),
        ]
    );
    // Braces are the cheapest tokens: 4 bytes of "{ }\n" are 2 tokens.
    let text = "{ }\n".repeat(200_000);
    let d = timed("400,000 brace tokens", Duration::from_secs(3), || {
        errors(parse_text(MAIN, &text, &l, Options::default()))
    });
    let capped: Vec<_> = d
        .iter()
        .filter(|d| d.problem == Problem::TooManyTokens(5 << 14))
        .collect();
    assert_eq!(capped.len(), 1);
    assert_eq!((capped[0].line, capped[0].col), (40_961, 1));
}

#[test]
fn at_most_100_errors_are_listed_then_a_count() {
    let text = "vrrp_script\n".repeat(10_000);
    let d = errors(parse_text(
        MAIN,
        &text,
        &MemoryLoader::new(),
        Options::default(),
    ));
    assert_eq!(d.len(), 101);
    assert_eq!(d[99].line, 100);
    assert_eq!(
        d[100].to_string(),
        format!("{MAIN}:101:1: error: 9900 more errors and 0 more warnings not shown")
    );
}

#[test]
fn a_binary_header_declaring_a_huge_body_is_refused_from_the_header() {
    let mut b = b"VIGL".to_vec();
    b.extend_from_slice(&vigil_config::FORMAT_VERSION.to_le_bytes());
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    assert_eq!(
        from_binary(&b).unwrap_err().to_string(),
        "binary config declares a 4294967295-byte body, over the 1048562-byte limit"
    );
}
