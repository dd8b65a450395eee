//! Gratuitous ARP and unsolicited NA sent in namespace A must re-point B's
//! stale neighbour entry for the VIP to A's MAC.

mod os_util;

use std::time::{Duration, Instant};

use os_util::{Netns, Pair};
use vigil::os::garp::AnnounceSocket;

const FAKE_MAC: &str = "02:00:00:00:00:99";

fn mac_bytes(text: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, part) in text.split(':').enumerate() {
        m[i] = u8::from_str_radix(part, 16).unwrap();
    }
    m
}

/// Wait until `ip neigh show <addr>` in `ns` mentions `mac`.
fn wait_for_neigh(ns: &Netns, cmd: &str, mac: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let shown = ns.sh(cmd);
        if shown.contains(mac) || Instant::now() > deadline {
            return shown;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn gratuitous_arp_repoints_a_stale_entry() {
    let pair = or_skip!(Pair::new());
    let mac_a = Pair::mac(&pair.a);
    pair.b.sh(&format!(
        "ip neigh replace 10.9.0.100 lladdr {FAKE_MAC} dev eth0 nud stale"
    ));
    assert!(pair
        .b
        .sh("ip neigh show 10.9.0.100 dev eth0")
        .contains(FAKE_MAC));
    let mac = mac_bytes(&mac_a);
    pair.a.run(move || {
        let idx = nix::net::if_::if_nametoindex("eth0").unwrap();
        let s = AnnounceSocket::open(idx, mac).unwrap();
        smol::block_on(s.send_garp("10.9.0.100".parse().unwrap())).unwrap();
    });
    let shown = wait_for_neigh(&pair.b, "ip neigh show 10.9.0.100 dev eth0", &mac_a);
    assert!(shown.contains(&mac_a), "B still has: {shown}");
}

#[test]
fn unsolicited_na_repoints_a_stale_entry() {
    let pair = or_skip!(Pair::new());
    let mac_a = Pair::mac(&pair.a);
    pair.b.sh(&format!(
        "ip -6 neigh replace fd00:9::100 lladdr {FAKE_MAC} dev eth0 nud stale"
    ));
    let mac = mac_bytes(&mac_a);
    pair.a.run(move || {
        let idx = nix::net::if_::if_nametoindex("eth0").unwrap();
        let s = AnnounceSocket::open(idx, mac).unwrap();
        smol::block_on(s.send_na("fd00:9::100".parse().unwrap(), false)).unwrap();
    });
    let shown = wait_for_neigh(&pair.b, "ip -6 neigh show fd00:9::100 dev eth0", &mac_a);
    assert!(shown.contains(&mac_a), "B still has: {shown}");
}

#[test]
fn announcements_carry_the_configured_mac() {
    // With a VMAC-style source MAC the entry must follow that MAC, not the
    // interface's: proves the frame's sender MAC is ours to choose.
    let pair = or_skip!(Pair::new());
    pair.b.sh(&format!(
        "ip neigh replace 10.9.0.101 lladdr {FAKE_MAC} dev eth0 nud stale"
    ));
    pair.a.run(move || {
        let idx = nix::net::if_::if_nametoindex("eth0").unwrap();
        let mut s = AnnounceSocket::open(idx, [0; 6]).unwrap();
        s.set_mac([0x00, 0x00, 0x5e, 0x00, 0x01, 0x33]);
        smol::block_on(s.send_garp("10.9.0.101".parse().unwrap())).unwrap();
    });
    let shown = wait_for_neigh(
        &pair.b,
        "ip neigh show 10.9.0.101 dev eth0",
        "00:00:5e:00:01:33",
    );
    assert!(shown.contains("00:00:5e:00:01:33"), "B has: {shown}");
}

#[test]
fn opening_on_a_missing_interface_fails_typed() {
    let ns = or_skip!(Netns::new());
    let err = ns.run(|| AnnounceSocket::open(999_999, [2, 0, 0, 0, 0, 1]).err());
    assert!(
        matches!(
            err,
            Some(vigil::os::garp::GarpError::Bind(nix::errno::Errno::ENODEV))
        ),
        "{err:?}"
    );
}
