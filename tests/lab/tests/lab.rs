//! Lab tests: the real `vigil` binary (and keepalived from Debian as the reference
//! peer) in network namespaces: two routers and a client on one bridge, as in the
//! course the seed configurations come from (192.168.67.0/24, VIP .150 on eth0:0).
//!
//! Run as root: `cargo test --release -p vigil-lab --test lab [-- FILTER]`.
//! Without root or namespaces every test is reported as skipped.

use std::time::Duration;
use vigil_lab::harness::{check, run, Outcome};
use vigil_lab::scenario::{peer, peer_swapped_states, seed};
use vigil_lab::{logs, wait, watch::VipWatch, Daemon, Host, Kind, Lab};

const VIP: &str = "192.168.67.150";
const SECS: fn(f64) -> Duration = Duration::from_secs_f64;

/// Master_Down_Interval of a priority-`prio` VRRPv2 backup with advert_int 1 s.
fn master_down_v2(prio: u32) -> f64 {
    3.0 + f64::from(256 - prio) / 256.0
}

struct Pair {
    lab: Lab,
    r1: Host,
    r2: Host,
    client: Host,
}

fn pair(tag: &str) -> Result<Pair, String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let client = lab.host("client", "192.168.67.10/24")?;
    Ok(Pair {
        lab,
        r1,
        r2,
        client,
    })
}

fn vip_on(h: &Host) -> bool {
    h.has_addr("eth0", VIP)
}

/// Waits until exactly `owner` holds the VIP (and `other` does not).
fn vip_moves_to(owner: &Host, other: &Host, timeout: f64) -> Result<Duration, String> {
    wait::only_on(owner, other, VIP, timeout)
}

/// The client reaches the VIP and its ARP entry points at `owner`'s MAC.
fn client_follows(client: &Host, owner: &Host) -> Result<(), String> {
    let mac = owner.mac("eth0")?;
    wait::for_cond(SECS(3.0), &format!("client ping of {VIP}"), || {
        client.ping(VIP)
    })?;
    wait::for_cond(
        SECS(3.0),
        &format!("client ARP entry for {VIP} = {} ({mac})", owner.name),
        || client.neigh_mac(VIP).as_deref() == Some(mac.as_str()),
    )
    .map(|_| ())
}

fn in_window(what: &str, t: Duration, lo: f64, hi: f64) -> Result<(), String> {
    let s = t.as_secs_f64();
    if s < lo || s > hi {
        return Err(format!(
            "{what}: {s:.3} s, expected within [{lo:.3}, {hi:.3}] s"
        ));
    }
    println!("    {what}: {s:.3} s");
    Ok(())
}

/// Kills the master on r1 and cuts its cable; the priority-80 backup on r2 must
/// take the VIP after its Master_Down_Interval. The kill falls somewhere within an
/// advert interval, so 2.69 to 3.69 s after it.
fn kill_master(p: &Pair, m: &mut Daemon, b: &Daemon, what: &str) -> Result<(), String> {
    m.kill();
    p.lab.cable(&p.r1, false)?;
    let t = vip_moves_to(&p.r2, &p.client, 6.0).map_err(|e| logs(&[b], e))?;
    in_window(what, t, master_down_v2(80) - 1.0, master_down_v2(80) + 0.1)
}

/// Starts vigil with seed 01 on both routers: master r1 (100), backup r2 (80).
fn seed01(p: &Pair) -> Result<(Daemon, Daemon), String> {
    let m = Daemon::start(
        Kind::Vigil,
        &p.r1,
        "vigil",
        &seed("01-single-master.master.conf")?,
    )?;
    let b = Daemon::start(
        Kind::Vigil,
        &p.r2,
        "vigil",
        &seed("01-single-master.backup.conf")?,
    )?;
    Ok((m, b))
}

