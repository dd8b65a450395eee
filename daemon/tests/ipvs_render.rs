//! Golden tests of `vigil ipvs`: the text is ipvsadm 1.31's, byte for byte
//! (the stats/rate goldens were produced with C printf semantics, `%-33s`,
//! `%9llu` and friends; `|` in a listing marks the end of a line to show
//! the trailing spaces and is not part of the output).

mod ipvs_util;

use ipvs_util::{addr_key as addr, service_with, weighted};
use vigil::ipvsadm::{largenum, render, render_json, Layout};
use vigil::os::ipvs::{DestEntry, Info, ServiceEntry, Stats};
use vigil_lvs::{
    Family, Forwarding, IpProto, ServiceKey, TunCsum, Tunnel, FLAG_MH_PORT, FLAG_ONEPACKET,
    FLAG_PERSISTENT, FLAG_SCHED1, FLAG_SCHED3, FLAG_SH_FALLBACK, FLAG_SH_PORT,
};

const INFO: Info = Info {
    version: 0x010201,
    conn_tab_size: 4096,
};

fn fwm(mark: u32, family: Family) -> ServiceKey {
    ServiceKey::Fwmark { mark, family }
}

fn entry(
    key: ServiceKey,
    sched: &str,
    flags: u32,
    timeout: u32,
    dests: Vec<DestEntry>,
) -> ServiceEntry {
    ServiceEntry {
        service: service_with(key, sched, flags, timeout, key.family().full_prefix()),
        stats: Stats::default(),
        dests,
    }
}

fn d(a: &str, port: u16, forwarding: Forwarding, weight: u32) -> DestEntry {
    DestEntry {
        dest: weighted(a, port, forwarding, weight),
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        stats: Stats::default(),
    }
}

/// The listing with `|` line ends removed.
fn golden(s: &str) -> String {
    s.lines()
        .map(|l| format!("{}\n", l.strip_suffix('|').unwrap_or(l)))
        .collect()
}

/// The example of notes/ipvs.md section 5, given in a scrambled order.
fn example() -> Vec<ServiceEntry> {
    let mut busy = d("10.0.0.12", 80, Forwarding::Dr, 0);
    busy.active_conns = 3;
    busy.inact_conns = 12;
    let mut fast = d("10.0.0.11", 80, Forwarding::Dr, 1);
    fast.stats = Stats {
        conns: 5,
        inpkts: 6,
        outpkts: 7,
        inbytes: 8,
        outbytes: 9,
        cps: 7,
        inpps: 8,
        outpps: 9,
        inbps: 999_999_999,
        outbps: 1_000_000_000,
    };
    let web_key = addr(IpProto::Tcp, "192.168.10.1", 80);
    let mut web = entry(web_key, "wlc", FLAG_PERSISTENT, 360, vec![busy, fast]);
    web.stats = Stats {
        conns: 99_999_999,
        inpkts: 100_000_000,
        outpkts: 1_000_000_000,
        inbytes: 100_000_000_000,
        outbytes: 100_000_000_000_000,
        cps: 1,
        inpps: 2,
        outpps: 3,
        inbps: 123_456_789,
        outbps: 4,
    };
    let sh = FLAG_SH_FALLBACK | FLAG_SH_PORT;
    let v6 = addr(IpProto::Tcp, "2001:db8::1", 443);
    let ipip = Forwarding::Tun(Tunnel::ipip());
    vec![
        entry(
            fwm(7, Family::V4),
            "rr",
            0,
            0,
            vec![d("10.0.0.31", 0, Forwarding::Dr, 1)],
        ),
        entry(v6, "sh", sh, 0, vec![d("2001:db8::11", 443, ipip, 1)]),
        entry(
            addr(IpProto::Udp, "192.168.10.1", 53),
            "rr",
            0,
            0,
            vec![d("10.0.0.21", 53, Forwarding::Nat, 5)],
        ),
        web,
    ]
}

