//! `virtual_routes`, `virtual_rules`, `static_routes`, `static_rules` and
//! `static_ipaddress` on a pair of vigil routers (r1 priority 100, r2 80):
//! the master holds the virtual ones and the backup not, they move with a
//! failover and back, the static ones stay on both, tracked ones removed by
//! hand come back, a reload replaces a changed route and deletes a removed
//! one, a kernel refusal is one log line, and a stop removes everything.
//!
//! Run as root after `cargo build --release -p vigil`:
//! `cargo test --release -p vigil-lab --test routes -- --nocapture`.
//! Without root or namespaces the test is reported as skipped.

use std::time::{Duration, Instant};
use vigil_lab::harness::{check, run};
use vigil_lab::{wait, Daemon, Host, Kind, Lab};

const VIP: &str = "192.168.67.150";
const SECS: fn(f64) -> Duration = Duration::from_secs_f64;

/// The config of one router; `reloaded` is the master's second version.
fn config(priority: u32, me: u32, reloaded: bool) -> String {
    let state = if priority == 100 { "MASTER" } else { "BACKUP" };
    let metric = if reloaded { 9 } else { 7 };
    let dropped = if reloaded {
        ""
    } else {
        "        10.54.0.0/16 via 192.168.67.1 dev eth0 table 100\n"
    };
    format!(
        "global_defs {{\n    router_id r{me}\n    vrrp_mcast_group4 224.0.0.44\n}}\n\
static_ipaddress {{\n    10.99.0.{me}/32 dev eth0\n}}\n\
static_routes {{\n    10.98.0.0/16 via 192.168.67.1 dev eth0 table 101\n    \
blackhole 10.97.0.0/16 table 101 metric {metric}\n    2001:db8:98::/48 dev eth0 table 101\n}}\n\
static_rules {{\n    from 10.98.0.0/16 table 101 priority 1001\n    \
from 2001:db8:98::/48 table 101 priority 1002\n}}\n\
vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id 51\n    \
priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        {VIP}/24 dev eth0\n    }}\n    \
virtual_routes {{\n        10.50.0.0/16 via 192.168.67.1 dev eth0 table 100\n        \
src {VIP} 10.51.0.0/16 dev eth0 table 100 metric 7\n        unreachable 10.52.0.0/16 table 100\n        \
2001:db8:50::/48 dev eth0 table 100\n        \
10.53.0.0/16 table 100 nexthop via 192.168.67.1 dev eth0 weight 2 nexthop via 192.168.67.2 dev eth0\n\
{dropped}        10.60.0.0/16 via 10.250.0.1 dev eth0 table 100\n        \
10.55.0.0/16 via 192.168.67.1 dev eth0 table 100 tos 0x10 onlink realms 1/2 mtu lock 1400 \
advmss 1360 hoplimit 64 rtt 300ms rttvar 1s rto_min 250ms reordering 3 window 1000 cwnd lock 10 \
ssthresh 20 initcwnd 10 initrwnd 20 features ecn quickack 1 congctl cubic fastopen_no_cookie 1\n        \
throw 10.56.0.0/16 table 100 metric 3\n        prohibit 2001:db8:56::/48 table 100\n    }}\n    \
virtual_rules {{\n        from {VIP} table 100 priority 100\n        \
fwmark 0x10/0xff table 100 priority 101\n        \
from 10.0.0.0/24 to 192.168.0.0/16 tos 0x10 iif eth0 oif lo table 100 priority 103 \
suppress_prefixlength 0 uidrange 1000-2000 ipproto tcp sport 1000-2000 dport 80-80\n        \
from 10.1.0.0/16 priority 104 blackhole\n        not from 10.2.0.0/16 priority 107 table 107\n        priority 105 goto 106\n        \
priority 106 fwmark 7 table 1000\n        from 2001:db8:50::/48 table 100 priority 102\n    }}\n}}\n"
    )
}

fn sh(h: &Host, args: &[&str]) -> String {
    h.run(args).unwrap_or_default()
}

fn table(h: &Host, v6: bool, t: &str) -> String {
    let fam = if v6 { "-6" } else { "-4" };
    sh(h, &["ip", fam, "route", "show", "table", t])
}

