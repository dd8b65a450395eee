//! Alert mails and notify FIFOs in the namespace lab, each run with vigil
//! and then with keepalived 2.2.7 on the same configuration, the same SMTP
//! sink and the same FIFO reader, and the two compared line by line.
//!
//! - `mail_per_transition`: r1 (VRRPv3, 0.1 s) goes BACKUP, MASTER, BACKUP
//!   (r2 with a higher priority starts), FAULT (cable cut), BACKUP, stops;
//!   the sink (`notify/smtp_sink.py` in r1's namespace) gets one mail per
//!   transition with keepalived's subject, headers and two RCPT TOs.
//! - `mail_stalling_server`: a sink that accepts and never answers; r1's
//!   second instance flips 8 times while its first one's adverts are timed
//!   from r2 (tcpdump): lateness p50/p99/max printed, p99 bounded, one
//!   "not sent" log line per attempt. Also a refusing server (no listener).
//! - `fifo_lines`: the same transitions with `notify_fifo` and a
//!   `notify_fifo_script` that copies the FIFO to a file; and a FIFO
//!   nobody reads, which must not block the daemon.
//!
//! Run as root: `cargo test -p vigil-lab --test notify -- [FILTER]`
//! (`VIGIL_BIN` picks the binary). Without root or namespaces every test
//! is reported skipped; without keepalived the comparison is skipped.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use vigil_lab::bench::background::Background;
use vigil_lab::bench::{pcap, pressure};
use vigil_lab::harness::{check, run, Outcome};
use vigil_lab::{wait, Daemon, Host, Kind, Lab};

const VIP: &str = "192.168.67.150";
const SINK_PORT: &str = "2525";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn sink_script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/notify/smtp_sink.py")
        .display()
        .to_string()
}

fn python() -> Option<String> {
    let out = std::process::Command::new("sh")
        .args(["-c", "command -v python3"])
        .output()
        .ok()?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!p.is_empty()).then_some(p)
}

fn keepalived_present() -> bool {
    std::process::Command::new("keepalived")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("v2.2.7"))
}

/// Starts the sink in `h`'s namespace; its records go to `out`.
fn sink(h: &Host, mode: &str, out: &Path) -> Result<Background, String> {
    let py = python().ok_or("python3 not found")?;
    let o = out.display().to_string();
    let script = sink_script();
    let argv = [
        py.as_str(),
        script.as_str(),
        mode,
        "127.0.0.1",
        SINK_PORT,
        &o,
    ];
    let mut bg = Background::start(&h.ns, &argv, &out.with_extension("sink"))?;
    bg.wait_stderr("listening", secs(5.0))?;
    Ok(bg)
}

fn global(extra: &str) -> String {
    format!("global_defs {{\n    router_id r1\n    vrrp_version 3\n{extra}}}\n")
}

fn instance(name: &str, vrid: u8, prio: u8, vip: &str, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
         priority {prio}\n    advert_int 0.1\n    virtual_ipaddress {{\n        {vip}/24 dev eth0\n    }}\n{extra}}}\n"
    )
}

fn vip_on(h: &Host, vip: &str) -> bool {
    h.has_addr("eth0", vip)
}

