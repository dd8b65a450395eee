//! Several table changes in one datagram, and their acknowledgements.
//!
//! Netlink runs every message of a datagram in order inside the one
//! sendmsg (`netlink_rcv_skb`) and, with NLM_F_ACK, answers each with its
//! own NLMSG_ERROR (0 or -errno) carrying the message's sequence number; a
//! refused message does not stop the ones after it. So a batch gives each
//! command consecutive sequence numbers and maps every answer back to its
//! command by `seq - first`. The size caps keep the request under the
//! socket's send buffer and the queued acks (each an skb of about 1 KiB of
//! truesize) under its receive buffer: a lost ack would be ENOBUFS.

use nix::errno::Errno;
use vigil_lvs::Command;

use super::decode::messages;
use super::encode::{self, Request};
use super::error::DecodeError;
use super::uapi::nlmsg;

/// At most this many commands per datagram.
pub const MAX_MESSAGES: usize = 128;
/// At most this many bytes per datagram (a command is 60-200 bytes).
pub const MAX_BYTES: usize = 32 * 1024;

/// The datagram for the longest prefix of `cmds` within the caps (at
/// least one command), sequence numbers from `first_seq`; returns it and
/// how many commands it holds.
pub fn frame(family: u16, first_seq: u32, cmds: &[Command]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut n = 0;
    for c in cmds.iter().take(MAX_MESSAGES) {
        let m = encode::request(family, first_seq.wrapping_add(n as u32), &Request::Apply(c));
        if n > 0 && out.len() + m.len() > MAX_BYTES {
            break;
        }
        out.extend_from_slice(&m);
        // NLMSG_ALIGN: the next header starts on 4 bytes.
        out.resize((out.len() + 3) & !3, 0);
        n += 1;
    }
    (out, n)
}

/// The answers to one batch, gathered from as many datagrams as arrive.
#[derive(Debug)]
pub struct BatchCollector {
    first: u32,
    pid: u32,
    /// Per command: `None` until its ack, then 0 or the errno.
    results: Vec<Option<i32>>,
    pending: usize,
}

impl BatchCollector {
    pub fn new(first_seq: u32, pid: u32, count: usize) -> Self {
        BatchCollector {
            first: first_seq,
            pid,
            results: vec![None; count],
            pending: count,
        }
    }

    /// Takes one datagram; `Ok(true)` once every command is answered.
    /// Messages of other requests (a late answer to a timed-out one) and
    /// repeated acks are skipped.
    pub fn feed(&mut self, datagram: &[u8]) -> Result<bool, DecodeError> {
        for m in messages(datagram) {
            let m = m?;
            if m.pid != self.pid || m.ty != nlmsg::ERROR {
                continue;
            }
            let i = m.seq.wrapping_sub(self.first) as usize;
            let Some(slot) = self.results.get_mut(i) else {
                continue;
            };
            let code = m
                .body
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map(i32::from_ne_bytes)
                .ok_or(DecodeError::Truncated("netlink error"))?;
            if slot.is_none() {
                *slot = Some(code);
                self.pending -= 1;
            }
        }
        Ok(self.pending == 0)
    }

    /// Per command: `Some(Ok)`, `Some(Err(errno))`, or `None` (no answer).
    pub fn results(&self) -> impl Iterator<Item = Option<Result<(), Errno>>> + '_ {
        self.results.iter().map(|r| {
            r.map(|code| match code {
                0 => Ok(()),
                c => Err(Errno::from_raw(c.saturating_neg())),
            })
        })
    }
}