fn rules(h: &Host, v6: bool) -> String {
    sh(h, &["ip", if v6 { "-6" } else { "-4" }, "rule", "show"])
}

/// The virtual entries as `ip` prints them, all present on a master.
fn virtual_entries(h: &Host) -> Vec<(&'static str, bool)> {
    let t4 = table(h, false, "100");
    let t6 = table(h, true, "100");
    let r4 = rules(h, false);
    let r6 = rules(h, true);
    vec![
        (
            "10.50.0.0/16 via 192.168.67.1 dev eth0",
            t4.contains("10.50.0.0/16 via 192.168.67.1 dev eth0"),
        ),
        (
            "10.51.0.0/16 dev eth0 ... src VIP metric 7",
            t4.lines().any(|l| {
                l.starts_with("10.51.0.0/16 dev eth0")
                    && l.contains(&format!("src {VIP}"))
                    && l.contains("metric 7")
            }),
        ),
        (
            "unreachable 10.52.0.0/16",
            t4.contains("unreachable 10.52.0.0/16"),
        ),
        (
            "multipath 10.53.0.0/16 weight 2",
            t4.contains("10.53.0.0/16") && t4.contains("weight 2"),
        ),
        (
            "2001:db8:50::/48 dev eth0",
            t6.contains("2001:db8:50::/48 dev eth0"),
        ),
        (
            "100: from VIP lookup 100",
            r4.contains(&format!("100:\tfrom {VIP} lookup 100")),
        ),
        (
            "101: fwmark 0x10/0xff lookup 100",
            r4.contains("101:\tfrom all fwmark 0x10/0xff lookup 100"),
        ),
        (
            "102: from 2001:db8:50::/48 lookup 100",
            r6.contains("102:\tfrom 2001:db8:50::/48 lookup 100"),
        ),
    ]
}

fn has_virtual(h: &Host) -> bool {
    virtual_entries(h).iter().all(|e| e.1)
}

/// Not one virtual entry (table 100 empty, no rule 100-102).
fn none_virtual(h: &Host) -> bool {
    table(h, false, "100").trim().is_empty()
        && table(h, true, "100").trim().is_empty()
        && !rules(h, false).contains("lookup 100")
        && !rules(h, true).contains("lookup 100")
}

fn has_static(h: &Host, me: u32) -> bool {
    let t4 = table(h, false, "101");
    let t6 = table(h, true, "101");
    t4.contains("10.98.0.0/16 via 192.168.67.1 dev eth0")
        && t4.contains("blackhole 10.97.0.0/16")
        && t6.contains("2001:db8:98::/48 dev eth0")
        && rules(h, false).contains("1001:\tfrom 10.98.0.0/16 lookup 101")
        && rules(h, true).contains("1002:\tfrom 2001:db8:98::/48 lookup 101")
        && h.has_addr("eth0", &format!("10.99.0.{me}"))
}

fn none_static(h: &Host, me: u32) -> bool {
    table(h, false, "101").trim().is_empty()
        && table(h, true, "101").trim().is_empty()
        && !rules(h, false).contains("lookup 101")
        && !h.has_addr("eth0", &format!("10.99.0.{me}"))
}

fn missing(h: &Host) -> String {
    let m: Vec<_> = virtual_entries(h)
        .into_iter()
        .filter(|e| !e.1)
        .map(|e| e.0)
        .collect();
    format!("{m:?}")
}

fn logs(ds: &[&Daemon], e: String) -> String {
    let mut s = e;
    for d in ds {
        s.push_str(&format!("\n--- {} ---\n{}", d.host.name, d.log_tail(30)));
    }
    s
}

