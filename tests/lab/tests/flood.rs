//! Garbage flood: two vigil routers run seed 01 (master r1, backup r2) while the
//! lab client floods crafted VRRP packets with `vigil-lab-flood`, one kind per
//! test. The election must not move (VIP on r1 only, the whole time; no state
//! transition logged) and each router's drop counter for that kind must grow by
//! the number of packets sent (`vigil status --json`).
//!
//! Run as root: `cargo test --release -p vigil-lab --test flood [-- FILTER]`.

use craft::Kind;
use drops::Drops;
use std::time::Duration;
use vigil_lab::bench::craft;
use vigil_lab::bench::drops;
use vigil_lab::bench::json;
use vigil_lab::harness::{check, run};
use vigil_lab::scenario::seed;
use vigil_lab::{wait, watch::VipWatch, Daemon, Host, Kind as Daemon_, Lab};

const VIP: &str = "192.168.67.150";
const GROUP: &str = "224.0.0.44";
const SENT: u64 = 2000;
/// Packets per second: 2,000 packets take two seconds, two advert intervals.
const RATE: u64 = 1000;

fn flood_bin() -> &'static str {
    env!("CARGO_BIN_EXE_vigil-lab-flood")
}

/// What `vigil status` can tell: counters, or why the command does not exist yet.
enum Status {
    Counters(Drops),
    Unsupported(String),
}

/// Reads the drop counters, retrying while the control socket comes up. A vigil
/// built without the status command is reported as such, not as a failure.
fn read_status(d: &Daemon) -> Result<Status, String> {
    let mut last = String::new();
    for _ in 0..30 {
        match d.status_json() {
            Ok(text) => {
                let v = json::parse(&text)?;
                return drops::from_status(&v).map(Status::Counters);
            }
            Err(e) if e.contains("Unrecognized argument") => {
                return Ok(Status::Unsupported(e.trim().to_string()))
            }
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "vigil status on {} failed: {}",
        d.host.name,
        last.trim()
    ))
}

fn transitions(d: &Daemon) -> usize {
    d.log_text()
        .lines()
        .filter(|l| l.contains("Entering"))
        .count()
}

fn with_logs(daemons: &[&Daemon], e: String) -> String {
    let mut s = e;
    for d in daemons {
        s.push_str(&format!("\n--- {} ---\n{}", d.host.name, d.log_tail(20)));
    }
    s
}

/// Sends `SENT` packets of `kind` from `attacker` to `dst`.
fn flood(attacker: &Host, kind: Kind, dst: &str) -> Result<(), String> {
    let count = SENT.to_string();
    let rate = RATE.to_string();
    let out = attacker.run(&[
        flood_bin(),
        "--kind",
        kind.name(),
        "--src",
        attacker.ip4(),
        "--dst",
        dst,
        "--count",
        &count,
        "--rate",
        &rate,
        "--max-secs",
        "20",
        "--vrid",
        "51",
        "--password",
        "1111",
        "--advert-int",
        "1",
        "--vip",
        VIP,
    ])?;
    println!("    {}", out.trim());
    Ok(())
}

