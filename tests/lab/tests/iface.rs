//! Interface lifecycles: an interface deleted and re-created with the same name,
//! MAC and address (PPP, VLANs, USB modems, hot-plug) must not split the VRRP
//! group, and a VIP removed by hand from a master comes back at once.
//!
//! Seed 01 on two vigil routers (r1 master, priority 100; r2 backup, 80). In the
//! lab a router's `eth0` is a veth whose peer is a bridge port: deleting it takes
//! the port too, re-creating it plugs a new pair in (a new interface index).
//!
//! Run as root after `cargo build --release -p vigil`:
//! `cargo test --release -p vigil-lab --test iface -- --nocapture [FILTER]`.
//! Without root or namespaces every test is reported as skipped.

use std::time::{Duration, Instant};
use vigil_lab::harness::{check, run};
use vigil_lab::scenario::seed;
use vigil_lab::watch::Timeline;
use vigil_lab::{logs, wait, watch::VipWatch, Daemon, Host, Kind, Lab};

const VIP: &str = "192.168.67.150";
const SECS: fn(f64) -> Duration = Duration::from_secs_f64;
/// The seed's advert interval: the longest tolerated dual-master stretch.
const ADVERT_INT: f64 = 1.0;
/// How often the watcher samples who holds the VIP.
const SAMPLE: Duration = Duration::from_millis(50);
const ROUNDS: usize = 3;

/// Master_Down_Interval of a priority-`prio` VRRPv2 backup with advert_int 1 s.
fn master_down_v2(prio: u32) -> f64 {
    3.0 * ADVERT_INT + f64::from(256 - prio) / 256.0
}

struct Pair {
    lab: Lab,
    r1: Host,
    r2: Host,
}

/// The lab with seed 01 running, r1 holding the VIP.
fn seed01(tag: &str) -> Result<(Pair, Daemon, Daemon), String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let m = Daemon::start(
        Kind::Vigil,
        &r1,
        "vigil",
        &seed("01-single-master.master.conf")?,
    )?;
    let b = Daemon::start(
        Kind::Vigil,
        &r2,
        "vigil",
        &seed("01-single-master.backup.conf")?,
    )?;
    wait::for_cond(SECS(6.0), "VIP on r1 only", || vip_on(&r1) && !vip_on(&r2))
        .map_err(|e| logs(&[&m, &b], e))?;
    Ok((Pair { lab, r1, r2 }, m, b))
}

fn vip_on(h: &Host) -> bool {
    h.has_addr("eth0", VIP)
}

fn only_on(owner: &Host, other: &Host) -> bool {
    vip_on(owner) && !vip_on(other)
}

/// How many times `d` logged `(VI_1) Entering <state> STATE`.
fn entered(d: &Daemon, state: &str) -> usize {
    d.log_text()
        .matches(&format!("(VI_1) Entering {state} STATE"))
        .count()
}

/// The longest dual-master stretch the watch saw, checked against one advert
/// interval.
fn overlap_ok(t: &Timeline, what: &str) -> Result<f64, String> {
    let o = t.longest_overlap().as_secs_f64();
    if o > ADVERT_INT {
        return Err(format!(
            "{what}: both routers held {VIP} for {o:.3} s (limit {ADVERT_INT} s, {} samples)",
            t.samples.len()
        ));
    }
    Ok(o)
}

/// VI_1's count of adverts received, from `vigil status --json`.
fn adverts_received(d: &Daemon) -> Option<u64> {
    d.status_counter("adverts_received")
}

/// Time until `d` counts an advert more than `before` (it hears its peer).
fn hears_again(d: &Daemon, before: u64, since: Instant, limit: f64) -> Result<f64, String> {
    wait::until(SECS(limit), Duration::from_millis(20), || {
        adverts_received(d).filter(|n| *n > before)
    })
    .map(|_| since.elapsed().as_secs_f64())
    .ok_or_else(|| format!("{} heard no advert within {limit} s", d.host.name))
}

/// Raw VRRP sockets (IPv4, protocol 112) and packet sockets open in `h`'s
/// namespace: a socket left on a deleted interface would still count.
fn sockets(h: &Host) -> Result<(usize, usize), String> {
    let raw = h.run(&["cat", "/proc/net/raw"])?;
    let vrrp = raw
        .lines()
        .skip(1)
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(":0070"))
        })
        .count();
    let packet = h.run(&["cat", "/proc/net/packet"])?.lines().skip(1).count();
    Ok((vrrp, packet))
}

/// Waits until `h` has `vrrp` raw VRRP sockets and at most `packet` packet
/// sockets.
fn sockets_settle(h: &Host, vrrp: usize, packet: usize) -> Result<(usize, usize), String> {
    let mut last = (0, 0);
    let ok = wait::until(SECS(2.0), Duration::from_millis(50), || {
        last = sockets(h).ok()?;
        (last.0 == vrrp && last.1 <= packet).then_some(last)
    });
    ok.map(|(v, _)| v).ok_or_else(|| {
        format!(
            "{}: {} raw VRRP and {} packet sockets open, expected {vrrp} and at most {packet}",
            h.name, last.0, last.1
        )
    })
}

