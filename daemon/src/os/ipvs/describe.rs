//! Services, destinations and commands in words, for error messages:
//! `adding real server 10.0.0.1:80 to TCP 192.168.1.1:80`.

use std::net::IpAddr;

use vigil_lvs::{Command, Family, IpProto, ServiceKey};

use super::error::Op;

/// `10.0.0.1:80`, `[2001:db8::1]:80`.
pub fn addr_port(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// ipvsadm's protocol name.
pub fn protocol(p: IpProto) -> &'static str {
    match p {
        IpProto::Tcp => "TCP",
        IpProto::Udp => "UDP",
        IpProto::Sctp => "SCTP",
    }
}

/// `TCP 192.168.1.1:80`, `FWM 7`, `FWM 7 IPv6`.
pub fn service(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Addr {
            addr,
            port,
            protocol: p,
        } => format!("{} {}", protocol(*p), addr_port(addr, *port)),
        ServiceKey::Fwmark { mark, family } => match family {
            Family::V4 => format!("FWM {mark}"),
            Family::V6 => format!("FWM {mark} IPv6"),
        },
    }
}

/// The operation and its description.
pub fn command(cmd: &Command) -> (Op, String) {
    match cmd {
        Command::Flush => (Op::Flush, "flushing the IPVS table".into()),
        Command::AddService(s) => (
            Op::AddService,
            format!("adding virtual service {}", service(&s.key)),
        ),
        Command::EditService(s) => (
            Op::EditService,
            format!("editing virtual service {}", service(&s.key)),
        ),
        Command::DelService(k) => (
            Op::DelService,
            format!("removing virtual service {}", service(k)),
        ),
        Command::AddDest(k, d) => (
            Op::AddDest,
            format!(
                "adding real server {} to {}",
                addr_port(&d.addr, d.port),
                service(k)
            ),
        ),
        Command::EditDest(k, d) => (
            Op::EditDest,
            format!(
                "editing real server {} of {}",
                addr_port(&d.addr, d.port),
                service(k)
            ),
        ),
        Command::DelDest(k, d) => (
            Op::DelDest,
            format!(
                "removing real server {} from {}",
                addr_port(&d.addr, d.port),
                service(k)
            ),
        ),
    }
}
