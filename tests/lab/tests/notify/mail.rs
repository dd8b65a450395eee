//! Alert mails: one per transition with keepalived's subject and headers,
//! and a stalling or refusing SMTP server that must not delay the adverts.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Instant;

use vigil_lab::bench::background::Background;
use vigil_lab::bench::{pcap, pressure};
use vigil_lab::harness::{check, Outcome};
use vigil_lab::{wait, Daemon, Host, Kind, Lab};

use crate::common::{drive, global, instance, keepalived_present, secs, tail, vip_on, STATES, VIP};

const SINK_PORT: &str = "2525";

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

pub(super) fn mail_per_transition() -> Outcome {
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
                .and_then(|l| {
                    l.split("Date: ")
                        .nth(1)
                        .and_then(|r| r.split_once("\\r\\n"))
                        .map(|x| x.1.to_string())
                })
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

pub(super) fn mail_stalling_server() -> Outcome {
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
