//! Policy rules: RTM_NEWRULE / RTM_DELRULE for `virtual_rules` and
//! `static_rules`, encoded as keepalived 2.2.7 encodes them. The header is
//! `struct fib_rule_hdr`, which has rtmsg's size and layout (the kernel and
//! iproute2 treat it so), followed by FRA_* attributes.

use neli::consts::nl::NlmF;
use neli::consts::rtnl::Rtm;
use neli::types::Buffer;
use nix::errno::Errno;
use vigil_model::{Rule, RuleAction};

use super::route::{family, Attrs};
use super::{Change, Netlink, NetlinkError};

const FRA_DST: u16 = 1;
const FRA_SRC: u16 = 2;
const FRA_IIFNAME: u16 = 3;
const FRA_GOTO: u16 = 4;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
const FRA_FLOW: u16 = 11;
const FRA_TUN_ID: u16 = 12;
const FRA_SUPPRESS_IFGROUP: u16 = 13;
const FRA_SUPPRESS_PREFIXLEN: u16 = 14;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FRA_OIFNAME: u16 = 17;
const FRA_L3MDEV: u16 = 19;
const FRA_UID_RANGE: u16 = 20;
const FRA_PROTOCOL: u16 = 21;
const FRA_IP_PROTO: u16 = 22;
const FRA_SPORT_RANGE: u16 = 23;
const FRA_DPORT_RANGE: u16 = 24;

const FIB_RULE_INVERT: u32 = 2;
const RT_TABLE_MAIN: u32 = 254;

fn name(s: &str) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    b
}

fn range16((a, b): (u16, u16)) -> Vec<u8> {
    let mut v = a.to_ne_bytes().to_vec();
    v.extend_from_slice(&b.to_ne_bytes());
    v
}

/// The fib_rule_hdr and attributes of `r`; `table` is its resolved table
/// (for a `table` action). Add and delete carry the same selectors.
pub fn encode(r: &Rule, table: u32) -> Vec<u8> {
    let mut a = Attrs::default();
    let mut table_byte = 0u8;
    if let RuleAction::Table(_) = r.action {
        let t = if table == 0 { RT_TABLE_MAIN } else { table };
        if t < 256 {
            table_byte = t as u8;
        } else {
            a.u32(FRA_TABLE, t);
        }
    }
    let flags = if r.invert { FIB_RULE_INVERT } else { 0 };
    let mut out = vec![
        family(r.ipv6),
        r.to.map_or(0, |p| p.len),
        r.from.map_or(0, |p| p.len),
        r.tos,
        table_byte,
        0,
        0,
        r.action.kernel_value(),
    ];
    out.extend_from_slice(&flags.to_ne_bytes());
    if let Some(p) = r.from {
        a.addr(FRA_SRC, p.addr);
    }
    if let Some(p) = r.to {
        a.addr(FRA_DST, p.addr);
    }
    if let Some(p) = r.priority {
        a.u32(FRA_PRIORITY, p);
    }
    if let Some(m) = r.fwmark {
        a.u32(FRA_FWMARK, m);
    }
    if let Some(m) = r.fwmask {
        a.u32(FRA_FWMASK, m);
    }
    if let Some(x) = r.realms {
        a.u32(FRA_FLOW, x);
    }
    if let Some(n) = r.suppress_prefixlen {
        a.u32(FRA_SUPPRESS_PREFIXLEN, n);
    }
    if let Some(n) = r.suppress_ifgroup {
        a.u32(FRA_SUPPRESS_IFGROUP, n);
    }
    if let Some(d) = &r.iif {
        a.put(FRA_IIFNAME, &name(d));
    }
    if let Some(d) = &r.oif {
        a.put(FRA_OIFNAME, &name(d));
    }
    if let Some(t) = r.tunnel_id {
        a.put(FRA_TUN_ID, &t.to_be_bytes());
    }
    if let Some((s, e)) = r.uidrange {
        let mut v = s.to_ne_bytes().to_vec();
        v.extend_from_slice(&e.to_ne_bytes());
        a.put(FRA_UID_RANGE, &v);
    }
    if r.action == RuleAction::L3mdev {
        a.u8(FRA_L3MDEV, 1);
    }
    if let Some(p) = r.protocol {
        a.u8(FRA_PROTOCOL, p);
    }
    if let Some(p) = r.ipproto {
        a.u8(FRA_IP_PROTO, p);
    }
    if let Some(s) = r.sport {
        a.put(FRA_SPORT_RANGE, &range16(s));
    }
    if let Some(d) = r.dport {
        a.put(FRA_DPORT_RANGE, &range16(d));
    }
    if let RuleAction::Goto(t) = r.action {
        a.u32(FRA_GOTO, t);
    }
    out.extend(a.0);
    out
}

