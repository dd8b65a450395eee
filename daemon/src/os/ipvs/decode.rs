//! Replies from bytes: a datagram's netlink messages, the [`Collector`] that
//! picks out the answer to one request, and the IPVS payloads.

use std::net::IpAddr;

use nix::errno::Errno;
use vigil_lvs::{
    Destination, Family, Forwarding, IpProto, Service, ServiceKey, TunCsum, TunType, Tunnel,
    FLAG_HASHED,
};

use super::attr::{Attr, Attrs, Table};
use super::error::DecodeError;
use super::uapi::{self, dest, info, nlmsg, stats, svc, top};
use super::{DestEntry, Info, ServiceEntry, Stats, Timeouts};

const NLMSG_HDR: usize = 16;
const GENL_HDR: usize = 4;

/// One netlink message of a datagram.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    /// What follows the nlmsghdr.
    pub body: &'a [u8],
}

/// The messages of a datagram; a bad length ends it with an error.
pub fn messages(datagram: &[u8]) -> impl Iterator<Item = Result<Message<'_>, DecodeError>> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        if rest.len() < NLMSG_HDR {
            // Trailing bytes shorter than a header are padding.
            return None;
        }
        let word = |i: usize| u32::from_ne_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        let len = word(0) as usize;
        if len < NLMSG_HDR || len > rest.len() {
            rest = &[];
            return Some(Err(DecodeError::Truncated("netlink message")));
        }
        let m = Message {
            ty: u16::from_ne_bytes([rest[4], rest[5]]),
            flags: u16::from_ne_bytes([rest[6], rest[7]]),
            seq: word(8),
            pid: word(12),
            body: &rest[NLMSG_HDR..len],
        };
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
        Some(Ok(m))
    })
}

/// Why a request got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// NLMSG_ERROR (or an error in NLMSG_DONE) with this errno.
    Kernel(Errno),
    /// The answer does not parse.
    Malformed(DecodeError),
}

/// Gathers the answer to one request from the datagrams that arrive: only
/// messages with its sequence number and our port id count (a late answer
/// to an earlier, timed-out request is skipped). An acknowledged request
/// ends with the ACK, a dump with NLMSG_DONE, across as many datagrams as
/// the kernel needs.
#[derive(Debug)]
pub struct Collector {
    seq: u32,
    pid: u32,
    family: u16,
    replies: Vec<Vec<u8>>,
}

impl Collector {
    pub fn new(seq: u32, pid: u32, family: u16) -> Self {
        Collector {
            seq,
            pid,
            family,
            replies: Vec::new(),
        }
    }

    /// Takes one datagram; `Ok(true)` once the answer is complete.
    pub fn feed(&mut self, datagram: &[u8]) -> Result<bool, Refusal> {
        for m in messages(datagram) {
            let m = m.map_err(Refusal::Malformed)?;
            if m.seq != self.seq || m.pid != self.pid {
                continue;
            }
            match m.ty {
                nlmsg::NOOP => {}
                nlmsg::ERROR => {
                    let code = status(m.body)
                        .ok_or(Refusal::Malformed(DecodeError::Truncated("netlink error")))?;
                    if code != 0 {
                        return Err(Refusal::Kernel(Errno::from_raw(-code)));
                    }
                    return Ok(true); // the ACK comes after any reply
                }
                nlmsg::DONE => {
                    // A dump that fails midway reports the error here.
                    match status(m.body) {
                        Some(code) if code < 0 => {
                            return Err(Refusal::Kernel(Errno::from_raw(-code)))
                        }
                        _ => return Ok(true),
                    }
                }
                nlmsg::OVERRUN => return Err(Refusal::Kernel(Errno::ENOBUFS)),
                ty if ty == self.family => {
                    let attrs = m.body.get(GENL_HDR..).ok_or(Refusal::Malformed(
                        DecodeError::Truncated("genetlink header"),
                    ))?;
                    // A doit's reply is followed by its ACK: keep reading.
                    self.replies.push(attrs.to_vec());
                }
                _ => {}
            }
        }
        Ok(false)
    }

    /// The attributes of each reply message, in order.
    pub fn into_replies(self) -> Vec<Vec<u8>> {
        self.replies
    }
}

fn status(body: &[u8]) -> Option<i32> {
    body.get(..4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_ne_bytes)
}

/// nlctrl's CTRL_ATTR_FAMILY_ID.
pub fn family_id(attrs: &[u8]) -> Result<u16, DecodeError> {
    Table::parse(attrs)?
        .need(uapi::ctrl::ATTR_FAMILY_ID, "CTRL_ATTR_FAMILY_ID")?
        .u16("CTRL_ATTR_FAMILY_ID")
}

