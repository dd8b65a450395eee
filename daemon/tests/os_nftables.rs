//! vigil's nf_tables table against the running kernel, in a throw-away
//! namespace: made, filled, emptied and removed, or (a kernel without
//! nf_tables) refused with a readable reason. A ping to a dropped VIP is
//! tested in the QEMU guest (`tests/guest`), whose kernel has nf_tables.

mod os_util;

use os_util::Netns;
use vigil::os::nftables::{Nft, Table};

#[test]
fn table_lifecycle_or_a_clear_refusal() {
    let ns = match Netns::new() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let r = ns.run(|| {
        let mut nft = Nft::open(Table::default()).map_err(|e| e.to_string())?;
        nft.setup().map_err(|e| e.to_string())?;
        let vip: std::net::IpAddr = "192.168.67.150".parse().unwrap();
        nft.set_vips(true, &[vip]).map_err(|e| e.to_string())?;
        nft.set_vips(false, &[vip]).map_err(|e| e.to_string())?;
        // A second setup replaces a leftover table (a crash before stop).
        nft.setup().map_err(|e| e.to_string())?;
        nft.teardown().map_err(|e| e.to_string())
    });
    match r {
        Ok(()) => eprintln!("nf_tables: table made, filled, emptied and removed"),
        Err(e) => {
            // The refusal must say why in one line, and only for a missing nf_tables.
            assert!(!e.contains('\n'));
            assert!(
                e.contains("no nfnetlink")
                    || e.contains("not supported")
                    || e.contains("Operation not supported"),
                "unexpected: {e}"
            );
            eprintln!("skipped: this kernel has no nf_tables ({e})");
        }
    }
}

/// Pings from `b` to `addr`: answered or not.
fn answered(pair: &os_util::Pair, addr: &str) -> bool {
    let cmd = if addr.contains(':') {
        "ping -6"
    } else {
        "ping"
    };
    pair.b
        .try_sh(&format!("{cmd} -c1 -W1 {addr}"))
        .status
        .success()
}

#[test]
fn dropped_vips_do_not_answer_and_others_do() {
    let pair = match os_util::Pair::new() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    pair.a
        .sh("ip addr add 10.9.0.100/24 dev eth0 && ip addr add fd00:9::100/64 dev eth0 nodad");
    assert!(answered(&pair, "10.9.0.100") && answered(&pair, "fd00:9::100"));
    let vips: Vec<std::net::IpAddr> = vec![
        "10.9.0.100".parse().unwrap(),
        "fd00:9::100".parse().unwrap(),
    ];
    let v = vips.clone();
    // `nftables kad_test`, `nftables_priority -150`, `nftables_counters`.
    let table = Table {
        name: "kad_test".into(),
        priority: -150,
        counters: true,
    };
    let setup = pair.a.run(move || -> Result<Nft, String> {
        let mut nft = Nft::open(table).map_err(|e| e.to_string())?;
        nft.setup().map_err(|e| e.to_string())?;
        nft.set_vips(true, &v).map_err(|e| e.to_string())?;
        Ok(nft)
    });
    let mut nft = match setup {
        Ok(n) => n,
        Err(e) => {
            eprintln!("skipped: this kernel has no nf_tables ({e})");
            return;
        }
    };
    assert!(!answered(&pair, "10.9.0.100"), "IPv4 VIP dropped");
    assert!(!answered(&pair, "fd00:9::100"), "IPv6 VIP dropped");
    assert!(
        answered(&pair, "10.9.0.1"),
        "the interface's own address still answers"
    );
    assert!(
        answered(&pair, "fd00:9::1"),
        "neighbour discovery still works"
    );
    // The socket was opened in `a`: it keeps talking to a's nf_tables.
    nft.set_vips(false, &vips).unwrap();
    assert!(answered(&pair, "10.9.0.100") && answered(&pair, "fd00:9::100"));
    nft.teardown().unwrap();
}

#[test]
fn the_configured_table_name_is_the_one_made() {
    let ns = match Netns::new() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let named = |n: &str| Table {
        name: n.into(),
        ..Table::default()
    };
    let r = ns.run(move || -> Result<(), String> {
        let mut nft = Nft::open(named("kad_x")).map_err(|e| e.to_string())?;
        nft.setup().map_err(|e| e.to_string())?;
        // The default table was not made; ours is there once.
        let mut other = Nft::open(named("keepalived")).map_err(|e| e.to_string())?;
        assert!(other.teardown().is_err(), "no table keepalived");
        let mut same = Nft::open(named("kad_x")).map_err(|e| e.to_string())?;
        same.teardown().map_err(|e| e.to_string())?;
        assert!(nft.teardown().is_err(), "kad_x already gone");
        Ok(())
    });
    match r {
        Ok(()) => eprintln!("nf_tables: table kad_x made and found by its name"),
        Err(e) => eprintln!("skipped: this kernel has no nf_tables ({e})"),
    }
}