/// Seed 01: the master is killed and its cable cut; the backup takes the VIP after
/// Master_Down_Interval, the client's ARP entry follows; the master comes back and
/// preempts.
fn s01_preemption() -> Result<(), String> {
    let p = pair("s01")?;
    let (mut m, b) = seed01(&p)?;
    let ctx = |e: String| logs(&[&m, &b], e);
    wait::for_cond(SECS(6.0), "VIP on r1 as eth0:0", || {
        p.r1.addr_label("eth0", VIP).as_deref() == Some("eth0:0")
    })
    .map_err(&ctx)?;
    if vip_on(&p.r2) {
        return Err(ctx("backup r2 holds the VIP too".into()));
    }
    client_follows(&p.client, &p.r1).map_err(&ctx)?;

    kill_master(&p, &mut m, &b, "failover after master loss")?;
    client_follows(&p.client, &p.r2).map_err(|e| logs(&[&b], e))?;

    let m2 = Daemon::start(
        Kind::Vigil,
        &p.r1,
        "vigil2",
        &seed("01-single-master.master.conf")?,
    )?;
    p.lab.cable(&p.r1, true)?;
    vip_moves_to(&p.r1, &p.r2, 8.0).map_err(|e| logs(&[&m2, &b], e))?;
    client_follows(&p.client, &p.r1).map_err(|e| logs(&[&m2, &b], e))?;
    // The killed daemon left its VIP on r1; the new one removed it at start.
    if !m2.log_text().contains("left on eth0 by an earlier run") {
        return Err(logs(
            &[&m2],
            "the leftover VIP of the killed run was not reported removed".into(),
        ));
    }
    Ok(())
}

/// Seed 02: both BACKUP with nopreempt; the priority-80 router is master first and
/// stays master when the priority-100 one comes up.
fn s02_nopreempt() -> Result<(), String> {
    let p = pair("s02")?;
    let conf = seed("02-nopreempt.conf")?;
    let low = Daemon::start(Kind::Vigil, &p.r2, "vigil", &peer(&conf))?;
    vip_moves_to(&p.r2, &p.r1, 6.0).map_err(|e| logs(&[&low], e))?;
    let high = Daemon::start(Kind::Vigil, &p.r1, "vigil", &conf)?;
    wait::holds(SECS(6.0), "VIP staying on r2 (nopreempt)", || {
        vip_on(&p.r2) && !vip_on(&p.r1)
    })
    .map_err(|e| logs(&[&low, &high], e))
}

/// Seed 03: preempt_delay 10: the priority-100 router takes the VIP back only 10 s
/// after it starts hearing the lower-priority master.
fn s03_preempt_delay() -> Result<(), String> {
    let p = pair("s03")?;
    let conf = seed("03-preempt-delay.conf")?;
    let low = Daemon::start(Kind::Vigil, &p.r2, "vigil", &peer(&conf))?;
    vip_moves_to(&p.r2, &p.r1, 6.0).map_err(|e| logs(&[&low], e))?;
    let high = Daemon::start(Kind::Vigil, &p.r1, "vigil", &conf)?;
    let t = vip_moves_to(&p.r1, &p.r2, 16.0).map_err(|e| logs(&[&low, &high], e))?;
    in_window("VIP back after start of the preferred router", t, 9.5, 14.0)
}

/// Seed 04: unicast adverts: the election works and no VRRP multicast is on the wire.
fn s04_unicast() -> Result<(), String> {
    let p = pair("s04")?;
    let conf = seed("04-unicast.conf")?;
    // 04 has both routers BACKUP with preempt_delay: the first started wins.
    let a = Daemon::start(Kind::Vigil, &p.r1, "vigil", &conf)?;
    vip_moves_to(&p.r1, &p.r2, 6.0).map_err(|e| logs(&[&a], e))?;
    let b = Daemon::start(Kind::Vigil, &p.r2, "vigil", &peer(&conf))?;
    let cap = |h: &Host, filter: &str| -> usize {
        // `timeout` ends tcpdump with exit 124, which run() reports as Err: the
        // captured lines are in either.
        let text = h
            .run(&["timeout", "4", "tcpdump", "-n", "-i", "eth0", "-l", filter])
            .unwrap_or_else(|e| e);
        text.lines().filter(|l| l.contains("VRRP")).count()
    };
    let multicast = cap(&p.r2, "ip proto 112 and ip multicast");
    let unicast = cap(
        &p.r2,
        "ip proto 112 and src host 192.168.67.100 and dst host 192.168.67.200",
    );
    if multicast > 0 || unicast < 2 {
        return Err(logs(
            &[&a, &b],
            format!(
            "expected only unicast adverts: saw {multicast} multicast and {unicast} unicast in 4 s"
        ),
        ));
    }
    println!("    unicast adverts seen in 4 s: {unicast}, multicast: {multicast}");
    Ok(())
}

