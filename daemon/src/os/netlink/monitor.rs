//! The link/address monitor: rtnetlink multicast groups RTMGRP_LINK,
//! RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR as async events.
//!
//! The kernel sends RTM_NEWLINK for every attribute change, so the monitor
//! remembers each interface's last state and reports only what a VRRP shell
//! acts on: transitions of "usable" (up and running), a new name or MAC for
//! an index (rename, MAC change), removals and address changes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use neli::consts::rtnl::Rtm;
use neli::nl::{NlPayload, Nlmsghdr};
use neli::rtnl::{Ifaddrmsg, Ifinfomsg};
use neli::socket::synchronous::NlSocketHandle;
use neli::types::Buffer;
use neli::utils::Groups;
use nix::errno::Errno;
use smol::Async;

use super::addr::parse_address;
use super::link::parse_link;
use super::{open_socket, socket_error, NetlinkError};

const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;

/// A change seen by the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// The interface became usable (up and running), or was first seen so,
    /// or was renamed or given another MAC while usable.
    Up {
        index: u32,
        name: String,
        mac: Vec<u8>,
    },
    /// The interface stopped being usable, or was first seen so, or was
    /// renamed or given another MAC while not usable.
    Down {
        index: u32,
        name: String,
        mac: Vec<u8>,
    },
    /// The interface was removed.
    Gone { index: u32, name: String },
    AddressAdded {
        index: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
    AddressRemoved {
        index: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
    /// The kernel dropped events (ENOBUFS): re-read links and addresses.
    Resync,
}

/// What the monitor remembers of one interface, to report changes only.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    name: String,
    mac: Vec<u8>,
    usable: bool,
}

impl Seen {
    fn of(l: &super::LinkInfo) -> Seen {
        Seen {
            name: l.name.clone(),
            mac: l.mac.clone(),
            usable: l.is_usable(),
        }
    }
}

struct Fd(NlSocketHandle);

impl AsFd for Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor is owned by the handle inside `self`.
        unsafe { BorrowedFd::borrow_raw(self.0.as_raw_fd()) }
    }
}

/// The monitor socket, registered with smol.
pub struct Monitor {
    sock: Async<Fd>,
    known: HashMap<u32, Seen>,
    pending: std::collections::VecDeque<LinkEvent>,
}

impl Monitor {
    /// Subscribe in the calling thread's network namespace.
    pub fn open() -> Result<Monitor, NetlinkError> {
        let groups = Groups::new_bitmask(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR);
        let sock = open_socket(groups)?;
        // Bursts (many VIPs added at once) must not overrun the default buffer.
        let _ = sock.set_recv_buffer_size(256 * 1024);
        let sock = Async::new(Fd(sock))
            .map_err(|e| NetlinkError::Open(Errno::from_raw(e.raw_os_error().unwrap_or(0))))?;
        Ok(Monitor {
            sock,
            known: HashMap::new(),
            pending: Default::default(),
        })
    }

    /// Seed the known states (e.g. from [`super::Netlink::links`]) so that the
    /// first events are real transitions.
    pub fn seed(&mut self, links: &[super::LinkInfo]) {
        for l in links {
            self.known.insert(l.index, Seen::of(l));
        }
    }

    /// The next event.
    pub async fn next(&mut self) -> Result<LinkEvent, NetlinkError> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(e);
            }
            let batch = self
                .sock
                .read_with(|fd| {
                    let r = fd.0.recv::<u16, Buffer>();
                    let (iter, _) = match r {
                        Ok(x) => x,
                        Err(e) => {
                            return match socket_error(e, NetlinkError::Recv) {
                                NetlinkError::Recv(Errno::EAGAIN) => {
                                    Err(std::io::ErrorKind::WouldBlock.into())
                                }
                                other => Ok(Err(other)),
                            }
                        }
                    };
                    Ok(Ok(iter.collect::<Vec<_>>()))
                })
                .await
                .map_err(|e| NetlinkError::Recv(Errno::from_raw(e.raw_os_error().unwrap_or(0))))?;
            match batch {
                Ok(msgs) => {
                    for m in msgs.into_iter().flatten() {
                        self.handle(m);
                    }
                }
                Err(NetlinkError::Overrun) => {
                    self.known.clear();
                    return Ok(LinkEvent::Resync);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn handle(&mut self, m: Nlmsghdr<u16, Buffer>) {
        let ty = Rtm::from(*m.nl_type());
        match ty {
            Rtm::Newlink | Rtm::Dellink => {
                let Ok(m) = m.to_typed::<Rtm, Ifinfomsg>() else {
                    return;
                };
                let Some(info) = m.get_payload().and_then(parse_link) else {
                    return;
                };
                if ty == Rtm::Dellink {
                    self.known.remove(&info.index);
                    self.pending.push_back(LinkEvent::Gone {
                        index: info.index,
                        name: info.name,
                    });
                    return;
                }
                let seen = Seen::of(&info);
                if self.known.get(&info.index) != Some(&seen) {
                    self.known.insert(info.index, seen);
                    let usable = info.is_usable();
                    let (index, name, mac) = (info.index, info.name, info.mac);
                    self.pending.push_back(if usable {
                        LinkEvent::Up { index, name, mac }
                    } else {
                        LinkEvent::Down { index, name, mac }
                    });
                }
            }
            Rtm::Newaddr | Rtm::Deladdr => {
                let Ok(m) = m.to_typed::<Rtm, Ifaddrmsg>() else {
                    return;
                };
                if let NlPayload::Payload(p) = m.nl_payload() {
                    if let Some(a) = parse_address(p) {
                        let (index, addr, prefix_len) = (a.ifindex, a.addr, a.prefix_len);
                        self.pending.push_back(if ty == Rtm::Newaddr {
                            LinkEvent::AddressAdded {
                                index,
                                addr,
                                prefix_len,
                            }
                        } else {
                            LinkEvent::AddressRemoved {
                                index,
                                addr,
                                prefix_len,
                            }
                        });
                    }
                }
            }
            _ => {}
        }
    }
}
