//! Reading the VRRP adverts out of a classic pcap file written by `tcpdump -w`:
//! the file's own timestamps (UTC, microseconds) are what the failover is measured
//! from, so no text output has to be parsed.

use std::net::Ipv4Addr;

/// One IPv4 VRRP packet seen on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Advert {
    /// Capture time, seconds since the Unix epoch.
    pub at: f64,
    pub src: Ipv4Addr,
    pub vrid: u8,
    pub priority: u8,
}

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;
const LINKTYPE_ETHERNET: u32 = 1;
const ETHERTYPE_IPV4: u16 = 0x0800;
const PROTO_VRRP: u8 = 112;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Parses the adverts of `file` (the whole pcap). Unknown link types and
/// non-VRRP frames are skipped; a truncated last record ends the list.
pub fn adverts(file: &[u8]) -> Result<Vec<Advert>, String> {
    let head: [u8; 4] = file
        .get(0..4)
        .and_then(|b| b.try_into().ok())
        .ok_or("pcap: shorter than its header")?;
    // The magic tells both the byte order and the timestamp unit.
    let (le, nanos) = match (u32::from_le_bytes(head), u32::from_be_bytes(head)) {
        (MAGIC_US, _) => (true, false),
        (MAGIC_NS, _) => (true, true),
        (_, MAGIC_US) => (false, false),
        (_, MAGIC_NS) => (false, true),
        _ => return Err("pcap: bad magic".into()),
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = file.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let link = u32_at(20).ok_or("pcap: shorter than its header")?;
    if link != LINKTYPE_ETHERNET {
        return Err(format!("pcap: link type {link}, expected Ethernet"));
    }
    let mut out = Vec::new();
    let mut pos = 24;
    while let (Some(sec), Some(frac), Some(len)) = (u32_at(pos), u32_at(pos + 4), u32_at(pos + 8)) {
        let start = pos + 16;
        let Some(frame) = file.get(start..start + len as usize) else {
            break;
        };
        pos = start + len as usize;
        let at = f64::from(sec) + f64::from(frac) / if nanos { 1e9 } else { 1e6 };
        if let Some(a) = vrrp_in_frame(frame, at) {
            out.push(a);
        }
    }
    Ok(out)
}

fn vrrp_in_frame(frame: &[u8], at: f64) -> Option<Advert> {
    if u16_at(frame, 12)? != ETHERTYPE_IPV4 {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    if *ip.get(9)? != PROTO_VRRP || ihl < 20 {
        return None;
    }
    let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
    let vrrp = ip.get(ihl..)?;
    Some(Advert {
        at,
        src: Ipv4Addr::from(src),
        vrid: *vrrp.get(1)?,
        priority: *vrrp.get(2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(src: [u8; 4], proto: u8, prio: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 255, proto, 0, 0];
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&[224, 0, 0, 18]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[0x21, 51, prio, 1, 0, 1, 0, 0]);
        f
    }

    fn file(le: bool, frames: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let w = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let mut out = Vec::new();
        out.extend_from_slice(&w(MAGIC_US));
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&w(LINKTYPE_ETHERNET));
        for (s, us, f) in frames {
            out.extend_from_slice(&w(*s));
            out.extend_from_slice(&w(*us));
            out.extend_from_slice(&w(f.len() as u32));
            out.extend_from_slice(&w(f.len() as u32));
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn reads_vrrp_and_skips_the_rest() {
        for le in [true, false] {
            let f = file(
                le,
                &[
                    (10, 500_000, frame([192, 168, 67, 100], 112, 100)),
                    (11, 0, frame([192, 168, 67, 100], 17, 100)),
                    (12, 250_000, frame([192, 168, 67, 200], 112, 0)),
                ],
            );
            let a = adverts(&f).unwrap();
            assert_eq!(a.len(), 2);
            assert_eq!(a[0].at, 10.5);
            assert_eq!(a[0].src, Ipv4Addr::new(192, 168, 67, 100));
            assert_eq!((a[0].vrid, a[0].priority), (51, 100));
            assert_eq!(a[1].at, 12.25);
            assert_eq!(a[1].priority, 0);
        }
    }

    #[test]
    fn truncated_and_bad_files() {
        let mut f = file(true, &[(1, 0, frame([10, 0, 0, 1], 112, 9))]);
        f.truncate(f.len() - 3);
        assert_eq!(adverts(&f).unwrap(), vec![]);
        assert!(adverts(&[1, 2]).is_err());
        assert!(adverts(&[0u8; 24]).is_err());
    }
}
