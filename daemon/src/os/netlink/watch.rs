//! Watches for routes and rules leaving the kernel (RTM_DELROUTE of
//! protocol keepalived, RTM_DELRULE), so that tracked static and virtual
//! ones are put back, as keepalived 2.2.7 reinstates its static routes and
//! rules. Only the fact that something went is reported: putting back is
//! idempotent (EEXIST), so the loop simply re-adds its tracked entries.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use neli::consts::rtnl::Rtm;
use neli::socket::synchronous::NlSocketHandle;
use neli::types::Buffer;
use neli::utils::Groups;
use nix::errno::Errno;
use smol::Async;
use vigil_model::PROTO_KEEPALIVED;

use super::{open_socket, socket_error, NetlinkError};

const RTMGRP_IPV4_ROUTE: u32 = 0x40;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;
/// RTNLGRP_IPV4_RULE (8) and RTNLGRP_IPV6_RULE (19) as group bits.
const RTMGRP_IPV4_RULE: u32 = 1 << 7;
const RTMGRP_IPV6_RULE: u32 = 1 << 18;
/// rtmsg's `rtm_protocol` byte.
const PROTOCOL_OFFSET: usize = 5;

struct Fd(NlSocketHandle);

impl AsFd for Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor is owned by the handle inside `self`.
        unsafe { BorrowedFd::borrow_raw(self.0.as_raw_fd()) }
    }
}

/// The route/rule deletion watcher, registered with smol.
pub struct RouteWatch {
    sock: Async<Fd>,
}

/// True if a message of type `ty` with this payload is a deletion that may
/// concern us: a route of protocol keepalived, or any rule (a rule's
/// protocol is an attribute; re-adding is cheap and exact anyway).
pub fn concerns_us(ty: u16, payload: &[u8]) -> bool {
    if ty == u16::from(Rtm::Delroute) {
        return payload.get(PROTOCOL_OFFSET) == Some(&PROTO_KEEPALIVED);
    }
    ty == u16::from(Rtm::Delrule)
}

impl RouteWatch {
    /// Subscribe in the calling thread's network namespace.
    pub fn open() -> Result<RouteWatch, NetlinkError> {
        let groups = Groups::new_bitmask(
            RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_IPV4_RULE | RTMGRP_IPV6_RULE,
        );
        let sock = open_socket(groups)?;
        let sock = Async::new(Fd(sock))
            .map_err(|e| NetlinkError::Open(Errno::from_raw(e.raw_os_error().unwrap_or(0))))?;
        Ok(RouteWatch { sock })
    }

    /// Waits until a route or rule of interest was deleted. An overrun
    /// counts as one (events were lost: check everything).
    pub async fn next(&mut self) -> Result<(), NetlinkError> {
        loop {
            let seen = self
                .sock
                .read_with(|fd| {
                    let (iter, _) = match fd.0.recv::<u16, Buffer>() {
                        Ok(x) => x,
                        Err(e) => {
                            return match socket_error(e, NetlinkError::Recv) {
                                NetlinkError::Recv(Errno::EAGAIN) => {
                                    Err(std::io::ErrorKind::WouldBlock.into())
                                }
                                NetlinkError::Overrun => Ok(Ok(true)),
                                other => Ok(Err(other)),
                            };
                        }
                    };
                    let hit = iter.flatten().any(|m| {
                        let p = m.get_payload().map_or(&[][..], |b| b.as_ref());
                        concerns_us(*m.nl_type(), p)
                    });
                    Ok(Ok(hit))
                })
                .await
                .map_err(|e| NetlinkError::Recv(Errno::from_raw(e.raw_os_error().unwrap_or(0))))?;
            if seen? {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_route_deletions_and_rule_deletions() {
        let ours = [2, 24, 0, 0, 254, PROTO_KEEPALIVED, 0, 1];
        let kernel = [2, 24, 0, 0, 254, 2, 0, 1];
        assert!(concerns_us(u16::from(Rtm::Delroute), &ours));
        assert!(!concerns_us(u16::from(Rtm::Delroute), &kernel));
        assert!(!concerns_us(u16::from(Rtm::Newroute), &ours));
        assert!(!concerns_us(u16::from(Rtm::Delroute), &[]));
        assert!(concerns_us(u16::from(Rtm::Delrule), &[]));
    }
}
