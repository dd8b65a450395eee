//! What the mail and FIFO tests share: the r1 configuration pieces, and the
//! run of transitions both drive vigil and keepalived through.

use std::time::Duration;

use vigil_lab::{wait, Daemon, Host, Kind, Lab};

pub(super) const VIP: &str = "192.168.67.150";

pub(super) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

pub(super) fn keepalived_present() -> bool {
    std::process::Command::new("keepalived")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("v2.2.7"))
}

pub(super) fn global(extra: &str) -> String {
    format!("global_defs {{\n    router_id r1\n    vrrp_version 3\n{extra}}}\n")
}

pub(super) fn instance(name: &str, vrid: u8, prio: u8, vip: &str, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
         priority {prio}\n    advert_int 0.1\n    virtual_ipaddress {{\n        {vip}/24 dev eth0\n    }}\n{extra}}}\n"
    )
}

pub(super) fn vip_on(h: &Host, vip: &str) -> bool {
    h.has_addr("eth0", vip)
}

pub(super) fn tail(d: &Daemon) -> String {
    format!(
        "\n--- {:?} on {} ---\n{}",
        d.kind,
        d.host.name,
        d.log_tail(40)
    )
}

/// Drives r1 through BACKUP, MASTER, BACKUP (r2 outranks it), FAULT (cable
/// cut), BACKUP (cable back), then stops it. `seen(n)` says whether the
/// n-th notification (from 1) has arrived, for kind-independent waits.
pub(super) fn drive(
    kind: Kind,
    lab: &Lab,
    r1: &Host,
    r2: &Host,
    conf: &str,
    seen: &dyn Fn(usize) -> bool,
) -> Result<(), String> {
    let mut d = Daemon::start(kind, r1, "r1", conf)?;
    let step = |n: usize, what: &str, d: &Daemon| {
        wait::for_cond(secs(8.0), what, || seen(n)).map_err(|e| format!("{e}{}", tail(d)))
    };
    wait::for_cond(secs(8.0), "VIP on r1", || vip_on(r1, VIP)).map_err(|e| e + &tail(&d))?;
    step(2, "two notifications (BACKUP, MASTER)", &d)?;
    let peer = global("") + &instance("VI_1", 51, 150, VIP, "");
    let mut p = Daemon::start(Kind::Vigil, r2, "r2", &peer)?;
    wait::for_cond(secs(8.0), "VIP on r2 only", || {
        vip_on(r2, VIP) && !vip_on(r1, VIP)
    })
    .map_err(|e| e + &tail(&d) + &tail(&p))?;
    step(3, "BACKUP after r2 took over", &d)?;
    lab.cable(r1, false)?;
    step(4, "FAULT after the cable cut", &d)?;
    lab.cable(r1, true)?;
    step(5, "BACKUP after the cable came back", &d)?;
    d.stop(secs(10.0))?;
    let _ = p.stop(secs(5.0));
    // keepalived may exit before its last notification leaves.
    let _ = wait::for_cond(secs(3.0), "the STOP notification", || seen(6));
    Ok(())
}

pub(super) const STATES: [&str; 5] = ["BACKUP", "MASTER", "BACKUP", "FAULT", "BACKUP"];
