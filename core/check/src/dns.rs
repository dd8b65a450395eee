//! DNS_CHECK, the pure half: keepalived's query (one question, RD set,
//! class IN, the id chosen by the caller) and the reading of answers.
//!
//! keepalived looks at the header only: an answer with our id and QR set
//! passes when RCODE is 0 (so NOERROR without records passes) and fails on
//! any other RCODE; datagrams too short for a header, with another id, or
//! that are not responses are ignored while the probe waits.

use alloc::vec::Vec;
use core::fmt;

use vigil_model::DnsType;

use crate::probe::FailReason;

/// Length of the DNS header (RFC 1035 4.1.1).
pub const HEADER_LEN: usize = 12;
/// Longest encoded name (RFC 1035 2.3.4).
const MAX_NAME: usize = 255;
/// Longest label.
const MAX_LABEL: usize = 63;

mod field {
    use core::ops::Range;
    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
}

/// QR: the datagram is a response.
const FLAG_QR: u16 = 0x8000;
/// RD: recursion desired.
const FLAG_RD: u16 = 0x0100;
/// Class IN.
const CLASS_IN: u16 = 1;

/// Why a query name cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Two dots in a row, or a leading dot (other than the root ".").
    EmptyLabel,
    /// A label longer than 63 bytes.
    LabelTooLong,
    /// More than 255 bytes encoded.
    NameTooLong,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::EmptyLabel => "empty label in DNS name",
            NameError::LabelTooLong => "DNS label longer than 63 bytes",
            NameError::NameTooLong => "DNS name longer than 255 bytes",
        })
    }
}

/// The query datagram for `name` (a trailing dot is fine; "." or "" is the
/// root) and `qtype`, with header id `id`.
pub fn query(id: u16, name: &str, qtype: DnsType) -> Result<Vec<u8>, NameError> {
    let mut out = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&FLAG_RD.to_be_bytes());
    // QDCOUNT 1, ANCOUNT, NSCOUNT, ARCOUNT 0.
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let name_start = out.len();
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            let len = u8::try_from(label.len())
                .ok()
                .filter(|&l| usize::from(l) <= MAX_LABEL)
                .ok_or(NameError::LabelTooLong)?;
            out.push(len);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() - name_start > MAX_NAME {
        return Err(NameError::NameTooLong);
    }
    out.extend_from_slice(&qtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(out)
}

/// What one received datagram means for the query with id `id`: `None` to
/// ignore it and keep waiting, else the verdict.
pub fn judge(id: u16, datagram: &[u8]) -> Option<Result<(), FailReason>> {
    let got = u16::from_be_bytes(datagram.get(field::ID)?.try_into().ok()?);
    let flags = u16::from_be_bytes(datagram.get(field::FLAGS)?.try_into().ok()?);
    if datagram.len() < HEADER_LEN || got != id || flags & FLAG_QR == 0 {
        return None;
    }
    match (flags & 0x000f) as u8 {
        0 => Some(Ok(())),
        rcode => Some(Err(FailReason::DnsRcode(rcode))),
    }
}

/// The first A or AAAA record of the answer to the query with id `id`
/// (a name lookup, e.g. `smtp_server` given as a host name): `None` for
/// any other datagram, an error RCODE, no such record or a malformed one.
pub fn first_address(id: u16, datagram: &[u8]) -> Option<core::net::IpAddr> {
    judge(id, datagram)?.ok()?;
    let count = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes(
            datagram.get(at..at + 2)?.try_into().ok()?,
        ))
    };
    let (questions, answers) = (count(4)?, count(6)?);
    let mut at = HEADER_LEN;
    for _ in 0..questions {
        at = skip_name(datagram, at)? + 4; // QTYPE, QCLASS
    }
    for _ in 0..answers {
        at = skip_name(datagram, at)?;
        let (rtype, len) = (count(at)?, usize::from(count(at + 8)?));
        let data = datagram.get(at + 10..at + 10 + len)?;
        at += 10 + len;
        match (rtype, len) {
            (1, 4) => return Some(<[u8; 4]>::try_from(data).ok()?.into()),
            (28, 16) => return Some(<[u8; 16]>::try_from(data).ok()?.into()),
            _ => {} // a CNAME or another record: the address follows
        }
    }
    None
}