/// Seed 05: notify_master / backup / fault, and the generic `notify`, called with
/// keepalived's arguments; the "faild" typo makes the script exit 1, which is logged.
fn s05_notify() -> Result<(), String> {
    let p = pair("s05")?;
    let out = p.r1.dir().join("notify.out");
    let script = p.r1.write(
        "mail.sh",
        &format!(
            "#!/bin/sh\necho \"$*\" >> {out}\ncase \"$1\" in master|backup|fault) ;; *) exit 1 ;; esac\n",
            out = out.display()
        ),
    )?;
    let all = p.r1.write(
        "notify-all.sh",
        &format!("#!/bin/sh\necho \"notify $*\" >> {}\n", out.display()),
    )?;
    for s in [&script, &all] {
        std::process::Command::new("chmod")
            .arg("755")
            .arg(s)
            .status()
            .map_err(|e| e.to_string())?;
    }
    let conf = seed("05-notify.conf")?
        .replace("/etc/keepalived/mail.sh", &script.display().to_string())
        .replace(
            "notify_fault",
            &format!("notify \"{}\"\n    notify_fault", all.display()),
        );
    let d = Daemon::start(Kind::Vigil, &p.r1, "vigil", &conf)?;
    let ctx = |e: String| {
        let o = std::fs::read_to_string(&out).unwrap_or_default();
        logs(&[&d], format!("{e}\nnotify.out:\n{o}"))
    };
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    wait::for_cond(SECS(6.0), "notify master", || {
        read().lines().any(|l| l == "master")
    })
    .map_err(&ctx)?;
    p.r1.run(&["ip", "link", "set", "eth0", "down"])?;
    wait::for_cond(SECS(3.0), "notify faild", || {
        read().lines().any(|l| l == "faild")
    })
    .map_err(&ctx)?;
    p.r1.run(&["ip", "link", "set", "eth0", "up"])?;
    wait::for_cond(SECS(6.0), "notify master again", || {
        read().lines().filter(|l| *l == "master").count() == 2
    })
    .map_err(&ctx)?;
    let text = read();
    let expect_prefix = [
        "backup",
        "notify INSTANCE VI_1 BACKUP 100",
        "master",
        "notify INSTANCE VI_1 MASTER 100",
    ];
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < 4 || lines[..4] != expect_prefix {
        return Err(ctx(format!(
            "notify order: expected {expect_prefix:?} first"
        )));
    }
    if !lines.contains(&"notify INSTANCE VI_1 FAULT 100") {
        return Err(ctx("no `notify INSTANCE VI_1 FAULT 100`".into()));
    }
    let log = d.log_text();
    if !log
        .lines()
        .any(|l| l.contains("faild") && l.contains("exit") && l.contains('1'))
    {
        return Err(ctx(
            "the failing notify_fault (exit 1) was not logged".into()
        ));
    }
    Ok(())
}

/// Seed 06: dual master: WEB_VIP (.150) on r1, DB_VIP (.160) on r2.
fn s06_dual_master() -> Result<(), String> {
    let p = pair("s06")?;
    let conf = seed("06-dual-master.conf")?;
    let a = Daemon::start(Kind::Vigil, &p.r1, "vigil", &conf)?;
    let b = Daemon::start(Kind::Vigil, &p.r2, "vigil", &peer_swapped_states(&conf))?;
    let db = "192.168.67.160";
    wait::for_cond(
        SECS(6.0),
        "WEB on r1 (eth0:0) and DB on r2 (eth0:1)",
        || {
            p.r1.addr_label("eth0", VIP).as_deref() == Some("eth0:0")
                && p.r2.addr_label("eth0", db).as_deref() == Some("eth0:1")
                && !vip_on(&p.r2)
                && !p.r1.has_addr("eth0", db)
        },
    )
    .map_err(|e| logs(&[&a, &b], e))?;
    Ok(())
}