/// A GET_INFO reply.
pub fn info(attrs: &[u8]) -> Result<Info, DecodeError> {
    let t = Table::parse(attrs)?;
    Ok(Info {
        version: t
            .need(info::VERSION, "INFO_ATTR_VERSION")?
            .u32("INFO_ATTR_VERSION")?,
        conn_tab_size: t
            .need(info::CONN_TAB_SIZE, "INFO_ATTR_CONN_TAB_SIZE")?
            .u32("INFO_ATTR_CONN_TAB_SIZE")?,
    })
}

/// A GET_CONFIG reply (an absent timeout reads as 0).
pub fn timeouts(attrs: &[u8]) -> Result<Timeouts, DecodeError> {
    let t = Table::parse(attrs)?;
    let get = |ty, what| t.get(ty).map_or(Ok(0), |a| a.u32(what));
    Ok(Timeouts {
        tcp: get(top::TIMEOUT_TCP, "TIMEOUT_TCP")?,
        tcp_fin: get(top::TIMEOUT_TCP_FIN, "TIMEOUT_TCP_FIN")?,
        udp: get(top::TIMEOUT_UDP, "TIMEOUT_UDP")?,
    })
}

fn family(af: u16) -> Result<Family, DecodeError> {
    match af {
        uapi::AF_INET => Ok(Family::V4),
        uapi::AF_INET6 => Ok(Family::V6),
        other => Err(DecodeError::UnknownFamily(other)),
    }
}

fn af_of(f: Family) -> u16 {
    match f {
        Family::V4 => uapi::AF_INET,
        Family::V6 => uapi::AF_INET6,
    }
}

/// STATS64, else STATS, else zeros.
fn stats_of(t: &Table, s64: u16, s32: u16) -> Result<Stats, DecodeError> {
    let Some(nest) = t.get(s64).or_else(|| t.get(s32)) else {
        return Ok(Stats::default());
    };
    let mut s = Stats::default();
    for a in nest.nested() {
        let a = a?;
        let slot = match a.ty {
            stats::CONNS => &mut s.conns,
            stats::INPKTS => &mut s.inpkts,
            stats::OUTPKTS => &mut s.outpkts,
            stats::INBYTES => &mut s.inbytes,
            stats::OUTBYTES => &mut s.outbytes,
            stats::CPS => &mut s.cps,
            stats::INPPS => &mut s.inpps,
            stats::OUTPPS => &mut s.outpps,
            stats::INBPS => &mut s.inbps,
            stats::OUTBPS => &mut s.outbps,
            _ => continue, // PAD and anything newer
        };
        *slot = a.counter("stats counter")?;
    }
    Ok(s)
}

fn nest<'a>(attrs: &'a [u8], ty: u16, what: &'static str) -> Result<Table<'a>, DecodeError> {
    let outer = Table::parse(attrs)?;
    let inner: Attr<'a> = outer.need(ty, what)?;
    Table::parse(inner.data)
}

/// The prefix length of a dumped NETMASK (a non-contiguous IPv4 mask counts
/// its leading ones).
fn prefix(f: Family, a: Attr) -> Result<u8, DecodeError> {
    match f {
        Family::V4 => {
            let b: [u8; 4] = a.data.try_into().map_err(|_| DecodeError::BadLength {
                attr: "SVC_ATTR_NETMASK",
                len: a.data.len(),
            })?;
            Ok(u32::from_be_bytes(b).leading_ones() as u8)
        }
        Family::V6 => Ok(a.u32("SVC_ATTR_NETMASK")?.min(128) as u8),
    }
}

/// A service message of a GET_SERVICE dump (no destinations yet). HASHED is
/// masked out of its flags.
pub fn service(attrs: &[u8]) -> Result<ServiceEntry, DecodeError> {
    let t = nest(attrs, top::SERVICE, "CMD_ATTR_SERVICE")?;
    let af = t.need(svc::AF, "SVC_ATTR_AF")?.u16("SVC_ATTR_AF")?;
    let fam = family(af)?;
    let key = match t.get(svc::FWMARK) {
        Some(m) => ServiceKey::Fwmark {
            mark: m.u32("SVC_ATTR_FWMARK")?,
            family: fam,
        },
        None => {
            let p = t
                .need(svc::PROTOCOL, "SVC_ATTR_PROTOCOL")?
                .u16("SVC_ATTR_PROTOCOL")?;
            ServiceKey::Addr {
                addr: t
                    .need(svc::ADDR, "SVC_ATTR_ADDR")?
                    .addr(af, "SVC_ATTR_ADDR")?,
                port: t.need(svc::PORT, "SVC_ATTR_PORT")?.be16("SVC_ATTR_PORT")?,
                protocol: match p {
                    6 => IpProto::Tcp,
                    17 => IpProto::Udp,
                    132 => IpProto::Sctp,
                    other => return Err(DecodeError::UnknownProtocol(other)),
                },
            }
        }
    };
    let flags_attr = t.need(svc::FLAGS, "SVC_ATTR_FLAGS")?;
    let flags = flags_attr
        .data
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_ne_bytes)
        .ok_or(DecodeError::BadLength {
            attr: "SVC_ATTR_FLAGS",
            len: flags_attr.data.len(),
        })?;
    let pe_name = match t.get(svc::PE_NAME) {
        Some(a) => Some(a.string("SVC_ATTR_PE_NAME")?).filter(|s| !s.is_empty()),
        None => None,
    };
    let service = Service {
        key,
        scheduler: t
            .need(svc::SCHED_NAME, "SVC_ATTR_SCHED_NAME")?
            .string("SVC_ATTR_SCHED_NAME")?,
        flags: flags & !FLAG_HASHED,
        timeout: t
            .get(svc::TIMEOUT)
            .map_or(Ok(0), |a| a.u32("SVC_ATTR_TIMEOUT"))?,
        netmask: match t.get(svc::NETMASK) {
            Some(a) => prefix(fam, a)?,
            None => fam.full_prefix(),
        },
        pe_name,
    };
    Ok(ServiceEntry {
        service,
        stats: stats_of(&t, svc::STATS64, svc::STATS)?,
        dests: Vec::new(),
    })
}