#[test]
fn list_matches_the_notes_example() {
    let want = golden(
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.10.1:80 wlc persistent 360
  -> 10.0.0.11:80                 Route   1      0          0         |
  -> 10.0.0.12:80                 Route   0      3          12        |
UDP  192.168.10.1:53 rr
  -> 10.0.0.21:53                 Masq    5      0          0         |
TCP  [2001:db8::1]:443 sh (sh-fallback,sh-port)
  -> [2001:db8::11]:443           Tunnel  1      0          0         |
FWM  7 rr
  -> 10.0.0.31:0                  Route   1      0          0         |
",
    );
    assert_eq!(render(&INFO, &example(), Layout::List), want);
}

#[test]
fn masks_pe_ops_scheduler_flags_and_ipvsadm_sort_quirks() {
    let two = vec![
        d("10.0.0.1", 80, Forwarding::Dr, 1),
        d("192.168.0.5", 80, Forwarding::Local, 1),
    ];
    let mut tcp10 = entry(
        addr(IpProto::Tcp, "10.0.0.1", 80),
        "rr",
        FLAG_PERSISTENT,
        300,
        two,
    );
    tcp10.service.netmask = 24;
    tcp10.service.pe_name = Some("sip".into());
    let local6 = vec![d("2001:db8::21", 8080, Forwarding::Local, 2)];
    let mut v6 = entry(
        addr(IpProto::Tcp, "2001:db8::2", 80),
        "lc",
        FLAG_PERSISTENT,
        60,
        local6,
    );
    v6.service.netmask = 64;
    let flags = FLAG_SCHED1 | FLAG_SCHED3 | FLAG_ONEPACKET;
    let mut udp = entry(
        addr(IpProto::Udp, "192.168.1.1", 5060),
        "wrr",
        flags,
        0,
        vec![],
    );
    udp.service.pe_name = Some("sip".into()); // shown only while persistent
    let gre = Forwarding::Tun(Tunnel::gre(TunCsum::Csum));
    let services = vec![
        entry(
            fwm(7, Family::V6),
            "mh",
            FLAG_MH_PORT,
            0,
            vec![d("2001:db8::31", 0, gre, 1)],
        ),
        entry(fwm(7, Family::V4), "rr", 0, 0, vec![]),
        entry(fwm(2, Family::V4), "dh", 0, 0, vec![]),
        v6,
        udp,
        tcp10,
        entry(addr(IpProto::Tcp, "192.168.10.1", 80), "wlc", 0, 0, vec![]),
        entry(
            addr(IpProto::Sctp, "192.168.10.2", 3868),
            "sed",
            0,
            0,
            vec![],
        ),
    ];
    // 10.0.0.1 sorts after 192.168.10.1 (and 192.168.0.5 before 10.0.0.1):
    // ipvsadm subtracts the addresses as unsigned and reads the sign of an int.
    let want = golden(
        "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.10.1:80 wlc
TCP  10.0.0.1:80 rr persistent 300 mask 255.255.255.0 pe sip
  -> 192.168.0.5:80               Local   1      0          0         |
  -> 10.0.0.1:80                  Route   1      0          0         |
UDP  192.168.1.1:5060 wrr (flag-1,flag-3) ops
SCTP 192.168.10.2:3868 sed
TCP  [2001:db8::2]:80 lc persistent 60 mask 64
  -> [2001:db8::21]:8080          Local   2      0          0         |
FWM  2 dh
FWM  7 rr
FWM  7 IPv6 mh (mh-port)
  -> [2001:db8::31]:0             Tunnel  1      0          0         |
",
    );
    assert_eq!(render(&INFO, &services, Layout::List), want);
}

