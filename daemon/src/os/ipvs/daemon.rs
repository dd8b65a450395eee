//! The kernel's connection sync daemon: NEW_DAEMON, DEL_DAEMON and the
//! GET_DAEMON dump (ip_vs.h IPVS_DAEMON_ATTR_*, notes 1.6).
//!
//! A master daemon multicasts connection changes on an interface; a backup
//! daemon receives them and creates the same connection entries, so a
//! director that becomes master keeps established sessions. One of each
//! role may run per network namespace. On the wire (as keepalived and
//! ipvsadm send it): STATE and SYNC_ID u32, MCAST_IFN a NUL string,
//! MAXLEN and PORT host-order u16, TTL u8, GROUP the IPv4 address bytes.

use std::fmt;
use std::net::IpAddr;

use super::attr::{Table, Writer};
use super::error::{DecodeError, IpvsError, Op};
use super::uapi::{cmd, daemon as da, top};
use super::Ipvs;

/// Which side of the sync a daemon is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SyncRole {
    Master,
    Backup,
}

impl SyncRole {
    fn code(self) -> u32 {
        match self {
            SyncRole::Master => da::STATE_MASTER,
            SyncRole::Backup => da::STATE_BACKUP,
        }
    }

    /// The other role.
    pub fn other(self) -> SyncRole {
        match self {
            SyncRole::Master => SyncRole::Backup,
            SyncRole::Backup => SyncRole::Master,
        }
    }
}

impl fmt::Display for SyncRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncRole::Master => "master",
            SyncRole::Backup => "backup",
        })
    }
}

/// A sync daemon's settings; `None` lets the kernel choose (port 8848,
/// group 224.0.0.81, TTL 1, maxlen from the interface MTU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    pub interface: String,
    pub sync_id: u8,
    pub maxlen: Option<u16>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub group: Option<IpAddr>,
}

impl SyncConfig {
    /// From the configuration's `lvs_sync_daemon`.
    pub fn of(d: &vigil_model::SyncDaemon) -> SyncConfig {
        SyncConfig {
            interface: d.interface.clone(),
            sync_id: d.sync_id,
            maxlen: d.maxlen,
            port: d.port,
            ttl: d.ttl,
            group: d.group,
        }
    }
}

/// A running daemon as the kernel reports it (the kernel fills in its
/// defaults, so every field is known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonEntry {
    pub role: SyncRole,
    pub interface: String,
    pub sync_id: u32,
    /// 0 on kernels before 4.3, which do not report the rest.
    pub maxlen: u16,
    pub port: u16,
    pub ttl: u8,
    pub group: Option<IpAddr>,
}

/// NEW_DAEMON attributes.
pub fn start_attrs(role: SyncRole, c: &SyncConfig) -> Vec<u8> {
    let mut w = Writer::new();
    w.nest(top::DAEMON, |w| {
        w.u32(da::STATE, role.code());
        w.string(da::MCAST_IFN, &c.interface);
        w.u32(da::SYNC_ID, u32::from(c.sync_id));
        // Sent only when set, so kernels before 4.3 are not asked for them.
        if let Some(m) = c.maxlen {
            w.u16(da::SYNC_MAXLEN, m);
        }
        if let Some(p) = c.port {
            w.u16(da::MCAST_PORT, p);
        }
        if let Some(t) = c.ttl {
            w.u8(da::MCAST_TTL, t);
        }
        match c.group {
            Some(IpAddr::V4(a)) => w.bytes(da::MCAST_GROUP, &a.octets()),
            Some(IpAddr::V6(a)) => w.bytes(da::MCAST_GROUP6, &a.octets()),
            None => {}
        }
    });
    w.into_bytes()
}

/// DEL_DAEMON attributes: the role is what the kernel looks at.
pub fn stop_attrs(role: SyncRole, sync_id: u8) -> Vec<u8> {
    let mut w = Writer::new();
    w.nest(top::DAEMON, |w| {
        w.u32(da::STATE, role.code());
        w.u32(da::SYNC_ID, u32::from(sync_id));
    });
    w.into_bytes()
}

/// One GET_DAEMON reply (the attributes after the genlmsghdr).
pub fn decode(attrs: &[u8]) -> Result<DaemonEntry, DecodeError> {
    let t = Table::parse(attrs)?;
    let nest = t.need(top::DAEMON, "DAEMON")?;
    let d = Table::parse(nest.data)?;
    let role = match d.need(da::STATE, "DAEMON_STATE")?.u32("DAEMON_STATE")? {
        da::STATE_MASTER => SyncRole::Master,
        da::STATE_BACKUP => SyncRole::Backup,
        other => return Err(DecodeError::UnknownState(other)),
    };
    let u16_or0 = |ty, what| d.get(ty).map_or(Ok(0), |a| a.u16(what));
    let group = match (d.get(da::MCAST_GROUP6), d.get(da::MCAST_GROUP)) {
        (Some(a), _) => Some(a.addr(super::uapi::AF_INET6, "MCAST_GROUP6")?),
        (None, Some(a)) => Some(a.addr(super::uapi::AF_INET, "MCAST_GROUP")?),
        (None, None) => None,
    };
    Ok(DaemonEntry {
        role,
        interface: d.need(da::MCAST_IFN, "MCAST_IFN")?.string("MCAST_IFN")?,
        sync_id: d.need(da::SYNC_ID, "SYNC_ID")?.u32("SYNC_ID")?,
        maxlen: u16_or0(da::SYNC_MAXLEN, "SYNC_MAXLEN")?,
        port: u16_or0(da::MCAST_PORT, "MCAST_PORT")?,
        ttl: d.get(da::MCAST_TTL).map_or(Ok(0), |a| a.u8("MCAST_TTL"))?,
        group,
    })
}

