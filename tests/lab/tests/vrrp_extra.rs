//! Issue 11's VRRP keywords on the wire, vigil and keepalived 2.2.7 side by
//! side in the same namespaces:
//! - `vrrp_strict`: a strict BACKUP ignores adverts that do not conform
//!   (with authentication although its own is configured, sent to its
//!   unicast address, with two addresses instead of one) and takes over as
//!   if no master were there; a conforming stream holds it BACKUP;
//! - `unicast_ttl`: the TTL of the unicast adverts as the peer receives them;
//! - `garp_extra_if` (`vmac_garp_intvl`): periodic gratuitous ARP from the
//!   VMAC while MASTER, none without it;
//! - `use_vmac_addr`: a VIP on another interface gets a VMAC of its own there.
//!
//! Run as root after `cargo build --release -p vigil -p vigil-lab`:
//! `cargo test --release -p vigil-lab --test vrrp_extra -- --nocapture [FILTER]`.
//! Without root or namespaces every test is skipped; the keepalived halves
//! are skipped without keepalived.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vigil_lab::harness::{check, run, Outcome};
use vigil_lab::{logs, wait, Daemon, Host, Kind, Lab};

const VIP: &str = "192.168.67.150";
const VMAC: &str = "00:00:5e:00:01:33";
const SECS: fn(f64) -> Duration = Duration::from_secs_f64;

fn have_keepalived() -> bool {
    Command::new("keepalived").arg("--version").output().is_ok()
}

/// vigil, then keepalived when it is installed.
fn kinds() -> Vec<Kind> {
    let mut k = vec![Kind::Vigil];
    if have_keepalived() {
        k.push(Kind::Keepalived);
    } else {
        println!("  keepalived is not installed: vigil only");
    }
    k
}

fn holds_vip(h: &Host, dev: &str) -> bool {
    h.has_addr(dev, VIP)
}

/// Starts vigil-lab-flood in `h` (not waited for).
fn flood(h: &Host, args: &[&str]) -> Result<Child, String> {
    let bin = env!("CARGO_BIN_EXE_vigil-lab-flood");
    Command::new("ip")
        .args(["netns", "exec", &h.ns, bin])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("flood: {e}"))
}

