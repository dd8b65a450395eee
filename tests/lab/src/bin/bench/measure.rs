//! One measurement each: failover after master loss, graceful handover, memory
//! and idle CPU, and `repeat` to run one several times in fresh labs.

use super::*;

/// One failover after master loss; returns seconds from the master's last advert
/// to the VIP on the backup.
pub(crate) fn failover_once(kind: Kind, v3: bool, run: usize) -> Result<f64, String> {
    let p = pair(&format!("fo{}", if v3 { 3 } else { 2 }))?;
    let (mut m, b) = start_pair(&p, kind, &seed01(v3)?)?;
    let cap = tcpdump(&p.r2, "fo.pcap")?;
    let mut mon = monitor(&p.r2)?;
    // Vary where in the advert interval the kill lands.
    let advert = if v3 { 0.1 } else { 1.0 };
    std::thread::sleep(Duration::from_secs_f64(
        advert * (1.5 + 0.37 * run as f64 % 1.0),
    ));
    m.kill();
    p.lab.cable(&p.r1, false)?;
    wait::for_cond(Duration::from_secs(8), "VIP on the backup", || {
        p.r2.has_addr("eth0", VIP)
    })
    .map_err(|e| format!("{e}{}", logs(&[&b])))?;
    std::thread::sleep(Duration::from_millis(50));
    let t_vip = vip_time(&mut mon)?;
    let adverts = cap.adverts()?;
    let last = adverts
        .iter()
        .filter(|a| a.src == MASTER_IP && a.priority > 0 && a.at <= t_vip)
        .map(|a| a.at)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))))
        .ok_or("no advert from the master captured on the backup")?;
    Ok(t_vip - last)
}

/// One graceful stop; returns (SIGTERM -> VIP, priority-0 advert -> VIP).
pub(crate) fn graceful_once(kind: Kind) -> Result<(f64, Option<f64>), String> {
    let p = pair("stop")?;
    let (mut m, b) = start_pair(&p, kind, &seed01(false)?)?;
    let cap = tcpdump(&p.r2, "stop.pcap")?;
    let mut mon = monitor(&p.r2)?;
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = now_unix();
    m.signal(Signal::SIGTERM)?;
    wait::for_cond(Duration::from_secs(5), "VIP on the backup", || {
        p.r2.has_addr("eth0", VIP)
    })
    .map_err(|e| format!("{e}{}", logs(&[&m, &b])))?;
    std::thread::sleep(Duration::from_millis(50));
    let t_vip = vip_time(&mut mon)?;
    let prio0 = cap
        .adverts()?
        .iter()
        .find(|a| a.src == MASTER_IP && a.priority == 0)
        .map(|a| t_vip - a.at);
    let _ = m.stop(Duration::from_secs(3));
    Ok((t_vip - t0, prio0))
}

/// The daemon processes inside `h`'s namespace.
pub(crate) fn daemon_pids(h: &Host, kind: Kind) -> Result<Vec<u32>, String> {
    let pids: Vec<u32> = procfs::namespace_pids(&h.ns)?
        .into_iter()
        .filter(|p| procfs::comm(*p).is_some_and(|c| c.starts_with(name(kind))))
        .collect();
    if pids.is_empty() {
        return Err(format!("no {} process in {}", name(kind), h.name));
    }
    Ok(pids)
}

pub(crate) fn vip_count(h: &Host) -> usize {
    h.run(&["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .map(|o| {
            o.lines()
                .filter(|l| l.contains("inet 192.168.67.1") && !l.contains(h.ip4()))
                .count()
        })
        .unwrap_or(0)
}

/// Memory with one instance: (master, backup) after the pair settled.
pub(crate) fn memory_one(kind: Kind) -> Result<(Memory, Memory), String> {
    let p = pair("mem1")?;
    let (_m, _b) = start_pair(&p, kind, &seed01(false)?)?;
    std::thread::sleep(Duration::from_secs(3));
    Ok((
        procfs::memory(&daemon_pids(&p.r1, kind)?),
        procfs::memory(&daemon_pids(&p.r2, kind)?),
    ))
}

pub(crate) struct Idle {
    pub(crate) mem_master: Memory,
    pub(crate) mem_backup: Memory,
    /// CPU seconds over the window: master, backup.
    pub(crate) cpu: (f64, f64),
    pub(crate) processes: (usize, usize),
}

/// Twenty instances on each router, both daemons at once (one lab each), then an
/// idle window over which CPU time is counted.
pub(crate) fn idle_twenty(window: Duration) -> Result<Vec<Idle>, String> {
    let conf = (
        many_instances(INSTANCES, true)?,
        many_instances(INSTANCES, false)?,
    );
    let mut setups = Vec::new();
    for kind in KINDS {
        let p = pair(&format!("idle-{}", name(kind)))?;
        let m = Daemon::start(kind, &p.r1, "m", &conf.0)?;
        let b = Daemon::start(kind, &p.r2, "b", &conf.1)?;
        setups.push((kind, p, m, b));
    }
    for (_, p, m, b) in &setups {
        wait::for_cond(
            Duration::from_secs(15),
            "all VIPs on r1, none on r2",
            || vip_count(&p.r1) == INSTANCES && vip_count(&p.r2) == 0,
        )
        .map_err(|e| format!("{e}{}", logs(&[m, b])))?;
    }
    // Past the start-up gratuitous ARP bursts.
    std::thread::sleep(Duration::from_secs(6));
    let pids: Vec<(Vec<u32>, Vec<u32>)> = setups
        .iter()
        .map(|(k, p, _, _)| Ok((daemon_pids(&p.r1, *k)?, daemon_pids(&p.r2, *k)?)))
        .collect::<Result<_, String>>()?;
    let before: Vec<(u64, u64)> = pids
        .iter()
        .map(|(a, b)| (procfs::cpu_ticks(a), procfs::cpu_ticks(b)))
        .collect();
    std::thread::sleep(window);
    let mut out = Vec::new();
    for (((pm, pb), (cm, cb)), (_, p, m, b)) in pids.iter().zip(&before).zip(&setups) {
        if vip_count(&p.r1) != INSTANCES || vip_count(&p.r2) != 0 {
            return Err(format!(
                "the election moved during the idle window{}",
                logs(&[m, b])
            ));
        }
        let ticks = |now: u64, then: u64| now.saturating_sub(then) as f64 / procfs::TICKS_PER_SEC;
        out.push(Idle {
            mem_master: procfs::memory(pm),
            mem_backup: procfs::memory(pb),
            cpu: (
                ticks(procfs::cpu_ticks(pm), *cm),
                ticks(procfs::cpu_ticks(pb), *cb),
            ),
            processes: (pm.len(), pb.len()),
        });
    }
    Ok(out)
}

/// Repeats `f` for each daemon, alternating, and keeps the values that worked.
pub(crate) fn repeat(
    o: &Opts,
    what: &str,
    mut f: impl FnMut(Kind, usize) -> Result<f64, String>,
) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(), Vec::new()];
    if !o.wants(&what.replace(' ', "-")) {
        return out;
    }
    for run in 0..o.runs {
        for (i, kind) in KINDS.into_iter().enumerate() {
            match f(kind, run) {
                Ok(v) => {
                    println!("  {what} {} run {}: {v:.4} s", name(kind), run + 1);
                    out[i].push(v);
                }
                Err(e) => eprintln!("  {what} {} run {}: FAILED: {e}", name(kind), run + 1),
            }
        }
    }
    out
}