impl Ipvs {
    /// NEW_DAEMON: starts the `role` daemon (EEXIST if one runs already).
    pub fn start_daemon(&self, role: SyncRole, c: &SyncConfig) -> Result<(), IpvsError> {
        let what = || {
            format!(
                "starting the {role} sync daemon on {} (sync id {})",
                c.interface, c.sync_id
            )
        };
        self.ask_raw(
            cmd::NEW_DAEMON,
            &start_attrs(role, c),
            false,
            Op::StartDaemon,
            what,
        )
        .map(drop)
    }

    /// DEL_DAEMON: stops the `role` daemon (ESRCH if none runs).
    pub fn stop_daemon(&self, role: SyncRole, sync_id: u8) -> Result<(), IpvsError> {
        let what = || format!("stopping the {role} sync daemon");
        self.ask_raw(
            cmd::DEL_DAEMON,
            &stop_attrs(role, sync_id),
            false,
            Op::StopDaemon,
            what,
        )
        .map(drop)
    }

    /// The GET_DAEMON dump: the daemons running in this namespace.
    pub fn daemons(&self) -> Result<Vec<DaemonEntry>, IpvsError> {
        let what = "listing the IPVS sync daemons";
        self.ask_raw(cmd::GET_DAEMON, &[], true, Op::Read, || what.to_string())?
            .iter()
            .map(|r| {
                decode(r).map_err(|error| IpvsError::Malformed {
                    what: what.to_string(),
                    error,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SyncConfig {
        SyncConfig {
            interface: "eth1".into(),
            sync_id: 7,
            maxlen: None,
            port: Some(8850),
            ttl: None,
            group: Some("239.1.2.3".parse().unwrap()),
        }
    }

    #[test]
    fn start_bytes_from_the_uapi_layout() {
        let b = start_attrs(SyncRole::Backup, &cfg());
        let mut want = vec![];
        // DAEMON nest (3 | NLA_F_NESTED), 4 + 8 + 12 + 8 + 8 + 8 bytes.
        want.extend_from_slice(&48u16.to_ne_bytes());
        want.extend_from_slice(&(3u16 | 0x8000).to_ne_bytes());
        // STATE = 2 (backup).
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&1u16.to_ne_bytes());
        want.extend_from_slice(&2u32.to_ne_bytes());
        // MCAST_IFN "eth1\0", padded to 8.
        want.extend_from_slice(&9u16.to_ne_bytes());
        want.extend_from_slice(&2u16.to_ne_bytes());
        want.extend_from_slice(b"eth1\0\0\0\0");
        // SYNC_ID = 7.
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&3u16.to_ne_bytes());
        want.extend_from_slice(&7u32.to_ne_bytes());
        // MCAST_PORT 8850, host order, padded.
        want.extend_from_slice(&6u16.to_ne_bytes());
        want.extend_from_slice(&7u16.to_ne_bytes());
        want.extend_from_slice(&8850u16.to_ne_bytes());
        want.extend_from_slice(&[0, 0]);
        // MCAST_GROUP: the address bytes as they go on the wire.
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&5u16.to_ne_bytes());
        want.extend_from_slice(&[239, 1, 2, 3]);
        assert_eq!(b, want);
    }

    #[test]
    fn stop_carries_the_role() {
        let b = stop_attrs(SyncRole::Master, 7);
        assert_eq!(b.len(), 4 + 8 + 8);
        assert_eq!(&b[8..12], &1u32.to_ne_bytes());
    }

    #[test]
    fn decodes_what_it_would_send() {
        // A kernel reply has the same layout as the request, with every
        // field filled in.
        let mut c = cfg();
        c.maxlen = Some(1472);
        c.ttl = Some(1);
        let e = decode(&start_attrs(SyncRole::Master, &c)).unwrap();
        assert_eq!(
            e,
            DaemonEntry {
                role: SyncRole::Master,
                interface: "eth1".into(),
                sync_id: 7,
                maxlen: 1472,
                port: 8850,
                ttl: 1,
                group: c.group,
            }
        );
    }

    #[test]
    fn refuses_an_unknown_state_and_a_missing_nest() {
        let mut b = stop_attrs(SyncRole::Master, 1);
        b[8..12].copy_from_slice(&9u32.to_ne_bytes());
        assert_eq!(decode(&b), Err(DecodeError::UnknownState(9)));
        assert_eq!(decode(&[]), Err(DecodeError::Missing("DAEMON")));
    }
}
