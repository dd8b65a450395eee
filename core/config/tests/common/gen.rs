//! A large generated configuration (for round-trip tests and the benchmark):
//! `instances` vrrp_instances and `services` virtual servers of `reals` real
//! servers each, using most keywords.

use std::fmt::Write;

/// keepalived.conf text of the given size.
pub fn big_config(instances: usize, services: usize, reals: usize) -> String {
    let mut s = String::new();
    s.push_str("! generated\nglobal_defs {\n    router_id bench\n    notification_email {\n        ops@example.org\n    }\n");
    s.push_str("    smtp_server 10.0.0.25 25\n    vrrp_garp_interval 0.001\n    vrrp_mcast_group4 224.0.0.18\n}\n");
    s.push_str("vrrp_script chk_proxy {\n    script \"/usr/bin/pgrep -x haproxy\"\n    interval 2\n    weight -20\n    fall 3\n    rise 2\n}\n");
    for i in 0..instances {
        let vrid = i % 255 + 1;
        let ifn = i / 255;
        let _ = write!(
            s,
            "vrrp_instance VI_{i} {{\n    state {}\n    interface eth{ifn}\n    virtual_router_id {vrid}\n    priority {}\n    advert_int 1\n",
            if i % 2 == 0 { "MASTER" } else { "BACKUP" },
            100 + i % 50
        );
        let _ = write!(
            s,
            "    authentication {{\n        auth_type PASS\n        auth_pass p{i}\n    }}\n    virtual_ipaddress {{\n        10.{}.{}.1/24 dev eth{ifn} label eth{ifn}:{}\n        10.{}.{}.2/24\n    }}\n",
            i / 200,
            i % 200,
            i % 100,
            i / 200,
            i % 200
        );
        let _ = write!(
            s,
            "    track_script {{\n        chk_proxy\n    }}\n    track_interface {{\n        eth{ifn} weight -10\n    }}\n    notify_master \"/etc/keepalived/notify.sh master VI_{i}\"\n    notify_backup \"/etc/keepalived/notify.sh backup VI_{i}\"\n}}\n"
        );
    }
    for v in 0..services {
        let _ = write!(
            s,
            "virtual_server 192.168.{}.{} 80 {{\n    delay_loop 6\n    lb_algo wlc\n    lb_kind DR\n    protocol TCP\n    persistence_timeout 300\n",
            v / 250,
            v % 250 + 1
        );
        for r in 0..reals {
            let _ = write!(
                s,
                "    real_server 172.16.{v}.{} 80 {{\n        weight {}\n",
                r + 1,
                r % 5 + 1
            );
            if r % 2 == 0 {
                s.push_str("        HTTP_GET {\n            url {\n                path /health\n                status_code 200\n            }\n            connect_timeout 3\n            retry 3\n            delay_before_retry 2\n        }\n");
            } else {
                s.push_str("        TCP_CHECK {\n            connect_port 80\n            connect_timeout 3\n        }\n");
            }
            s.push_str("    }\n");
        }
        s.push_str("}\n");
    }
    s
}
