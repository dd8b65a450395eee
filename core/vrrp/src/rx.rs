//! Receive-side checks of an advertisement against one instance (RFC 3768
//! section 7.1, RFC 5798 section 7.1, and keepalived's extra checks).

use core::net::IpAddr;

use vigil_wire::ah::SeqCounter;
use vigil_wire::vrrp::{Auth, Repr, Version};

use crate::config::{Family, InstanceConfig};
use crate::counters::DropReason;

/// The TTL / hop limit every VRRP packet is sent with.
pub const VRRP_TTL: u8 = 255;

/// What the shell knows about a received packet besides its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxMeta<'a> {
    /// The interface it arrived on.
    pub interface: &'a str,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit; `None` when the socket did not report it.
    pub ttl: Option<u8>,
}

/// Check `repr` for `cfg`. `check_addrs` is false only when the sender is the
/// known master and `skip_check_adv_addr` is set (keepalived's rule). `ah`
/// is the sequence number of an advert that came in an AH datagram whose
/// ICV and SPI verified, with the instance's counter: it is judged where
/// keepalived judges it (after the auth type, before the interval), and an
/// accepted number moves the counter even if a later check drops the advert.
pub(crate) fn check_advert(
    cfg: &InstanceConfig,
    meta: &RxMeta<'_>,
    repr: &Repr,
    check_addrs: bool,
    ah: Option<(u32, &mut SeqCounter)>,
) -> Result<(), DropReason> {
    let unicast = !cfg.unicast_peers.is_empty();
    if Family::of(&meta.src) != cfg.family
        || Family::of(&meta.dst) != cfg.family
        || repr.addresses.iter().any(|a| Family::of(a) != cfg.family)
    {
        return Err(DropReason::Family);
    }
    if cfg.strict {
        crate::strict::check(meta.dst, repr, ah.is_some())?;
    }
    if (!unicast || cfg.unicast_ttl_check) && meta.ttl.is_some_and(|t| t != VRRP_TTL) {
        return Err(DropReason::Ttl);
    }
    if repr.version != cfg.version {
        return Err(DropReason::Version);
    }
    if cfg.version == Version::V2 {
        // An AH instance takes adverts only inside AH, and the reverse.
        match (&cfg.auth, &repr.auth, ah) {
            (Auth::None, Auth::None, None) => {}
            (Auth::Simple(ours), Auth::Simple(theirs), None) => {
                if !same_secret(ours, theirs) {
                    return Err(DropReason::AuthPassword);
                }
            }
            (Auth::Ah(_), Auth::Ah(_), Some((seq, counter))) => {
                if !counter.accept(seq) {
                    return Err(DropReason::AhReplay);
                }
            }
            _ => return Err(DropReason::AuthType),
        }
        // v2 intervals must match, or two masters could run on one VRID.
        if repr.adver_int_cs != cfg.advert_int_cs {
            return Err(DropReason::Interval);
        }
    }
    if meta.dst.is_multicast() == unicast {
        return Err(DropReason::Destination);
    }
    if check_addrs
        && (repr.addresses.len() != cfg.virtual_addresses.len()
            || cfg
                .virtual_addresses
                .iter()
                .any(|a| !repr.addresses.contains(a)))
    {
        return Err(DropReason::AddressList);
    }
    if unicast && cfg.check_unicast_src && !cfg.unicast_peers.contains(&meta.src) {
        return Err(DropReason::UnicastSource);
    }
    Ok(())
}

/// Compare passwords without an early exit, so timing does not leak them.
fn same_secret(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    fn v4(d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 168, 67, d))
    }

    fn cfg() -> InstanceConfig {
        let mut c = InstanceConfig::new("VI_1", "eth0", 51);
        c.auth = Auth::Simple(*b"1111\0\0\0\0");
        c.virtual_addresses = vec![v4(150)];
        c
    }

    fn repr() -> Repr {
        Repr {
            version: Version::V2,
            vrid: 51,
            priority: 100,
            adver_int_cs: 100,
            auth: Auth::Simple(*b"1111\0\0\0\0"),
            addresses: vec![v4(150)],
        }
    }

    fn meta(ttl: u8) -> RxMeta<'static> {
        RxMeta {
            interface: "eth0",
            src: v4(100),
            dst: IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
            ttl: Some(ttl),
        }
    }

    #[test]
    fn each_mismatch_has_its_reason() {
        let c = cfg();
        assert_eq!(check_advert(&c, &meta(255), &repr(), true, None), Ok(()));
        assert_eq!(
            check_advert(&c, &meta(254), &repr(), true, None),
            Err(DropReason::Ttl)
        );
        let mut r = repr();
        r.version = Version::V3;
        assert_eq!(
            check_advert(&c, &meta(255), &r, true, None),
            Err(DropReason::Version)
        );
        let mut r = repr();
        r.auth = Auth::None;
        assert_eq!(
            check_advert(&c, &meta(255), &r, true, None),
            Err(DropReason::AuthType)
        );
        let mut r = repr();
        r.auth = Auth::Simple(*b"2222\0\0\0\0");
        assert_eq!(
            check_advert(&c, &meta(255), &r, true, None),
            Err(DropReason::AuthPassword)
        );
        let mut r = repr();
        r.adver_int_cs = 200;
        assert_eq!(
            check_advert(&c, &meta(255), &r, true, None),
            Err(DropReason::Interval)
        );
        let mut r = repr();
        r.addresses = vec![v4(151)];
        assert_eq!(
            check_advert(&c, &meta(255), &r, true, None),
            Err(DropReason::AddressList)
        );
        assert_eq!(check_advert(&c, &meta(255), &r, false, None), Ok(()));
        let mut m = meta(255);
        m.dst = v4(200);
        assert_eq!(
            check_advert(&c, &m, &repr(), true, None),
            Err(DropReason::Destination)
        );
        let mut m = meta(255);
        m.src = "fe80::1".parse().unwrap();
        assert_eq!(
            check_advert(&c, &m, &repr(), true, None),
            Err(DropReason::Family)
        );
    }

    #[test]
    fn unicast_ttl_and_source_rules() {
        let mut c = cfg();
        c.unicast_peers = vec![v4(200)];
        let mut m = meta(64);
        m.dst = v4(100);
        m.src = v4(200);
        assert_eq!(
            check_advert(&c, &m, &repr(), true, None),
            Ok(()),
            "unicast accepts any TTL"
        );
        c.unicast_ttl_check = true;
        assert_eq!(
            check_advert(&c, &m, &repr(), true, None),
            Err(DropReason::Ttl)
        );
        c.unicast_ttl_check = false;
        c.check_unicast_src = true;
        m.src = v4(201);
        assert_eq!(
            check_advert(&c, &m, &repr(), true, None),
            Err(DropReason::UnicastSource)
        );
        m.dst = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
        assert_eq!(
            check_advert(&c, &m, &repr(), true, None),
            Err(DropReason::Destination)
        );
    }
}