fn strict_conf() -> String {
    format!(
        "global_defs {{\n  router_id r1\n  vrrp_strict\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority 100\n  advert_int 1\n  authentication {{\n    auth_type PASS\n    auth_pass 1111\n  }}\n  \
         virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

/// One strict BACKUP against one crafted stream (priority 200, 1 per s):
/// true if it took over within 7 s.
fn strict_case(kind: Kind, tag: &str, extra: &[&str]) -> Result<(bool, String), String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let c = lab.host("c", "192.168.67.10/24")?;
    let d = Daemon::start(kind, &r1, "r1", &strict_conf())?;
    let mut args = vec![
        "--kind",
        "valid",
        "--src",
        "192.168.67.10",
        "--priority",
        "200",
        "--rate",
        "1",
        "--count",
        "9",
    ];
    args.extend_from_slice(extra);
    let mut f = flood(&c, &args)?;
    let took = wait::for_cond(SECS(7.0), "r1 MASTER", || holds_vip(&r1, "eth0")).is_ok();
    let _ = f.kill();
    let _ = f.wait();
    let status = if kind == Kind::Vigil {
        d.status_json().unwrap_or_default()
    } else {
        String::new()
    };
    if took && d.log_text().is_empty() {
        return Err(logs(&[&d], "no log".into()));
    }
    Ok((took, status))
}

fn strict_backup() -> Outcome {
    check((|| {
        let cases: [(&str, Vec<&str>, bool, &str); 4] = [
            ("auth", vec!["--password", "1111", "--vip", VIP], true, "auth_type"),
            (
                "unicast",
                vec!["--no-auth", "--vip", VIP, "--dst", "192.168.67.100"],
                true,
                "destination",
            ),
            (
                "count",
                vec!["--no-auth", "--vip", VIP, "--vip", "192.168.67.151"],
                true,
                "address_list",
            ),
            ("conforming", vec!["--no-auth", "--vip", VIP], false, ""),
        ];
        for kind in kinds() {
            for (n, (name, args, takes_over, key)) in cases.iter().enumerate() {
                let tag = format!("st{n}{}", if kind == Kind::Vigil { "v" } else { "k" });
                let (took, status) = strict_case(kind, &tag, args)?;
                println!(
                    "  {kind:?}: {name} adverts -> {}",
                    if took { "ignored, MASTER" } else { "held BACKUP" }
                );
                if took != *takes_over {
                    return Err(format!(
                        "{kind:?} strict backup, {name} adverts: took over = {took}, want {takes_over}"
                    ));
                }
                if kind == Kind::Vigil && !key.is_empty() {
                    // The drop is counted under its reason.
                    let counted = status
                        .split(&format!("\"{key}\":"))
                        .nth(1)
                        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                        .and_then(|d| d.parse::<u64>().ok())
                        .unwrap_or(0);
                    if counted == 0 {
                        return Err(format!("{name}: no {key} drop counted:\n{status}"));
                    }
                    println!("    counted {counted} under {key}");
                }
            }
        }
        Ok(())
    })())
}

/// tcpdump in `h` for `secs`, `-c count`, filter `expr`; the lines.
fn capture(h: &Host, secs: f64, count: u32, args: &[&str]) -> String {
    let t = format!("{secs}");
    let c = count.to_string();
    let mut argv = vec!["timeout", &t, "tcpdump", "-l", "-n", "-e", "-v", "-c", &c, "-i", "eth0"];
    argv.extend_from_slice(args);
    // tcpdump's output when cut by timeout: run() fails on a non-zero exit,
    // so go through sh and keep what it printed.
    let cmd = argv.join(" ") + " 2>/dev/null; true";
    h.run(&["sh", "-c", &cmd]).unwrap_or_default()
}

fn unicast_ttl() -> Outcome {
    check((|| {
        for kind in kinds() {
            let tag = if kind == Kind::Vigil { "uttlv" } else { "uttlk" };
            let mut lab = Lab::new(tag)?;
            let r1 = lab.host("r1", "192.168.67.100/24")?;
            let r2 = lab.host("r2", "192.168.67.200/24")?;
            let conf = format!(
                "vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  \
                 priority 100\n  advert_int 1\n  unicast_src_ip 192.168.67.100\n  unicast_ttl 7\n  \
                 unicast_peer {{\n    192.168.67.200\n  }}\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
            );
            let d = Daemon::start(kind, &r1, "r1", &conf)?;
            wait::for_cond(SECS(8.0), "r1 MASTER", || holds_vip(&r1, "eth0"))
                .map_err(|e| logs(&[&d], e))?;
            let out = capture(&r2, 4.0, 2, &["ip proto 112"]);
            let ttls: Vec<&str> = out
                .split("ttl ")
                .skip(1)
                .filter_map(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .collect();
            println!("  {kind:?}: unicast adverts at r2 with TTL {ttls:?}");
            if ttls.is_empty() || ttls.iter().any(|t| *t != "7") {
                return Err(logs(&[&d], format!("{kind:?}: want TTL 7, saw:\n{out}")));
            }
        }
        Ok(())
    })())
}

fn vmac_conf(extra: &str, vips: &str) -> String {
    format!(
        "global_defs {{\n  router_id r1\n  vrrp_garp_master_delay 0\n  vrrp_garp_master_repeat 1\n}}\n\
         vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  \
         priority 100\n  advert_int 1\n  use_vmac\n{extra}  virtual_ipaddress {{\n{vips}  }}\n}}\n"
    )
}

/// Gratuitous ARPs for the VIP from the VMAC, seen by the client over
/// `secs` once the takeover burst is over: their times (s from the start).
fn garps(kind: Kind, tag: &str, extra: &str, secs: f64) -> Result<Vec<f64>, String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let c = lab.host("c", "192.168.67.10/24")?;
    if kind == Kind::Keepalived {
        r1.run(&["sh", "-c", "echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce"])?;
    }
    let conf = vmac_conf(extra, &format!("    {VIP}/24\n"));
    let d = Daemon::start(kind, &r1, "r1", &conf)?;
    wait::for_cond(SECS(8.0), "VIP on the VMAC", || holds_vip(&r1, "vrrp.51"))
        .map_err(|e| logs(&[&d], e))?;
    std::thread::sleep(SECS(1.5));
    let start = Instant::now();
    let t = format!("{secs}");
    let filter = format!("arp and src host {VIP} and ether src {VMAC}");
    let cmd = format!("timeout {t} tcpdump -l -n -tt -i eth0 {filter} 2>/dev/null; true");
    let out = c.run(&["sh", "-c", &cmd])?;
    let _ = start;
    let times: Vec<f64> = out
        .lines()
        .filter(|l| l.contains(&format!("Reply {VIP}")) || l.contains(&format!("tell {VIP}")))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    let t0 = times.first().copied().unwrap_or(0.0);
    drop(d);
    Ok(times.iter().map(|t| t - t0).collect())
}

fn garp_extra_if() -> Outcome {
    check((|| {
        for kind in kinds() {
            let k = if kind == Kind::Vigil { "v" } else { "k" };
            // vmac_xmit_base: the adverts leave from eth0, so nothing else
            // refreshes the VMAC's MAC in the switch; the old spelling.
            let on = garps(kind, &format!("gx1{k}"), "  vmac_xmit_base\n  vmac_garp_intvl 2\n", 7.0)?;
            let off = garps(kind, &format!("gx0{k}"), "  vmac_xmit_base\n", 5.0)?;
            println!("  {kind:?}: vmac_garp_intvl 2: GARPs at {on:.1?} s; without: {}", off.len());
            if !off.is_empty() {
                return Err(format!("{kind:?}: GARPs without vmac_garp_intvl: {off:?}"));
            }
            // Every 2 s (keepalived: at the next advert after 2 s, so 2-3 s).
            if on.len() < 3 || on.windows(2).any(|w| !(1.8..=3.2).contains(&(w[1] - w[0]))) {
                return Err(format!("{kind:?}: GARPs at {on:?}, want one every 2 s"));
            }
        }
        Ok(())
    })())
}

/// `use_vmac_addr`: the VIP on eth1 (a dummy here) gets a VMAC of its own
/// on eth1 with the same virtual MAC; the eth0 VIP stays on vrrp.51.
fn use_vmac_addr() -> Outcome {
    check((|| {
        let mut seen = Vec::new();
        for kind in kinds() {
            let tag = if kind == Kind::Vigil { "vaddrv" } else { "vaddrk" };
            let mut lab = Lab::new(tag)?;
            let r1 = lab.host("r1", "192.168.67.100/24")?;
            r1.run(&["ip", "link", "add", "eth1", "address", "02:00:00:00:01:01", "type", "dummy"])?;
            r1.run(&["ip", "link", "set", "eth1", "up"])?;
            r1.run(&["ip", "addr", "add", "10.9.0.100/24", "dev", "eth1"])?;
            let vips = format!("    {VIP}/24\n    10.9.0.1/24 dev eth1\n");
            let d = Daemon::start(kind, &r1, "r1", &vmac_conf("  use_vmac_addr\n", &vips))?;
            wait::for_cond(SECS(8.0), "VIP on vrrp.51", || holds_vip(&r1, "vrrp.51"))
                .map_err(|e| logs(&[&d], e))?;
            let vmac = wait::until(SECS(3.0), Duration::from_millis(20), || {
                let out = r1.run(&["ip", "-o", "-d", "link", "show"]).ok()?;
                out.lines()
                    .find(|l| l.contains("@eth1") && l.contains("macvlan"))
                    .map(str::to_string)
            })
            .map(|(l, _)| l)
            .ok_or_else(|| logs(&[&d], format!("{kind:?}: no macvlan on eth1")))?;
            let name = vmac
                .split(": ")
                .nth(1)
                .and_then(|n| n.split('@').next())
                .unwrap_or("")
                .to_string();
            let addr_ok = r1.has_addr(&name, "10.9.0.1");
            let mac_ok = vmac.contains(VMAC);
            println!(
                "  {kind:?}: eth1's VMAC {name} (mac {VMAC}: {mac_ok}, holds 10.9.0.1: {addr_ok}, private: {})",
                vmac.contains("mode private")
            );
            if !addr_ok || !mac_ok || !vmac.contains("mode private") {
                return Err(logs(&[&d], format!("{kind:?}: {vmac}")));
            }
            seen.push(name);
        }
        if seen.len() == 2 && seen[0] != seen[1] {
            return Err(format!("names differ: vigil {} keepalived {}", seen[0], seen[1]));
        }
        Ok(())
    })())
}

fn main() {
    run(&[
        ("strict_backup", strict_backup),
        ("unicast_ttl", unicast_ttl),
        ("garp_extra_if", garp_extra_if),
        ("use_vmac_addr", use_vmac_addr),
    ]);
}
