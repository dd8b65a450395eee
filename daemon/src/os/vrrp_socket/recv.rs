//! The receive path: one recvmsg with its ancillary data (destination,
//! TTL, ifindex, kernel timestamp), and the VRRP message cut out of it.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::Socket;

use super::{cmsg_buffer, errno, Datagram, Family, Meta, Received, VrrpSocket, VrrpSocketError};

impl VrrpSocket {
    /// Receive one datagram into `buf`.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<Meta, VrrpSocketError> {
        let family = self.config.family;
        let mut cmsg = cmsg_buffer();
        self.sock
            .read_with(|s| {
                recv_once(s, family, buf, &mut cmsg)
                    .map(|(m, _)| m)
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Recv(errno(&e)))
    }

    /// Ready once the socket has become readable since the last `Pending`
    /// (then read with [`try_recv`](Self::try_recv) until it gives `None`).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.sock.poll_readable(cx).map(|_| ())
    }

    /// The next queued datagram without waiting, `None` when none is queued.
    /// `buf` must hold a datagram (4 KiB does); `cmsg` comes from
    /// [`cmsg_buffer`]. A datagram whose IPv4 header does not parse is
    /// `Err(BadIpHeader)`; the next call reads on.
    pub fn try_recv(
        &self,
        buf: &mut [u8],
        cmsg: &mut Vec<u8>,
    ) -> Result<Option<Datagram>, VrrpSocketError> {
        let (meta, stamp) = match recv_once(self.sock.get_ref(), self.config.family, buf, cmsg) {
            Ok(r) => r,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(VrrpSocketError::Recv(e)),
        };
        let data = buf.get(..meta.len).unwrap_or_default();
        let ifindex = if meta.ifindex == 0 {
            self.config.ifindex
        } else {
            meta.ifindex
        };
        let d = match self.config.family {
            Family::V4 => {
                let (ip, payload) =
                    vigil_wire::ipv4::payload(data).map_err(VrrpSocketError::BadIpHeader)?;
                // The payload is a sub-slice of `data`: its offset is the header length.
                let start = (payload.as_ptr() as usize).saturating_sub(data.as_ptr() as usize);
                Datagram {
                    src: IpAddr::V4(ip.src),
                    dst: IpAddr::V4(ip.dst),
                    ttl: ip.ttl,
                    ifindex,
                    payload: start..start + payload.len(),
                    stamp,
                }
            }
            Family::V6 => Datagram {
                src: meta.src,
                dst: meta.dst,
                ttl: meta.ttl,
                ifindex,
                payload: 0..data.len(),
                stamp,
            },
        };
        Ok(Some(d))
    }

    /// Receive one VRRP message, for either family: see [`Received`]. `buf`
    /// is scratch space, large enough for the datagram.
    pub async fn recv_vrrp(&self, buf: &mut [u8]) -> Result<Received, VrrpSocketError> {
        let meta = self.recv(buf).await?;
        let data = buf.get(..meta.len).unwrap_or_default();
        let ifindex = if meta.ifindex == 0 {
            self.config.ifindex
        } else {
            meta.ifindex
        };
        match self.config.family {
            Family::V4 => {
                let (ip, payload) =
                    vigil_wire::ipv4::payload(data).map_err(VrrpSocketError::BadIpHeader)?;
                Ok(Received {
                    src: IpAddr::V4(ip.src),
                    dst: IpAddr::V4(ip.dst),
                    ttl: ip.ttl,
                    ifindex,
                    payload: payload.to_vec(),
                })
            }
            Family::V6 => Ok(Received {
                src: meta.src,
                dst: meta.dst,
                ttl: meta.ttl,
                ifindex,
                payload: data.to_vec(),
            }),
        }
    }
}

/// One recvmsg: the datagram's [`Meta`] and its SO_TIMESTAMPNS time.
fn recv_once(
    s: &Socket,
    family: Family,
    buf: &mut [u8],
    cmsg: &mut Vec<u8>,
) -> Result<(Meta, Option<Duration>), Errno> {
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(s.as_raw_fd(), &mut iov, Some(cmsg), MsgFlags::empty())?;
    let unspecified = match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let src = msg
        .address
        .as_ref()
        .and_then(|a| {
            a.as_sockaddr_in()
                .map(|a| IpAddr::V4(a.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
        })
        .unwrap_or(unspecified);
    let mut meta = Meta {
        len: msg.bytes,
        truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
        src,
        dst: unspecified,
        ttl: 0,
        ifindex: 0,
    };
    let mut stamp = None;
    for c in msg.cmsgs().map_err(|_| Errno::EINVAL)? {
        match c {
            ControlMessageOwned::Ipv4PacketInfo(pi) => {
                meta.dst = IpAddr::V4(Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr)));
                meta.ifindex = u32::try_from(pi.ipi_ifindex).unwrap_or(0);
            }
            ControlMessageOwned::Ipv6PacketInfo(pi) => {
                meta.dst = IpAddr::V6(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
                meta.ifindex = pi.ipi6_ifindex;
            }
            ControlMessageOwned::Ipv4Ttl(t) | ControlMessageOwned::Ipv6HopLimit(t) => {
                meta.ttl = u8::try_from(t).unwrap_or(0);
            }
            ControlMessageOwned::ScmTimestampns(ts) => {
                let secs = u64::try_from(ts.tv_sec()).unwrap_or(0);
                let nanos = u32::try_from(ts.tv_nsec()).unwrap_or(0);
                stamp = Some(Duration::new(secs, nanos.min(999_999_999)));
            }
            _ => {}
        }
    }
    Ok((meta, stamp))
}
