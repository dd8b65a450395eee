//! `auth_type AH` in the lab: vigil against keepalived 2.2.7 (both ways round)
//! and vigil against vigil, on seed 01 with `auth_type AH` instead of PASS:
//! the backup stays backup for 10 s, takes over within Master_Down_Interval
//! + 1 s of the master's death, the restarted master (its AH sequence counter
//! back at 0) preempts back. With different `auth_pass` values both routers
//! become master, as with keepalived, and vigil's drop counter names the ICV.
//!
//! Run as root: `cargo test --release -p vigil-lab --test ah [-- FILTER]`.
//! Without root, namespaces or keepalived each test is reported as skipped.

use std::time::Duration;
use vigil_lab::harness::{check, run, Outcome};
use vigil_lab::scenario::seed;
use vigil_lab::{logs, wait, watch::VipWatch, Daemon, Host, Kind, Lab};

const VIP: &str = "192.168.67.150";
const SECS: fn(f64) -> Duration = Duration::from_secs_f64;

/// Master_Down_Interval of the priority-80 VRRPv2 backup, advert_int 1 s.
const MDI_80: f64 = 3.0 + (256.0 - 80.0) / 256.0;

struct Pair {
    lab: Lab,
    r1: Host,
    r2: Host,
}

fn pair(tag: &str) -> Result<Pair, String> {
    let mut lab = Lab::new(tag)?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    Ok(Pair { lab, r1, r2 })
}

/// Seed 01's master and backup with `auth_type AH` and these passwords.
fn configs(pass_master: &str, pass_backup: &str) -> Result<(String, String), String> {
    let ah = |t: String, pass: &str| {
        t.replace("auth_type PASS", "auth_type AH")
            .replace("auth_pass 1111", &format!("auth_pass {pass}"))
    };
    Ok((
        ah(seed("01-single-master.master.conf")?, pass_master),
        ah(seed("01-single-master.backup.conf")?, pass_backup),
    ))
}

fn vip_on(h: &Host) -> bool {
    h.has_addr("eth0", VIP)
}

fn only_on(owner: &Host, other: &Host, timeout: f64) -> Result<Duration, String> {
    wait::only_on(owner, other, VIP, timeout)
}

/// A counter of VI_1 from `vigil status --json`.
fn counter(d: &Daemon, key: &str) -> Option<u64> {
    d.status_counter(key)
}

fn print_drops(d: &Daemon) {
    let keys = ["ah_icv", "ah_spi", "ah_replay", "auth_type"];
    let v: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "{k} {}",
                counter(d, k).map_or("?".into(), |n| n.to_string())
            )
        })
        .collect();
    println!("    {} drops: {}", d.host.name, v.join(", "));
}

/// keepalived's replay refusals of the run so far (its log at LOG_INFO).
fn keepalived_replays(d: &Daemon) -> usize {
    d.log_text()
        .lines()
        .filter(|l| l.contains("already processed"))
        .count()
}

/// Runs `f` unless it needs keepalived and there is none (then skipped).
fn needs(kinds: &[Kind], f: impl FnOnce() -> Result<(), String>) -> Outcome {
    let missing = kinds.contains(&Kind::Keepalived)
        && std::process::Command::new("keepalived")
            .arg("--version")
            .output()
            .is_err();
    if missing {
        return Outcome::Skip("keepalived is not installed".into());
    }
    check(f())
}