/// Seed 09: the tracked script fails twice -> priority 100 - 30 = 70 < 80: the VIP
/// moves to the peer; two successes later it comes back.
fn s09_track_script() -> Result<(), String> {
    let p = pair("s09")?;
    let mk = |h: &Host| -> Result<(String, std::path::PathBuf), String> {
        let flag = h.dir().join("haproxy.up");
        std::fs::write(&flag, "").map_err(|e| e.to_string())?;
        let s = h.write(
            "haproxy.sh",
            &format!("#!/bin/sh\ntest -e {}\n", flag.display()),
        )?;
        std::process::Command::new("chmod")
            .arg("755")
            .arg(&s)
            .status()
            .map_err(|e| e.to_string())?;
        Ok((s.display().to_string(), flag))
    };
    let (s1, flag1) = mk(&p.r1)?;
    let (s2, _) = mk(&p.r2)?;
    let conf = seed("09-track-script.conf")?;
    let path = "/etc/keepalived/scripts/haproxy.sh";
    let a = Daemon::start(Kind::Vigil, &p.r1, "vigil", &conf.replace(path, &s1))?;
    let b = Daemon::start(
        Kind::Vigil,
        &p.r2,
        "vigil",
        &peer_swapped_states(&conf).replace(path, &s2),
    )?;
    let ctx = |e: String| logs(&[&a, &b], e);
    vip_moves_to(&p.r1, &p.r2, 8.0).map_err(&ctx)?;
    std::fs::remove_file(&flag1).map_err(|e| e.to_string())?;
    let t = vip_moves_to(&p.r2, &p.r1, 6.0).map_err(&ctx)?;
    // fall 2 x interval 1 s, then the peer (80 > 70) waits out its
    // Master_Down_Interval (3.6875 s) from the last advert it accepted.
    in_window(
        "VIP moved after the script failed",
        t,
        1.5,
        2.0 + 3.6875 + 0.5,
    )?;
    std::fs::write(&flag1, "").map_err(|e| e.to_string())?;
    let t = vip_moves_to(&p.r1, &p.r2, 6.0).map_err(&ctx)?;
    // rise 2, then r1 (100 > 80) waits out its own Master_Down_Interval (3.609 s).
    in_window(
        "VIP back after the script recovered",
        t,
        1.5,
        2.0 + 3.609 + 0.5,
    )?;
    Ok(())
}

/// Graceful stop: SIGTERM on the master sends priority 0; the backup (priority 80)
/// takes over after Skew_Time = 0.6875 s, not Master_Down_Interval.
fn graceful_stop() -> Result<(), String> {
    let p = pair("stop")?;
    let (mut m, b) = seed01(&p)?;
    vip_moves_to(&p.r1, &p.r2, 6.0).map_err(|e| logs(&[&m, &b], e))?;
    std::thread::sleep(SECS(1.5));
    let start = std::time::Instant::now();
    m.signal(nix::sys::signal::Signal::SIGTERM)?;
    wait::until(SECS(3.0), Duration::from_millis(2), || {
        vip_on(&p.r2).then_some(())
    })
    .ok_or_else(|| logs(&[&b], "backup never took over".into()))?;
    let t = start.elapsed();
    let code = m.stop(SECS(3.0))?;
    if code != Some(0) {
        return Err(format!("vigil exited with {code:?} on SIGTERM"));
    }
    if vip_on(&p.r1) {
        return Err("the stopped master left its VIP behind".into());
    }
    in_window("handover after SIGTERM", t, 0.0, 0.6875 + 0.05)
}

