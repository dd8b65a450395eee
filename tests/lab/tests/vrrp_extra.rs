//! Issue 11's VRRP keywords on the wire, vigil and keepalived 2.2.7 side by
//! side in the same namespaces:
//! - `vrrp_strict`: a strict BACKUP ignores adverts that do not conform
//!   (with authentication although its own is configured, sent to its
//!   unicast address, with two addresses instead of one) and takes over as
//!   if no master were there; a conforming stream holds it BACKUP;
//! - `unicast_ttl`: the TTL of the unicast adverts as the peer receives them;
//! - `garp_extra_if` (`vmac_garp_intvl`): periodic gratuitous ARP from the
//!   VMAC while MASTER, none without it;
//! - `use_vmac_addr`: a VIP on another interface gets a VMAC of its own there;
//! - `fifo_write_vrrp_states_on_reload`: the FIFO lines a reload adds.
//!
//! Run as root after `cargo build --release -p vigil -p vigil-lab`:
//! `cargo test --release -p vigil-lab --test vrrp_extra -- --nocapture [FILTER]`.
//! Without root or namespaces every test is skipped; the keepalived halves
//! are skipped without keepalived.

use std::process::{Child, Command, Stdio};
use std::time::Duration;
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
            (
                "auth",
                vec!["--password", "1111", "--vip", VIP],
                true,
                "auth_type",
            ),
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
                    if took {
                        "ignored, MASTER"
                    } else {
                        "held BACKUP"
                    }
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
    let mut argv = vec![
        "timeout", &t, "tcpdump", "-l", "-n", "-e", "-v", "-c", &c, "-i", "eth0",
    ];
    argv.extend_from_slice(args);
    // tcpdump's output when cut by timeout: run() fails on a non-zero exit,
    // so go through sh and keep what it printed.
    let cmd = argv.join(" ") + " 2>/dev/null; true";
    h.run(&["sh", "-c", &cmd]).unwrap_or_default()
}

