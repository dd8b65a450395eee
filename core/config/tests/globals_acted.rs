//! The global and UDP_CHECK keywords acted on since issue 11: read into
//! the model without "not acted on", bad values reported as keepalived
//! reports them; `nftables_ifindex`, `vrrp_iptables` stay warned.

use vigil_config::{parse_text, MemoryLoader, Options};
use vigil_model::{CheckKind, Config};

fn parse(text: &str) -> (Option<Config>, Vec<String>) {
    match parse_text("k.conf", text, &MemoryLoader::new(), Options::default()) {
        Ok((c, w)) => (Some(c), w.iter().map(|d| d.to_string()).collect()),
        Err(d) => (None, d.iter().map(|d| d.to_string()).collect()),
    }
}

#[test]
fn global_keywords_are_read() {
    let (c, w) = parse(
        "global_defs {
            no_checker_emails
            checker_log_all_failures
            umask IWGRP|IWOTH | IXOTH
            random_seed 4294967295
            nftables_priority 7
            nftables kad
            nftables_counters
        }",
    );
    let c = c.unwrap();
    assert!(w.is_empty(), "{w:?}");
    let g = &c.global;
    assert!(g.no_checker_emails && g.checker_log_all_failures);
    assert_eq!(g.umask, Some(0o023));
    assert_eq!(g.random_seed, Some(u32::MAX));
    // `nftables` resets the priority to -1, as in keepalived.
    assert_eq!(
        (g.nftables.table.as_str(), g.nftables.priority),
        ("kad", -1)
    );
    assert!(g.nftables.counters);
    let (c, _) = parse("global_defs {\nnftables\nnftables_priority -150\n}");
    let g = c.unwrap().global;
    assert_eq!(
        (g.nftables.table.as_str(), g.nftables.priority),
        ("keepalived", -150)
    );
    let (c, _) = parse("global_defs {\nno_checker_emails off\n}");
    assert!(!c.unwrap().global.no_checker_emails);
}

#[test]
fn umask_numbers_as_strtol_base_0() {
    for (v, want) in [
        ("022", 0o22),
        ("0x12", 0o22),
        ("18", 0o22),
        ("0", 0),
        ("0777", 0o777),
    ] {
        let (c, w) = parse(&format!("global_defs {{\numask {v}\n}}"));
        assert_eq!(c.unwrap().global.umask, Some(want), "{v}: {w:?}");
    }
    for bad in ["01000", "8x", "IRUSR|", "IRUSR IWUSR", "IFOO", "022 1"] {
        let (c, w) = parse(&format!("global_defs {{\numask {bad}\n}}"));
        assert!(
            c.is_none_or(|c| c.global.umask.is_none()) && !w.is_empty(),
            "{bad}: {w:?}"
        );
    }
}

#[test]
fn still_warned_with_reason_elsewhere() {
    let (_, w) = parse("global_defs {\nnftables_ifindex\nvrrp_iptables IN OUT\nvrrp_ipsets\n}");
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w.iter().all(|l| l.contains("not acted on")), "{w:?}");
}

fn udp(extra: &str) -> (Option<vigil_model::UdpCheck>, Vec<String>) {
    let (c, w) = parse(&format!(
        "virtual_server 10.0.0.1 53 {{\nprotocol UDP\nreal_server 10.0.0.2 53 {{\nUDP_CHECK {{\n{extra}\n}}\n}}\n}}"
    ));
    let u = c.and_then(
        |c| match &c.virtual_servers[0].real_servers[0].checkers[0].kind {
            CheckKind::Udp(u) => Some(u.as_ref().clone()),
            _ => None,
        },
    );
    (u, w)
}

#[test]
fn udp_reply_matching_is_read() {
    let (u, w) = udp("require_reply de AD x1 5 2X\nmin_reply_length 3\nmax_reply_length 600");
    let u = u.unwrap();
    assert!(w.is_empty(), "{w:?}");
    let p = u.reply.unwrap();
    // "5 " is one octet of its own (keepalived's read_hex_str).
    assert_eq!(p.data, [0xde, 0xad, 0x01, 0x05, 0x20]);
    assert_eq!(p.mask, [0, 0, 0xf0, 0, 0x0f]);
    assert_eq!((u.min_reply_length, u.max_reply_length), (3, 600));
    let (u, _) = udp("require_reply 0102");
    let u = u.unwrap();
    assert!(u.reply.unwrap().mask.is_empty());
    assert_eq!((u.min_reply_length, u.max_reply_length), (0, 255));
    let (u, w) = udp("require_reply 01g2");
    assert!(u.is_none_or(|u| u.reply.is_none()) && !w.is_empty());
    let (_, w) = udp("min_reply_length 70000");
    assert!(!w.is_empty());
    let (_, w) = udp("require_reply 01\nmin_reply_length 9\nmax_reply_length 8");
    assert!(w.iter().any(|l| l.contains("always fails")), "{w:?}");
}

#[test]
fn random_seed_makes_random_repeatable() {
    let text =
        |seed: &str| format!("global_defs {{\nrouter_id r${{_RANDOM 0 1000000000}}\n{seed}\n}}");
    let rid = |t: &str, seed: u64| {
        let opts = Options {
            random_seed: Some(seed),
            ..Options::default()
        };
        let (c, w) = parse_text("k.conf", t, &MemoryLoader::new(), opts).unwrap();
        assert!(w.is_empty(), "{w:?}");
        (c.global.router_id.unwrap(), c.global.random_seed)
    };
    // Without the keyword the caller's seed (the clock) decides.
    let plain = text("");
    assert_ne!(rid(&plain, 1).0, rid(&plain, 2).0);
    // With it, every read gives the same numbers, whatever the caller's
    // seed, although the keyword comes after the use.
    let seeded = text("random_seed 42");
    let (a, s) = rid(&seeded, 1);
    assert_eq!(s, Some(42));
    assert_eq!(a, rid(&seeded, 2).0);
    assert_eq!(a, rid(&seeded, 0xdead_beef).0);
    assert_ne!(a, rid(&text("random_seed 43"), 1).0);
}

#[test]
fn log_all_failures_per_checker() {
    let (c, w) = parse(
        "virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\nTCP_CHECK {\nlog_all_failures\n}\nTCP_CHECK {\nlog_all_failures off\n}\n}\n}",
    );
    assert!(w.is_empty(), "{w:?}");
    let c = c.unwrap();
    let ck = &c.virtual_servers[0].real_servers[0].checkers;
    assert!(ck[0].common.log_all_failures && !ck[1].common.log_all_failures);
    // Not a real server's keyword (keepalived does not know it there).
    let (_, w) =
        parse("virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\nlog_all_failures\n}\n}");
    assert!(!w.is_empty());
}