/// The offset after the (possibly compressed) name at `at`.
fn skip_name(datagram: &[u8], mut at: usize) -> Option<usize> {
    // Bounded: a name is at most 128 labels.
    for _ in 0..128 {
        let len = *datagram.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2), // a pointer ends it
            l if l & 0xc0 == 0 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
    None
}

/// The RFC 1035 / 6895 mnemonic of an RCODE, for logs.
pub fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "unassigned",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_layout() {
        let q = query(0xbeef, "www.example.com", DnsType::A).unwrap();
        let want: &[u8] = &[
            0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, //
            3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
            0, //
            0, 1, 0, 1,
        ];
        assert_eq!(q, want);
        // A trailing dot keeps the terminating zero label (keepalived #1462).
        assert_eq!(query(0xbeef, "www.example.com.", DnsType::A).unwrap(), want);
    }

    #[test]
    fn first_address_follows_a_cname() {
        let mut a = query(7, "mail.lab", DnsType::A).unwrap();
        a[2] |= 0x80; // QR
        a[7] = 2; // ANCOUNT 2
                  // mail.lab CNAME relay.lab (name by pointer to the question).
        a.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 8]);
        a.extend_from_slice(&[5, b'r', b'e', b'l', b'a', b'y', 0xc0, 17]);
        // relay.lab A 10.0.0.25.
        a.extend_from_slice(&[0xc0, 35, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 25]);
        assert_eq!(first_address(7, &a), Some([10, 0, 0, 25].into()));
        assert_eq!(first_address(8, &a), None, "another id");
        let cut = &a[..a.len() - 2];
        assert_eq!(first_address(7, cut), None, "truncated record");
        let mut nx = a.clone();
        nx[3] |= 3; // NXDOMAIN
        assert_eq!(first_address(7, &nx), None);
    }

    #[test]
    fn root_soa_is_the_default_query() {
        let q = query(7, ".", DnsType::Soa).unwrap();
        assert_eq!(q, [0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1]);
        assert_eq!(query(7, "", DnsType::Soa).unwrap(), q);
    }

    #[test]
    fn bad_names_are_refused() {
        assert_eq!(query(1, "a..b", DnsType::A), Err(NameError::EmptyLabel));
        assert_eq!(query(1, ".a", DnsType::A), Err(NameError::EmptyLabel));
        assert_eq!(query(1, "a..", DnsType::A), Err(NameError::EmptyLabel));
        let long = "x".repeat(64);
        assert_eq!(query(1, &long, DnsType::A), Err(NameError::LabelTooLong));
        assert!(query(1, &"x".repeat(63), DnsType::A).is_ok());
        let many = ["abcdefghi"; 26].join(".");
        assert_eq!(query(1, &many, DnsType::A), Err(NameError::NameTooLong));
    }

    fn answer(id: u16, flags: u16) -> Vec<u8> {
        let mut a = query(id, "example.org", DnsType::Soa).unwrap();
        a[2..4].copy_from_slice(&flags.to_be_bytes());
        a
    }

    #[test]
    fn answers() {
        // NOERROR (also without records: ANCOUNT 0 here).
        assert_eq!(judge(9, &answer(9, 0x8180)), Some(Ok(())));
        // REFUSED, SERVFAIL, NXDOMAIN fail.
        assert_eq!(
            judge(9, &answer(9, 0x8185)),
            Some(Err(FailReason::DnsRcode(5)))
        );
        assert_eq!(
            judge(9, &answer(9, 0x8182)),
            Some(Err(FailReason::DnsRcode(2)))
        );
        assert_eq!(
            judge(9, &answer(9, 0x8583)),
            Some(Err(FailReason::DnsRcode(3)))
        );
    }

    #[test]
    fn unrelated_datagrams_are_ignored() {
        assert_eq!(judge(9, &answer(10, 0x8180)), None, "another id");
        assert_eq!(judge(9, &answer(9, 0x0100)), None, "a query, not an answer");
        assert_eq!(judge(9, &answer(9, 0x8180)[..11]), None, "short");
        assert_eq!(judge(9, &[]), None);
        assert_eq!(judge(9, &[0, 9, 0x81]), None);
        // Exactly a header is enough.
        assert_eq!(judge(9, &answer(9, 0x8180)[..12]), Some(Ok(())));
    }

    #[test]
    fn rcode_names() {
        assert_eq!(rcode_name(5), "REFUSED");
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(15), "unassigned");
    }
}