/// Master `mk` on r1 (priority 100), backup `bk` on r2 (80), AH with one
/// password: hold, failover, restart and preempt back.
fn group(tag: &str, mk: Kind, bk: Kind) -> Result<(), String> {
    let p = pair(tag)?;
    let (master, backup) = configs("ahsecret", "ahsecret")?;
    let both = vec![p.r1.clone(), p.r2.clone()];
    let watch = VipWatch::start(both.clone(), VIP);
    let mut m = Daemon::start(mk, &p.r1, "m", &master)?;
    let b = Daemon::start(bk, &p.r2, "b", &backup)?;
    // `state MASTER` is cleared to BACKUP under AH (both implementations), so
    // the master takes over after its own Master_Down_Interval.
    only_on(&p.r1, &p.r2, 10.0).map_err(|e| logs(&[&m, &b], e))?;
    wait::holds(SECS(10.0), "the backup staying backup for 10 s", || {
        vip_on(&p.r1) && !vip_on(&p.r2)
    })
    .map_err(|e| logs(&[&m, &b], e))?;
    let startup = watch.finish().longest_overlap();
    for d in [&m, &b] {
        if d.kind == Kind::Vigil {
            let heard = counter(d, "adverts_received").unwrap_or(0);
            let icv = counter(d, "ah_icv").unwrap_or(0);
            if d.host.name == "r2" && heard < 8 {
                return Err(logs(&[&m, &b], format!("the backup heard {heard} adverts")));
            }
            if icv != 0 {
                return Err(logs(&[&m, &b], format!("{icv} ICV failures")));
            }
        }
    }

    // The master dies and its cable is cut.
    m.kill();
    p.lab.cable(&p.r1, false)?;
    // (The killed master's VIP stays on its cut-off interface.)
    let t = wait::for_cond(SECS(MDI_80 + 2.0), "VIP on r2", || vip_on(&p.r2))
        .map_err(|e| logs(&[&b], e))?;
    let s = t.as_secs_f64();
    println!("    takeover after the master's death: {s:.3} s");
    if s > MDI_80 + 1.0 {
        return Err(logs(&[&b], format!("takeover took {s:.3} s")));
    }

    // It comes back (VIP gone with the "reboot"), counter at 0, and preempts.
    p.r1.run(&["ip", "addr", "del", &format!("{VIP}/24"), "dev", "eth0"])?;
    let watch = VipWatch::start(both, VIP);
    let m2 = Daemon::start(mk, &p.r1, "m2", &master)?;
    p.lab.cable(&p.r1, true)?;
    let t = only_on(&p.r1, &p.r2, 15.0).map_err(|e| logs(&[&m2, &b], e))?;
    println!(
        "    restarted master preempted back after {:.3} s",
        t.as_secs_f64()
    );
    wait::holds(SECS(5.0), "the VIP staying on the returned master", || {
        vip_on(&p.r1) && !vip_on(&p.r2)
    })
    .map_err(|e| logs(&[&m2, &b], e))?;
    let ret = watch.finish().longest_overlap();
    println!(
        "    two VIP holders at most: {:.3} s at start, {:.3} s on return",
        startup.as_secs_f64(),
        ret.as_secs_f64()
    );
    for d in [&m2, &b] {
        match d.kind {
            Kind::Vigil => print_drops(d),
            Kind::Keepalived => println!(
                "    {} (keepalived) replay refusals logged: {}",
                d.host.name,
                keepalived_replays(d)
            ),
        }
    }
    if startup.max(ret) >= SECS(1.0) {
        return Err(logs(&[&m2, &b], "two masters for more than 1 s".into()));
    }
    Ok(())
}

/// The master is killed right after an advert and restarted at once, cable
/// in: its sequence counter is back at 0 and it may run out its
/// Master_Down_Interval (3.61 s) before the backup (3.69 s from that advert).
/// Then its first adverts are replays to the backup, which takes over; the
/// restarted one accepts the backup's higher number, moves above it and wins
/// back (keepalived's "Syncing seq_num"). Either way one master at the end.
fn quick_restart(tag: &str, mk: Kind, bk: Kind) -> Result<(), String> {
    let p = pair(tag)?;
    let (master, backup) = configs("ahsecret", "ahsecret")?;
    let mut m = Daemon::start(mk, &p.r1, "m", &master)?;
    let b = Daemon::start(bk, &p.r2, "b", &backup)?;
    only_on(&p.r1, &p.r2, 10.0).map_err(|e| logs(&[&m, &b], e))?;
    std::thread::sleep(SECS(15.0));
    // An advert of the master just went out: its own count (vigil) or the
    // backup's (vigil backup) moves.
    let (probe, key) = if mk == Kind::Vigil {
        (&m, "adverts_sent")
    } else {
        (&b, "adverts_received")
    };
    let before = counter(probe, key).ok_or("no status")?;
    wait::until(SECS(3.0), Duration::from_millis(5), || {
        counter(probe, key).filter(|n| *n > before)
    })
    .ok_or_else(|| logs(&[&m, &b], "no advert of the master seen".into()))?;
    m.kill();
    // Its host "reboots": the VIP goes with the process.
    p.r1.run(&["ip", "addr", "del", &format!("{VIP}/24"), "dev", "eth0"])?;
    let watch = VipWatch::start(vec![p.r1.clone(), p.r2.clone()], VIP);
    let m2 = Daemon::start(mk, &p.r1, "m2", &master)?;
    // Whichever way the race goes, it is over well within 12 s.
    std::thread::sleep(SECS(12.0));
    wait::holds(SECS(5.0), "one master, the restarted one", || {
        vip_on(&p.r1) && !vip_on(&p.r2)
    })
    .map_err(|e| logs(&[&m2, &b], e))?;
    let overlap = watch.finish().longest_overlap();
    println!(
        "    two VIP holders at most {:.3} s after the quick restart",
        overlap.as_secs_f64()
    );
    let took_over = b.log_text().matches("Entering MASTER STATE").count();
    println!("    backup entered MASTER {took_over} time(s) meanwhile");
    for d in [&m2, &b] {
        match d.kind {
            Kind::Vigil => print_drops(d),
            Kind::Keepalived => println!(
                "    {} (keepalived) replay refusals logged: {}",
                d.host.name,
                keepalived_replays(d)
            ),
        }
    }
    Ok(())
}