/// The daemon saw the new interface come up under its new index.
fn saw_new_index(d: &Daemon, index: u32) -> Result<(), String> {
    let line = format!("interface eth0 (index {index}) is up");
    wait::for_cond(SECS(2.0), &line, || d.log_text().contains(&line)).map(|_| ())
}

/// r1's eth0 goes away: r2 takes over; it comes back (same name, MAC, address,
/// new index): r1 hears r2 again, preempts it after its Master_Down_Interval,
/// and r2 steps down at r1's first advert. Before the fix r1 kept its socket on
/// the old index, could neither send nor hear, and both held the VIP.
fn master_iface_recreated() -> Result<(), String> {
    let (p, m, b) = seed01("ifm")?;
    let ctx = |e: String| logs(&[&m, &b], e);
    let limit = master_down_v2(100) + 3.0;
    for round in 1..=ROUNDS {
        let old = p.lab.ifindex(&p.r1, "eth0")?;
        let watch = VipWatch::every(vec![p.r1.clone(), p.r2.clone()], VIP, SAMPLE);
        p.lab.delete_eth0(&p.r1)?;
        let takeover =
            wait::for_cond(SECS(6.0), "r2 taking over", || only_on(&p.r2, &p.r1)).map_err(&ctx)?;
        let heard = adverts_received(&m).ok_or_else(|| ctx("no status from r1".into()))?;
        p.lab.recreate_eth0(&p.r1)?;
        let t1 = Instant::now();
        let new = p.lab.ifindex(&p.r1, "eth0")?;
        let hear = hears_again(&m, heard, t1, limit).map_err(&ctx)?;
        wait::for_cond(SECS(limit), "VIP back on r1 only", || only_on(&p.r1, &p.r2))
            .map_err(&ctx)?;
        let back = t1.elapsed().as_secs_f64();
        wait::holds(SECS(2.0), "VIP staying on r1 only", || {
            only_on(&p.r1, &p.r2)
        })
        .map_err(&ctx)?;
        let timeline = watch.finish();
        let overlap = overlap_ok(&timeline, &format!("round {round}")).map_err(&ctx)?;
        saw_new_index(&m, new).map_err(&ctx)?;
        let (raw, packet) = sockets_settle(&p.r1, 1, 1).map_err(&ctx)?;
        println!(
            "    round {round}: r1 eth0 index {old} -> {new}; r2 took over {:.3} s after \
             the deletion; r1 heard r2 {hear:.3} s and re-converged {back:.3} s after the \
             re-creation (limit {limit:.3} s); \
             max dual master {overlap:.3} s ({} samples); r1 sockets: {raw} VRRP, {packet} packet",
            takeover.as_secs_f64(),
            timeline.samples.len()
        );
    }
    Ok(())
}

/// r2's eth0 goes away and comes back while r1 stays master: r2 must go back to
/// BACKUP and hear r1, never taking the VIP. Before the fix it took the VIP one
/// Master_Down_Interval after its link returned.
fn backup_iface_recreated() -> Result<(), String> {
    let (p, m, b) = seed01("ifb")?;
    let ctx = |e: String| logs(&[&m, &b], e);
    let down = master_down_v2(80);
    let limit = down + 3.0;
    let masters = entered(&b, "MASTER");
    for round in 1..=ROUNDS {
        let old = p.lab.ifindex(&p.r2, "eth0")?;
        let (faults, backups) = (entered(&b, "FAULT"), entered(&b, "BACKUP"));
        let watch = VipWatch::every(vec![p.r1.clone(), p.r2.clone()], VIP, SAMPLE);
        p.lab.delete_eth0(&p.r2)?;
        wait::for_cond(SECS(3.0), "r2 in FAULT", || entered(&b, "FAULT") > faults).map_err(&ctx)?;
        let heard = adverts_received(&b).ok_or_else(|| ctx("no status from r2".into()))?;
        p.lab.recreate_eth0(&p.r2)?;
        let t1 = Instant::now();
        let new = p.lab.ifindex(&p.r2, "eth0")?;
        wait::for_cond(SECS(limit), "r2 BACKUP again", || {
            entered(&b, "BACKUP") > backups
        })
        .map_err(&ctx)?;
        let back = t1.elapsed().as_secs_f64();
        let hear = hears_again(&b, heard, t1, limit).map_err(&ctx)?;
        // Past the moment the old socket made r2 take over, and then some.
        let until = SECS(down + 1.5).saturating_sub(t1.elapsed());
        wait::holds(until, "VIP staying on r1 only", || only_on(&p.r1, &p.r2)).map_err(&ctx)?;
        if entered(&b, "MASTER") > masters {
            return Err(ctx(format!("round {round}: r2 went MASTER")));
        }
        let timeline = watch.finish();
        let overlap = overlap_ok(&timeline, &format!("round {round}")).map_err(&ctx)?;
        saw_new_index(&b, new).map_err(&ctx)?;
        sockets_settle(&p.r2, 1, 0).map_err(&ctx)?;
        println!(
            "    round {round}: r2 eth0 index {old} -> {new}; BACKUP again {back:.3} s and \
             hearing r1 {hear:.3} s after \
             the re-creation (limit {limit:.3} s), VIP stayed on r1 for {:.1} s after it; \
             max dual master {overlap:.3} s ({} samples)",
            down + 1.5,
            timeline.samples.len()
        );
    }
    Ok(())
}

