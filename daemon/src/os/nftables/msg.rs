//! nf_tables messages as bytes: netlink attributes (TLVs), the few
//! expressions vigil's rules use, and the batches that make, fill and
//! remove its table. Pure functions, tested byte for byte.

use std::net::IpAddr;

use super::Table;

const NFPROTO_INET: u8 = 1;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_NEWSET: u16 = 9;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;
const NLA_F_NESTED: u16 = 0x8000;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_APPEND: u16 = 0x800;
const NLM_F_CREATE: u16 = 0x400;
const NF_INET_LOCAL_IN: u32 = 1;
const NF_INET_LOCAL_OUT: u32 = 3;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
/// nftables' datatype ids (ipv4_addr, ipv6_addr).
const TYPE_IPV4: u32 = 7;
const TYPE_IPV6: u32 = 8;
const NFT_REG_1: u32 = 1;
const NFT_REG_VERDICT: u32 = 0;
const NFT_META_NFPROTO: u32 = 15;
const NFT_META_L4PROTO: u32 = 16;
const NFT_PAYLOAD_NETWORK: u32 = 1;
const NFT_PAYLOAD_TRANSPORT: u32 = 2;
const NFT_CMP_EQ: u32 = 0;
const IPPROTO_ICMPV6: u8 = 58;
const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;

/// An attribute tree being written (netlink's TLVs, 4-byte aligned).
struct Attrs(Vec<u8>);

impl Attrs {
    fn new() -> Attrs {
        Attrs(Vec::new())
    }

    fn raw(&mut self, kind: u16, data: &[u8]) -> &mut Attrs {
        let len = 4 + data.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().next_multiple_of(4), 0);
        self
    }

    fn str(&mut self, kind: u16, s: &str) -> &mut Attrs {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.raw(kind, &v)
    }

    /// nf_tables integers are big endian.
    fn be32(&mut self, kind: u16, v: u32) -> &mut Attrs {
        self.raw(kind, &v.to_be_bytes())
    }

    fn nest(&mut self, kind: u16, inner: Attrs) -> &mut Attrs {
        self.raw(kind | NLA_F_NESTED, &inner.0)
    }
}

/// An expression: `NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA { .. } }`.
fn expr(list: &mut Attrs, name: &str, data: Attrs) {
    let mut e = Attrs::new();
    e.str(1, name).nest(2, data);
    list.nest(1, e);
}

fn meta(list: &mut Attrs, key: u32) {
    let mut d = Attrs::new();
    d.be32(2, key).be32(1, NFT_REG_1); // NFTA_META_KEY, NFTA_META_DREG
    expr(list, "meta", d);
}

fn cmp_eq(list: &mut Attrs, value: &[u8]) {
    let mut v = Attrs::new();
    v.raw(1, value); // NFTA_DATA_VALUE
    let mut d = Attrs::new();
    d.be32(1, NFT_REG_1).be32(2, NFT_CMP_EQ).nest(3, v);
    expr(list, "cmp", d);
}

fn payload(list: &mut Attrs, base: u32, offset: u32, len: u32) {
    let mut d = Attrs::new();
    d.be32(1, NFT_REG_1)
        .be32(2, base)
        .be32(3, offset)
        .be32(4, len);
    expr(list, "payload", d);
}

fn lookup(list: &mut Attrs, set: &str) {
    let mut d = Attrs::new();
    d.str(1, set).be32(2, NFT_REG_1); // NFTA_LOOKUP_SET, NFTA_LOOKUP_SREG
    expr(list, "lookup", d);
}

fn verdict(list: &mut Attrs, code: u32) {
    let mut v = Attrs::new();
    v.be32(1, code); // NFTA_VERDICT_CODE
    let mut data = Attrs::new();
    data.nest(2, v); // NFTA_DATA_VERDICT
    let mut d = Attrs::new();
    d.be32(1, NFT_REG_VERDICT).nest(2, data); // NFTA_IMMEDIATE_DREG, _DATA
    expr(list, "immediate", d);
}

