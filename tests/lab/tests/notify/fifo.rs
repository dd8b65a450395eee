//! Notify FIFOs: the lines of each transition through `notify_fifo` and its
//! reader script, a FIFO nobody reads, and the priority, rx_lower_pri and
//! deleted notifications.

use std::path::Path;

use vigil_lab::harness::{check, Outcome};
use vigil_lab::{read_lines, wait, Daemon, Host, Kind, Lab};

use crate::common::{drive, global, instance, keepalived_present, secs, tail, vip_on, STATES, VIP};

fn reader_script(h: &Host, out: &Path) -> Result<String, String> {
    let text = format!(
        "#!/bin/sh\n# keepalived passes the FIFO as the last argument.\nfor f; do :; done\n\
         while read -r line; do printf '%s\\n' \"$line\" >> {}; done < \"$f\"\n",
        out.display()
    );
    let p = h.write("reader.sh", &text)?;
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(p.display().to_string())
}

fn fifo_run(kind: Kind) -> Result<Vec<String>, String> {
    let mut lab = Lab::new(if kind == Kind::Vigil { "fifo" } else { "fifok" })?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let out = r1.dir().join("fifo.lines");
    let reader = reader_script(&r1, &out)?;
    let fifo = r1.dir().join("notify.fifo");
    let conf = global(&format!(
        "    notify_fifo {}\n    notify_fifo_script \"{reader} extra\"\n",
        fifo.display()
    )) + &instance("VI_1", 51, 100, VIP, "");
    let lines = || read_lines(&out);
    drive(kind, &lab, &r1, &r2, &conf, &|n| lines().len() >= n)?;
    if kind == Kind::Vigil && fifo.exists() {
        return Err(format!("{} left behind after the stop", fifo.display()));
    }
    Ok(lines())
}

pub(super) fn fifo_lines() -> Outcome {
    check((|| {
        let got = fifo_run(Kind::Vigil)?;
        let mut want: Vec<String> = STATES
            .iter()
            .map(|s| format!("INSTANCE \"VI_1\" {s} 100"))
            .collect();
        want.push("INSTANCE \"VI_1\" STOP 100".into());
        if got != want {
            return Err(format!("fifo lines:\n  got  {got:?}\n  want {want:?}"));
        }
        println!("  vigil: {} lines as expected", got.len());
        if keepalived_present() {
            let ka = fifo_run(Kind::Keepalived)?;
            if ka.get(..STATES.len()) != got.get(..STATES.len()) || ka.len() > got.len() {
                return Err(format!(
                    "keepalived's lines differ:\n  vigil      {got:?}\n  keepalived {ka:?}"
                ));
            }
            println!("  keepalived 2.2.7: the same lines ({} of them)", ka.len());
        } else {
            println!("  keepalived 2.2.7 not installed: comparison skipped");
        }
        // Nobody reads: the daemon must run on, lines wait in the pipe.
        let mut lab = Lab::new("fifon")?;
        let r1 = lab.host("r1", "192.168.67.100/24")?;
        let fifo = r1.dir().join("unread.fifo");
        let conf = global(&format!("    vrrp_notify_fifo {}\n", fifo.display()))
            + &instance("VI_1", 51, 100, VIP, "");
        let mut d = Daemon::start(Kind::Vigil, &r1, "r1", &conf)?;
        wait::for_cond(secs(8.0), "VIP on r1", || vip_on(&r1, VIP)).map_err(|e| e + &tail(&d))?;
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&fifo)
            .map_err(|e| format!("{}: {e}", fifo.display()))?;
        let mut buf = vec![0u8; 4096];
        let n = f.read(&mut buf).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        if text != "INSTANCE \"VI_1\" BACKUP 100\nINSTANCE \"VI_1\" MASTER 100\n" {
            return Err(format!("unread fifo held {text:?}"));
        }
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&fifo)
                .map_err(|e| e.to_string())?
                .permissions(),
        );
        d.stop(secs(10.0))?;
        println!(
            "  unread fifo (mode {:o}): the daemon ran on; the lines waited in the pipe",
            mode & 0o777
        );
        if mode & 0o777 != 0o600 {
            return Err(format!("fifo mode {:o}, keepalived's is 600", mode & 0o777));
        }
        Ok(())
    })())
}

fn write_exec(h: &Host, name: &str, body: &str) -> Result<String, String> {
    let p = h.write(name, &format!("#!/bin/sh\n{body}\n"))?;
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(p.display().to_string())
}

