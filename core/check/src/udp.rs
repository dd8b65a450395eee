//! UDP_CHECK's reply judged as keepalived 2.2.7 judges it (check_udp.c):
//! only with a `require_reply HEX` pattern, a reply shorter than
//! `min_reply_length` or longer than `max_reply_length` fails, and its
//! first bytes (as many as both have) must equal the pattern's outside the
//! wildcard nibbles. Without a pattern any reply passes.

use vigil_model::{ReplyPattern, UdpCheck};

/// What a UDP_CHECK reply must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyMatch {
    /// The `require_reply HEX` pattern, if any.
    pub pattern: Option<ReplyPattern>,
    /// `min_reply_length`.
    pub min_len: u16,
    /// `max_reply_length`.
    pub max_len: u16,
}

impl ReplyMatch {
    /// The matcher of a configured check.
    pub fn of(u: &UdpCheck) -> ReplyMatch {
        ReplyMatch {
            pattern: if u.require_reply {
                u.reply.clone()
            } else {
                None
            },
            min_len: u.min_reply_length,
            max_len: u.max_reply_length,
        }
    }

    /// True if `reply` passes.
    pub fn judge(&self, reply: &[u8]) -> bool {
        let Some(p) = &self.pattern else {
            return true;
        };
        if reply.len() < usize::from(self.min_len) || reply.len() > usize::from(self.max_len) {
            return false;
        }
        reply
            .iter()
            .zip(&p.data)
            .enumerate()
            .all(|(i, (got, want))| {
                let ignore = p.mask.get(i).copied().unwrap_or(0);
                (got ^ want) & !ignore == 0
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(data: &[u8], mask: &[u8], min: u16, max: u16) -> ReplyMatch {
        ReplyMatch {
            pattern: Some(ReplyPattern {
                data: data.to_vec(),
                mask: mask.to_vec(),
            }),
            min_len: min,
            max_len: max,
        }
    }

    #[test]
    fn no_pattern_passes_anything() {
        let r = ReplyMatch {
            pattern: None,
            min_len: 10,
            max_len: 2,
        };
        assert!(r.judge(b""));
        assert!(r.judge(&[0u8; 300]));
    }

    #[test]
    fn prefix_lengths_and_wildcards() {
        let r = m(&[0xde, 0xad, 0xbe, 0xef], &[], 0, 255);
        assert!(r.judge(&[0xde, 0xad, 0xbe, 0xef]));
        assert!(
            r.judge(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]),
            "longer: the pattern's length is compared"
        );
        assert!(
            r.judge(&[0xde, 0xad]),
            "shorter: as many bytes as the reply has (keepalived)"
        );
        assert!(!r.judge(&[0xde, 0xae, 0xbe, 0xef]));
        assert!(!r.judge(&[0u8; 256]), "over the default max 255");
        let r = m(&[0xde, 0xad], &[], 4, 6);
        assert!(!r.judge(&[0xde, 0xad, 0]), "short");
        assert!(r.judge(&[0xde, 0xad, 0, 0]));
        assert!(r.judge(&[0xde, 0xad, 0, 0, 0, 0]));
        assert!(!r.judge(&[0xde, 0xad, 0, 0, 0, 0, 0]), "long");
        // 0xdX: the low nibble of the first byte is free.
        let r = m(&[0xd0, 0xad], &[0x0f, 0], 0, 255);
        assert!(r.judge(&[0xd7, 0xad]));
        assert!(!r.judge(&[0xe7, 0xad]));
        assert!(!r.judge(&[0xd7, 0xae]));
    }

    #[test]
    fn only_with_require_reply() {
        let mut u = UdpCheck {
            payload: None,
            require_reply: false,
            reply: Some(ReplyPattern {
                data: alloc::vec![1],
                mask: alloc::vec::Vec::new(),
            }),
            min_reply_length: 0,
            max_reply_length: 255,
        };
        assert!(ReplyMatch::of(&u).pattern.is_none());
        u.require_reply = true;
        assert!(!ReplyMatch::of(&u).judge(&[2]));
    }
}
