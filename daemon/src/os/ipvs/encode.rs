//! Requests as bytes: the nlmsghdr, the genlmsghdr and the IPVS attributes.
//!
//! Conventions (ip_vs.h, notes 1.4-1.11): PORT and TUN_PORT are big-endian,
//! every other integer is host order; addresses go in the 16-byte union;
//! NEW/SET_SERVICE always carry SCHED_NAME, FLAGS {flags, mask ~0}, TIMEOUT
//! and NETMASK (the IPv4 mask's bytes, or the IPv6 prefix as a u32);
//! NEW/SET_DEST always carry FWD_METHOD, WEIGHT and both thresholds. FWMARK
//! is sent only for fwmark services: its mere presence switches the lookup.

use vigil_lvs::{
    Command, DestKey, Destination, Family, Forwarding, Service, ServiceKey, TunCsum, TunType,
    USER_FLAGS,
};

use super::attr::Writer;
use super::uapi::{self, cmd, dest, nlm, svc, top};
use super::Timeouts;

/// What to ask the IPVS family.
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    /// GET_INFO.
    Info,
    /// GET_CONFIG.
    Timeouts,
    /// SET_CONFIG.
    SetTimeouts(&'a Timeouts),
    /// GET_SERVICE dump.
    Services,
    /// GET_DEST dump of one service.
    Dests(&'a ServiceKey),
    /// A table change (acknowledged).
    Apply(&'a Command),
}

impl Request<'_> {
    /// Whether the answer is a dump (ends with NLMSG_DONE) rather than an
    /// acknowledged request.
    pub fn is_dump(&self) -> bool {
        matches!(self, Request::Services | Request::Dests(_))
    }
}

/// A whole netlink message: nlmsghdr (pid 0: the kernel knows the sender),
/// genlmsghdr, attributes.
pub fn message(ty: u16, flags: u16, seq: u32, command: u8, version: u8, attrs: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[command, version, 0, 0]);
    m.extend_from_slice(attrs);
    m
}

/// The request for the IPVS family `family`.
pub fn request(family: u16, seq: u32, req: &Request) -> Vec<u8> {
    let mut w = Writer::new();
    let command = match req {
        Request::Info => cmd::GET_INFO,
        Request::Timeouts => cmd::GET_CONFIG,
        Request::SetTimeouts(t) => {
            w.u32(top::TIMEOUT_TCP, t.tcp);
            w.u32(top::TIMEOUT_TCP_FIN, t.tcp_fin);
            w.u32(top::TIMEOUT_UDP, t.udp);
            cmd::SET_CONFIG
        }
        Request::Services => cmd::GET_SERVICE,
        Request::Dests(key) => {
            w.nest(top::SERVICE, |w| identity(w, key));
            cmd::GET_DEST
        }
        Request::Apply(c) => apply(&mut w, c),
    };
    let flags = nlm::REQUEST | if req.is_dump() { nlm::DUMP } else { nlm::ACK };
    message(family, flags, seq, command, uapi::VERSION, &w.into_bytes())
}

fn apply(w: &mut Writer, c: &Command) -> u8 {
    match c {
        Command::Flush => cmd::FLUSH,
        Command::AddService(s) => {
            w.nest(top::SERVICE, |w| service(w, s));
            cmd::NEW_SERVICE
        }
        Command::EditService(s) => {
            w.nest(top::SERVICE, |w| service(w, s));
            cmd::SET_SERVICE
        }
        Command::DelService(k) => {
            w.nest(top::SERVICE, |w| identity(w, k));
            cmd::DEL_SERVICE
        }
        Command::AddDest(k, d) => {
            w.nest(top::SERVICE, |w| identity(w, k));
            w.nest(top::DEST, |w| destination(w, d));
            cmd::NEW_DEST
        }
        Command::EditDest(k, d) => {
            w.nest(top::SERVICE, |w| identity(w, k));
            w.nest(top::DEST, |w| destination(w, d));
            cmd::SET_DEST
        }
        Command::DelDest(k, d) => {
            w.nest(top::SERVICE, |w| identity(w, k));
            w.nest(top::DEST, |w| dest_identity(w, d));
            cmd::DEL_DEST
        }
    }
}

fn af(f: Family) -> u16 {
    match f {
        Family::V4 => uapi::AF_INET,
        Family::V6 => uapi::AF_INET6,
    }
}

/// AF, then FWMARK or PROTOCOL + ADDR + PORT.
fn identity(w: &mut Writer, key: &ServiceKey) {
    w.u16(svc::AF, af(key.family()));
    match key {
        ServiceKey::Addr {
            addr,
            port,
            protocol,
        } => {
            w.u16(svc::PROTOCOL, u16::from(protocol.number()));
            w.addr(svc::ADDR, addr);
            w.be16(svc::PORT, *port);
        }
        ServiceKey::Fwmark { mark, .. } => w.u32(svc::FWMARK, *mark),
    }
}

/// The NETMASK payload of a prefix length.
pub fn netmask(family: Family, prefix: u8) -> [u8; 4] {
    match family {
        Family::V4 => {
            let p = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - p).unwrap_or(0);
            mask.to_be_bytes()
        }
        Family::V6 => u32::from(prefix).to_ne_bytes(),
    }
}

fn service(w: &mut Writer, s: &Service) {
    identity(w, &s.key);
    w.string(svc::SCHED_NAME, &s.scheduler);
    if let Some(pe) = &s.pe_name {
        w.string(svc::PE_NAME, pe);
    }
    let mut flags = [0u8; 8];
    flags[..4].copy_from_slice(&(s.flags & USER_FLAGS).to_ne_bytes());
    flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
    w.bytes(svc::FLAGS, &flags);
    w.u32(svc::TIMEOUT, s.timeout);
    w.bytes(svc::NETMASK, &netmask(s.key.family(), s.netmask));
}

fn dest_identity(w: &mut Writer, d: &DestKey) {
    w.u16(dest::ADDR_FAMILY, af(Family::of(&d.addr)));
    w.addr(dest::ADDR, &d.addr);
    w.be16(dest::PORT, d.port);
}

/// The TUN_TYPE value.
pub fn tun_type(t: TunType) -> u8 {
    match t {
        TunType::Ipip => 0,
        TunType::Gue => 1,
        TunType::Gre => 2,
    }
}

/// The TUN_FLAGS value.
pub fn tun_csum(c: TunCsum) -> u16 {
    match c {
        TunCsum::NoCsum => 0,
        TunCsum::Csum => 1,
        TunCsum::RemCsum => 2,
    }
}

fn destination(w: &mut Writer, d: &Destination) {
    dest_identity(w, &d.key());
    w.u32(dest::FWD_METHOD, d.forwarding.code());
    w.u32(dest::WEIGHT, d.weight);
    // Like keepalived: TUN_TYPE for tunnels, TUN_PORT for GUE, TUN_FLAGS
    // unless IP-in-IP, so kernels before 5.2 see no tunnel attribute.
    if let Forwarding::Tun(t) = d.forwarding {
        w.u8(dest::TUN_TYPE, tun_type(t.kind));
        if t.kind == TunType::Gue {
            w.be16(dest::TUN_PORT, t.port);
        }
        if t.kind != TunType::Ipip {
            w.u16(dest::TUN_FLAGS, tun_csum(t.csum));
        }
    }
    w.u32(dest::U_THRESH, d.u_threshold);
    w.u32(dest::L_THRESH, d.l_threshold);
}