/// Different `auth_pass`: each drops the other's adverts, both hold the VIP;
/// vigil counts the drops as ICV failures, keepalived logs its HMAC refusal.
///
/// keepalived 2.2.7 restarts a master's advert timer on every packet it
/// reads for the VRID, refused ones included (vrrp_scheduler.c, the end of
/// `vrrp_dispatcher_read`), so next to a master it cannot authenticate with
/// the same interval it sends only when its timer runs out first: seconds
/// can pass without one. One counted ICV drop is all that can be asked of
/// the vigil side there; against vigil, one a second.
fn mismatch(tag: &str, other: Kind) -> Result<(), String> {
    let p = pair(tag)?;
    let (master, _) = configs("ahsecret", "x")?;
    let (_, backup) = configs("x", "wrong")?;
    let v = Daemon::start(Kind::Vigil, &p.r1, "v", &master)?;
    let o = Daemon::start(other, &p.r2, "o", &backup)?;
    wait::for_cond(SECS(10.0), "the VIP on both routers", || {
        vip_on(&p.r1) && vip_on(&p.r2)
    })
    .map_err(|e| logs(&[&v, &o], e))?;
    wait::holds(SECS(3.0), "both staying master", || {
        vip_on(&p.r1) && vip_on(&p.r2)
    })
    .map_err(|e| logs(&[&v, &o], e))?;
    let icv = counter(&v, "ah_icv").unwrap_or(0);
    print_drops(&v);
    let least = if other == Kind::Keepalived { 1 } else { 3 };
    if icv < least {
        return Err(logs(&[&v, &o], format!("ah_icv drops: {icv}")));
    }
    if other == Kind::Keepalived {
        let refused = o
            .log_text()
            .lines()
            .filter(|l| l.contains("IPSEC-AH") && l.contains("HMAC"))
            .count();
        println!("    keepalived logged {refused} HMAC refusals");
        if refused == 0 {
            return Err(logs(&[&v, &o], "keepalived logged no HMAC refusal".into()));
        }
    }
    Ok(())
}

fn main() {
    use Kind::{Keepalived as K, Vigil as V};
    vigil_lab::cleanup::install_signal_cleanup();
    run(&[
        ("ah_keepalived_master", || {
            needs(&[K], || group("ahk", K, V))
        }),
        ("ah_vigil_master", || needs(&[K], || group("ahv", V, K))),
        ("ah_vigil_vigil", || needs(&[], || group("ahw", V, V))),
        ("ah_quick_restart_keepalived_master", || {
            needs(&[K], || quick_restart("ahq", K, V))
        }),
        ("ah_quick_restart_vigil_master", || {
            needs(&[K], || quick_restart("ahr", V, K))
        }),
        ("ah_mismatch_keepalived", || {
            needs(&[K], || mismatch("ahm", K))
        }),
        ("ah_mismatch_vigil", || needs(&[], || mismatch("ahn", V))),
    ]);
}
