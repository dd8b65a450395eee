//! The segments of the half-open TCP_CHECK ([`super::halfopen`]): the SYN
//! we send, the reply we read back, the checksum IPv4 needs from us, and
//! the classic BPF program that lets only candidate replies reach the raw
//! socket (every TCP segment the host receives would be copied otherwise).

use std::net::Ipv4Addr;

use socket2::SockFilter;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

/// Header length of our SYN: 20 bytes and one MSS option.
pub const SYN_LEN: usize = 24;

/// Our SYN from `sport` to `dport` with sequence number `isn`, checksum
/// left zero. The MSS option is what a server sizes its segments by; the
/// window is Linux's initial one.
pub fn syn(sport: u16, dport: u16, isn: u32, mss: u16) -> [u8; SYN_LEN] {
    let mut b = [0u8; SYN_LEN];
    b[0..2].copy_from_slice(&sport.to_be_bytes());
    b[2..4].copy_from_slice(&dport.to_be_bytes());
    b[4..8].copy_from_slice(&isn.to_be_bytes());
    b[12] = ((SYN_LEN / 4) as u8) << 4;
    b[13] = SYN;
    b[14..16].copy_from_slice(&64240u16.to_be_bytes());
    b[20] = 2; // kind MSS
    b[21] = 4;
    b[22..24].copy_from_slice(&mss.to_be_bytes());
    b
}

/// Writes the TCP checksum of `seg` (IPv4 pseudo-header) into it.
pub fn fill_checksum_v4(src: Ipv4Addr, dst: Ipv4Addr, seg: &mut [u8]) {
    seg[16] = 0;
    seg[17] = 0;
    // Words summed by index: the chunk iterators cost several times the
    // arithmetic at opt-level "z" (one checksum per check).
    let be16 = |b: &[u8], i: usize| u32::from(b[i]) << 8 | u32::from(b[i + 1]);
    let (s, d) = (src.octets(), dst.octets());
    let mut sum: u32 = be16(&s, 0) + be16(&s, 2) + be16(&d, 0) + be16(&d, 2);
    sum += 6; // protocol TCP
    sum += seg.len() as u32;
    let even = seg.len() & !1;
    let mut i = 0;
    while i < even {
        sum += be16(seg, i);
        i += 2;
    }
    if even < seg.len() {
        sum += u32::from(seg[even]) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    seg[16..18].copy_from_slice(&c.to_be_bytes());
}

/// Length of the IPv4 header we write (IP_HDRINCL): no options.
pub const IP4_LEN: usize = 20;

/// Our SYN's IPv4 header, complete (a packet socket sends it as given; the
/// raw socket, IP_HDRINCL, sums it again and keeps a nonzero `id`): DF set
/// as on a connect()'s SYN, TTL 64.
pub fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, payload: usize, id: u16) -> [u8; IP4_LEN] {
    let mut h = [0u8; IP4_LEN];
    h[0] = 0x45;
    let total = (IP4_LEN + payload).min(usize::from(u16::MAX)) as u16;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6] = 0x40; // don't fragment
    h[8] = 64;
    h[9] = 6; // TCP
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let mut sum: u32 = 0;
    let mut i = 0;
    while i < IP4_LEN {
        sum += u32::from(h[i]) << 8 | u32::from(h[i + 1]);
        i += 2;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    h
}

/// What a reply says, from its TCP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The server's port (the reply's source port).
    pub peer_port: u16,
    /// Our port (its destination port).
    pub our_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
}

/// Parses a TCP header; `None` when shorter than 20 bytes.
pub fn parse(tcp: &[u8]) -> Option<Reply> {
    let h = tcp.get(..20)?;
    let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some(Reply {
        peer_port: u16::from_be_bytes([h[0], h[1]]),
        our_port: u16::from_be_bytes([h[2], h[3]]),
        seq: be32(4),
        ack: be32(8),
        flags: h[13],
    })
}

/// The TCP header inside an IPv4 packet as a raw socket reads it (the IP
/// header first); `None` for a fragment after the first or a short packet.
pub fn tcp_of_v4(pkt: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
    let ihl = usize::from(*pkt.first()? & 0x0f) * 4;
    let frag = u16::from_be_bytes([*pkt.get(6)?, *pkt.get(7)?]) & 0x1fff;
    if ihl < 20 || frag != 0 {
        return None;
    }
    let src = Ipv4Addr::new(*pkt.get(12)?, pkt[13], pkt[14], pkt[15]);
    Some((src, pkt.get(ihl..)?))
}

/// The verdict a reply gives on the SYN with sequence number `isn`: the
/// handshake's second step acknowledges exactly `isn + 1` (as it must for
/// a connect() to complete), and so does the reset a closed port answers a
/// SYN with. Anything else (a stray or forged segment) says nothing.
pub fn verdict(r: &Reply, isn: u32) -> Option<bool> {
    if r.ack != isn.wrapping_add(1) || r.flags & ACK == 0 {
        return None;
    }
    match r.flags & (SYN | RST | FIN) {
        SYN => Some(true),
        RST => Some(false),
        _ => None,
    }
}