/// `ip addr del` of the VIP on the master: vigil puts it back at once (with its
/// label) and says so; the backup never takes it.
fn vip_removed_by_hand() -> Result<(), String> {
    let (p, m, b) = seed01("ifv")?;
    let ctx = |e: String| logs(&[&m, &b], e);
    let states = (entered(&m, "BACKUP"), entered(&b, "MASTER"));
    let watch = VipWatch::every(vec![p.r1.clone(), p.r2.clone()], VIP, SAMPLE);
    for round in 1..=2 {
        let restored = m.log_text().matches("while MASTER: restored").count();
        p.r1.run(&["ip", "addr", "del", &format!("{VIP}/24"), "dev", "eth0"])?;
        let t0 = Instant::now();
        wait::for_cond(SECS(1.0), "VIP back on r1 as eth0:0", || {
            p.r1.addr_label("eth0", VIP).as_deref() == Some("eth0:0")
        })
        .map_err(&ctx)?;
        let back = t0.elapsed().as_secs_f64();
        wait::for_cond(SECS(1.0), "the restore logged", || {
            m.log_text().matches("while MASTER: restored").count() > restored
        })
        .map_err(&ctx)?;
        println!("    round {round}: VIP back on r1 {back:.3} s after `ip addr del`");
    }
    wait::holds(SECS(2.0), "VIP staying on r1 only", || {
        only_on(&p.r1, &p.r2)
    })
    .map_err(&ctx)?;
    let timeline = watch.finish();
    if timeline.samples.iter().any(|(_, held)| held[1]) {
        return Err(ctx("r2 took the VIP".into()));
    }
    if (entered(&m, "BACKUP"), entered(&b, "MASTER")) != states {
        return Err(ctx("a state changed".into()));
    }
    Ok(())
}

/// SIGHUP removing an instance closes its socket: VI_2 sends from its own
/// source (`mcast_src_ip`), so it has a socket of its own on eth0.
fn reload_closes_sockets() -> Result<(), String> {
    let mut lab = Lab::new("ifr")?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let one = seed("01-single-master.master.conf")?;
    let two = format!(
        "{one}\nvrrp_instance VI_2 {{\n    state BACKUP\n    interface eth0\n    \
         virtual_router_id 52\n    priority 100\n    advert_int 1\n    \
         mcast_src_ip 192.168.67.100\n    virtual_ipaddress {{\n        \
         192.168.67.160/24 dev eth0\n    }}\n}}\n"
    );
    let d = Daemon::start(Kind::Vigil, &r1, "vigil", &two)?;
    let ctx = |e: String| logs(&[&d], e);
    wait::for_cond(SECS(6.0), "both VIPs on r1", || {
        vip_on(&r1) && r1.has_addr("eth0", "192.168.67.160")
    })
    .map_err(&ctx)?;
    let before = sockets_settle(&r1, 2, 1).map_err(&ctx)?;
    r1.write("vigil.conf", &one)?;
    d.signal(nix::sys::signal::Signal::SIGHUP)?;
    wait::for_cond(SECS(3.0), "VI_2's VIP gone", || {
        !r1.has_addr("eth0", "192.168.67.160")
    })
    .map_err(&ctx)?;
    let after = sockets_settle(&r1, 1, 1).map_err(&ctx)?;
    if !vip_on(&r1) {
        return Err(ctx("VI_1 lost its VIP on the reload".into()));
    }
    println!(
        "    VRRP sockets {} -> {}, packet sockets {} -> {}",
        before.0, after.0, before.1, after.1
    );
    Ok(())
}

fn main() {
    vigil_lab::cleanup::install_signal_cleanup();
    run(&[
        ("master_iface_recreated", || check(master_iface_recreated())),
        ("backup_iface_recreated", || check(backup_iface_recreated())),
        ("vip_removed_by_hand", || check(vip_removed_by_hand())),
        ("reload_closes_sockets", || check(reload_closes_sockets())),
    ]);
}
