//! The IPVS client against a real kernel: every command, the dump read back
//! as a Table, the errors users meet, timeouts and flush.
//!
//! The host has no IPVS: there each test prints why it is skipped and
//! passes. tests/guest/ipvs-kernel.sh runs this binary in a QEMU guest
//! with ip_vs loaded; with VIGIL_IPVS_LEAVE_TABLE=1 the last step leaves a
//! varied table for the guest to compare `vigil ipvs` with `ipvsadm -Ln`.
//! Each step prints `ipvs-check: NAME ok|FAILED ...`; the guest script
//! counts those lines.

mod ipvs_util;

use std::path::Path;

use ipvs_util::{addr_key, service_with as svc, weighted as dst};
use nix::errno::Errno;
use vigil::os::ipvs::{Ipvs, IpvsError, Timeouts};
use vigil_lvs::{
    diff, Command, Destination, Family, Forwarding, IpProto, Service, ServiceKey, Table, TunCsum,
    Tunnel, FLAG_MH_FALLBACK, FLAG_MH_PORT, FLAG_ONEPACKET, FLAG_PERSISTENT, FLAG_SH_FALLBACK,
    FLAG_SH_PORT,
};

fn have_ipvs() -> bool {
    Path::new("/proc/net/ip_vs").exists()
}

struct Checks {
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: impl FnOnce() -> String) {
        if ok {
            println!("ipvs-check: {name} ok");
        } else {
            let d = detail();
            println!("ipvs-check: {name} FAILED: {d}");
            self.failed.push(format!("{name}: {d}"));
        }
    }

    /// `r` must be a kernel error with `errno` and exactly `message`.
    fn refused(&mut self, name: &str, r: Result<(), IpvsError>, errno: Errno, message: &str) {
        match r {
            Err(e @ IpvsError::Kernel { .. }) => {
                let text = e.to_string();
                self.check(name, e.errno() == Some(errno) && text == message, || {
                    format!("got {:?}: {text:?}, want {errno:?}: {message:?}", e.errno())
                })
            }
            other => self.check(name, false, || format!("got {other:?}, want {errno:?}")),
        }
    }
}

/// v4, v6, fwmark (both families), persistence with masks, PE, ops, sh and
/// mh flags, every forwarding method and tunnel type.
fn varied() -> Table {
    let mut t = Table::new();
    let mut add = |s: Service, ds: Vec<Destination>| {
        let k = s.key;
        t.insert_service(s);
        for d in ds {
            t.insert_dest(&k, d).unwrap();
        }
    };
    let tcp80 = addr_key(IpProto::Tcp, "192.168.10.1", 80);
    let mut quiet = dst("10.0.0.12", 80, Forwarding::Dr, 0);
    quiet.u_threshold = 100;
    quiet.l_threshold = 10;
    add(
        svc(tcp80, "wlc", FLAG_PERSISTENT, 360, 24),
        vec![dst("10.0.0.11", 80, Forwarding::Dr, 1), quiet],
    );
    add(
        svc(
            addr_key(IpProto::Udp, "192.168.10.1", 53),
            "rr",
            FLAG_ONEPACKET,
            0,
            32,
        ),
        vec![
            dst("10.0.0.21", 53, Forwarding::Nat, 5),
            dst("10.0.0.22", 5353, Forwarding::Nat, 2),
        ],
    );
    let mut sip = svc(
        addr_key(IpProto::Udp, "192.168.10.3", 5060),
        "rr",
        FLAG_PERSISTENT,
        60,
        32,
    );
    sip.pe_name = Some("sip".into());
    add(sip, vec![dst("10.0.0.41", 5060, Forwarding::Nat, 1)]);
    add(
        svc(
            addr_key(IpProto::Sctp, "192.168.10.2", 3868),
            "lc",
            0,
            0,
            32,
        ),
        vec![dst("10.0.0.51", 3868, Forwarding::Dr, 3)],
    );
    add(
        svc(
            addr_key(IpProto::Tcp, "2001:db8::1", 443),
            "sh",
            FLAG_SH_FALLBACK | FLAG_SH_PORT,
            0,
            128,
        ),
        vec![
            dst("2001:db8::11", 443, Forwarding::Tun(Tunnel::ipip()), 1),
            dst(
                "2001:db8::12",
                443,
                Forwarding::Tun(Tunnel::gue(6080, TunCsum::Csum)),
                1,
            ),
            dst(
                "2001:db8::13",
                443,
                Forwarding::Tun(Tunnel::gue(6081, TunCsum::RemCsum)),
                1,
            ),
            dst(
                "2001:db8::14",
                443,
                Forwarding::Tun(Tunnel::gre(TunCsum::Csum)),
                2,
            ),
        ],
    );
    add(
        svc(
            addr_key(IpProto::Tcp, "2001:db8::2", 80),
            "wrr",
            FLAG_PERSISTENT,
            300,
            64,
        ),
        vec![dst("2001:db8::21", 8080, Forwarding::Nat, 4)],
    );
    let fwm7 = ServiceKey::Fwmark {
        mark: 7,
        family: Family::V4,
    };
    add(
        svc(fwm7, "rr", 0, 0, 32),
        vec![dst("10.0.0.31", 0, Forwarding::Dr, 1)],
    );
    let fwm8 = ServiceKey::Fwmark {
        mark: 8,
        family: Family::V6,
    };
    add(
        svc(fwm8, "mh", FLAG_MH_FALLBACK | FLAG_MH_PORT, 0, 128),
        vec![dst(
            "2001:db8::31",
            0,
            Forwarding::Tun(Tunnel::gre(TunCsum::NoCsum)),
            1,
        )],
    );
    t
}

