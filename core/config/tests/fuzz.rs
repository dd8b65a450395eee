//! Property tests: random bytes and random token soups never panic the
//! parser or the binary loader (the shared xorshift64*, fixed seeds).

mod common;

use vigil_config::{from_binary, load_any, parse_text, to_binary, MemoryLoader, Options};
use vigil_rng::XorShift;

const WORDS: &[&str] = &[
    "{",
    "}",
    "{",
    "}",
    "\n",
    "\n",
    "\n",
    "global_defs",
    "vrrp_instance",
    "vrrp_script",
    "vrrp_sync_group",
    "virtual_server",
    "real_server",
    "HTTP_GET",
    "TCP_CHECK",
    "MISC_CHECK",
    "DNS_CHECK",
    "SSL_GET",
    "url",
    "path",
    "status_code",
    "200-299",
    "state",
    "MASTER",
    "BACKUP",
    "interface",
    "eth0",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "3",
    "2",
    "0.01",
    "authentication",
    "auth_type",
    "PASS",
    "AH",
    "auth_pass",
    "virtual_ipaddress",
    "10.0.0.1/24",
    "fd00::1/64",
    "dev",
    "label",
    "brd",
    "scope",
    "unicast_peer",
    "track_script",
    "track_interface",
    "weight",
    "-30",
    "reverse",
    "group",
    "notify_master",
    "\"/bin/x a\"",
    "include",
    "x.conf",
    "*.conf",
    "[",
    "\"",
    "#",
    "!",
    "\\",
    "fwmark",
    "1",
    "80",
    "256",
    "-1",
    "999999999999999999999",
    "lb_kind",
    "DR",
    "lb_algo",
    "rr",
    "delay_loop",
    "persistence_timeout",
    "sorry_server",
    "misc_path",
    "user",
    "优先级",
    "nopreempt",
    "use_vmac",
    "smtp_alert",
    "on",
];

#[test]
fn random_bytes_never_panic_the_parser_or_the_loader() {
    let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15);
    let loader = MemoryLoader::new();
    for _ in 0..3000 {
        let len = rng.index(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let _ = load_any(&bytes, "f", &loader, Options::default());
        let _ = from_binary(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_text(
            "f",
            &text,
            &loader,
            Options {
                strict: true,
                ..Options::default()
            },
        );
    }
}

#[test]
fn random_token_soups_never_panic_and_accepted_ones_round_trip() {
    let mut rng = XorShift::new(0x0123_4567_89AB_CDEF);
    let mut loader = MemoryLoader::new();
    loader.insert(
        "x.conf",
        "vrrp_instance I { interface eth0\n virtual_router_id 7\n }\n include x.conf\n",
    );
    let mut accepted = 0;
    for _ in 0..5000 {
        let n = rng.index(80);
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(WORDS[rng.index(WORDS.len())]);
            text.push(if rng.index(4) == 0 { '\n' } else { ' ' });
        }
        if let Ok((c, _)) = parse_text("f.conf", &text, &loader, Options::default()) {
            accepted += 1;
            let shown = vigil_config::show(&c);
            let (again, _) = parse_text("s.conf", &shown, &loader, Options::default())
                .unwrap_or_else(|e| panic!("{text}\n---\n{shown}\n{}", common::render(&e)));
            assert_eq!(again, c, "{text}\n---\n{shown}");
            assert_eq!(from_binary(&to_binary(&c).unwrap()).unwrap(), c);
        }
    }
    assert!(
        accepted > 50,
        "too few soups accepted to exercise show: {accepted}"
    );
}

#[test]
fn mutated_binaries_never_panic() {
    let mut rng = XorShift::new(42);
    let base = to_binary(&common::ok(&common::gen::big_config(2, 1, 2))).unwrap();
    for _ in 0..3000 {
        let mut b = base.clone();
        for _ in 0..1 + rng.index(4) {
            let i = rng.index(b.len());
            b[i] = rng.next_u64() as u8;
        }
        if rng.index(3) == 0 {
            b.truncate(rng.index(b.len() + 1));
        }
        let _ = from_binary(&b);
    }
}
