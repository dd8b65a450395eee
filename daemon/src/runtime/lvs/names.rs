//! How services and real servers are named in logs and the status view,
//! close to keepalived's `[addr]:proto:port` and `FWM n`.

use std::net::IpAddr;

use vigil_lvs::{service_of, Family, IpProto, ServiceKey};
use vigil_model::VirtualServer;

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

/// A virtual server: its service's name, or `[NAME]` for a
/// `virtual_server group NAME` (keepalived names it by the group too); its
/// kernel services keep their own names in the IPVS table.
pub fn vs_name(vs: &VirtualServer) -> String {
    match &vs.group {
        Some(g) => format!("[{}]", g.name),
        None => service_name(&service_of(vs).key),
    }
}

/// `[10.0.0.1]:80`.
pub fn dest_name(addr: IpAddr, port: u16) -> String {
    format!("[{addr}]:{port}")
}