fn tail(d: &Daemon) -> String {
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
fn drive(
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

const STATES: [&str; 5] = ["BACKUP", "MASTER", "BACKUP", "FAULT", "BACKUP"];

/// `Subject:` of each mail the sink recorded.
fn subjects(records: &str) -> Vec<String> {
    records
        .lines()
        .filter_map(|l| {
            let at = l.find("Subject: ")? + "Subject: ".len();
            let rest = l.get(at..)?;
            Some(rest.get(..rest.find("\\r\\n")?)?.to_string())
        })
        .collect()
}

fn mail_run(kind: Kind) -> Result<(Vec<String>, String), String> {
    let mut lab = Lab::new(if kind == Kind::Vigil { "mail" } else { "mailk" })?;
    let r1 = lab.host("r1", "192.168.67.100/24")?;
    let r2 = lab.host("r2", "192.168.67.200/24")?;
    let out = r1.dir().join("mails.jsonl");
    let mut s = sink(&r1, "ok", &out)?;
    let conf = global(&format!(
        "    notification_email {{\n        a@example.org\n        b@example.org\n    }}\n    \
         notification_email_from vigil@r1.example.org\n    smtp_server 127.0.0.1 {SINK_PORT}\n    \
         smtp_helo_name r1.example.org\n    smtp_connect_timeout 5\n    smtp_alert\n"
    )) + &instance("VI_1", 51, 100, VIP, "");
    let count = || subjects(&std::fs::read_to_string(&out).unwrap_or_default()).len();
    drive(kind, &lab, &r1, &r2, &conf, &|n| count() >= n)?;
    s.stop()?;
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    Ok((subjects(&text), text))
}

fn mail_per_transition() -> Outcome {
    if python().is_none() {
        return Outcome::Skip("python3 not found (the SMTP sink)".into());
    }
    check((|| {
        let (got, raw) = mail_run(Kind::Vigil)?;
        let mut want: Vec<String> = STATES
            .iter()
            .map(|s| format!("[r1] VRRP Instance VI_1 - Entering {s} state"))
            .collect();
        want.push("[r1] VRRP Instance VI_1 - Stopping".into());
        if got != want {
            return Err(format!("subjects:\n  got  {got:?}\n  want {want:?}\n{raw}"));
        }
        let first = raw.lines().next().unwrap_or("");
        for needle in [
            "\"helo\": \"r1.example.org\"",
            "\"from\": \"<vigil@r1.example.org>\"",
            "\"rcpt\": [\"<a@example.org>\", \"<b@example.org>\"]",
            "From: vigil@r1.example.org\\r\\n",
            "X-Mailer: Keepalived\\r\\nTo: a@example.org, b@example.org\\r\\n\\r\\n",
            "=> VRRP Instance is no longer owning VRRP VIPs <=\\r\\n\\r\\n.\\r\\n",
        ] {
            if !first.contains(needle) {
                return Err(format!("first mail lacks {needle}:\n{first}"));
            }
        }
        println!("  vigil: {} mails, subjects as expected", got.len());
        if !keepalived_present() {
            println!("  keepalived 2.2.7 not installed: comparison skipped");
            return Ok(());
        }
        let (ka, ka_raw) = mail_run(Kind::Keepalived)?;
        // keepalived may exit before its "Stopping" mail is out.
        let n = ka.len().min(got.len()).max(STATES.len());
        if ka.get(..STATES.len()) != got.get(..STATES.len()) || ka.len() > got.len() {
            return Err(format!(
                "keepalived's subjects differ:\n  vigil      {got:?}\n  keepalived {ka:?}\n{ka_raw}"
            ));
        }
        let strip = |t: &str| {
            t.lines()
                .next()
                .map(|l| {
                    l.split("Date: ")
                        .nth(1)
                        .and_then(|r| r.split_once("\\r\\n"))
                        .map(|x| x.1.to_string())
                })
                .flatten()
                .unwrap_or_default()
        };
        if strip(&raw) != strip(&ka_raw) {
            return Err(format!(
                "first mail's headers after Date: differ:\n  vigil      {}\n  keepalived {}",
                strip(&raw),
                strip(&ka_raw)
            ));
        }
        println!("  keepalived: the same {n} subjects and the same headers and body");
        Ok(())
    })())
}

/// Lines of `d`'s log with `needle`.
fn count(d: &Daemon, needle: &str) -> usize {
    d.log_text().lines().filter(|l| l.contains(needle)).count()
}

fn mail_stalling_server() -> Outcome {
    if python().is_none() {
        return Outcome::Skip("python3 not found (the SMTP sink)".into());
    }
    check((|| {
        let mut lab = Lab::new("stall")?;
        let r1 = lab.host("r1", "192.168.67.100/24")?;
        let r2 = lab.host("r2", "192.168.67.200/24")?;
        let out = r1.dir().join("stall.jsonl");
        let mut s = sink(&r1, "stall", &out)?;
        let vip2 = "192.168.67.151";
        let conf = global(&format!(
            "    notification_email {{\n        a@example.org\n    }}\n    \
             smtp_server 127.0.0.1 {SINK_PORT}\n    smtp_connect_timeout 1\n    smtp_alert\n"
        )) + &instance("VI_1", 51, 200, VIP, "")
            + &instance("VI_2", 52, 100, vip2, "");
        let d = Daemon::start(Kind::Vigil, &r1, "r1", &conf)?;
        wait::for_cond(secs(8.0), "both VIPs on r1", || {
            vip_on(&r1, VIP) && vip_on(&r1, vip2)
        })
        .map_err(|e| e + &tail(&d))?;
        let pcap_path = r2.dir().join("adverts.pcap");
        let p = pcap_path.display().to_string();
        let argv = [
            "tcpdump",
            "-Z",
            "root",
            "-U",
            "-i",
            "eth0",
            "-n",
            "-s",
            "64",
            "-B",
            "8192",
            "-w",
            &p,
            "ip proto 112",
        ];
        let mut cap = Background::start(&r2.ns, &argv, &r2.dir().join("tcpdump.out"))?;
        cap.wait_stderr("listening on", secs(5.0))?;
        let peer = global("") + &instance("VI_2", 52, 150, vip2, "");
        // A quiet stretch first: the lateness without any mail, for comparison.
        std::thread::sleep(secs(3.0));
        let epoch = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        };
        let flips_at = epoch(std::time::SystemTime::now());
        let t0 = Instant::now();
        for round in 0..4 {
            let mut b = Daemon::start(Kind::Vigil, &r2, &format!("r2-{round}"), &peer)?;
            wait::for_cond(secs(8.0), "VI_2 on r2", || !vip_on(&r1, vip2))
                .map_err(|e| e + &tail(&d))?;
            std::thread::sleep(secs(0.5));
            b.stop(secs(5.0))?;
            wait::for_cond(secs(8.0), "VI_2 back on r1", || vip_on(&r1, vip2))
                .map_err(|e| e + &tail(&d))?;
            std::thread::sleep(secs(0.5));
        }
        let window = t0.elapsed().as_secs_f64();
        // The capture's last packets reach the file late: give them a moment.
        std::thread::sleep(secs(1.0));
        cap.stop()?;
        // Every attempt ends within connect + 1 s (greeting) + the QUIT write.
        let transitions = d
            .log_text()
            .lines()
            .filter(|l| l.contains(") Entering ") && l.ends_with(" STATE"))
            .count();
        wait::for_cond(secs(6.0), "one log line per attempt", || {
            count(&d, "SMTP alert") >= transitions
        })
        .map_err(|e| e + &tail(&d))?;
        let failed = count(&d, "not sent: Timeout reading data");
        let all = count(&d, "SMTP alert");
        let connects = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .count();
        let bytes = std::fs::read(&pcap_path).map_err(|e| e.to_string())?;
        let ads = pcap::adverts(&bytes)?;
        let r1_ip = Ipv4Addr::new(192, 168, 67, 100);
        let vi1 = |during: bool| -> Vec<pcap::Advert> {
            ads.iter()
                .copied()
                .filter(|a| a.vrid == 51 && (a.at >= flips_at) == during)
                .collect()
        };
        let quiet = pressure::lateness(&vi1(false), r1_ip, 0.1).ok_or("no quiet adverts")?;
        let late = pressure::lateness(&vi1(true), r1_ip, 0.1).ok_or("no VI_1 adverts captured")?;
        println!(
            "  VI_1 advert lateness before, no mail, over {} gaps: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            quiet.gaps, quiet.p50_ms, quiet.p99_ms, quiet.max_ms
        );
        println!(
            "  {transitions} transitions in {window:.1} s, {connects} connections to the sink, \
             {failed} \"not sent\" lines ({all} SMTP alert lines); VI_1 advert lateness over \
             {} gaps: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            late.gaps, late.p50_ms, late.p99_ms, late.max_ms
        );
        if failed != transitions || all != transitions || connects != transitions {
            return Err(format!(
                "{transitions} transitions but {failed} timeouts logged, {all} SMTP lines, \
                 {connects} connections{}",
                tail(&d)
            ));
        }
        if count(&d, "(VI_1) Entering") != 2 {
            return Err(format!("VI_1 changed state during the test{}", tail(&d)));
        }
        // Expected gap 100 ms; lateness counts on top of it.
        if late.p99_ms > 50.0 || late.gaps < (window * 8.0) as usize {
            return Err(format!(
                "adverts late: p99 {:.2} ms over {} gaps in {window:.1} s",
                late.p99_ms, late.gaps
            ));
        }
        s.stop()?;
        drop(d);
        // A refusing server: nothing listens on the port any more.
        let conf = global(&format!(
            "    notification_email {{\n        a@example.org\n    }}\n    \
             smtp_server 127.0.0.1 {SINK_PORT}\n    smtp_alert\n"
        )) + &instance("VI_1", 51, 200, VIP, "");
        let mut d = Daemon::start(Kind::Vigil, &r1, "refused", &conf)?;
        wait::for_cond(secs(8.0), "VIP on r1", || vip_on(&r1, VIP)).map_err(|e| e + &tail(&d))?;
        wait::for_cond(secs(3.0), "two refusals logged", || {
            count(&d, "SMTP connection ERROR to [127.0.0.1]:2525") >= 2
        })
        .map_err(|e| e + &tail(&d))?;
        d.stop(secs(10.0))?;
        let refused = count(&d, "SMTP connection ERROR");
        println!("  refusing server: {refused} lines for 3 mails (BACKUP, MASTER, Stopping)");
        if refused != 3 {
            return Err(format!("{refused} refusal lines, want 3{}", tail(&d)));
        }
        Ok(())
    })())
}

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
    let lines = || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    drive(kind, &lab, &r1, &r2, &conf, &|n| lines().len() >= n)?;
    if kind == Kind::Vigil && fifo.exists() {
        return Err(format!("{} left behind after the stop", fifo.display()));
    }
    Ok(lines())
}

fn fifo_lines() -> Outcome {
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

fn read_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
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

fn fifo_variants() -> Outcome {
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

fn main() {
    run(&[
        ("mail_per_transition", mail_per_transition),
        ("mail_stalling_server", mail_stalling_server),
        ("fifo_lines", fifo_lines),
        ("fifo_variants", fifo_variants),
    ]);
}
