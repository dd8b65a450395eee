//! `use_vmac`: the VIP lives on a private macvlan with the VRRP virtual MAC,
//! so a client's neighbour entry for it never changes across a failover.
//!
//! Two routers (r1 priority 100, r2 80) and a client on one bridge, VRID 51,
//! VIP 192.168.67.150 (MAC 00:00:5e:00:01:33); the IPv6 case uses VRID 52 and
//! fd00:67::150 (00:00:5e:00:02:34). Each failover kills the master and cuts
//! its cable while the client pings the VIP every 100 ms and samples its
//! neighbour entry. The pairs: vigil + vigil, keepalived 2.2.7 master +
//! vigil backup, vigil master + keepalived backup.
//!
//! Run as root after `cargo build --release -p vigil`:
//! `cargo test --release -p vigil-lab --test vmac -- --nocapture [FILTER]`.
//! Without root or namespaces every test is reported as skipped; the
//! keepalived tests are skipped without keepalived.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vigil_lab::harness::{check, run, Outcome};
use vigil_lab::{logs, wait, Daemon, Host, Kind, Lab};

const VIP4: &str = "192.168.67.150";
const VIP6: &str = "fd00:67::150";
const MAC4: &str = "00:00:5e:00:01:33";
const MAC6: &str = "00:00:5e:00:02:34";
const SECS: fn(f64) -> Duration = Duration::from_secs_f64;

#[derive(Clone, Copy, PartialEq)]
enum Fam {
    V4,
    V6,
}

impl Fam {
    fn vip(self) -> &'static str {
        if self == Fam::V4 {
            VIP4
        } else {
            VIP6
        }
    }
    fn mac(self) -> &'static str {
        if self == Fam::V4 {
            MAC4
        } else {
            MAC6
        }
    }
    fn vmac(self) -> &'static str {
        if self == Fam::V4 {
            "vrrp.51"
        } else {
            "vrrp.52"
        }
    }
}

fn conf(fam: Fam, state: &str, prio: u32, extra: &str) -> String {
    let (vrid, vip) = match fam {
        Fam::V4 => (51, format!("{VIP4}/24")),
        Fam::V6 => (52, format!("{VIP6}/64")),
    };
    format!(
        "global_defs {{\n  router_id r{prio}\n  vrrp_garp_master_delay 1\n  vrrp_garp_master_repeat 2\n}}\n\
         vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id {vrid}\n  \
         priority {prio}\n  advert_int 1\n  use_vmac\n{extra}  virtual_ipaddress {{\n    {vip}\n  }}\n}}\n"
    )
}

struct Net {
    lab: Lab,
    r1: Host,
    r2: Host,
    c: Host,
}

fn net(tag: &str, fam: Fam) -> Result<Net, String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let c = lab.host("c", "192.168.67.10/24")?;
    if fam == Fam::V6 {
        for (h, a) in [
            (&r1, "fd00:67::100/64"),
            (&r2, "fd00:67::200/64"),
            (&c, "fd00:67::10/64"),
        ] {
            h.run(&["ip", "addr", "add", a, "dev", "eth0", "nodad"])?;
        }
    }
    Ok(Net { lab, r1, r2, c })
}

fn holds_vip(h: &Host, fam: Fam) -> bool {
    let flag = if fam == Fam::V4 { "-4" } else { "-6" };
    h.run(&["ip", "-o", flag, "addr", "show", "dev", fam.vmac()])
        .is_ok_and(|o| o.contains(&format!("{}/", fam.vip())))
}

/// `ip -d link show` of the VMAC: a private macvlan with the virtual MAC.
fn vmac_ok(h: &Host, fam: Fam) -> Result<(), String> {
    let out = h.run(&["ip", "-d", "link", "show", fam.vmac()])?;
    if !out.contains("macvlan mode private") || !out.contains(fam.mac()) {
        return Err(format!(
            "[{}] {} is not a private macvlan with {}:\n{out}",
            h.name,
            fam.vmac(),
            fam.mac()
        ));
    }
    Ok(())
}

