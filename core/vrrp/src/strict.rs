//! `vrrp_strict` / `strict_mode` on the receive side, as keepalived 2.2.7
//! has it. 2.2.7's `vrrp_check_packet` has no test of its own for strict
//! mode: the config fixes (no authentication, no unicast peers) make its
//! ordinary checks drop an advert with authentication (auth type mismatch)
//! or sent to a unicast address (destination), and the address count and
//! list are checked as for any instance. This module states those two rules
//! outright, so that they hold for any `InstanceConfig` with `strict` set
//! (a hand-built or binary one too), counted under the same reasons. The
//! other receive rule, `lower_prio_no_advert` (forced on by strict mode), is
//! in the master's receive path: no advert in answer to a lower priority.

use core::net::IpAddr;

use vigil_wire::vrrp::{Auth, Repr};

use crate::counters::DropReason;

/// The strict-mode refusals of an advert to `dst`, before the others.
pub(crate) fn check(dst: IpAddr, repr: &Repr, ah: bool) -> Result<(), DropReason> {
    if ah || repr.auth != Auth::None {
        return Err(DropReason::AuthType);
    }
    if !dst.is_multicast() {
        return Err(DropReason::Destination);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;
    use vigil_wire::vrrp::Version;

    fn repr(auth: Auth) -> Repr {
        Repr {
            version: Version::V2,
            vrid: 51,
            priority: 200,
            adver_int_cs: 100,
            auth,
            addresses: vec![IpAddr::V4(Ipv4Addr::new(192, 168, 67, 150))],
        }
    }

    #[test]
    fn authentication_and_unicast_are_refused() {
        let group = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
        let host = IpAddr::V4(Ipv4Addr::new(192, 168, 67, 100));
        assert_eq!(check(group, &repr(Auth::None), false), Ok(()));
        assert_eq!(
            check(group, &repr(Auth::Simple(*b"1111\0\0\0\0")), false),
            Err(DropReason::AuthType)
        );
        assert_eq!(
            check(group, &repr(Auth::None), true),
            Err(DropReason::AuthType)
        );
        assert_eq!(
            check(host, &repr(Auth::None), false),
            Err(DropReason::Destination)
        );
    }
}
