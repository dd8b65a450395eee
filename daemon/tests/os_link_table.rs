//! The link table kept by the monitor's events, against the real kernel: an
//! interface deleted and re-created under the same name shows up under its new
//! index, a rename moves the entry, a MAC change is reported.

mod os_util;

use std::time::Duration;

use os_util::Netns;
use vigil::os::netlink::{LinkTable, Monitor, Netlink};

/// Feeds monitor events into `table` until `done` holds (5 s at most).
async fn until(mon: &mut Monitor, table: &mut LinkTable, done: impl Fn(&LinkTable) -> bool) {
    let wait = async {
        while !done(table) {
            let ev = mon.next().await.unwrap();
            table.apply(&ev);
        }
        true
    };
    let timeout = async {
        smol::Timer::after(Duration::from_secs(5)).await;
        false
    };
    assert!(
        smol::future::or(wait, timeout).await,
        "table never reached the expected state"
    );
}

#[test]
fn table_follows_delete_recreate_rename_and_mac_change() {
    let ns = or_skip!(Netns::new());
    let name = ns.name.clone();
    ns.sh(
        "ip link add eth0 type veth peer name eth1 && ip link set eth0 up && ip link set eth1 up",
    );
    ns.run(move || {
        let nl = Netlink::open().unwrap();
        let mut mon = Monitor::open().unwrap();
        let links = nl.links().unwrap();
        mon.seed(&links);
        let mut t = LinkTable::from_links(&links);
        let old = t.index_of("eth0").expect("eth0 in the seed");
        assert_eq!(t.by_name("eth0").map(|l| l.usable), Some(true));
        let sh = |cmd: &str| {
            let st = std::process::Command::new("ip")
                .args(["netns", "exec", &name, "sh", "-c", cmd])
                .status()
                .unwrap();
            assert!(st.success(), "{cmd}");
        };
        smol::block_on(async {
            sh("ip link del eth0");
            until(&mut mon, &mut t, |t| t.index_of("eth0").is_none()).await;
            assert_eq!(t.by_index(old), None);

            sh("ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth1 && ip link set eth1 up && ip link set eth0 up");
            until(&mut mon, &mut t, |t| {
                t.by_name("eth0").is_some_and(|l| l.usable)
            })
            .await;
            let new = t.index_of("eth0").unwrap();
            assert_ne!(new, old, "a re-created interface has a new index");
            assert_eq!(
                t.by_name("eth0").and_then(|l| l.mac6()),
                Some([2, 0, 0, 0, 0, 1])
            );

            sh("ip link set eth0 down && ip link set eth0 name wan0");
            until(&mut mon, &mut t, |t| t.index_of("wan0") == Some(new)).await;
            assert_eq!(t.index_of("eth0"), None);
            assert_eq!(t.by_name("wan0").map(|l| l.usable), Some(false));

            sh("ip link set wan0 address 02:00:00:00:00:02");
            until(&mut mon, &mut t, |t| {
                t.by_name("wan0").and_then(|l| l.mac6()) == Some([2, 0, 0, 0, 0, 2])
            })
            .await;
        });
    });
}