/// notify_priority_changes, notify_master_rx_lower_pri and notify_deleted:
/// returns the FIFO lines, the rx_lower_pri script's runs and the
/// notify_deleted script's lines.
fn variants_run(kind: Kind) -> Result<(Vec<String>, usize, Vec<String>), String> {
    let mut lab = Lab::new(if kind == Kind::Vigil { "var" } else { "vark" })?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let dir = r1.dir().display().to_string();
    let out = r1.dir().join("fifo.lines");
    let reader = reader_script(&r1, &out)?;
    let lower = write_exec(&r1, "lower.sh", &format!("echo lower >> {dir}/lower.out"))?;
    let deleted = write_exec(
        &r1,
        "deleted.sh",
        &format!("echo \"deleted $*\" >> {dir}/deleted.out"),
    )?;
    let ok = r1.dir().join("ok");
    std::fs::write(&ok, "").map_err(|e| e.to_string())?;
    let head = format!(
        "global_defs {{\n    router_id r1\n    vrrp_notify_fifo {dir}/v.fifo\n    \
         vrrp_notify_fifo_script {reader}\n    vrrp_notify_priority_changes\n}}\n\
         vrrp_script chk {{\n    script \"/usr/bin/test -e {dir}/ok\"\n    interval 1\n    \
         weight -20\n    fall 1\n    rise 1\n}}\n"
    );
    let v2 = |name: &str, vrid: u8, prio: u8, vip: &str, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
             priority {prio}\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        \
             auth_pass 1111\n    }}\n    virtual_ipaddress {{\n        {vip}/24 dev eth0\n    }}\n{extra}}}\n"
        )
    };
    let vi1 = v2(
        "VI_1",
        51,
        150,
        VIP,
        &format!(
            "    track_script {{\n        chk\n    }}\n    notify_master_rx_lower_pri {lower}\n"
        ),
    );
    let conf = head.clone()
        + &vi1
        + &v2(
            "VI_2",
            52,
            100,
            "192.168.67.151",
            &format!("    notify_deleted \"{deleted} arg\"\n"),
        )
        + &v2("VI_3", 53, 100, "192.168.67.152", "");
    let has = |l: &str| read_lines(&out).iter().any(|x| x == l);
    let mut d = Daemon::start(kind, &r1, "r1", &conf)?;
    let wait_line =
        |l: &str, d: &Daemon| wait::for_cond(secs(10.0), l, || has(l)).map_err(|e| e + &tail(d));
    for i in [
        "VI_1\" MASTER 150",
        "VI_2\" MASTER 100",
        "VI_3\" MASTER 100",
    ] {
        wait_line(&format!("INSTANCE \"{i}"), &d)?;
    }
    std::fs::remove_file(&ok).map_err(|e| e.to_string())?;
    wait_line("INSTANCE \"VI_1\" MASTER_PRIORITY 130", &d)?;
    std::fs::write(&ok, "").map_err(|e| e.to_string())?;
    wait_line("INSTANCE \"VI_1\" MASTER_PRIORITY 150", &d)?;
    let flood = env!("CARGO_BIN_EXE_vigil-lab-flood");
    r2.run(&[
        flood,
        "--kind",
        "valid",
        "--src",
        "192.168.67.200",
        "--vip",
        VIP,
        "--priority",
        "50",
        "--count",
        "2",
        "--rate",
        "4",
    ])?;
    wait::for_cond(secs(5.0), "two MASTER_RX_LOWER_PRI lines", || {
        read_lines(&out)
            .iter()
            .filter(|l| l.contains("MASTER_RX_LOWER_PRI"))
            .count()
            >= 2
    })
    .map_err(|e| e + &tail(&d))?;
    // Reload without VI_2 (notify_deleted) and VI_3 (the old FAULT).
    r1.write("r1.conf", &(head + &vi1))?;
    d.signal(nix::sys::signal::Signal::SIGHUP)?;
    wait_line("INSTANCE \"VI_3\" FAULT 100", &d)?;
    wait_line("INSTANCE \"VI_2\" DELETED 100", &d)?;
    std::thread::sleep(secs(0.5));
    d.stop(secs(10.0))?;
    let lowers = read_lines(&r1.dir().join("lower.out")).len();
    Ok((
        read_lines(&out),
        lowers,
        read_lines(&r1.dir().join("deleted.out")),
    ))
}

pub(super) fn fifo_variants() -> Outcome {
    check((|| {
        let (lines, lowers, deleted) = variants_run(Kind::Vigil)?;
        println!("  vigil: {lines:?}; rx_lower_pri script ran {lowers} times; {deleted:?}");
        if lowers != 2 || deleted != ["deleted arg"] {
            return Err(format!(
                "scripts: lower {lowers} (want 2), deleted {deleted:?}"
            ));
        }
        if !keepalived_present() {
            println!("  keepalived 2.2.7 not installed: comparison skipped");
            return Ok(());
        }
        let (ka, ka_lowers, ka_deleted) = variants_run(Kind::Keepalived)?;
        println!("  keepalived: {ka:?}; rx_lower_pri script ran {ka_lowers} times; {ka_deleted:?}");
        // Per instance, in order (instances interleave differently).
        for i in ["\"VI_1\"", "\"VI_2\"", "\"VI_3\""] {
            let of = |v: &[String]| -> Vec<String> {
                v.iter()
                    .filter(|l| {
                        l.contains(i) && !l.ends_with(" STOP 150") && !l.ends_with(" STOP 130")
                    })
                    .cloned()
                    .collect()
            };
            let (a, b) = (of(&lines), of(&ka));
            // keepalived may exit before its STOP lines are read.
            let n = b.len().min(a.len());
            if a.get(..n) != b.get(..n) || b.len() + 1 < a.len() {
                return Err(format!("{i}: vigil {a:?}, keepalived {b:?}"));
            }
        }
        if (ka_lowers, ka_deleted.as_slice()) != (lowers, deleted.as_slice()) {
            return Err("the scripts ran differently under keepalived".into());
        }
        Ok(())
    })())
}
