//! How services and real servers are named in logs and the status view,
//! close to keepalived's `[addr]:proto:port` and `FWM n`.

use std::net::IpAddr;

use vigil_lvs::{Family, IpProto, ServiceKey};

fn proto(p: IpProto) -> &'static str {
    match p {
        IpProto::Tcp => "tcp",
        IpProto::Udp => "udp",
        IpProto::Sctp => "sctp",
    }
}

/// `[192.168.1.1]:tcp:80`, `FWM 7`, `FWM 7 IPv6`.
pub fn service_name(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            addr,
            port,
            protocol,
        } => format!("[{addr}]:{}:{port}", proto(*protocol)),
        ServiceKey::Fwmark { mark, family } => match family {
            Family::V4 => format!("FWM {mark}"),
            Family::V6 => format!("FWM {mark} IPv6"),
        },
    }
}

/// `[10.0.0.1]:80`.
pub fn dest_name(addr: IpAddr, port: u16) -> String {
    format!("[{addr}]:{port}")
}