/// A config reload (SIGHUP) that leaves an instance unchanged must not touch its
/// VIP: no address deletion or re-addition shows in `ip monitor`.
fn sighup_keeps_vip() -> Result<(), String> {
    let p = pair("hup")?;
    let m = Daemon::start(
        Kind::Vigil,
        &p.r1,
        "vigil",
        &seed("01-single-master.master.conf")?,
    )?;
    vip_moves_to(&p.r1, &p.r2, 6.0).map_err(|e| logs(&[&m], e))?;
    let mon_out = p.r1.dir().join("monitor.out");
    let mon_file = std::fs::File::create(&mon_out).map_err(|e| e.to_string())?;
    let mut mon = std::process::Command::new("ip")
        .args(["netns", "exec", &p.r1.ns, "ip", "-o", "monitor", "address"])
        .stdout(mon_file)
        .spawn()
        .map_err(|e| e.to_string())?;
    std::thread::sleep(SECS(0.3));
    m.signal(nix::sys::signal::Signal::SIGHUP)?;
    std::thread::sleep(SECS(3.0));
    let _ = mon.kill();
    let _ = mon.wait();
    let seen = std::fs::read_to_string(&mon_out).unwrap_or_default();
    if seen.contains(VIP) {
        return Err(logs(&[&m], format!("the VIP flapped on SIGHUP:\n{seen}")));
    }
    if !vip_on(&p.r1) {
        return Err(logs(&[&m], "VIP gone after SIGHUP".into()));
    }
    // A broken configuration is refused on SIGHUP, with its error located, and
    // the running one kept.
    let conf = p.r1.dir().join("vigil.conf");
    let broken = seed("01-single-master.master.conf")?.replace("priority 100", "priority 300");
    std::fs::write(&conf, broken).map_err(|e| e.to_string())?;
    m.signal(nix::sys::signal::Signal::SIGHUP)?;
    wait::for_cond(SECS(3.0), "the refused reload in the log", || {
        let l = m.log_text();
        l.contains("vigil.conf:") && l.contains("priority") && l.contains("reload refused")
    })
    .map_err(|e| logs(&[&m], e))?;
    wait::holds(SECS(2.0), "VIP staying after a refused reload", || {
        vip_on(&p.r1)
    })
    .map_err(|e| logs(&[&m], e))?;
    Ok(())
}

/// IPv6: VRRPv3 over ff02::12 from link-local sources, an IPv6 VIP, unsolicited
/// neighbour advertisements; failover when the master dies.
fn ipv6_failover() -> Result<(), String> {
    let p = pair("v6")?;
    for h in [&p.r1, &p.r2, &p.client] {
        // IPv6 needs its link-local address (after DAD) before VRRP can run.
        wait::for_cond(
            SECS(5.0),
            &format!("link-local address on {}", h.name),
            || {
                h.run(&[
                    "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link",
                ])
                .is_ok_and(|o| o.contains("fe80") && !o.contains("tentative"))
            },
        )?;
    }
    let conf = |prio: u32, state: &str| {
        format!(
            "vrrp_instance V6 {{\n  state {state}\n  interface eth0\n  virtual_router_id 61\n  priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    fd00::150/64 dev eth0\n  }}\n}}\n"
        )
    };
    let mut m = Daemon::start(Kind::Vigil, &p.r1, "vigil", &conf(100, "MASTER"))?;
    let b = Daemon::start(Kind::Vigil, &p.r2, "vigil", &conf(80, "BACKUP"))?;
    let has6 = |h: &Host| {
        h.run(&["ip", "-6", "-o", "addr", "show", "dev", "eth0"])
            .is_ok_and(|o| o.contains("fd00::150/64"))
    };
    wait::for_cond(SECS(8.0), "IPv6 VIP on r1 only", || {
        has6(&p.r1) && !has6(&p.r2)
    })
    .map_err(|e| logs(&[&m, &b], e))?;
    m.kill();
    p.lab.cable(&p.r1, false)?;
    let t =
        wait::for_cond(SECS(8.0), "IPv6 VIP on r2", || has6(&p.r2)).map_err(|e| logs(&[&b], e))?;
    in_window(
        "IPv6 failover",
        t,
        master_down_v2(80) - 1.0,
        master_down_v2(80) + 0.1,
    )?;
    Ok(())
}

