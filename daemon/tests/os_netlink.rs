//! rtnetlink against the real kernel, in a throw-away namespace holding a veth
//! pair eth0 <-> eth1 (both up) with 10.1.0.1/24 on eth0.

mod os_util;

use std::net::IpAddr;
use std::time::Duration;

use nix::errno::Errno;
use os_util::Netns;
use vigil::os::netlink::{AddressSpec, Change, LinkEvent, Monitor, Netlink, NetlinkError};

fn setup() -> Result<Netns, String> {
    let ns = Netns::new()?;
    let out = ns.try_sh("ip link add eth0 type veth peer name eth1 && ip link set eth1 up && ip link set eth0 up && ip addr add 10.1.0.1/24 dev eth0");
    if !out.status.success() {
        return Err(format!(
            "cannot create veth: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(ns)
}

#[test]
fn add_with_label_shows_in_ip_and_is_idempotent() {
    let ns = or_skip!(setup());
    let name = ns.name.clone();
    let shown = move |ns_name: &str| {
        let out = std::process::Command::new("ip")
            .args([
                "netns", "exec", ns_name, "ip", "-o", "addr", "show", "dev", "eth0",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ns.run(move || {
        let nl = Netlink::open().unwrap();
        let idx = nl.ifindex("eth0").unwrap();
        let mut vip = AddressSpec::new(idx, "10.1.0.100".parse().unwrap(), 24);
        vip.label = Some("eth0:0".into());
        vip.broadcast = Some("10.1.0.255".parse().unwrap());

        assert_eq!(nl.add_address(&vip), Ok(Change::Applied));
        let line = shown(&name);
        let vip_line = line
            .lines()
            .find(|l| l.contains("10.1.0.100/24"))
            .expect("VIP shown");
        assert!(vip_line.contains("brd 10.1.0.255"), "{vip_line}");
        assert!(vip_line.contains("eth0:0"), "{vip_line}");

        assert_eq!(nl.add_address(&vip), Ok(Change::Unchanged));

        let listed = nl.addresses(idx).unwrap();
        let found = listed.iter().find(|a| a.addr == vip.addr).expect("listed");
        assert_eq!(found.label.as_deref(), Some("eth0:0"));
        assert!(found.secondary, "same subnet as 10.1.0.1: secondary");
        assert_eq!(
            nl.primary_ipv4(idx).unwrap(),
            Some("10.1.0.1".parse().unwrap())
        );

        assert_eq!(nl.del_address(&vip), Ok(Change::Applied));
        assert!(!shown(&name).contains("10.1.0.100"));
        assert_eq!(nl.del_address(&vip), Ok(Change::Unchanged));
        // The primary is untouched.
        assert!(shown(&name).contains("10.1.0.1/24"));
    });
}

#[test]
fn ipv6_vip_and_link_local() {
    let ns = or_skip!(setup());
    ns.run(|| {
        let nl = Netlink::open().unwrap();
        let idx = nl.ifindex("eth0").unwrap();
        let vip = AddressSpec::new(idx, "fd00:1::100".parse().unwrap(), 64);
        assert_eq!(nl.add_address(&vip), Ok(Change::Applied));
        let a = nl.addresses(idx).unwrap();
        let got = a
            .iter()
            .find(|x| x.addr == vip.addr)
            .expect("v6 VIP listed");
        assert!(!got.tentative, "NODAD: usable at once");
        assert_eq!(got.prefix_len, 64);
        assert_eq!(nl.add_address(&vip), Ok(Change::Unchanged));
        assert_eq!(nl.del_address(&vip), Ok(Change::Applied));
        assert_eq!(nl.del_address(&vip), Ok(Change::Unchanged));
        // A link-local appears once the link has carrier (linkwatch delay).
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match nl.link_local_ipv6(idx).unwrap() {
                Some(ll) => {
                    assert!(ll.is_unicast_link_local());
                    break;
                }
                None if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                None => panic!("no link-local address"),
            }
        }
    });
}

#[test]
fn errors_carry_the_errno() {
    let ns = or_skip!(setup());
    ns.run(|| {
        let nl = Netlink::open().unwrap();
        let bogus = AddressSpec::new(999_999, "10.1.0.7".parse().unwrap(), 24);
        assert_eq!(
            nl.add_address(&bogus),
            Err(NetlinkError::Kernel(Errno::ENODEV))
        );
        assert_eq!(
            nl.ifindex("nope0"),
            Err(NetlinkError::NoSuchInterface("nope0".into()))
        );
        assert_eq!(nl.ifname(999_999), Err(NetlinkError::NoSuchIndex(999_999)));
    });
}

#[test]
fn links_name_index_and_mac() {
    let ns = or_skip!(setup());
    let mac = ns.sh("cat /sys/class/net/eth0/address").trim().to_string();
    let sys_index: u32 = ns
        .sh("cat /sys/class/net/eth0/ifindex")
        .trim()
        .parse()
        .unwrap();
    let got = ns.run(move || {
        let nl = Netlink::open().unwrap();
        let l = nl.link_by_name("eth0").unwrap();
        assert_eq!(nl.ifname(l.index).unwrap(), "eth0");
        assert!(l.is_usable());
        assert_eq!(l.mtu, 1500);
        assert_eq!(l.hw_type, 1);
        (l.index, l.mac6().expect("6-byte MAC"))
    });
    assert_eq!(got.0, sys_index);
    let text = got
        .1
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(text, mac);
}

#[test]
fn monitor_reports_down_up_address_and_gone() {
    let ns = or_skip!(setup());
    let name = ns.name.clone();
    let events = ns.run(move || {
        let nl = Netlink::open().unwrap();
        let mut mon = Monitor::open().unwrap();
        mon.seed(&nl.links().unwrap());
        let ip = |cmd: &str| {
            let st = std::process::Command::new("ip")
                .args(["netns", "exec", &name, "sh", "-c", cmd])
                .status()
                .unwrap();
            assert!(st.success(), "{cmd}");
        };
        let mut seen = Vec::new();
        smol::block_on(async {
            let next = async |mon: &mut Monitor| {
                smol::future::or(async { Some(mon.next().await.unwrap()) }, async {
                    smol::Timer::after(Duration::from_secs(5)).await;
                    None
                })
                .await
                .expect("no event within 5 s")
            };
            ip("ip link set eth0 down");
            // Skip address/route noise until the link event.
            loop {
                let e = next(&mut mon).await;
                if matches!(e, LinkEvent::Down { .. }) {
                    seen.push(e);
                    break;
                }
            }
            ip("ip link set eth0 up");
            loop {
                let e = next(&mut mon).await;
                if matches!(e, LinkEvent::Up { .. }) {
                    seen.push(e);
                    break;
                }
            }
            ip("ip addr add 10.1.0.50/24 dev eth0");
            loop {
                let e = next(&mut mon).await;
                if matches!(e, LinkEvent::AddressAdded { addr, .. } if addr == IpAddr::from([10, 1, 0, 50])) {
                    seen.push(e);
                    break;
                }
            }
            ip("ip link del eth1");
            loop {
                let e = next(&mut mon).await;
                if matches!(e, LinkEvent::Gone { .. }) {
                    seen.push(e);
                    break;
                }
            }
        });
        seen
    });
    let names: Vec<String> = events
        .iter()
        .map(|e| match e {
            LinkEvent::Down { name, .. } => format!("down {name}"),
            LinkEvent::Up { name, .. } => format!("up {name}"),
            LinkEvent::Gone { name, .. } => format!("gone {name}"),
            LinkEvent::AddressAdded {
                addr, prefix_len, ..
            } => format!("add {addr}/{prefix_len}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names[0], "down eth0");
    assert_eq!(names[1], "up eth0");
    assert_eq!(names[2], "add 10.1.0.50/24");
    // Deleting one end of a veth removes both; either may be reported first.
    assert!(
        names[3] == "gone eth1" || names[3] == "gone eth0",
        "{}",
        names[3]
    );
}
