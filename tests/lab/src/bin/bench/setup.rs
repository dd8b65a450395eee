//! The lab side of a measurement: the configurations, a fresh router pair per
//! run, and what watches it (tcpdump on the backup, `ip monitor address`).

use super::*;

/// Seed 01 for the master and the backup, in VRRPv2 or VRRPv3 with advert 0.1 s.
pub(crate) fn seed01(v3: bool) -> Result<(String, String), String> {
    let mut m = seed("01-single-master.master.conf")?;
    let mut b = seed("01-single-master.backup.conf")?;
    if v3 {
        for c in [&mut m, &mut b] {
            // VRRPv3 has no authentication (keepalived refuses it): drop the block.
            let start = c.find("authentication {").ok_or("seed 01: no auth block")?;
            let len = c[start..].find('}').ok_or("seed 01: open auth block")? + 1;
            c.replace_range(start..start + len, "");
            *c = c
                .replace(
                    "vrrp_skip_check_adv_addr",
                    "vrrp_skip_check_adv_addr\n   vrrp_version 3",
                )
                .replace("advert_int 1", "advert_int 0.1");
        }
    }
    Ok((m, b))
}

/// Seed 01's global_defs with `n` instances (VRIDs 51.., VIPs .151..).
pub(crate) fn many_instances(n: usize, master: bool) -> Result<String, String> {
    let text = seed(if master {
        "01-single-master.master.conf"
    } else {
        "01-single-master.backup.conf"
    })?;
    let head = text
        .split("vrrp_instance")
        .next()
        .ok_or("seed 01: no instance")?;
    let (state, prio) = if master {
        ("MASTER", 100)
    } else {
        ("BACKUP", 80)
    };
    let mut out = head.to_string();
    for i in 1..=n {
        out.push_str(&format!(
            "vrrp_instance VI_{i} {{\n    state {state}\n    interface eth0\n    \
             virtual_router_id {vrid}\n    priority {prio}\n    advert_int 1\n    \
             authentication {{\n        auth_type PASS\n        auth_pass 1111\n    }}\n    \
             virtual_ipaddress {{\n        192.168.67.{ip}/24 dev eth0 label eth0:{i}\n    }}\n}}\n",
            vrid = 50 + i,
            ip = 150 + i,
        ));
    }
    Ok(out)
}

pub(crate) struct Pair {
    pub(crate) lab: Lab,
    pub(crate) r1: Host,
    pub(crate) r2: Host,
}

pub(crate) fn pair(tag: &str) -> Result<Pair, String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    Ok(Pair { lab, r1, r2 })
}

pub(crate) fn logs(ds: &[&Daemon]) -> String {
    ds.iter()
        .map(|d| {
            format!(
                "\n--- {:?} on {} ---\n{}",
                d.kind,
                d.host.name,
                d.log_tail(15)
            )
        })
        .collect()
}

/// Starts `kind` on both routers and waits until only r1 holds the VIP.
pub(crate) fn start_pair(
    p: &Pair,
    kind: Kind,
    conf: &(String, String),
) -> Result<(Daemon, Daemon), String> {
    let m = Daemon::start(kind, &p.r1, "m", &conf.0)?;
    let b = Daemon::start(kind, &p.r2, "b", &conf.1)?;
    wait::for_cond(Duration::from_secs(10), "VIP on r1 only", || {
        p.r1.has_addr("eth0", VIP) && !p.r2.has_addr("eth0", VIP)
    })
    .map_err(|e| format!("{e}{}", logs(&[&m, &b])))?;
    Ok((m, b))
}

pub(crate) fn tcpdump(h: &Host, file: &str) -> Result<Capture, String> {
    let path = h.dir().join(file);
    let p = path.display().to_string();
    // -Z root: tcpdump would otherwise drop to its own user and fail to write here.
    // --immediate-mode: otherwise packets wait in the capture ring for a timeout
    // and those still there when tcpdump is stopped are lost.
    let argv = [
        "tcpdump",
        "-Z",
        "root",
        "--immediate-mode",
        "-i",
        "eth0",
        "-n",
        "-U",
        "-w",
        &p,
        "ip proto 112",
    ];
    let mut bg = Background::start(&h.ns, &argv, &h.dir().join(format!("{file}.out")))?;
    bg.wait_stderr("listening on", Duration::from_secs(5))?;
    Ok(Capture { bg, path })
}

/// A running tcpdump and the pcap file it writes.
pub(crate) struct Capture {
    pub(crate) bg: Background,
    pub(crate) path: std::path::PathBuf,
}

impl Capture {
    /// Stops tcpdump and returns the adverts it captured.
    pub(crate) fn adverts(mut self) -> Result<Vec<pcap::Advert>, String> {
        self.bg.stop()?;
        let bytes =
            std::fs::read(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        pcap::adverts(&bytes)
    }
}

pub(crate) fn monitor(h: &Host) -> Result<Background, String> {
    let bg = Background::start(
        &h.ns,
        &["ip", "-ts", "-o", "monitor", "address"],
        &h.dir().join("monitor.txt"),
    )?;
    // ip monitor prints nothing when ready: give it a moment to subscribe.
    std::thread::sleep(Duration::from_millis(200));
    Ok(bg)
}

pub(crate) fn vip_time(mon: &mut Background) -> Result<f64, String> {
    let text = String::from_utf8_lossy(&mon.stop()?).into_owned();
    clock::first_add(&text, VIP).ok_or_else(|| format!("ip monitor never showed {VIP}:\n{text}"))
}
