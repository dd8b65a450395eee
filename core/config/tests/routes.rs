//! `virtual_routes`, `virtual_rules`, `static_routes`, `static_rules` and
//! `static_ipaddress`: every option read, bad lines dropped with a warning
//! at their line, `show` printing what re-reads to the same model.

mod common;

use common::parse_with;
use vigil_model::{
    AddMode, Config, Prefix, Route, RouteType, Rule, RuleAction, Table, PROTO_KEEPALIVED,
};

fn read(text: &str) -> (Config, Vec<String>) {
    match parse_with(text, &[], false) {
        Ok((c, w)) => (c, w.iter().map(|d| d.to_string()).collect()),
        Err(d) => panic!("refused:\n{}", common::render(&d)),
    }
}

fn instance(body: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n \
         virtual_ipaddress {{\n 10.0.0.1/24\n }}\n{body}\n}}\n"
    )
}

fn routes(lines: &str) -> (Vec<Route>, Vec<String>) {
    let (c, w) = read(&format!("static_routes {{\n{lines}\n}}\n"));
    (c.static_routes, w)
}

fn rules(lines: &str) -> (Vec<Rule>, Vec<String>) {
    let (c, w) = read(&format!("static_rules {{\n{lines}\n}}\n"));
    (c.static_rules, w)
}

fn p(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap();
    Prefix {
        addr: a.parse().unwrap(),
        len: l.parse().unwrap(),
    }
}

#[test]
fn plain_route_defaults() {
    let (r, w) = routes("192.168.10.0/24 via 10.0.0.254 dev eth0");
    assert!(w.is_empty(), "{w:?}");
    let r = &r[0];
    assert_eq!(r.dst, p("192.168.10.0/24"));
    assert_eq!(r.via, Some("10.0.0.254".parse().unwrap()));
    assert_eq!(r.dev.as_deref(), Some("eth0"));
    assert_eq!(r.table, Table::MAIN);
    assert_eq!(r.protocol, PROTO_KEEPALIVED);
    assert!(!r.ipv6 && !r.no_track && r.kind.is_none());
    assert_eq!(r.mode, AddMode::Prepend);
}

#[test]
fn every_route_option() {
    let (r, w) = routes(
        "src 10.0.0.1 to unicast 10.1.0.0/16 via 10.0.0.254 dev eth0 table 100 metric 5 \
         scope link tos 0x10 onlink realms 1/2 mtu lock 1400 advmss 1360 hoplimit 64 \
         rtt 300ms rttvar 1s rto_min 250ms reordering 3 window 1000 cwnd lock 10 \
         ssthresh 20 initcwnd 10 initrwnd 20 features ecn quickack 1 congctl cubic \
         fastopen_no_cookie 1 ttl-propagate disabled append",
    );
    assert!(w.is_empty(), "{w:?}");
    let r = &r[0];
    assert_eq!(r.kind, Some(RouteType::Unicast));
    assert_eq!(r.src, Some("10.0.0.1".parse().unwrap()));
    assert_eq!(r.table, Table::Id(100));
    assert_eq!((r.metric, r.scope, r.tos), (Some(5), Some(253), Some(0x10)));
    assert!(r.onlink);
    assert_eq!(r.realms, Some((1 << 16) | 2));
    let m = &r.metrics;
    assert_eq!(
        (m.mtu, m.advmss, m.hoplimit),
        (Some(1400), Some(1360), Some(64))
    );
    // keepalived's units: rtt 1/8 ms, rttvar 1/4 ms, rto_min 1 ms.
    assert_eq!(
        (m.rtt, m.rttvar, m.rto_min),
        (Some(2400), Some(4000), Some(250))
    );
    assert_eq!(m.lock, (1 << 2) | (1 << 7));
    assert!(m.ecn);
    assert_eq!(m.congctl.as_deref(), Some("cubic"));
    assert_eq!(r.ttl_propagate, Some(false));
    assert_eq!(r.mode, AddMode::Append);
}

#[test]
fn types_ipv6_and_multipath() {
    let (r, w) = routes(
        "blackhole 10.9.0.0/16 table 200\n\
         inet6 unreachable default table 200 no_track\n\
         2001:db8:1::/48 from 2001:db8:2::/48 via fe80::1 dev eth0 pref high expires 30\n\
         10.8.0.0/16 nexthop via 10.0.0.1 dev eth0 weight 2 nexthop via 10.0.0.2 dev eth0\n\
         10.7.0.0/16 via inet6 fe80::2 dev eth0\n\
         throw 10.6.0.0/16 table main",
    );
    // keepalived's warning for a tracked route without `dev`, at its line.
    assert_eq!(w.len(), 3, "{w:?}");
    for (w, line) in w.iter().zip([2, 5, 7]) {
        assert!(
            w.contains(&format!(":{line}:")) && w.ends_with("not tracked"),
            "{w}"
        );
    }
    assert_eq!(r.len(), 6);
    assert_eq!(r[0].kind, Some(RouteType::Blackhole));
    assert!(r[1].ipv6 && r[1].no_track && r[1].dst.len == 0 && r[1].dst.addr.is_ipv6());
    assert_eq!(r[2].from, Some(p("2001:db8:2::/48")));
    assert_eq!((r[2].pref, r[2].expires), (Some(1), Some(30)));
    assert_eq!(r[3].nexthops.len(), 2);
    assert_eq!(r[3].nexthops[0].weight, 2);
    assert_eq!(r[3].nexthops[1].weight, 1);
    assert!(!r[4].ipv6 && r[4].via.unwrap().is_ipv6());
    assert_eq!(r[5].kind, Some(RouteType::Throw));
}

