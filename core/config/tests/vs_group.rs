//! `virtual_server_group` and `virtual_server group NAME`, and servers of
//! the other family than their virtual server.

mod common;

use common::{errors, ok, parse_with, render};
use std::net::IpAddr;
use vigil_config::{from_binary, show, to_binary, Problem};
use vigil_model::{IpFamily, LbKind, VsGroupEntry, VsKey};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn warnings(text: &str) -> Vec<(u32, Problem)> {
    match parse_with(text, &[], false) {
        Ok((_, w)) => w.iter().map(|d| (d.line, d.problem.clone())).collect(),
        Err(d) => panic!("refused:\n{}", render(&d)),
    }
}

const GROUP: &str = "\
virtual_server_group web {
    10.0.0.1-10 80
    10.0.1.1-10.0.1.3 80
    10.0.2.0/30 0
    2001:db8::1-1f 443
    10.0.3.3
    fwmark 9 inet6
}
virtual_server group web {
    lb_kind TUN
    persistence_timeout 60
    real_server 10.1.0.1 80
}
";

#[test]
fn entries_are_read_in_every_form() {
    let c = ok(GROUP);
    let vs = &c.virtual_servers[0];
    let g = vs.group.as_ref().unwrap();
    assert_eq!(g.name, "web");
    let r = |a: &str, b: &str, port| VsGroupEntry::Range {
        first: ip(a),
        last: ip(b),
        port,
    };
    assert_eq!(
        g.entries,
        vec![
            r("10.0.0.1", "10.0.0.10", 80),
            r("10.0.1.1", "10.0.1.3", 80),
            r("10.0.2.0", "10.0.2.3", 0),
            r("2001:db8::1", "2001:db8::1f", 443),
            r("10.0.3.3", "10.0.3.3", 0),
            VsGroupEntry::Fwmark {
                mark: 9,
                family: Some(IpFamily::V6)
            },
        ]
    );
    assert_eq!(
        g.entries.iter().map(|e| e.len()).sum::<u64>(),
        10 + 3 + 4 + 31 + 1 + 1
    );
    assert_eq!(
        vs.key,
        VsKey::Addr {
            addr: ip("10.0.0.1"),
            port: 80
        }
    );
    assert_eq!(vs.real_servers[0].lb_kind, LbKind::Tun);
}

#[test]
fn show_and_binary_round_trip() {
    let c = ok(GROUP);
    let text = show(&c);
    assert!(text.contains("virtual_server group web {"), "{text}");
    assert!(text.contains("10.0.0.1-10.0.0.10 80"), "{text}");
    assert_eq!(ok(&text), c, "{text}");
    assert_eq!(from_binary(&to_binary(&c).unwrap()).unwrap(), c);
}

#[test]
fn a_group_may_be_defined_after_its_virtual_server_and_shared() {
    let text = "\
virtual_server group g {
    protocol UDP
    real_server 10.1.0.1 53
}
virtual_server group g {
    real_server 10.1.0.1 53
}
virtual_server_group g {
    10.0.0.1 53
}
";
    let c = ok(text);
    assert_eq!(c.virtual_servers.len(), 2);
    assert!(c.virtual_servers.iter().all(|v| v.group.is_some()));
    let shown = show(&c);
    assert_eq!(shown.matches("virtual_server_group").count(), 1, "{shown}");
    assert_eq!(ok(&shown), c);
}

#[test]
fn bad_entries_are_skipped_with_a_warning_as_keepalived_does() {
    let text = "\
virtual_server_group g {
    10.0.0.5-3 80
    10.0.0.1/30 80
    10.0.0.1-300 80
    2001:db8::1-2001:db8:1::2 80
    fwmark 4 ipx
    10.0.0.9 80
}
virtual_server group g {
    real_server 10.1.0.1 80
}
";
    let w = warnings(text);
    let lines: Vec<u32> = w.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6], "{w:?}");
    assert!(matches!(w[0].1, Problem::BadGroupEntry(..)));
    let c = ok(text);
    assert_eq!(
        c.virtual_servers[0].group.as_ref().unwrap().entries.len(),
        1
    );
}

#[test]
fn unknown_or_empty_group_drops_the_virtual_server() {
    let text = "\
virtual_server_group empty {
}
virtual_server group nowhere {
    real_server 10.1.0.1 80
}
";
    let w = warnings(text);
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!((w[0].0, w[1].0), (1, 3));
    assert!(ok(text).virtual_servers.is_empty());
}

#[test]
fn a_huge_group_is_refused() {
    let e = errors("virtual_server_group big { 10.0.0.0/16 80 }\n");
    assert_eq!(e.len(), 1, "{}", render(&e));
    assert!(matches!(e[0].problem, Problem::BadGroupEntry(..)));
    assert_eq!(e[0].line, 1);
}

#[test]
fn ipv6_service_with_ipv4_real_servers_needs_tun() {
    let tun = "\
virtual_server 2001:db8::10 80 {
    lb_kind TUN
    real_server 10.1.0.1 80
}
";
    ok(tun);
    let dr = tun.replace("TUN", "DR");
    let e = errors(&dr);
    assert_eq!(e.len(), 1, "{}", render(&e));
    assert_eq!(e[0].line, 3);
    assert!(matches!(e[0].problem, Problem::MixedFamily(_)));
    let msg = format!("{}", e[0]);
    assert!(msg.contains(":3:") && msg.contains("TUN"), "{msg}");
    // Per real server: the TUN one passes, the NAT one is refused.
    let mixed = "\
virtual_server 2001:db8::10 80 {
    lb_kind NAT
    real_server 10.1.0.1 80 { lb_kind TUN }
    real_server 10.1.0.2 80
    sorry_server 10.1.0.9 80
}
";
    let e = errors(mixed);
    let lines: Vec<u32> = e.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![4, 5], "{}", render(&e));
}

#[test]
fn group_family_is_checked_against_every_entry() {
    let text = "\
virtual_server_group g {
    10.0.0.1 80
    2001:db8::1 80
}
virtual_server group g {
    lb_kind DR
    real_server 10.1.0.1 80
}
";
    let e = errors(text);
    assert_eq!(e.len(), 1, "{}", render(&e));
    assert_eq!(e[0].line, 7);
    ok(&text.replace("DR", "TUN"));
}

#[test]
fn fwmark_family_follows_the_first_untunnelled_server() {
    let text = "\
virtual_server fwmark 3 {
    lb_kind DR
    real_server 10.1.0.1 0 { lb_kind TUN }
    real_server 2001:db8::5 0
    real_server 2001:db8::6 0
}
";
    ok(text);
    let e = errors(&text.replace("2001:db8::6", "10.1.0.6"));
    assert_eq!(e.len(), 1, "{}", render(&e));
    assert_eq!(e[0].line, 5);
}
