//! PING_CHECK's ICMP and ICMPv6 echo messages, sans-IO.
//!
//! Sockets differ in what they see: a raw IPv4 socket receives the IP
//! header too and needs our checksum; a raw ICMPv6 socket and the
//! unprivileged ping sockets (`SOCK_DGRAM`, `IPPROTO_ICMP[V6]`) carry only
//! the ICMP message, and the kernel fills in the checksum (and, for ping
//! sockets, the identifier, filtering replies by it).

use alloc::vec::Vec;

/// ICMP echo request / reply types.
const ECHO_V4: (u8, u8) = (8, 0);
const ECHO_V6: (u8, u8) = (128, 129);

/// keepalived sends 128-byte echo requests (`ICMP_BUFSIZE`).
pub const ECHO_LEN: usize = 128;

/// An echo request of [`ECHO_LEN`] bytes; the checksum is set (IPv4 needs
/// it on raw sockets; for IPv6 the kernel overwrites it).
pub fn echo_request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut m = Vec::with_capacity(ECHO_LEN);
    m.push(if v6 { ECHO_V6.0 } else { ECHO_V4.0 });
    m.push(0);
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend((0..ECHO_LEN - 8).map(|i| b"keepalived check - "[i % 19]));
    if !v6 {
        let sum = checksum(&m);
        m[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    m
}

/// Whether `packet` answers our request `seq` (and `id`, when the socket
/// does not filter by it). `ip_header`: the packet starts with an IPv4
/// header (raw IPv4 sockets).
pub fn is_reply(v6: bool, packet: &[u8], ip_header: bool, id: Option<u16>, seq: u16) -> bool {
    let icmp = if ip_header {
        let Some(&vihl) = packet.first() else {
            return false;
        };
        let ihl = usize::from(vihl & 0x0f) * 4;
        if vihl >> 4 != 4 || ihl < 20 {
            return false;
        }
        packet.get(ihl..).unwrap_or(&[])
    } else {
        packet
    };
    let Some(h) = icmp.get(..8) else {
        return false;
    };
    let reply = if v6 { ECHO_V6.1 } else { ECHO_V4.1 };
    h[0] == reply
        && h[1] == 0
        && id.is_none_or(|id| h[4..6] == id.to_be_bytes())
        && h[6..8] == seq.to_be_bytes()
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v4_request_checksums_to_zero() {
        let m = echo_request(false, 0x1234, 7);
        assert_eq!(m.len(), ECHO_LEN);
        assert_eq!(&m[..2], &[8, 0]);
        assert_eq!(&m[4..8], &[0x12, 0x34, 0, 7]);
        assert_eq!(checksum(&m), 0);
        assert_eq!(echo_request(true, 1, 1)[0], 128);
    }

    #[test]
    fn replies_match_type_id_and_seq() {
        let mut r = echo_request(false, 9, 3);
        r[0] = 0;
        assert!(is_reply(false, &r, false, Some(9), 3));
        assert!(is_reply(false, &r, false, None, 3));
        assert!(!is_reply(false, &r, false, Some(8), 3));
        assert!(!is_reply(false, &r, false, None, 4));
        // Our own request, looped back on a raw socket, is not a reply.
        assert!(!is_reply(false, &echo_request(false, 9, 3), false, None, 3));
        let mut ip = alloc::vec![0x45u8; 1];
        ip.extend_from_slice(&[0; 19]);
        ip.extend_from_slice(&r);
        assert!(is_reply(false, &ip, true, Some(9), 3));
        assert!(!is_reply(false, &ip[..22], true, Some(9), 3));
        let mut r6 = echo_request(true, 5, 1);
        r6[0] = 129;
        assert!(is_reply(true, &r6, false, None, 1));
        assert!(!is_reply(false, &r6, false, None, 1));
    }
}