fn apply_all(k: &Ipvs, cmds: &[Command]) -> Result<(), IpvsError> {
    cmds.iter().try_for_each(|c| k.apply(c))
}

fn compare(c: &mut Checks, name: &str, k: &Ipvs, want: &Table) {
    match k.table() {
        Ok(have) => c.check(name, want.matches_kernel(&have), || {
            format!("want {want:#?}\nhave {have:#?}")
        }),
        Err(e) => c.check(name, false, || e.to_string()),
    }
}

/// Batches: 1,000 services x 4 dests in few datagrams, read back equal; a
/// batch with a refused command in the middle (a dest of a missing service)
/// maps ESRCH to that command and still runs the ones after it.
fn batches(c: &mut Checks, k: &Ipvs) {
    let _ = k.flush();
    let mut big = Table::new();
    for v in 0..1000u16 {
        let key = addr_key(IpProto::Tcp, "192.168.200.1", 10000 + v);
        big.insert_service(svc(key, "rr", 0, 0, 32));
        for r in 0..4 {
            let _ = big.insert_dest(
                &key,
                dst(&format!("10.1.0.{}", 10 + r), 10000 + v, Forwarding::Dr, 1),
            );
        }
    }
    let cmds = diff(&Table::new(), &big);
    let sent0 = k.datagrams_sent();
    let t0 = std::time::Instant::now();
    let r = k.apply_all(&cmds);
    let took = t0.elapsed();
    let sent = k.datagrams_sent() - sent0;
    c.check(
        "batch-5000-all-ok",
        r.len() == 5000 && r.iter().all(|r| r.is_ok()),
        || format!("{:?}", r.iter().find(|r| r.is_err())),
    );
    c.check(
        "batch-5000-few-datagrams",
        sent == 5000u64.div_ceil(vigil::os::ipvs::batch::MAX_MESSAGES as u64),
        || format!("{sent} datagrams"),
    );
    println!(
        "ipvs-figure: 5000 commands in {sent} datagrams, {:.1} ms",
        took.as_secs_f64() * 1e3
    );
    compare(c, "batch-5000-read-back", k, &big);
    let _ = k.flush();

    let a = addr_key(IpProto::Tcp, "192.168.201.1", 80);
    let missing = addr_key(IpProto::Tcp, "192.168.201.2", 80);
    let cmds = [
        Command::AddService(svc(a, "rr", 0, 0, 32)),
        Command::AddDest(missing, dst("10.1.1.1", 80, Forwarding::Dr, 1)),
        Command::AddDest(a, dst("10.1.1.2", 80, Forwarding::Dr, 1)),
        Command::AddService(svc(a, "rr", 0, 0, 32)),
    ];
    let r = k.apply_all(&cmds);
    let errnos: Vec<Option<Errno>> = r
        .iter()
        .map(|r| r.as_ref().err().and_then(|e| e.errno()))
        .collect();
    c.check(
        "batch-refusals-mapped",
        errnos == [None, Some(Errno::ESRCH), None, Some(Errno::EEXIST)],
        || format!("{r:?}"),
    );
    let msg = r[1]
        .as_ref()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    c.check(
        "batch-refusal-names-its-command",
        msg.contains("10.1.1.1:80") && msg.contains("192.168.201.2:80"),
        || msg.clone(),
    );
    let mut want = Table::new();
    want.insert_service(svc(a, "rr", 0, 0, 32));
    let _ = want.insert_dest(&a, dst("10.1.1.2", 80, Forwarding::Dr, 1));
    compare(c, "batch-after-refusal-ran-the-rest", k, &want);
    let _ = k.flush();
}