fn unicast_ttl() -> Outcome {
    check((|| {
        for kind in kinds() {
            let tag = if kind == Kind::Vigil {
                "uttlv"
            } else {
                "uttlk"
            };
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

fn vmac_conf(extra: &str) -> String {
    format!(
        "global_defs {{\n  router_id r1\n  vrrp_garp_master_delay 0\n  vrrp_garp_master_repeat 1\n}}\n\
         vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  \
         priority 100\n  advert_int 1\n  use_vmac\n  use_vmac_addr\n{extra}  virtual_ipaddress {{\n    \
         {VIP}/24\n    {VIP1}/24 dev eth1\n  }}\n}}\n"
    )
}

/// The second VIP, on r1's `eth1`.
const VIP1: &str = "10.9.0.1";

/// r1 (on the bridge) and c, with a second cable `eth1` straight between
/// them (10.9.0.100 and 10.9.0.10).
fn two_links(tag: &str) -> Result<(Lab, Host, Host), String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let c = lab.host("c", "192.168.67.10/24")?;
    vigil_lab::netns::ip(&[
        "-n",
        &r1.ns,
        "link",
        "add",
        "eth1",
        "address",
        "02:00:00:00:01:01",
        "type",
        "veth",
        "peer",
        "name",
        "eth1",
        "netns",
        &c.ns,
        "address",
        "02:00:00:00:01:0a",
    ])?;
    for (h, a) in [(&r1, "10.9.0.100/24"), (&c, "10.9.0.10/24")] {
        h.run(&["ip", "addr", "add", a, "dev", "eth1"])?;
        h.run(&["ip", "link", "set", "eth1", "up"])?;
    }
    Ok((lab, r1, c))
}

/// The macvlan on r1's eth1 (`ip -o -d link` line) and its name.
fn eth1_vmac(r1: &Host, d: &Daemon) -> Result<(String, String), String> {
    let line = wait::until(SECS(5.0), Duration::from_millis(20), || {
        let out = r1.run(&["ip", "-o", "-d", "link", "show"]).ok()?;
        out.lines()
            .find(|l| l.contains("@eth1") && l.contains("macvlan"))
            .map(str::to_string)
    })
    .map(|(l, _)| l)
    .ok_or_else(|| logs(&[d], "no macvlan on eth1".into()))?;
    let name = line
        .split(": ")
        .nth(1)
        .and_then(|n| n.split('@').next())
        .unwrap_or("")
        .to_string();
    Ok((line, name))
}

/// Gratuitous ARPs for the eth1 VIP from the VMAC's MAC, seen by the
/// client on eth1 over `secs` once the takeover burst is over: their times
/// (s from the first).
fn garps(kind: Kind, tag: &str, extra: &str, secs: f64) -> Result<Vec<f64>, String> {
    let (_lab, r1, c) = two_links(tag)?;
    let d = Daemon::start(kind, &r1, "r1", &vmac_conf(extra))?;
    wait::for_cond(SECS(8.0), "VIP on the VMAC", || holds_vip(&r1, "vrrp.51"))
        .map_err(|e| logs(&[&d], e))?;
    eth1_vmac(&r1, &d)?;
    std::thread::sleep(SECS(1.5));
    let filter = format!("arp and src host {VIP1} and ether src {VMAC}");
    let cmd = format!("timeout {secs} tcpdump -l -n -tt -i eth1 {filter} 2>/dev/null; true");
    let out = c.run(&["sh", "-c", &cmd])?;
    let times: Vec<f64> = out
        .lines()
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
            // The old spelling: 2.2.7 takes it with a deprecation warning.
            let on = garps(kind, &format!("gx1{k}"), "  vmac_garp_intvl 2\n", 7.0)?;
            let off = garps(kind, &format!("gx0{k}"), "", 5.0)?;
            println!(
                "  {kind:?}: vmac_garp_intvl 2: GARPs on eth1's VMAC at {on:.1?} s; without: {}",
                off.len()
            );
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

/// `use_vmac_addr`: the VIP on eth1 gets a VMAC of its own on eth1 with
/// the same virtual MAC; the eth0 VIP stays on vrrp.51; the client on eth1
/// reaches it and learns the virtual MAC.
fn use_vmac_addr() -> Outcome {
    check((|| {
        let mut seen = Vec::new();
        for kind in kinds() {
            let tag = if kind == Kind::Vigil {
                "vaddrv"
            } else {
                "vaddrk"
            };
            let (_lab, r1, c) = two_links(tag)?;
            if kind == Kind::Keepalived {
                // As in the vmac tests: keepalived leaves the parent's
                // arp_announce at 0, and its ARP request for the client then
                // names the VIP with eth1's own MAC (vigil sets 2 itself).
                r1.run(&[
                    "sh",
                    "-c",
                    "echo 2 > /proc/sys/net/ipv4/conf/eth1/arp_announce",
                ])?;
            }
            let d = Daemon::start(kind, &r1, "r1", &vmac_conf(""))?;
            wait::for_cond(SECS(8.0), "VIP on vrrp.51", || holds_vip(&r1, "vrrp.51"))
                .map_err(|e| logs(&[&d], e))?;
            let (line, name) = eth1_vmac(&r1, &d)?;
            let addr_ok = wait::for_cond(SECS(3.0), "VIP1 on eth1's VMAC", || {
                r1.has_addr(&name, VIP1)
            })
            .is_ok();
            let mac_ok = line.contains(VMAC);
            let private = line.contains("mode private");
            let reached = wait::for_cond(SECS(5.0), "client reaches VIP1", || c.ping(VIP1)).is_ok();
            let neigh = c
                .run(&["ip", "neigh", "show", VIP1, "dev", "eth1"])
                .unwrap_or_default();
            println!(
                "  {kind:?}: eth1's VMAC {name}: virtual MAC {mac_ok}, holds {VIP1} {addr_ok}, \
                 private {private}, client reaches it {reached}: {}",
                neigh.trim()
            );
            if !addr_ok || !mac_ok || !private || !reached || !neigh.contains(VMAC) {
                return Err(logs(&[&d], format!("{kind:?}: {line}\n{neigh}")));
            }
            seen.push(name);
        }
        if seen.len() == 2 && seen[0] != seen[1] {
            return Err(format!(
                "names differ: vigil {} keepalived {}",
                seen[0], seen[1]
            ));
        }
        Ok(())
    })())
}

/// `fifo_write_vrrp_states_on_reload`: VI_1 (owner) MASTER, VI_2 FAULT
/// (its interface down), VI_3 MASTER in sync group G; the FIFO lines a
/// SIGHUP with the same file adds.
fn fifo_reload_lines(kind: Kind) -> Result<Vec<String>, String> {
    let tag = if kind == Kind::Vigil {
        "fifov"
    } else {
        "fifok"
    };
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    r1.run(&[
        "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ])?;
    let dir = r1.dir().display().to_string();
    let out = r1.dir().join("fifo.lines");
    let reader = r1.write(
        "reader.sh",
        &format!(
            "#!/bin/sh\nfor f; do :; done\nwhile read -r line; do printf '%s\\n' \"$line\" >> {}; done < \"$f\"\n",
            out.display()
        ),
    )?;
    std::fs::set_permissions(&reader, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    let inst = |name: &str, dev: &str, vrid: u32, prio: u32| {
        format!(
            "vrrp_instance {name} {{\n  interface {dev}\n  virtual_router_id {vrid}\n  priority {prio}\n  \
             advert_int 1\n  virtual_ipaddress {{\n    192.168.67.{vrid}/24 dev eth0\n  }}\n}}\n"
        )
    };
    let conf = format!(
        "global_defs {{\n  router_id r1\n  vrrp_notify_fifo {dir}/v.fifo\n  \
         vrrp_notify_fifo_script {}\n  fifo_write_vrrp_states_on_reload\n}}\n\
         vrrp_sync_group G {{\n  group {{\n    VI_3\n  }}\n}}\n{}{}{}",
        reader.display(),
        inst("VI_1", "eth0", 51, 255),
        inst("VI_2", "eth1", 52, 100),
        inst("VI_3", "eth0", 53, 100),
    );
    let lines = || vigil_lab::read_lines(&out);
    let mut d = Daemon::start(kind, &r1, "r1", &conf)?;
    wait::for_cond(SECS(10.0), "VI_3 MASTER", || {
        lines()
            .iter()
            .any(|l| l.starts_with("INSTANCE \"VI_3\" MASTER"))
    })
    .map_err(|e| logs(&[&d], e))?;
    std::thread::sleep(SECS(1.0));
    let before = lines().len();
    d.signal(nix::sys::signal::Signal::SIGHUP)?;
    std::thread::sleep(SECS(3.0));
    let all = lines();
    let _ = d.stop(SECS(5.0));
    Ok(all.get(before..).unwrap_or_default().to_vec())
}

fn fifo_states_on_reload() -> Outcome {
    check((|| {
        let mut got = Vec::new();
        for kind in kinds() {
            let mut l = fifo_reload_lines(kind)?;
            println!("  {kind:?}: after the reload {l:?}");
            l.sort();
            got.push(l);
        }
        let want = ["GROUP \"G\" MASTER 0", "INSTANCE \"VI_2\" FAULT 100"];
        if got[0] != want {
            return Err(format!("vigil wrote {:?}, want {want:?}", got[0]));
        }
        if got.len() == 2 && got[0] != got[1] {
            return Err(format!("vigil {:?}, keepalived {:?}", got[0], got[1]));
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
        ("fifo_states_on_reload", fifo_states_on_reload),
    ]);
}