/// Seed 01 on r1 (master) and r2 (backup), `kind` flooded to `dst`; `hit` lists
/// which routers receive the flood (the unicast one reaches r1 only).
fn scenario(kind: Kind, dst: &str, hit: [bool; 2]) -> Result<(), String> {
    let mut lab = Lab::new(&format!("flood-{}", kind.name()))?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let attacker = lab.host("client", "192.168.67.10/24")?;
    let mut m = Daemon::start(
        Daemon_::Vigil,
        &r1,
        "vigil",
        &seed("01-single-master.master.conf")?,
    )?;
    let mut b = Daemon::start(
        Daemon_::Vigil,
        &r2,
        "vigil",
        &seed("01-single-master.backup.conf")?,
    )?;
    let settled = || r1.has_addr("eth0", VIP) && !r2.has_addr("eth0", VIP);
    wait::for_cond(Duration::from_secs(8), "VIP on r1 only", settled)
        .map_err(|e| with_logs(&[&m, &b], e))?;
    // Let the backup hear a few adverts so both sit in their steady state.
    std::thread::sleep(Duration::from_millis(2500));
    let mut before = Vec::new();
    for d in [&m, &b] {
        before.push(read_status(d).map_err(|e| with_logs(&[d], e))?);
    }
    let logged = (transitions(&m), transitions(&b));

    let watch = VipWatch::start(vec![r1.clone(), r2.clone()], VIP);
    let sent = flood(&attacker, kind, dst);
    // One more advert interval: a late effect of the flood would show here.
    std::thread::sleep(Duration::from_millis(1200));
    let timeline = watch.finish();
    sent.map_err(|e| with_logs(&[&m, &b], e))?;

    if let Some((t, held)) = timeline
        .samples
        .iter()
        .find(|(_, h)| h[..] != [true, false])
    {
        return Err(with_logs(
            &[&m, &b],
            format!(
                "during the {} flood the VIP holders became r1={} r2={} at {:.3} s",
                kind.name(),
                held.first().copied().unwrap_or(false),
                held.get(1).copied().unwrap_or(false),
                t.as_secs_f64()
            ),
        ));
    }
    if timeline.samples.len() < 50 {
        return Err(format!(
            "the VIP watch took only {} samples",
            timeline.samples.len()
        ));
    }
    if (transitions(&m), transitions(&b)) != logged {
        return Err(with_logs(
            &[&m, &b],
            "a state transition was logged during the flood".into(),
        ));
    }
    let died = !m.alive() || !b.alive();
    let routers = [&m, &b];
    if died {
        return Err(with_logs(&routers, "a router died during the flood".into()));
    }

    for ((d, prior), got_flood) in routers.iter().zip(&before).zip(hit) {
        let after = read_status(d).map_err(|e| with_logs(&[d], e))?;
        match (prior, &after) {
            (Status::Counters(pre), Status::Counters(post)) => {
                let grew = drops::delta(pre, post);
                let who = &d.host.name;
                if got_flood {
                    let n = drops::check(kind, SENT, &grew).map_err(|e| format!("{who}: {e}"))?;
                    println!("    {who}: {} ({n}/{SENT} counted)", drops::show(&grew));
                } else if !grew.is_empty() {
                    return Err(format!(
                        "{who} was not flooded, yet its drops grew: {}",
                        drops::show(&grew)
                    ));
                }
            }
            (Status::Unsupported(why), _) | (_, Status::Unsupported(why)) => {
                println!(
                    "    note: drop counters on {} not checked: `vigil status` unavailable ({why})",
                    d.host.name
                );
            }
        }
    }
    Ok(())
}

/// The control case: valid adverts with priority 254 from the attacker do take
/// mastership from r1, so the checks above would see a packet wrongly accepted.
fn control_valid_flood_is_noticed() -> Result<(), String> {
    match scenario(Kind::Valid, GROUP, [true, true]) {
        Err(e) if e.contains("VIP holders became r1=false") => {
            println!("    the valid flood moved the VIP off r1, as it should");
            Ok(())
        }
        Err(e) => Err(format!("control flood failed otherwise: {e}")),
        Ok(()) => Err("valid priority-254 adverts did not disturb the master".into()),
    }
}

fn main() {
    vigil_lab::cleanup::install_signal_cleanup();
    run(&[
        ("flood_ttl", || {
            check(scenario(Kind::Ttl, GROUP, [true, true]))
        }),
        ("flood_checksum", || {
            check(scenario(Kind::Checksum, GROUP, [true, true]))
        }),
        ("flood_short", || {
            check(scenario(Kind::Short, GROUP, [true, true]))
        }),
        ("flood_vrid", || {
            check(scenario(Kind::Vrid, GROUP, [true, true]))
        }),
        ("flood_password", || {
            check(scenario(Kind::Password, GROUP, [true, true]))
        }),
        ("flood_version", || {
            check(scenario(Kind::Version, GROUP, [true, true]))
        }),
        ("flood_interval", || {
            check(scenario(Kind::Interval, GROUP, [true, true]))
        }),
        ("flood_garbage", || {
            check(scenario(Kind::Garbage, GROUP, [true, true]))
        }),
        ("flood_garbage_unicast_to_master", || {
            check(scenario(Kind::Garbage, "192.168.67.100", [true, false]))
        }),
        ("flood_control_valid_adverts_are_noticed", || {
            check(control_valid_flood_is_noticed())
        }),
    ]);
}