/// A batch of nf_tables messages with sequence numbers from `seq`.
pub struct Batch {
    buf: Vec<u8>,
    pub(super) seq: u32,
    /// Sequence numbers of the messages that are acknowledged.
    pub acked: Vec<u32>,
}

impl Batch {
    fn new(seq: u32) -> Batch {
        let mut b = Batch {
            buf: Vec::new(),
            seq,
            acked: Vec::new(),
        };
        b.header(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0, &[]);
        b
    }

    /// nlmsghdr + nfgenmsg + attributes. Batch delimiters carry the
    /// subsystem in `res_id`.
    fn header(&mut self, kind: u16, flags: u16, family: u8, attrs: &[u8]) {
        let len = 16 + 4 + attrs.len();
        let batch = kind == NFNL_MSG_BATCH_BEGIN || kind == NFNL_MSG_BATCH_END;
        let ty = if batch {
            kind
        } else {
            (NFNL_SUBSYS_NFTABLES << 8) | kind
        };
        self.buf.extend_from_slice(&(len as u32).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&self.seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.push(family);
        self.buf.push(0); // NFNETLINK_V0
        let res = if batch { NFNL_SUBSYS_NFTABLES } else { 0 };
        self.buf.extend_from_slice(&res.to_be_bytes());
        self.buf.extend_from_slice(attrs);
        self.seq = self.seq.wrapping_add(1);
    }

    fn msg(&mut self, kind: u16, flags: u16, attrs: Attrs) {
        self.acked.push(self.seq);
        self.header(
            kind,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            NFPROTO_INET,
            &attrs.0,
        );
    }

    fn end(mut self) -> Batch {
        self.header(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 0, &[]);
        self
    }

    /// The datagram to send.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// `delete table inet NAME`.
pub fn delete_table(seq: u32, table: &Table) -> Batch {
    let mut b = Batch::new(seq);
    let mut t = Attrs::new();
    t.str(1, &table.name);
    b.msg(NFT_MSG_DELTABLE, 0, t);
    b.end()
}

/// A table made and deleted in one transaction: whether nf_tables works
/// here, leaving nothing behind.
pub fn probe_batch(seq: u32) -> Batch {
    let mut b = Batch::new(seq);
    let mut t = Attrs::new();
    t.str(1, "vigil_probe");
    b.msg(NFT_MSG_NEWTABLE, NLM_F_CREATE, t);
    let mut t = Attrs::new();
    t.str(1, "vigil_probe");
    b.msg(NFT_MSG_DELTABLE, 0, t);
    b.end()
}

/// The whole table, sets, chains and rules (see the module doc).
pub fn create_table(seq: u32, table: &Table) -> Batch {
    let name = table.name.as_str();
    let mut b = Batch::new(seq);
    let mut t = Attrs::new();
    t.str(1, name); // NFTA_TABLE_NAME
    b.msg(NFT_MSG_NEWTABLE, NLM_F_CREATE, t);
    for (n, (set, ty, len)) in [("vips4", TYPE_IPV4, 4), ("vips6", TYPE_IPV6, 16)]
        .into_iter()
        .enumerate()
    {
        let mut s = Attrs::new();
        s.str(1, name)
            .str(2, set)
            .be32(3, 0)
            .be32(4, ty)
            .be32(5, len);
        s.be32(10, n as u32 + 1); // NFTA_SET_ID
        b.msg(NFT_MSG_NEWSET, NLM_F_CREATE, s);
    }
    for (chain, hook, v4_off, v6_off) in [
        ("in", NF_INET_LOCAL_IN, 16, 24),
        ("out", NF_INET_LOCAL_OUT, 12, 8),
    ] {
        let mut h = Attrs::new();
        h.be32(1, hook).be32(2, table.priority as u32); // NFTA_HOOK_HOOKNUM, _PRIORITY
        let mut c = Attrs::new();
        c.str(1, name)
            .str(3, chain)
            .nest(4, h)
            .be32(5, NF_ACCEPT)
            .str(7, "filter");
        b.msg(NFT_MSG_NEWCHAIN, NLM_F_CREATE, c);
        // Neighbour discovery keeps working for IPv6 VIPs (keepalived's exception).
        for nd in [ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT] {
            let mut e = Attrs::new();
            meta(&mut e, NFT_META_L4PROTO);
            cmp_eq(&mut e, &[IPPROTO_ICMPV6]);
            payload(&mut e, NFT_PAYLOAD_TRANSPORT, 0, 1);
            cmp_eq(&mut e, &[nd]);
            append_rule(&mut b, table, chain, e, NF_ACCEPT);
        }
        for (proto, off, len, set) in [(2u8, v4_off, 4, "vips4"), (10u8, v6_off, 16, "vips6")] {
            let mut e = Attrs::new();
            meta(&mut e, NFT_META_NFPROTO);
            cmp_eq(&mut e, &[proto]);
            payload(&mut e, NFT_PAYLOAD_NETWORK, off, len);
            lookup(&mut e, set);
            append_rule(&mut b, table, chain, e, NF_DROP);
        }
    }
    b.end()
}

/// `counter` (packets and bytes from 0) when `nftables_counters` is set.
fn counter(list: &mut Attrs, table: &Table) {
    if table.counters {
        expr(list, "counter", Attrs::new());
    }
}

/// Appends a rule to `chain`: the matches in `e`, then the counter (when
/// configured) and the verdict `code`.
fn append_rule(b: &mut Batch, table: &Table, chain: &str, mut e: Attrs, code: u32) {
    counter(&mut e, table);
    verdict(&mut e, code);
    let mut r = Attrs::new();
    r.str(1, &table.name).str(2, chain).nest(4, e); // NFTA_RULE_TABLE, _CHAIN, _EXPRESSIONS
    b.msg(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, r);
}

/// Adds (or removes) addresses to the drop sets.
pub fn set_elements(seq: u32, table: &Table, add: bool, addrs: &[IpAddr]) -> Batch {
    let mut b = Batch::new(seq);
    for (set, v6) in [("vips4", false), ("vips6", true)] {
        let mut list = Attrs::new();
        let mut any = false;
        for a in addrs.iter().filter(|a| a.is_ipv6() == v6) {
            let bytes: Vec<u8> = match a {
                IpAddr::V4(x) => x.octets().to_vec(),
                IpAddr::V6(x) => x.octets().to_vec(),
            };
            let mut value = Attrs::new();
            value.raw(1, &bytes); // NFTA_DATA_VALUE
            let mut elem = Attrs::new();
            elem.nest(1, value); // NFTA_SET_ELEM_KEY
            list.nest(1, elem); // NFTA_LIST_ELEM
            any = true;
        }
        if any {
            let mut m = Attrs::new();
            m.str(1, &table.name).str(2, set).nest(3, list);
            let kind = if add {
                NFT_MSG_NEWSETELEM
            } else {
                NFT_MSG_DELSETELEM
            };
            b.msg(kind, if add { NLM_F_CREATE } else { 0 }, m);
        }
    }
    b.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks a batch into (type, flags, seq, family, attribute bytes).
    fn messages(b: &[u8]) -> Vec<(u16, u16, u32, u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut rest = b;
        while rest.len() >= 20 {
            let len = u32::from_ne_bytes(rest[0..4].try_into().unwrap()) as usize;
            let ty = u16::from_ne_bytes(rest[4..6].try_into().unwrap());
            let flags = u16::from_ne_bytes(rest[6..8].try_into().unwrap());
            let seq = u32::from_ne_bytes(rest[8..12].try_into().unwrap());
            out.push((ty, flags, seq, rest[16], rest[20..len].to_vec()));
            rest = &rest[len..];
        }
        assert!(rest.is_empty());
        out
    }

    #[test]
    fn delete_is_one_message_between_batch_delimiters() {
        let t = Table {
            name: "vigil".into(),
            ..Table::default()
        };
        let b = delete_table(7, &t);
        let m = messages(b.bytes());
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].0, m[0].2), (0x10, 7));
        assert_eq!(
            &b.bytes()[18..20],
            &[0, 10],
            "res_id: NFNL_SUBSYS_NFTABLES, big endian"
        );
        assert_eq!((m[1].0, m[1].1, m[1].2, m[1].3), (0x0a02, 0x5, 8, 1));
        // NFTA_TABLE_NAME "vigil\0", padded to 8: len 10, type 1.
        assert_eq!(m[1].4, [10, 0, 1, 0, b'v', b'i', b'g', b'i', b'l', 0, 0, 0]);
        assert_eq!((m[2].0, m[2].2), (0x11, 9));
        assert_eq!(b.acked, vec![8]);
    }

    #[test]
    fn create_has_table_sets_chains_and_rules() {
        let b = create_table(1, &Table::default());
        let m = messages(b.bytes());
        assert!(m[1].4.windows(11).any(|w| w == b"keepalived\0"));
        let kinds: Vec<u16> = m.iter().map(|x| x.0).collect();
        let rule = 0x0a06;
        assert_eq!(
            kinds,
            [
                0x10, 0x0a00, 0x0a09, 0x0a09, 0x0a03, rule, rule, rule, rule, 0x0a03, rule, rule,
                rule, rule, 0x11
            ]
        );
        assert_eq!(b.acked.len(), 13);
        // The input chain: hook 1 at priority -1, policy accept, type filter.
        let chain = &m[4].4;
        let hook = [
            20u8, 0, 4, 0x80, 8, 0, 1, 0, 0, 0, 0, 1, 8, 0, 2, 0, 0xff, 0xff, 0xff, 0xff,
        ];
        assert!(chain.windows(hook.len()).any(|w| w == hook), "{chain:?}");
        assert!(chain.windows(7).any(|w| w == b"filter\0"));
        // The IPv4 drop rule looks up daddr (offset 16, 4 bytes) in vips4.
        let r = &m[7].4;
        let daddr = [8u8, 0, 3, 0, 0, 0, 0, 16, 8, 0, 4, 0, 0, 0, 0, 4];
        assert!(r.windows(16).any(|w| w == daddr));
        assert!(r.windows(6).any(|w| w == b"vips4\0"));
        let drop = [12u8, 0, 2, 0x80, 8, 0, 1, 0, 0, 0, 0, 0];
        assert!(r.windows(12).any(|w| w == drop), "verdict drop");
        // The output chain matches the source address (offset 12).
        let saddr = [8u8, 0, 3, 0, 0, 0, 0, 12, 8, 0, 4, 0, 0, 0, 0, 4];
        assert!(m[12].4.windows(16).any(|w| w == saddr));
    }

    #[test]
    fn priority_and_counters_as_configured() {
        let t = Table {
            name: "kad".into(),
            priority: -150,
            counters: true,
        };
        let b = create_table(1, &t);
        let m = messages(b.bytes());
        let prio = (-150i32 as u32).to_be_bytes();
        let hook = [&[8u8, 0, 2, 0][..], &prio[..]].concat();
        assert!(m[4].4.windows(8).any(|w| w == hook), "chain priority -150");
        assert!(m[5].4.windows(8).any(|w| w == b"counter\0"));
        assert!(m[7].4.windows(8).any(|w| w == b"counter\0"));
        assert!(m[1].4.windows(4).any(|w| w == b"kad\0"));
        let plain = create_table(1, &Table::default());
        assert!(!plain.bytes().windows(8).any(|w| w == b"counter\0"));
    }

    #[test]
    fn elements_go_to_their_family_set() {
        let addrs: Vec<IpAddr> = vec![
            "192.168.67.150".parse().unwrap(),
            "fd00::1".parse().unwrap(),
        ];
        let t = Table::default();
        let b = set_elements(3, &t, true, &addrs);
        let m = messages(b.bytes());
        assert_eq!(m.len(), 4);
        assert_eq!((m[1].0, m[1].1), (0x0a0c, 0x405));
        let v4 = [8u8, 0, 1, 0, 192, 168, 67, 150];
        assert!(m[1].4.windows(8).any(|w| w == v4));
        assert!(m[2].4.windows(6).any(|w| w == b"vips6\0"));
        let del = set_elements(3, &t, false, &addrs[..1]);
        let m = messages(del.bytes());
        assert_eq!(m.len(), 3);
        assert_eq!((m[1].0, m[1].1), (0x0a0e, 0x5));
    }
}
