//! The demo: a namespace lab with two vigil routers and a client, running seed
//! scenario 01 (the embedded default config). It shows the VIP on the master, kills
//! the master, measures how long the backup takes over while the client keeps
//! reaching the VIP, and removes the lab on exit, also on Ctrl-C.

use std::time::{Duration, Instant};
use vigil_lab::{cleanup, netns, wait, Daemon, Host, Kind, Lab};

const VIP: &str = "192.168.67.150";
/// The default configs the demo runs: seed scenario 01, compiled into this binary.
const MASTER: &str = include_str!("../../../data/seed-configs/01-single-master.master.conf");
const BACKUP: &str = include_str!("../../../data/seed-configs/01-single-master.backup.conf");

fn say(what: &str) {
    println!("\n\x1b[1m== {what}\x1b[0m");
}

fn show_addrs(h: &Host) {
    let out = h
        .run(&["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .unwrap_or_default();
    for l in out.lines() {
        let l = l.split("\\").next().unwrap_or(l);
        println!(
            "  [{}] {}",
            h.name,
            l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
        );
    }
}

fn run() -> Result<(), String> {
    if let Some(why) = netns::unavailable() {
        return Err(format!("the demo needs root and network namespaces: {why}"));
    }
    say("building the lab: bridge + r1 (192.168.67.100) + r2 (.200) + client (.10)");
    let mut lab = Lab::new("demo")?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let client = lab.host("client", "192.168.67.10/24")?;
    println!("  vigil binary: {}", vigil_lab::proc::vigil_bin().display());

    say("starting vigil on r1 (MASTER, priority 100) and r2 (BACKUP, priority 80)");
    let mut m = Daemon::start(Kind::Vigil, &r1, "vigil", MASTER)?;
    let b = Daemon::start(Kind::Vigil, &r2, "vigil", BACKUP)?;
    wait::for_cond(Duration::from_secs(8), "the VIP on r1", || {
        r1.has_addr("eth0", VIP)
    })
    .map_err(|e| format!("{e}\n{}", m.log_tail(20)))?;
    show_addrs(&r1);
    show_addrs(&r2);
    let ok = client.ping(VIP);
    println!("  client ping {VIP}: {}", if ok { "ok" } else { "FAILED" });
    println!(
        "  client ARP: {VIP} -> {}  (r1 eth0 is {})",
        client.neigh_mac(VIP).unwrap_or_default(),
        r1.mac("eth0")?
    );
    if let Ok(s) = m.status(false) {
        println!("  vigil status on r1:");
        for l in s.lines() {
            println!("    {l}");
        }
    }

    say("killing vigil on r1 (SIGKILL) and cutting its cable");
    let t0 = Instant::now();
    m.kill();
    lab.cable(&r1, false)?;
    let (_, took) = wait::until(Duration::from_secs(8), Duration::from_millis(2), || {
        r2.has_addr("eth0", VIP).then_some(())
    })
    .ok_or_else(|| format!("r2 never took the VIP\n{}", b.log_tail(20)))?;
    println!(
        "  r2 took over the VIP after {:.3} s (Master_Down_Interval for priority 80: 3 x 1 s + 0.6875 s)",
        took.as_secs_f64()
    );
    show_addrs(&r2);
    let reach = wait::until(Duration::from_secs(3), Duration::from_millis(50), || {
        client.ping(VIP).then_some(())
    });
    println!(
        "  client ping {VIP}: {}  ({:.3} s after the kill)",
        if reach.is_some() { "ok" } else { "FAILED" },
        t0.elapsed().as_secs_f64()
    );
    println!(
        "  client ARP: {VIP} -> {}  (r2 eth0 is {})",
        client.neigh_mac(VIP).unwrap_or_default(),
        r2.mac("eth0")?
    );
    println!("\n--- vigil log on r2 ---\n{}", b.log_tail(12));

    say("removing the lab");
    drop(b);
    drop(lab);
    Ok(())
}

fn main() {
    cleanup::install_signal_cleanup();
    if let Err(e) = run() {
        cleanup::delete_all();
        eprintln!("demo failed: {e}");
        std::process::exit(1);
    }
}