fn tunnel(t: &Table) -> Result<Tunnel, DecodeError> {
    let kind = match t.get(dest::TUN_TYPE) {
        None => TunType::Ipip,
        Some(a) => match a.u8("DEST_ATTR_TUN_TYPE")? {
            0 => TunType::Ipip,
            1 => TunType::Gue,
            2 => TunType::Gre,
            v => {
                return Err(DecodeError::UnknownTunnel {
                    attr: "tunnel type",
                    value: u16::from(v),
                })
            }
        },
    };
    let port = t
        .get(dest::TUN_PORT)
        .map_or(Ok(0), |a| a.be16("DEST_ATTR_TUN_PORT"))?;
    let csum = match t
        .get(dest::TUN_FLAGS)
        .map_or(Ok(0), |a| a.u16("DEST_ATTR_TUN_FLAGS"))?
    {
        0 => TunCsum::NoCsum,
        1 => TunCsum::Csum,
        2 => TunCsum::RemCsum,
        value => {
            return Err(DecodeError::UnknownTunnel {
                attr: "tunnel checksum mode",
                value,
            })
        }
    };
    Ok(Tunnel { kind, port, csum }.canonical())
}

/// A destination message of a GET_DEST dump of a service of family `svc`.
pub fn dest(attrs: &[u8], svc: Family) -> Result<DestEntry, DecodeError> {
    let t = nest(attrs, top::DEST, "CMD_ATTR_DEST")?;
    let af = match t.get(dest::ADDR_FAMILY) {
        Some(a) => a.u16("DEST_ATTR_ADDR_FAMILY")?,
        None => af_of(svc),
    };
    let addr: IpAddr = t
        .need(dest::ADDR, "DEST_ATTR_ADDR")?
        .addr(af, "DEST_ATTR_ADDR")?;
    let method = t
        .need(dest::FWD_METHOD, "DEST_ATTR_FWD_METHOD")?
        .u32("DEST_ATTR_FWD_METHOD")?
        & uapi::FWD_MASK;
    let forwarding = match method {
        0 => Forwarding::Nat,
        1 => Forwarding::Local,
        2 => Forwarding::Tun(tunnel(&t)?),
        3 => Forwarding::Dr,
        m => return Err(DecodeError::UnknownForwarding(m)),
    };
    let u32_or_0 = |ty, what| t.get(ty).map_or(Ok(0), |a: Attr| a.u32(what));
    Ok(DestEntry {
        dest: Destination {
            addr,
            port: t
                .need(dest::PORT, "DEST_ATTR_PORT")?
                .be16("DEST_ATTR_PORT")?,
            forwarding,
            weight: t
                .need(dest::WEIGHT, "DEST_ATTR_WEIGHT")?
                .u32("DEST_ATTR_WEIGHT")?,
            u_threshold: u32_or_0(dest::U_THRESH, "DEST_ATTR_U_THRESH")?,
            l_threshold: u32_or_0(dest::L_THRESH, "DEST_ATTR_L_THRESH")?,
        },
        active_conns: u32_or_0(dest::ACTIVE_CONNS, "DEST_ATTR_ACTIVE_CONNS")?,
        inact_conns: u32_or_0(dest::INACT_CONNS, "DEST_ATTR_INACT_CONNS")?,
        persist_conns: u32_or_0(dest::PERSIST_CONNS, "DEST_ATTR_PERSIST_CONNS")?,
        stats: stats_of(&t, dest::STATS64, dest::STATS)?,
    })
}

/// Every attribute of a buffer, for tests and debugging.
pub fn attributes(buf: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, DecodeError> {
    Attrs::new(buf)
        .map(|a| a.map(|a| (a.ty, a.data.to_vec())))
        .collect()
}