/// The VMAC is administratively up (as keepalived 2.2.7 leaves it in BACKUP).
fn is_up(h: &Host, fam: Fam) -> bool {
    h.run(&["ip", "-o", "link", "show", fam.vmac()])
        .is_ok_and(|o| o.contains(",UP"))
}

fn neigh(c: &Host, fam: Fam) -> Option<String> {
    let out = c
        .run(&["ip", "neigh", "show", fam.vip(), "dev", "eth0"])
        .ok()?;
    let mut w = out.split_whitespace();
    w.find(|x| *x == "lladdr")?;
    w.next().map(str::to_string)
}

fn ping_once(c: &Host, fam: Fam) -> bool {
    c.run(&["ping", "-c", "1", "-W", "1", "-q", fam.vip()])
        .is_ok()
}

/// Kills the master (and cuts its cable) while the client pings every
/// 100 ms and samples its neighbour entry; checks the backup takes over
/// with the same MAC and the pings come back. Returns (takeover s, lost pings).
fn failover(n: &Net, fam: Fam, master: &mut Daemon, backup: &Daemon) -> Result<(f64, u32), String> {
    wait::for_cond(SECS(8.0), "VIP on r1's VMAC", || {
        holds_vip(&n.r1, fam) && !holds_vip(&n.r2, fam)
    })
    .map_err(|e| logs(&[master, backup], e))?;
    vmac_ok(&n.r1, fam)?;
    // Longer than the backup's Master_Down_Interval (3.69 s): a backup that
    // does not hear the master's VMAC adverts would take the VIP here.
    wait::holds(SECS(5.0), "r2 staying BACKUP", || !holds_vip(&n.r2, fam))
        .map_err(|e| logs(&[master, backup], e))?;
    // keepalived and vigil keep the VMAC up in BACKUP too (no address on it).
    wait::for_cond(SECS(3.0), "r2's VMAC up", || {
        vmac_ok(&n.r2, fam).is_ok() && is_up(&n.r2, fam)
    })
    .map_err(|e| logs(&[backup], e))?;
    wait::for_cond(SECS(5.0), "client reaches the VIP", || ping_once(&n.c, fam))?;
    let before = neigh(&n.c, fam).ok_or("client has no neighbour entry for the VIP")?;
    if before != fam.mac() {
        return Err(format!(
            "client's neighbour entry for {} is {before}, not {}",
            fam.vip(),
            fam.mac()
        ));
    }
    let count = 120; // 12 s of pings, 100 ms apart
    let ping = Command::new("ip")
        .args([
            "netns",
            "exec",
            &n.c.ns,
            "ping",
            "-i",
            "0.1",
            "-W",
            "1",
            "-c",
            &count.to_string(),
            fam.vip(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("ping: {e}"))?;
    std::thread::sleep(SECS(1.0));
    master.kill();
    n.lab.cable(&n.r1, false)?;
    let mut seen = vec![before.clone()];
    let took = wait::until(SECS(8.0), Duration::from_millis(50), || {
        if let Some(m) = neigh(&n.c, fam) {
            if !seen.contains(&m) {
                seen.push(m);
            }
        }
        holds_vip(&n.r2, fam).then_some(())
    })
    .map(|(_, d)| d.as_secs_f64())
    .ok_or_else(|| logs(&[backup], "r2 did not take the VIP within 8 s".into()))?;
    let end = Instant::now() + SECS(4.0);
    while Instant::now() < end {
        if let Some(m) = neigh(&n.c, fam) {
            if !seen.contains(&m) {
                seen.push(m);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = ping.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let received: u32 = text
        .split(',')
        .find(|p| p.contains("received"))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| format!("no ping summary:\n{text}"))?;
    if seen != [fam.mac().to_string()] {
        return Err(format!(
            "client's neighbour entry changed across the failover: {seen:?}"
        ));
    }
    vmac_ok(&n.r2, fam)?;
    if !ping_once(&n.c, fam) {
        return Err(logs(
            &[backup],
            "client cannot reach the VIP after the failover".into(),
        ));
    }
    let lost = count - received;
    // The gap is about Master_Down_Interval (3.6 s, 36 pings) plus the GARP.
    if lost > 60 {
        return Err(format!(
            "client lost {lost} of {count} pings (takeover after {took:.2} s)"
        ));
    }
    println!(
        "  {:?} takeover {:.2} s after the kill, {lost}/{count} pings lost, neighbour {} throughout",
        backup.kind,
        took,
        fam.mac()
    );
    Ok((took, lost))
}

fn have_keepalived() -> bool {
    Command::new("keepalived").arg("--version").output().is_ok()
}

fn pair(tag: &str, fam: Fam, kinds: (Kind, Kind)) -> Result<(), String> {
    let n = net(tag, fam)?;
    // keepalived 2.2.7 leaves the parent's arp_announce at 0: its ARP request
    // for the client then names the VIP and teaches the client eth0's MAC for
    // it (vigil sets 2 itself). Set as a keepalived operator would.
    for (k, h) in [(kinds.0, &n.r1), (kinds.1, &n.r2)] {
        if k == Kind::Keepalived {
            h.run(&[
                "sh",
                "-c",
                "echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce",
            ])?;
        }
    }
    let mut m = Daemon::start(kinds.0, &n.r1, "m", &conf(fam, "MASTER", 100, ""))?;
    let b = Daemon::start(kinds.1, &n.r2, "b", &conf(fam, "BACKUP", 80, ""))?;
    failover(&n, fam, &mut m, &b)?;
    Ok(())
}

fn vigil_pair_v4() -> Outcome {
    check(pair("vmac4", Fam::V4, (Kind::Vigil, Kind::Vigil)))
}

fn vigil_pair_v6() -> Outcome {
    check(pair("vmac6", Fam::V6, (Kind::Vigil, Kind::Vigil)))
}

fn keepalived_master_vigil_backup() -> Outcome {
    if !have_keepalived() {
        return Outcome::Skip("keepalived is not installed".into());
    }
    check(pair("vmacka1", Fam::V4, (Kind::Keepalived, Kind::Vigil)))
}

fn vigil_master_keepalived_backup() -> Outcome {
    if !have_keepalived() {
        return Outcome::Skip("keepalived is not installed".into());
    }
    check(pair("vmacka2", Fam::V4, (Kind::Vigil, Kind::Keepalived)))
}

fn keepalived_master_vigil_backup_v6() -> Outcome {
    if !have_keepalived() {
        return Outcome::Skip("keepalived is not installed".into());
    }
    check(pair("vmacka6", Fam::V6, (Kind::Keepalived, Kind::Vigil)))
}

fn vigil_master_keepalived_backup_v6() -> Outcome {
    if !have_keepalived() {
        return Outcome::Skip("keepalived is not installed".into());
    }
    check(pair("vmacka7", Fam::V6, (Kind::Vigil, Kind::Keepalived)))
}

fn sysctl(h: &Host, path: &str) -> String {
    h.run(&["cat", &format!("/proc/sys/net/{path}")])
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The sysctls on the VMAC and its parent, a hand-deleted VMAC re-created
/// with its VIP, a reload that drops the instance, and stop: VMAC gone,
/// the parent's values back.
fn lifecycle() -> Outcome {
    check((|| {
        let n = net("vmaclife", Fam::V4)?;
        n.r1.run(&["sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter"])?;
        let mut m = Daemon::start(Kind::Vigil, &n.r1, "m", &conf(Fam::V4, "MASTER", 100, ""))?;
        wait::for_cond(SECS(8.0), "VIP on the VMAC", || holds_vip(&n.r1, Fam::V4))
            .map_err(|e| logs(&[&m], e))?;
        let want = [
            ("ipv4/conf/vrrp.51/arp_ignore", "1"),
            ("ipv4/conf/vrrp.51/accept_local", "1"),
            ("ipv4/conf/vrrp.51/rp_filter", "0"),
            ("ipv4/conf/vrrp.51/promote_secondaries", "1"),
            ("ipv6/conf/vrrp.51/disable_ipv6", "1"),
            ("ipv4/conf/eth0/arp_ignore", "1"),
            ("ipv4/conf/eth0/arp_filter", "1"),
            ("ipv4/conf/eth0/arp_announce", "2"),
            ("ipv4/conf/all/rp_filter", "0"),
            ("ipv4/conf/eth0/rp_filter", "1"),
        ];
        for (p, v) in want {
            if sysctl(&n.r1, p) != v {
                return Err(format!("{p} = {:?}, want {v}", sysctl(&n.r1, p)));
            }
        }
        n.r1.run(&["ip", "link", "del", "vrrp.51"])?;
        let back = wait::for_cond(SECS(3.0), "VMAC re-created with the VIP", || {
            holds_vip(&n.r1, Fam::V4) && vmac_ok(&n.r1, Fam::V4).is_ok()
        })
        .map_err(|e| logs(&[&m], e))?;
        if !m
            .log_text()
            .contains("VMAC vrrp.51 was deleted: re-creating it")
        {
            return Err(logs(&[&m], "the re-creation was not logged".into()));
        }
        println!(
            "  deleted by hand: back with its VIP in {:.3} s",
            back.as_secs_f64()
        );
        // The parent deleted (the kernel takes the VMAC with it) and back.
        n.lab.delete_eth0(&n.r1)?;
        wait::for_cond(SECS(3.0), "the VMAC gone with eth0", || {
            n.r1.run(&["ip", "link", "show", "vrrp.51"]).is_err()
        })?;
        n.lab.recreate_eth0(&n.r1)?;
        let t = wait::for_cond(SECS(8.0), "VMAC and VIP back with eth0", || {
            holds_vip(&n.r1, Fam::V4) && vmac_ok(&n.r1, Fam::V4).is_ok()
        })
        .map_err(|e| logs(&[&m], e))?;
        println!(
            "  parent re-created: VMAC and VIP back in {:.2} s",
            t.as_secs_f64()
        );
        // The same instance reloaded without use_vmac: its VIP moves to eth0
        // and the client's entry follows (gratuitous ARP), then back.
        wait::for_cond(SECS(5.0), "client reaches the VIP", || {
            ping_once(&n.c, Fam::V4)
        })?;
        std::thread::sleep(SECS(1.2)); // past the ARP locktime
        let no_vmac = conf(Fam::V4, "MASTER", 100, "").replace("  use_vmac\n", "");
        n.r1.write("m.conf", &no_vmac)?;
        m.signal(nix::sys::signal::Signal::SIGHUP)?;
        wait::for_cond(SECS(5.0), "the VIP moved to eth0, the VMAC gone", || {
            n.r1.has_addr("eth0", VIP4) && n.r1.run(&["ip", "link", "show", "vrrp.51"]).is_err()
        })
        .map_err(|e| logs(&[&m], e))?;
        let eth0 = n.r1.mac("eth0")?;
        wait::for_cond(SECS(3.0), "client's entry on r1's eth0 MAC", || {
            neigh(&n.c, Fam::V4).as_deref() == Some(eth0.as_str())
        })?;
        std::thread::sleep(SECS(1.2));
        n.r1.write("m.conf", &conf(Fam::V4, "MASTER", 100, ""))?;
        m.signal(nix::sys::signal::Signal::SIGHUP)?;
        wait::for_cond(SECS(5.0), "the VIP back on the VMAC", || {
            holds_vip(&n.r1, Fam::V4) && !n.r1.has_addr("eth0", VIP4)
        })
        .map_err(|e| logs(&[&m], e))?;
        wait::for_cond(SECS(3.0), "client's entry back on the VMAC", || {
            neigh(&n.c, Fam::V4).as_deref() == Some(MAC4)
        })?;
        // A reload without the instance removes its VMAC.
        let plain = "vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 60\n  priority 100\n  virtual_ipaddress {\n    192.168.67.160/24\n  }\n}\n";
        n.r1.write("m.conf", plain)?;
        m.signal(nix::sys::signal::Signal::SIGHUP)?;
        wait::for_cond(SECS(5.0), "the VMAC gone after the reload", || {
            n.r1.run(&["ip", "link", "show", "vrrp.51"]).is_err()
        })
        .map_err(|e| logs(&[&m], e))?;
        wait::for_cond(
            SECS(2.0),
            "eth0's arp_ignore restored after the reload",
            || sysctl(&n.r1, "ipv4/conf/eth0/arp_ignore") == "0",
        )?;
        // Back to the VMAC config, then stop.
        n.r1.write("m.conf", &conf(Fam::V4, "MASTER", 100, ""))?;
        m.signal(nix::sys::signal::Signal::SIGHUP)?;
        wait::for_cond(SECS(8.0), "VIP on the VMAC again", || {
            holds_vip(&n.r1, Fam::V4)
        })
        .map_err(|e| logs(&[&m], e))?;
        m.stop(SECS(8.0))?;
        if n.r1.run(&["ip", "link", "show", "vrrp.51"]).is_ok() {
            return Err(logs(&[&m], "vrrp.51 still there after stop".into()));
        }
        for (p, v) in [
            ("ipv4/conf/eth0/arp_ignore", "0"),
            ("ipv4/conf/eth0/arp_filter", "0"),
            ("ipv4/conf/eth0/arp_announce", "0"),
            ("ipv4/conf/all/rp_filter", "1"),
        ] {
            if sysctl(&n.r1, p) != v {
                return Err(format!("after stop {p} = {:?}, want {v}", sysctl(&n.r1, p)));
            }
        }
        Ok(())
    })())
}

/// `vmac_xmit_base`: adverts leave from eth0's MAC, the VIP still on the VMAC.
fn xmit_base() -> Outcome {
    check((|| {
        let n = net("vmacxb", Fam::V4)?;
        let m = Daemon::start(
            Kind::Vigil,
            &n.r1,
            "m",
            &conf(Fam::V4, "MASTER", 100, "  vmac_xmit_base\n"),
        )?;
        wait::for_cond(SECS(8.0), "VIP on the VMAC", || holds_vip(&n.r1, Fam::V4))
            .map_err(|e| logs(&[&m], e))?;
        let src = |n: &Net| {
            n.c.run(&[
                "timeout",
                "3",
                "tcpdump",
                "-c",
                "1",
                "-e",
                "-n",
                "-i",
                "eth0",
                "ip proto 112",
            ])
            .unwrap_or_default()
        };
        let line = src(&n);
        if !line.contains("02:00:00:00:00:01 >") {
            return Err(format!(
                "advert not from eth0's MAC with vmac_xmit_base: {line:?}"
            ));
        }
        drop(m);
        let m = Daemon::start(Kind::Vigil, &n.r1, "m2", &conf(Fam::V4, "MASTER", 100, ""))?;
        // The killed run left its VIP: wait for the new run's word, not the VIP.
        wait::for_cond(SECS(8.0), "the killed run's VMAC reused", || {
            m.log_text()
                .contains("VMAC vrrp.51 left by an earlier run: reused")
        })
        .map_err(|e| logs(&[&m], e))?;
        wait::for_cond(SECS(8.0), "VIP on the VMAC", || holds_vip(&n.r1, Fam::V4))
            .map_err(|e| logs(&[&m], e))?;
        let line = src(&n);
        if !line.contains(&format!("{MAC4} >")) {
            return Err(format!("advert not from the VMAC: {line:?}"));
        }
        Ok(())
    })())
}

fn main() {
    run(&[
        ("vmac_vigil_pair_v4", vigil_pair_v4),
        ("vmac_lifecycle", lifecycle),
        ("vmac_xmit_base", xmit_base),
        (
            "vmac_keepalived_master_vigil_backup",
            keepalived_master_vigil_backup,
        ),
        (
            "vmac_vigil_master_keepalived_backup",
            vigil_master_keepalived_backup,
        ),
        ("vmac_vigil_pair_v6", vigil_pair_v6),
        (
            "vmac_keepalived_master_vigil_backup_v6",
            keepalived_master_vigil_backup_v6,
        ),
        (
            "vmac_vigil_master_keepalived_backup_v6",
            vigil_master_keepalived_backup_v6,
        ),
    ]);
}