#[test]
fn bad_route_lines_are_dropped_with_their_line() {
    let (r, w) = routes(
        "10.0.0.0/8 bogus 1\n\
         10.0.0.0/8 via 2001:db8::1\n\
         10.0.0.0/8 metric\n\
         from 10.0.0.0/8 dev eth0\n\
         10.0.0.0/8 encap mpls 100 dev eth0\n\
         dev eth0\n\
         10.0.0.0/33\n\
         10.5.0.0/16 dev eth0",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(w.len(), 7, "{w:?}");
    for (i, w) in w.iter().enumerate() {
        assert!(w.contains(&format!(":{}:", i + 2)), "{w}");
        assert!(w.contains("route skipped"), "{w}");
    }
    assert!(w[4].contains("not supported by vigil"), "{}", w[4]);
}

#[test]
fn tracked_routes_keep_keepalived_protocol() {
    let (r, w) = routes(
        "10.0.0.0/8 dev eth0 protocol static\n10.1.0.0/16 dev eth0 protocol static no_track",
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(r[0].protocol, PROTO_KEEPALIVED);
    assert_eq!(r[1].protocol, 4);
}

#[test]
fn every_rule_option() {
    let (r, w) = rules(
        "from 10.0.0.0/24 to 192.168.0.0/16 table 100 priority 100 tos 0x10 fwmark 0x10/0xff \
         iif eth0 oif eth1 suppress_prefixlength 0 uidrange 1000-2000 ipproto tcp \
         sport 1000-2000 dport 80 realms 3 tunnel-id 7 suppress_ifgroup 1\n\
         inet6 from 2001:db8::/32 lookup 200 pref 200\n\
         not to 10.0.0.0/8 priority 300 blackhole\n\
         priority 10 goto 20\n\
         priority 30 l3mdev\n\
         from all priority 40 nop no_track",
    );
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(r.len(), 6);
    let a = &r[0];
    assert_eq!(a.from, Some(p("10.0.0.0/24")));
    assert_eq!(a.action, RuleAction::Table(Table::Id(100)));
    assert_eq!((a.priority, a.tos), (Some(100), 0x10));
    assert_eq!((a.fwmark, a.fwmask), (Some(0x10), Some(0xff)));
    assert_eq!(
        (a.iif.as_deref(), a.oif.as_deref()),
        (Some("eth0"), Some("eth1"))
    );
    assert_eq!(a.suppress_prefixlen, Some(0));
    assert_eq!(a.uidrange, Some((1000, 2000)));
    assert_eq!(
        (a.ipproto, a.sport, a.dport),
        (Some(6), Some((1000, 2000)), Some((80, 80)))
    );
    assert_eq!(a.protocol, Some(PROTO_KEEPALIVED));
    assert!(r[1].ipv6);
    assert!(r[2].invert && r[2].action == RuleAction::Blackhole);
    assert_eq!(r[3].action, RuleAction::Goto(20));
    assert_eq!(r[4].action, RuleAction::L3mdev);
    assert_eq!(r[5].protocol, None);
}

#[test]
fn bad_rule_lines_are_dropped() {
    let (r, w) = rules(
        "from 10.0.0.0/8\n\
         from 10.0.0.0/8 table 1 goto 5\n\
         goto 5\n\
         priority 9 goto 5\n\
         to 10.0.0.0/8 from 2001:db8::/32 table 1\n\
         priority 1 nop suppress_prefixlength 0\n\
         from 10.0.0.0/8 fwmark x table 1\n\
         from 10.0.0.0/8 table 0\n\
         from 10.0.0.0/8 table 5",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(w.len(), 9, "{w:?}");
    assert!(w[..8].iter().all(|w| w.contains("rule skipped")), "{w:?}");
    assert!(w[8].contains("priority 16384 given"), "{}", w[8]);
}

#[test]
fn rules_without_priority_are_numbered_down_per_family_in_file_order() {
    let (c, w) = read(&format!(
        "static_rules {{\n from 10.0.0.1 table 1\n from 2001:db8::1 table 1\n \
         from 10.0.0.2 table 1 priority 7\n}}\n{}",
        instance("virtual_rules {\n from 10.0.0.3 table 2\n from 2001:db8::3 table 2\n}")
    ));
    assert_eq!(w.len(), 4, "{w:?}");
    let p: Vec<_> = c.static_rules.iter().map(|r| r.priority).collect();
    assert_eq!(p, [Some(16384), Some(16384), Some(7)]);
    let v: Vec<_> = c.instances[0]
        .virtual_rules
        .iter()
        .map(|r| r.priority)
        .collect();
    assert_eq!(v, [Some(16383), Some(16383)]);
}

#[test]
fn deprecated_or_is_two_nexthops() {
    let (r, w) = routes("10.4.0.0/16 via 10.0.0.1 or 10.0.0.2 dev eth0");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("deprecated"), "{}", w[0]);
    let r = &r[0];
    assert_eq!(r.via, None);
    let hops: Vec<_> = r
        .nexthops
        .iter()
        .map(|n| n.via.unwrap().to_string())
        .collect();
    assert_eq!(hops, ["10.0.0.1", "10.0.0.2"]);
}

#[test]
fn virtual_ones_belong_to_the_instance_and_names_stay_names() {
    let (c, w) = read(&instance(
        "virtual_routes {\n 10.2.0.0/16 dev eth0 table vigil\n}\n\
         virtual_rules {\n from 10.0.0.1 table vigil priority 5\n}",
    ));
    assert!(w.is_empty(), "{w:?}");
    let i = &c.instances[0];
    assert_eq!(i.virtual_routes[0].table, Table::Name("vigil".into()));
    assert_eq!(i.virtual_rules[0].from, Some(p("10.0.0.1/32")));
    assert!(c.static_routes.is_empty());
}

#[test]
fn static_addresses_need_a_dev() {
    let (c, w) = read("static_ipaddress {\n 10.3.0.1/24 dev eth0 scope link\n 10.3.0.2/24\n}\n");
    assert_eq!(c.static_addresses.len(), 1);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(":3:"), "{}", w[0]);
}

#[test]
fn show_reads_back_to_the_same_model() {
    let text = format!(
        "static_ipaddress {{\n 10.3.0.1/24 dev eth0\n}}\n\
         static_routes {{\n src 10.0.0.1 to unicast 10.1.0.0/16 via 10.0.0.254 dev eth0 table 100 \
         metric 5 scope link tos 0x10 onlink realms 1/2 mtu lock 1400 rtt 300ms features ecn \
         congctl lock cubic add\n inet6 unreachable default table 200 no_track protocol 4\n \
         10.8.0.0/16 no_track nexthop via 10.0.0.1 dev eth0 weight 2 onlink nexthop via 10.0.0.2\n \
         10.7.0.0/16 via inet6 fe80::2 dev eth0\n}}\n\
         static_rules {{\n from 10.0.0.0/24 not to 192.168.0.0/16 table 100 priority 100 \
         fwmark 0x10/0xff iif eth0 oif eth1 suppress_prefixlength 0 uidrange 1000-2000 \
         ipproto tcp sport 1000-2000 dport 80 realms 2/3\n inet6 priority 10 goto 20\n \
         priority 40 nop no_track protocol 9\n}}\n{}",
        instance("virtual_routes {\n 10.2.0.0/16 dev eth0 table vigil\n}\nvirtual_rules {\n from 10.0.0.1 table vigil priority 5\n}")
    );
    let (a, w) = read(&text);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(a.static_routes.len(), 4);
    assert_eq!(a.static_rules.len(), 3);
    let shown = vigil_config::show(&a);
    let (b, w) = read(&shown);
    // `show` prints every global default, some of them "not acted on".
    let w: Vec<_> = w.iter().filter(|w| !w.contains("not acted on")).collect();
    assert!(w.is_empty(), "{w:?}\n{shown}");
    assert_eq!(a, b, "{shown}");
}

#[test]
fn binary_form_keeps_them() {
    let (a, _) = read(&format!(
        "static_routes {{\n 10.1.0.0/16 dev eth0 table 7\n}}\n{}",
        instance("virtual_rules {\n from 10.0.0.1 table 7\n}")
    ));
    let b = vigil_config::from_binary(&vigil_config::to_binary(&a).unwrap()).unwrap();
    assert_eq!(a, b);
}

/// keepalived's own route/rule samples: vigil warns on exactly the lines
/// keepalived 2.2.7 reported (`tests/data/keepalived-verdicts.tsv`).
#[test]
fn samples_warn_where_keepalived_does() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data");
    let verdicts = std::fs::read_to_string(data.join("keepalived-verdicts.tsv")).unwrap();
    for name in [
        "keepalived.conf.vrrp.routes",
        "keepalived.conf.vrrp.rules",
        "keepalived.conf.vrrp.static_ipaddress",
    ] {
        let row = verdicts
            .lines()
            .find(|l| l.starts_with(&format!("keepalived-samples/{name}\t")))
            .unwrap();
        let mut theirs: Vec<u32> = row
            .split('\t')
            .nth(3)
            .unwrap()
            .split(" | ")
            .filter_map(|m| m.trim().split_once(':')?.0.parse().ok())
            .collect();
        theirs.dedup();
        let text = std::fs::read_to_string(data.join("keepalived-samples").join(name)).unwrap();
        let (_, w) = parse_with(&text, &[], false).unwrap();
        let mut ours: Vec<u32> = w
            .iter()
            .filter(|d| !d.problem.to_string().contains("not acted on"))
            .map(|d| d.line)
            .collect();
        ours.dedup();
        assert_eq!(ours, theirs, "{name}: {w:?}");
    }
}