fn routes_follow_master() -> Result<(), String> {
    let mut lab = Lab::new("rt")?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let mut m = Daemon::start(Kind::Vigil, &r1, "vigil", &config(100, 1, false))?;
    let mut b = Daemon::start(Kind::Vigil, &r2, "vigil", &config(80, 2, false))?;
    let ctx = |e: String, m: &Daemon, b: &Daemon| logs(&[m, b], e);

    let t0 = Instant::now();
    wait::for_cond(
        SECS(8.0),
        "r1 MASTER with its virtual routes and rules",
        || has_virtual(&r1),
    )
    .map_err(|e| ctx(format!("{e}: missing {}", missing(&r1)), &m, &b))?;
    println!(
        "    r1 master with 8 virtual entries after {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    wait::holds(
        SECS(1.5),
        "r2 (backup) without virtual entries, both with the static ones",
        || none_virtual(&r2) && has_static(&r1, 1) && has_static(&r2, 2),
    )
    .map_err(|e| ctx(e, &m, &b))?;

    // One log line for the route the kernel refuses (gateway not reachable).
    let refused: Vec<String> = m
        .log_text()
        .lines()
        .filter(|l| l.contains("cannot add route 10.60.0.0/16"))
        .map(str::to_string)
        .collect();
    if refused.len() != 1 || !m.alive() {
        return Err(ctx(
            format!("expected one refusal line, got {refused:?}"),
            &m,
            &b,
        ));
    }
    println!("    refusal logged once: {}", refused[0].trim());

    // Removed by hand: tracked static and virtual entries come back.
    r1.run(&["ip", "route", "del", "10.98.0.0/16", "table", "101"])?;
    r1.run(&["ip", "rule", "del", "priority", "1001"])?;
    r1.run(&["ip", "route", "del", "10.50.0.0/16", "table", "100"])?;
    r1.run(&["ip", "addr", "del", "10.99.0.1/32", "dev", "eth0"])?;
    let t = Instant::now();
    wait::for_cond(SECS(3.0), "removed entries put back", || {
        has_static(&r1, 1) && has_virtual(&r1)
    })
    .map_err(|e| ctx(e, &m, &b))?;
    println!(
        "    4 entries removed by hand restored in {:.3} s",
        t.elapsed().as_secs_f64()
    );

    // Failover: r1's cable cut, r2 takes over with the virtual entries;
    // r1 (FAULT) keeps none.
    lab.cable(&r1, false)?;
    let t = Instant::now();
    wait::for_cond(SECS(6.0), "virtual entries moved to r2", || {
        has_virtual(&r2) && none_virtual(&r1)
    })
    .map_err(|e| ctx(format!("{e}: r2 missing {}", missing(&r2)), &m, &b))?;
    println!(
        "    failover: entries on r2, gone from r1, {:.2} s after the cut",
        t.elapsed().as_secs_f64()
    );
    lab.cable(&r1, true)?;
    let t = Instant::now();
    wait::for_cond(SECS(8.0), "virtual entries back on r1", || {
        has_virtual(&r1) && none_virtual(&r2)
    })
    .map_err(|e| ctx(e, &m, &b))?;
    println!(
        "    back on r1 (preempt) {:.2} s after the cable came back",
        t.elapsed().as_secs_f64()
    );
    if !has_static(&r1, 1) || !has_static(&r2, 2) {
        return Err(ctx(
            "static entries lost across the failover".into(),
            &m,
            &b,
        ));
    }

    // Reload: the blackhole's metric changes (replaced), 10.54/16 is dropped.
    if !table(&r1, false, "100").contains("10.54.0.0/16") {
        return Err(ctx("10.54.0.0/16 missing before the reload".into(), &m, &b));
    }
    r1.write("vigil.conf", &config(100, 1, true))?;
    m.signal(nix::sys::signal::Signal::SIGHUP)?;
    wait::for_cond(SECS(3.0), "reload applied", || {
        let t = table(&r1, false, "101");
        t.lines()
            .any(|l| l.starts_with("blackhole 10.97.0.0/16") && l.contains("metric 9"))
            && !t.contains("metric 7")
            && !table(&r1, false, "100").contains("10.54.0.0/16")
    })
    .map_err(|e| {
        ctx(
            format!("{e}: table 101 {:?}", table(&r1, false, "101")),
            &m,
            &b,
        )
    })?;
    if !has_virtual(&r1) || !has_static(&r1, 1) {
        return Err(ctx("entries lost in the reload".into(), &m, &b));
    }
    println!("    reload: changed static route replaced, removed virtual route deleted");

    // Stop: the master's virtual and static entries go; the backup takes over.
    m.stop(SECS(5.0)).map_err(|e| ctx(e, &m, &b))?;
    if !none_virtual(&r1) || !none_static(&r1, 1) {
        return Err(ctx(
            format!(
                "r1 after stop: table 100 {:?}, table 101 {:?}, rules {:?}",
                table(&r1, false, "100"),
                table(&r1, false, "101"),
                rules(&r1, false)
            ),
            &m,
            &b,
        ));
    }
    wait::for_cond(
        SECS(6.0),
        "r2 master with the entries after r1's stop",
        || has_virtual(&r2),
    )
    .map_err(|e| ctx(e, &m, &b))?;
    b.stop(SECS(5.0)).map_err(|e| ctx(e, &m, &b))?;
    if !none_virtual(&r2) || !none_static(&r2, 2) {
        return Err(ctx("r2 kept entries after its stop".into(), &m, &b));
    }
    println!("    stop: every virtual and static entry removed on both");
    Ok(())
}

