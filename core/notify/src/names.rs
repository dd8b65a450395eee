//! keepalived's names of services in mails and FIFO lines (check_data.c
//! `format_vs`, `format_rs`): `[ADDR]:PROTO:PORT`, `FWM N`, `[GROUP]:PORT`.

use alloc::format;
use alloc::string::String;

use vigil_model::{Protocol, RealServer, VirtualServer, VsKey};

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

/// A virtual server: `[192.168.1.10]:tcp:80`, `FWM 7`, or for
/// `virtual_server group NAME` `[NAME]:0` (keepalived prints the group's
/// name and the port of its unset address, which is 0).
pub fn vs(v: &VirtualServer) -> String {
    if let Some(g) = &v.group {
        return format!("[{}]:0", g.name);
    }
    match v.key {
        VsKey::Fwmark(m) => format!("FWM {m}"),
        VsKey::Addr { addr, port } => format!("[{addr}]:{}:{port}", proto(v.protocol)),
    }
}

/// A real server, with its virtual server's protocol: `[10.0.0.2]:tcp:80`.
pub fn rs(v: &VirtualServer, r: &RealServer) -> String {
    format!("[{}]:{}:{}", r.addr, proto(v.protocol), r.port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::IpAddr;

    #[test]
    fn keepalived_names() {
        let a: IpAddr = "192.168.1.10".parse().unwrap();
        let mut v = VirtualServer::new(VsKey::Addr { addr: a, port: 80 });
        let mut r = RealServer {
            lb_kind: v.lb_kind,
            ..RealServer::new("2001:db8::2".parse().unwrap(), 8080)
        };
        assert_eq!(vs(&v), "[192.168.1.10]:tcp:80");
        assert_eq!(rs(&v, &r), "[2001:db8::2]:tcp:8080");
        v.protocol = Protocol::Udp;
        r.addr = "10.0.0.2".parse().unwrap();
        assert_eq!(rs(&v, &r), "[10.0.0.2]:udp:8080");
        v.key = VsKey::Fwmark(7);
        assert_eq!(vs(&v), "FWM 7");
    }
}