impl Netlink {
    /// Install a rule. An identical rule already there (EEXIST) is
    /// `Unchanged`: rules are added exclusively, so none is doubled.
    pub fn add_rule(&self, r: &Rule, table: u32) -> Result<Change, NetlinkError> {
        let msg = Buffer::from(encode(r, table));
        let flags = NlmF::CREATE | NlmF::EXCL;
        match self.exchange::<_, Buffer>(Rtm::Newrule, flags, msg, false) {
            Ok(_) => Ok(Change::Applied),
            Err(NetlinkError::Kernel(Errno::EEXIST)) => Ok(Change::Unchanged),
            Err(e) => Err(e),
        }
    }

    /// Remove a rule. Absent (ENOENT) is `Unchanged`.
    pub fn del_rule(&self, r: &Rule, table: u32) -> Result<Change, NetlinkError> {
        let msg = Buffer::from(encode(r, table));
        match self.exchange::<_, Buffer>(Rtm::Delrule, NlmF::empty(), msg, false) {
            Ok(_) => Ok(Change::Applied),
            Err(NetlinkError::Kernel(Errno::ENOENT)) => Ok(Change::Unchanged),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::{Prefix, Table, PROTO_KEEPALIVED};

    #[test]
    fn table_rule_from_prefix_with_fwmark_and_ifnames() {
        let mut r = Rule::new(false, RuleAction::Table(Table::Id(100)));
        r.from = Some(Prefix {
            addr: "10.0.0.0".parse().unwrap(),
            len: 24,
        });
        r.priority = Some(100);
        r.fwmark = Some(0x10);
        r.fwmask = Some(0xff);
        r.iif = Some("eth0".into());
        r.invert = true;
        let b = encode(&r, 100);
        assert_eq!(&b[..8], &[2, 0, 24, 0, 100, 0, 0, 1]);
        assert_eq!(&b[8..12], &FIB_RULE_INVERT.to_ne_bytes());
        // FRA_SRC, FRA_PRIORITY, FRA_FWMARK, FRA_FWMASK, FRA_IIFNAME "eth0\0"
        // (padded to 12), FRA_PROTOCOL (padded to 8).
        assert_eq!(b.len(), 12 + 8 + 8 + 8 + 8 + 12 + 8);
        assert_eq!(&b[12..20], &[8, 0, 2, 0, 10, 0, 0, 0]);
        assert_eq!(&b[b.len() - 8..], &[5, 0, 21, 0, PROTO_KEEPALIVED, 0, 0, 0]);
    }

    #[test]
    fn goto_big_table_and_l3mdev() {
        let mut g = Rule::new(true, RuleAction::Goto(20));
        g.priority = Some(10);
        g.protocol = None;
        let b = encode(&g, 0);
        assert_eq!(&b[..8], &[10, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(&b[b.len() - 8..], &[8, 0, 4, 0, 20, 0, 0, 0]);
        let t = Rule::new(false, RuleAction::Table(Table::Name("big".into())));
        let b = encode(&t, 1000);
        assert_eq!(b[4], 0);
        assert_eq!(&b[12..20], &[8, 0, 15, 0, 0xe8, 3, 0, 0]);
        let l = Rule::new(false, RuleAction::L3mdev);
        let b = encode(&l, 0);
        assert_eq!((b[4], b[7]), (0, 1));
        assert_eq!(&b[12..17], &[5, 0, 19, 0, 1]);
    }
}