// Classic BPF opcodes (linux/filter.h).
const LD_B_ABS: u16 = 0x30;
const LD_H_ABS: u16 = 0x28;
const LD_H_IND: u16 = 0x48;
const LD_B_IND: u16 = 0x50;
const LDX_B_MSH: u16 = 0xb1;
const ALU_AND_K: u16 = 0x54;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;

/// How much of an accepted packet is copied: the largest IPv4 header and
/// a TCP header.
const SNAP: u32 = 60 + 20;

/// A filter passing only SYN-ACKs and resets (ACK set) to one of `ports`
/// (at most 250 of them). `v4`: the packet starts with the IPv4 header;
/// else (IPv6 raw sockets) with the TCP header.
pub fn filter(v4: bool, ports: &[u16]) -> Vec<SockFilter> {
    let ports = &ports[..ports.len().min(250)];
    let mut f = Vec::with_capacity(ports.len() + 12);
    let op = |code, jt, jf, k| SockFilter::new(code, jt, jf, k);
    if v4 {
        // Later fragments carry no TCP header: dropped.
        f.push(op(LD_H_ABS, 0, 0, 6));
        f.push(op(JSET_K, 0, 1, 0x1fff));
        f.push(op(RET_K, 0, 0, 0));
        // X = the IP header's length.
        f.push(op(LDX_B_MSH, 0, 0, 0));
        f.push(op(LD_B_IND, 0, 0, 13));
    } else {
        f.push(op(LD_B_ABS, 0, 0, 13));
    }
    f.push(op(ALU_AND_K, 0, 0, u32::from(SYN | RST | ACK | FIN)));
    f.push(op(JEQ_K, 2, 0, u32::from(SYN | ACK)));
    f.push(op(JEQ_K, 1, 0, u32::from(RST | ACK)));
    f.push(op(RET_K, 0, 0, 0));
    if v4 {
        f.push(op(LD_H_IND, 0, 0, 2));
    } else {
        f.push(op(LD_H_ABS, 0, 0, 2));
    }
    let n = ports.len();
    for (i, p) in ports.iter().enumerate() {
        // Matched: jump over the rest and the drop, to the accept.
        f.push(op(JEQ_K, (n - i) as u8, 0, u32::from(*p)));
    }
    f.push(op(RET_K, 0, 0, 0));
    f.push(op(RET_K, 0, 0, SNAP));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_checksum_verifies() {
        let (s, d) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let mut seg = syn(40000, 80, 0x1234_5678, 1460);
        fill_checksum_v4(s, d, &mut seg);
        // Summing again with the checksum in place gives all ones.
        let mut sum: u32 = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + SYN_LEN as u32;
        for w in seg.chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
        let r = parse(&seg).unwrap();
        assert_eq!(
            (r.peer_port, r.our_port, r.seq, r.flags),
            (40000, 80, 0x1234_5678, SYN)
        );
    }

    #[test]
    fn only_the_acknowledging_reply_decides() {
        let r = |flags, ack| Reply {
            peer_port: 80,
            our_port: 40000,
            seq: 7,
            ack,
            flags,
        };
        assert_eq!(verdict(&r(SYN | ACK, 11), 10), Some(true));
        assert_eq!(verdict(&r(RST | ACK, 11), 10), Some(false));
        assert_eq!(verdict(&r(SYN | ACK, 12), 10), None);
        assert_eq!(verdict(&r(RST, 11), 10), None);
        assert_eq!(verdict(&r(SYN | ACK, 0), u32::MAX), Some(true));
        assert_eq!(verdict(&r(ACK, 11), 10), None);
    }

    #[test]
    fn ipv4_header_reads_back() {
        let (s, d) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let mut pkt = ipv4_header(s, d, SYN_LEN, 0x1234).to_vec();
        pkt.extend_from_slice(&syn(40000, 80, 1, 1460));
        let (src, tcp) = tcp_of_v4(&pkt).unwrap();
        assert_eq!((src, tcp.len()), (s, SYN_LEN));
        assert_eq!(u16::from_be_bytes([pkt[2], pkt[3]]) as usize, pkt.len());
        assert_eq!(&pkt[16..20], &d.octets());
        assert_eq!(&pkt[4..6], &[0x12, 0x34]);
        // The header sums to 0xffff with its checksum (RFC 791), and the
        // checksum of this header (summed independently) is 0x1496.
        let mut sum: u32 = pkt[..IP4_LEN]
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
        assert_eq!(&pkt[10..12], &[0x14, 0x96]);
    }

    #[test]
    fn filter_jumps_land_on_the_accept() {
        let f = filter(true, &[1, 2, 3]);
        assert_eq!(f.len(), 11 + 3 + 1);
    }
}