#[test]
fn stats_and_rate_layouts_scale_like_ipvsadm() {
    let stats = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n",
        "  -> RemoteAddress:Port\n",
        "TCP  192.168.10.1:80              99999999  100000K    1000M     100G     100T\n",
        "  -> 10.0.0.11:80                        5        6        7        8        9\n",
        "  -> 10.0.0.12:80                        0        0        0        0        0\n",
        "UDP  192.168.10.1:53                     0        0        0        0        0\n",
        "  -> 10.0.0.21:53                        0        0        0        0        0\n",
        "TCP  [2001:db8::1]:443                   0        0        0        0        0\n",
        "  -> [2001:db8::11]:443                  0        0        0        0        0\n",
        "FWM  7                                   0        0        0        0        0\n",
        "  -> 10.0.0.31:0                         0        0        0        0        0\n",
    );
    assert_eq!(render(&INFO, &example(), Layout::Stats), stats);
    let rate = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n",
        "  -> RemoteAddress:Port\n",
        "TCP  192.168.10.1:80                     1        2        3  123456K        4\n",
        "  -> 10.0.0.11:80                        7        8        9  999999K    1000M\n",
        "  -> 10.0.0.12:80                        0        0        0        0        0\n",
        "UDP  192.168.10.1:53                     0        0        0        0        0\n",
        "  -> 10.0.0.21:53                        0        0        0        0        0\n",
        "TCP  [2001:db8::1]:443                   0        0        0        0        0\n",
        "  -> [2001:db8::11]:443                  0        0        0        0        0\n",
        "FWM  7                                   0        0        0        0        0\n",
        "  -> 10.0.0.31:0                         0        0        0        0        0\n",
    );
    assert_eq!(render(&INFO, &example(), Layout::Rate), rate);
}

#[test]
fn largenum_thresholds() {
    let cases = [
        (0, "        0"),
        (99_999_999, " 99999999"),
        (100_000_000, "  100000K"),
        (999_999_999, "  999999K"),
        (1_000_000_000, "    1000M"),
        (99_999_999_999, "   99999M"),
        (100_000_000_000, "     100G"),
        (100_000_000_000_000, "     100T"),
        (u64::MAX, "18446744T"),
    ];
    for (v, want) in cases {
        assert_eq!(largenum(v), want, "{v}");
    }
}

#[test]
fn json_has_stable_keys_in_ipvsadm_order() {
    let mut gue = d(
        "2001:db8::12",
        443,
        Forwarding::Tun(Tunnel::gue(6080, TunCsum::RemCsum)),
        1,
    );
    gue.persist_conns = 2;
    let services = vec![
        entry(fwm(7, Family::V4), "rr", 0, 0, vec![]),
        entry(
            addr(IpProto::Tcp, "2001:db8::1", 443),
            "sh",
            FLAG_SH_FALLBACK | FLAG_PERSISTENT,
            60,
            vec![gue],
        ),
    ];
    let z = r#""stats":{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0,"cps":0,"inpps":0,"outpps":0,"inbps":0,"outbps":0}"#;
    let want = format!(
        concat!(
            r#"{{"version":"1.2.1","conn_tab_size":4096,"services":["#,
            r#"{{"family":"ipv6","protocol":"TCP","address":"2001:db8::1","port":443,"fwmark":null,"#,
            r#""scheduler":"sh","flags":["persistent","sh-fallback"],"timeout":60,"netmask":128,"pe":null,{z},"#,
            r#""dests":[{{"address":"2001:db8::12","port":443,"forward":"tunnel","#,
            r#""tunnel":{{"type":"gue","port":6080,"csum":"remcsum"}},"weight":1,"u_threshold":0,"l_threshold":0,"#,
            r#""active_conns":0,"inact_conns":0,"persist_conns":2,{z}}}]}},"#,
            r#"{{"family":"ipv4","protocol":null,"address":null,"port":null,"fwmark":7,"#,
            r#""scheduler":"rr","flags":[],"timeout":0,"netmask":32,"pe":null,{z},"dests":[]}}]}}"#,
            "\n"
        ),
        z = z
    );
    assert_eq!(render_json(&INFO, &services), want);
}