/// vigil and keepalived in one VRRP group: correct election, failover both ways, and
/// never two masters for longer than one advert interval.
fn interop(vigil_is_master: bool, v3: bool) -> Result<(), String> {
    let p = pair(if v3 { "iop3" } else { "iop2" })?;
    let mut master = seed("01-single-master.master.conf")?;
    let mut backup = seed("01-single-master.backup.conf")?;
    if v3 {
        for c in [&mut master, &mut backup] {
            *c = c.replace(
                "vrrp_skip_check_adv_addr",
                "vrrp_skip_check_adv_addr\n   vrrp_version 3",
            );
            // VRRPv3 has no authentication: keepalived refuses it, so drop the block.
            *c = c
                .replace("auth_type PASS", "")
                .replace("auth_pass 1111", "")
                .replace("authentication {\n        \n        \n    }", "");
        }
    }
    let (mk, bk) = if vigil_is_master {
        (Kind::Vigil, Kind::Keepalived)
    } else {
        (Kind::Keepalived, Kind::Vigil)
    };
    let both = vec![p.r1.clone(), p.r2.clone()];
    let watch = VipWatch::start(both.clone(), VIP);
    let mut m = Daemon::start(mk, &p.r1, "m", &master)?;
    let b = Daemon::start(bk, &p.r2, "b", &backup)?;
    vip_moves_to(&p.r1, &p.r2, 8.0).map_err(|e| logs(&[&m, &b], e))?;
    wait::holds(SECS(3.0), "VIP staying on the master", || {
        vip_on(&p.r1) && !vip_on(&p.r2)
    })
    .map_err(|e| logs(&[&m, &b], e))?;
    let startup = watch.finish().longest_overlap();

    kill_master(&p, &mut m, &b, "failover to the peer")?;

    // The master's host "reboots": its addresses are gone, its cable comes back.
    p.r1.run(&["ip", "addr", "del", &format!("{VIP}/24"), "dev", "eth0"])?;
    let watch = VipWatch::start(both, VIP);
    let m2 = Daemon::start(mk, &p.r1, "m2", &master)?;
    p.lab.cable(&p.r1, true)?;
    vip_moves_to(&p.r1, &p.r2, 8.0).map_err(|e| logs(&[&m2, &b], e))?;
    wait::holds(SECS(2.0), "VIP staying on the returned master", || {
        vip_on(&p.r1) && !vip_on(&p.r2)
    })
    .map_err(|e| logs(&[&m2, &b], e))?;
    let ret = watch.finish().longest_overlap();
    println!(
        "    two VIP holders at most: {:.3} s at start, {:.3} s on return",
        startup.as_secs_f64(),
        ret.as_secs_f64()
    );
    if startup.max(ret) >= SECS(1.0) {
        return Err(logs(
            &[&m2, &b],
            "two masters for longer than one advert interval".into(),
        ));
    }
    Ok(())
}

fn main() {
    vigil_lab::cleanup::install_signal_cleanup();
    run(&[
        ("s01_preemption", || check(s01_preemption())),
        ("s02_nopreempt", || check(s02_nopreempt())),
        ("s03_preempt_delay", || check(s03_preempt_delay())),
        ("s04_unicast", || check(s04_unicast())),
        ("s05_notify", || check(s05_notify())),
        ("s06_dual_master", || check(s06_dual_master())),
        ("s09_track_script", || check(s09_track_script())),
        ("graceful_stop", || check(graceful_stop())),
        ("ipv6_failover", || check(ipv6_failover())),
        ("sighup_keeps_vip", || check(sighup_keeps_vip())),
        ("interop_v2_vigil_master", || check(interop(true, false))),
        ("interop_v2_keepalived_master", || {
            check(interop(false, false))
        }),
        ("interop_v3_vigil_master", || check(interop(true, true))),
        ("interop_v3_keepalived_master", || {
            check(interop(false, true))
        }),
    ]);
}

#[allow(dead_code)]
fn _outcome_is_used(_: Outcome) {}