#[test]
fn every_command_against_the_kernel() {
    if !have_ipvs() {
        println!("skipped: no IPVS (/proc/net/ip_vs absent; run tests/guest/ipvs-kernel.sh)");
        return;
    }
    let k = Ipvs::open().expect("IPVS is present, so open must work");
    let mut c = Checks { failed: Vec::new() };
    c.check("flush", k.flush().is_ok(), String::new);
    c.check(
        "flush-empties",
        k.dump().map(|d| d.is_empty()).unwrap_or(false),
        String::new,
    );

    let info = k.info();
    c.check(
        "info",
        matches!(info, Ok(i) if i.version >= 0x010200 && i.conn_tab_size > 0),
        || format!("{info:?}"),
    );

    // Timeouts: set, read back, 0 leaves a value alone, restore.
    match k.timeouts() {
        Ok(orig) => {
            let t = Timeouts {
                tcp: 901,
                tcp_fin: 121,
                udp: 301,
            };
            let set = k.set_timeouts(&t);
            let back = k.timeouts();
            c.check("timeouts-set-get", set.is_ok() && back == Ok(t), || {
                format!("{set:?} {back:?}")
            });
            let unchanged = k.set_timeouts(&Timeouts {
                tcp: 0,
                tcp_fin: 0,
                udp: 302,
            });
            let back = k.timeouts();
            c.check(
                "timeouts-zero-unchanged",
                unchanged.is_ok() && back == Ok(Timeouts { udp: 302, ..t }),
                || format!("{back:?}"),
            );
            c.check(
                "timeouts-restore",
                k.set_timeouts(&orig).is_ok() && k.timeouts() == Ok(orig),
                String::new,
            );
        }
        Err(e) => c.check("timeouts-get", false, || e.to_string()),
    }

    // Every scheduler this kernel has: add, read back, delete.
    for (i, sched) in [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
        "twos",
    ]
    .iter()
    .enumerate()
    {
        let s = svc(
            addr_key(IpProto::Tcp, "192.168.20.1", 1000 + i as u16),
            sched,
            0,
            0,
            32,
        );
        match k.apply(&Command::AddService(s.clone())) {
            Ok(()) => {
                let back = k.table().ok().and_then(|t| t.service(&s.key).cloned());
                c.check(
                    &format!("scheduler-{sched}"),
                    back.as_ref() == Some(&s),
                    || format!("{back:?}"),
                );
                let _ = k.apply(&Command::DelService(s.key));
            }
            Err(e) if e.errno() == Some(Errno::ENOENT) => {
                println!("ipvs-check: scheduler-{sched} skipped (no ip_vs_{sched} module in this kernel)")
            }
            Err(e) => c.check(&format!("scheduler-{sched}"), false, || e.to_string()),
        }
    }

    // Build the varied table from nothing and read it back.
    let want = varied();
    let r = apply_all(&k, &diff(&Table::new(), &want));
    c.check("add-varied", r.is_ok(), || format!("{r:?}"));
    compare(&mut c, "dump-matches-varied", &k, &want);

    // Edits in place: scheduler, persistence, weight, method, tunnel.
    let mut edited = want.clone();
    let tcp80 = addr_key(IpProto::Tcp, "192.168.10.1", 80);
    let mut s = edited.service(&tcp80).unwrap().clone();
    s.scheduler = "rr".into();
    s.timeout = 60;
    s.netmask = 32;
    edited.insert_service(s);
    let mut d = dst(
        "10.0.0.11",
        80,
        Forwarding::Tun(Tunnel::gre(TunCsum::Csum)),
        7,
    );
    d.u_threshold = 50;
    edited.insert_dest(&tcp80, d).unwrap();
    let v6 = addr_key(IpProto::Tcp, "2001:db8::1", 443);
    edited
        .insert_dest(
            &v6,
            dst(
                "2001:db8::12",
                443,
                Forwarding::Tun(Tunnel::gue(7000, TunCsum::NoCsum)),
                9,
            ),
        )
        .unwrap();
    let udp = addr_key(IpProto::Udp, "192.168.10.1", 53);
    let mut s = edited.service(&udp).unwrap().clone();
    s.flags = 0;
    edited.insert_service(s);
    let cmds = diff(&want, &edited);
    c.check(
        "edit-commands",
        cmds.iter()
            .all(|x| matches!(x, Command::EditService(_) | Command::EditDest(..))),
        || format!("{cmds:?}"),
    );
    let r = apply_all(&k, &cmds);
    c.check("edit", r.is_ok(), || format!("{r:?}"));
    compare(&mut c, "dump-matches-edited", &k, &edited);

    // The errors users meet, each one readable line.
    let s1 = edited.service(&tcp80).unwrap().clone();
    c.refused(
        "error-add-service-twice",
        k.apply(&Command::AddService(s1)),
        Errno::EEXIST,
        "adding virtual service TCP 192.168.10.1:80: File exists (the virtual service already exists)",
    );
    let missing = addr_key(IpProto::Tcp, "192.168.99.1", 80);
    c.refused(
        "error-dest-without-service",
        k.apply(&Command::AddDest(missing, dst("10.0.0.1", 80, Forwarding::Dr, 1))),
        Errno::ESRCH,
        "adding real server 10.0.0.1:80 to TCP 192.168.99.1:80: No such process (the virtual service does not exist)",
    );
    c.refused(
        "error-bad-scheduler",
        k.apply(&Command::AddService(svc(missing, "nosuch", 0, 0, 32))),
        Errno::ENOENT,
        "adding virtual service TCP 192.168.99.1:80: No such file or directory (no such scheduler or persistence engine in this kernel)",
    );
    c.refused(
        "error-add-dest-twice",
        k.apply(&Command::AddDest(tcp80, d)),
        Errno::EEXIST,
        "adding real server 10.0.0.11:80 to TCP 192.168.10.1:80: File exists (the real server is already in this virtual service)",
    );
    c.refused(
        "error-edit-missing-dest",
        k.apply(&Command::EditDest(tcp80, dst("10.0.0.99", 80, Forwarding::Dr, 1))),
        Errno::ENOENT,
        "editing real server 10.0.0.99:80 of TCP 192.168.10.1:80: No such file or directory (the real server is not in this virtual service)",
    );
    let mut bad = dst("10.0.0.98", 80, Forwarding::Dr, 1);
    bad.l_threshold = 5;
    c.refused(
        "error-thresholds",
        k.apply(&Command::AddDest(tcp80, bad)),
        Errno::ERANGE,
        "adding real server 10.0.0.98:80 to TCP 192.168.10.1:80: Math result not representable (a value is out of range: negative weight, lower threshold above the upper one, or a name too long)",
    );
    c.refused(
        "error-del-missing-service",
        k.apply(&Command::DelService(missing)),
        Errno::ESRCH,
        "removing virtual service TCP 192.168.99.1:80: No such process (the virtual service does not exist)",
    );
    c.refused(
        "error-v6-prefix-0",
        k.apply(&Command::AddService(svc(
            addr_key(IpProto::Tcp, "2001:db8::99", 80),
            "rr",
            FLAG_PERSISTENT,
            60,
            0,
        ))),
        Errno::EINVAL,
        "adding virtual service TCP [2001:db8::99]:80: Invalid argument (invalid request: a missing attribute, a bad address or an out-of-range value)",
    );
    compare(&mut c, "errors-left-table-alone", &k, &edited);

    // Deletes: one destination, then a service with its destinations.
    let mut smaller = edited.clone();
    smaller.remove_dest(&tcp80, &d.key());
    smaller.remove_service(&v6);
    let r = k
        .apply(&Command::DelDest(tcp80, d.key()))
        .and_then(|()| k.apply(&Command::DelService(v6)));
    c.check("delete", r.is_ok(), || format!("{r:?}"));
    compare(&mut c, "dump-matches-after-delete", &k, &smaller);

    batches(&mut c, &k);

    c.check(
        "flush-again",
        k.flush().is_ok() && k.dump().map(|d| d.is_empty()).unwrap_or(false),
        String::new,
    );

    if std::env::var_os("VIGIL_IPVS_LEAVE_TABLE").is_some() {
        let r = apply_all(&k, &diff(&Table::new(), &want));
        c.check("leave-varied-table", r.is_ok(), || format!("{r:?}"));
    }
    assert!(
        c.failed.is_empty(),
        "failed checks:\n{}",
        c.failed.join("\n")
    );
}

#[test]
fn without_ipvs_open_says_so_in_one_line() {
    if have_ipvs() {
        println!("skipped: this kernel has IPVS");
        return;
    }
    match Ipvs::open() {
        Err(e @ IpvsError::Unavailable(_)) => {
            let text = e.to_string();
            assert!(
                text.starts_with("IPVS is not available in this kernel: "),
                "{text}"
            );
            assert!(!text.contains('\n'), "{text}");
        }
        Err(IpvsError::Socket { errno, .. }) => {
            println!("skipped: no generic netlink socket here ({errno})")
        }
        other => panic!("want Unavailable, got {:?}", other.err()),
    }
}
