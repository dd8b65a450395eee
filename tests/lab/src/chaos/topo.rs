//! The chaos topology: three routers on one bridge, two VRRP instances on each,
//! priorities chosen so that each VIP has one defined master while all routers
//! are up, and a defined successor when that one is out.

use std::net::Ipv4Addr;

/// Router names and their eth0 addresses.
pub const ROUTERS: [(&str, &str); 3] = [
    ("r1", "192.168.67.101/24"),
    ("r2", "192.168.67.102/24"),
    ("r3", "192.168.67.103/24"),
];
/// The garbage sender.
pub const ATTACKER: (&str, &str) = ("attacker", "192.168.67.10/24");

pub struct Instance {
    pub name: &'static str,
    pub vrid: u8,
    pub vip: Ipv4Addr,
    /// Priority on r1, r2, r3.
    pub priority: [u8; 3],
}

/// VI_1 prefers r1 then r2; VI_2 prefers r3 then r1.
pub const INSTANCES: [Instance; 2] = [
    Instance {
        name: "VI_1",
        vrid: 51,
        vip: Ipv4Addr::new(192, 168, 67, 150),
        priority: [100, 90, 80],
    },
    Instance {
        name: "VI_2",
        vrid: 52,
        vip: Ipv4Addr::new(192, 168, 67, 160),
        priority: [90, 80, 100],
    },
];

pub const PASSWORD: &str = "1111";

pub fn vrids() -> Vec<u8> {
    INSTANCES.iter().map(|i| i.vrid).collect()
}

/// The router that should hold instance `inst`'s VIP when `live` routers take
/// part in the election: the live one with the highest priority.
pub fn expected(inst: usize, live: &[bool]) -> Option<usize> {
    let p = &INSTANCES.get(inst)?.priority;
    (0..p.len())
        .filter(|r| live.get(*r).copied().unwrap_or(false))
        .max_by_key(|r| p[*r])
}

/// keepalived.conf text for router `r` (vigil and keepalived read the same text).
pub fn config(r: usize) -> String {
    let mut s = format!("global_defs {{\n   router_id {}\n}}\n", ROUTERS[r].0);
    for (i, inst) in INSTANCES.iter().enumerate() {
        let prio = inst.priority[r];
        let top = expected(i, &[true; 3]) == Some(r);
        s.push_str(&format!(
            "vrrp_instance {name} {{\n    state {state}\n    interface eth0\n    \
             virtual_router_id {vrid}\n    priority {prio}\n    advert_int 1\n    \
             authentication {{\n        auth_type PASS\n        auth_pass {PASSWORD}\n    }}\n    \
             virtual_ipaddress {{\n        {vip}/24 dev eth0 label eth0:{n}\n    }}\n}}\n",
            name = inst.name,
            state = if top { "MASTER" } else { "BACKUP" },
            vrid = inst.vrid,
            vip = inst.vip,
            n = i + 1,
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_masters() {
        let all = [true; 3];
        assert_eq!(expected(0, &all), Some(0));
        assert_eq!(expected(1, &all), Some(2));
        assert_eq!(expected(0, &[false, true, true]), Some(1));
        assert_eq!(expected(1, &[true, true, false]), Some(0));
        assert_eq!(expected(1, &[false, true, false]), Some(1));
        assert_eq!(expected(0, &[false; 3]), None);
    }

    #[test]
    fn priorities_are_distinct_per_instance() {
        for i in &INSTANCES {
            let mut p = i.priority.to_vec();
            p.sort();
            p.dedup();
            assert_eq!(p.len(), 3, "{}", i.name);
        }
    }

    #[test]
    fn configs() {
        let c = config(2);
        assert!(c.contains("router_id r3"));
        assert_eq!(c.matches("vrrp_instance").count(), 2);
        assert!(c.contains("virtual_router_id 52\n    priority 100"));
        assert!(c.contains("192.168.67.160/24 dev eth0 label eth0:2"));
        let vi2 = c.split("vrrp_instance VI_2").nth(1).unwrap();
        assert!(vi2.contains("state MASTER"));
        let vi1 = c.split("vrrp_instance VI_2").next().unwrap();
        assert!(vi1.contains("state BACKUP"));
    }
}
