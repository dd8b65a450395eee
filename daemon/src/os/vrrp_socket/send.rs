//! Sending adverts: to the group or a peer, from a chosen source, with a
//! chosen TTL, and in batches (sendmmsg) without waiting.

use std::io;
use std::net::IpAddr;
use std::ops::Range;

use super::{errno, Family, VrrpSocket, VrrpSocketError};
use crate::os::vrrp_send;

impl VrrpSocket {
    /// Send `payload` (a VRRP message, no IP header) to the configured group.
    pub async fn send(&self, payload: &[u8]) -> Result<usize, VrrpSocketError> {
        let group = self.config.group.ok_or(VrrpSocketError::NoGroup)?;
        self.send_to(payload, group).await
    }

    /// Send `payload` to `dst` (a unicast peer or a group).
    pub async fn send_to(&self, payload: &[u8], dst: IpAddr) -> Result<usize, VrrpSocketError> {
        if Family::of(dst) != self.config.family {
            return Err(VrrpSocketError::FamilyMismatch(dst));
        }
        let source = self.config.source;
        let ifindex = self.config.ifindex;
        self.sock
            .write_with(|s| {
                vrrp_send::send_once(s, payload, dst, source, ifindex, None)
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Send(errno(&e)))
    }

    /// Send `payload` to `dst` from `source`, whatever source the socket was
    /// opened with: a VMAC sends with its base interface's address.
    pub async fn send_from(
        &self,
        payload: &[u8],
        dst: IpAddr,
        source: IpAddr,
    ) -> Result<usize, VrrpSocketError> {
        if Family::of(dst) != self.config.family || Family::of(source) != self.config.family {
            return Err(VrrpSocketError::FamilyMismatch(source));
        }
        let ifindex = self.config.ifindex;
        self.sock
            .write_with(|s| {
                vrrp_send::send_once(s, payload, dst, Some(source), ifindex, None)
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Send(errno(&e)))
    }

    /// Send `payload` to `dst` with TTL / hop limit `ttl` (`unicast_ttl`),
    /// from `source` if given, else the socket's.
    pub async fn send_with_ttl(
        &self,
        payload: &[u8],
        dst: IpAddr,
        source: Option<IpAddr>,
        ttl: u8,
    ) -> Result<usize, VrrpSocketError> {
        let source = source.or(self.config.source);
        if Family::of(dst) != self.config.family
            || source.is_some_and(|a| Family::of(a) != self.config.family)
        {
            return Err(VrrpSocketError::FamilyMismatch(dst));
        }
        let ifindex = self.config.ifindex;
        self.sock
            .write_with(|s| {
                vrrp_send::send_once(s, payload, dst, source, ifindex, Some(ttl))
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|e| VrrpSocketError::Send(errno(&e)))
    }

    /// Sends the messages `msgs` (each a range of `buf` and a destination)
    /// without waiting: one sendmmsg for as many as the kernel takes when
    /// the kernel picks the source, one sendmsg each with a configured
    /// source (its IP_PKTINFO). Returns how many went out, in order; fewer
    /// than asked when the send buffer filled up (send the rest with
    /// [`send_to`](Self::send_to), which waits), or when a message failed
    /// (its error is the `Err` of a call for it alone).
    pub fn try_send_batch(
        &self,
        buf: &[u8],
        msgs: &[(Range<usize>, IpAddr)],
    ) -> Result<usize, VrrpSocketError> {
        if let Some(&(_, dst)) = msgs
            .iter()
            .find(|(_, d)| Family::of(*d) != self.config.family)
        {
            return Err(VrrpSocketError::FamilyMismatch(dst));
        }
        let s = self.sock.get_ref();
        if self.config.source.is_some() {
            let mut sent = 0;
            for (r, dst) in msgs {
                let payload = buf.get(r.clone()).unwrap_or_default();
                match vrrp_send::send_once(
                    s,
                    payload,
                    *dst,
                    self.config.source,
                    self.config.ifindex,
                    None,
                ) {
                    Ok(_) => sent += 1,
                    Err(_) if sent > 0 => break,
                    Err(e) => return Err(VrrpSocketError::Send(e)),
                }
            }
            return Ok(sent);
        }
        vrrp_send::send_many(s, buf, msgs, self.config.ifindex).map_err(VrrpSocketError::Send)
    }
}