/// What `ip` shows of tables 100, 101 and the rules, sorted, for comparing.
fn snapshot(h: &Host) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (v6, t) in [(false, "100"), (true, "100"), (false, "101"), (true, "101")] {
        // Multipath lines continue on indented lines: join them to their route.
        let mut cur = String::new();
        for l in table(h, v6, t).lines() {
            if l.starts_with(char::is_whitespace) {
                cur.push_str(l);
                continue;
            }
            if !cur.is_empty() {
                out.push(format!(
                    "table {t}: {}",
                    cur.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
            cur = l.to_string();
        }
        if !cur.is_empty() {
            out.push(format!(
                "table {t}: {}",
                cur.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    for v6 in [false, true] {
        // Every rule but the kernel's own three (0, 32766, 32767).
        let ours = |l: &&str| !["0:", "32766:", "32767:"].iter().any(|p| l.starts_with(p));
        out.extend(
            rules(h, v6)
                .lines()
                .filter(ours)
                .map(|l| l.replace('\t', " ")),
        );
    }
    out.sort();
    out
}

/// The same configuration under keepalived 2.2.7 and under vigil, each the
/// master alone: `ip route` / `ip rule` show the same entries, so the same
/// words mean the same kernel routes and rules.
fn same_as_keepalived() -> Result<(), String> {
    let mut lab = Lab::new("rk")?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let conf = config(100, 1, false);
    let mut snaps = Vec::new();
    for kind in [Kind::Keepalived, Kind::Vigil] {
        let mut d = Daemon::start(kind, &r1, &format!("{kind:?}").to_lowercase(), &conf)?;
        wait::for_cond(SECS(10.0), "master with its entries", || {
            has_virtual(&r1) && has_static(&r1, 1)
        })
        .map_err(|e| logs(&[&d], format!("{kind:?}: {e}: missing {}", missing(&r1))))?;
        std::thread::sleep(SECS(0.5));
        snaps.push(snapshot(&r1));
        d.stop(SECS(5.0)).map_err(|e| logs(&[&d], e))?;
        wait::for_cond(SECS(3.0), "entries removed at stop", || {
            none_virtual(&r1) && none_static(&r1, 1)
        })
        .map_err(|e| logs(&[&d], format!("{kind:?}: {e}: {:?}", snapshot(&r1))))?;
    }
    let (k, v) = (&snaps[0], &snaps[1]);
    if k != v {
        let only_k: Vec<_> = k.iter().filter(|l| !v.contains(l)).collect();
        let only_v: Vec<_> = v.iter().filter(|l| !k.contains(l)).collect();
        return Err(format!(
            "keepalived only: {only_k:#?}\nvigil only: {only_v:#?}"
        ));
    }
    println!(
        "    keepalived 2.2.7 and vigil install the same {} routes and rules:",
        k.len()
    );
    for l in k {
        println!("      {l}");
    }
    Ok(())
}

fn main() {
    vigil_lab::cleanup::install_signal_cleanup();
    run(&[
        ("routes_follow_master", || check(routes_follow_master())),
        ("same_as_keepalived", || check(same_as_keepalived())),
    ]);
}
