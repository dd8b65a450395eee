//! The engine's probes in flight: token -> checker. Tokens are our own
//! sequence numbers (never from the network), so a keyed hash buys
//! nothing: SipHash on every insert and remove was a tenth of the LVS
//! thread's instructions at a thousand checks a second.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use vigil_check::CheckerId;

pub type TokenMap = HashMap<u64, CheckerId, BuildHasherDefault<Seq>>;

/// Fibonacci hashing: the low bits of consecutive tokens stay distinct
/// (the table's index) and the high bits vary (its tag).
#[derive(Default)]
pub struct Seq(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for Seq {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(K);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(K);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_map_and_spread() {
        let mut m = TokenMap::default();
        for t in 1..=5000u64 {
            m.insert(t, CheckerId(t as usize));
        }
        assert_eq!(m.remove(&4321), Some(CheckerId(4321)));
        assert_eq!(m.get(&4321), None);
        assert_eq!(m.len(), 4999);
        // Consecutive tokens land in distinct low bits (no clustering).
        let low: std::collections::HashSet<u64> = (0..1024u64)
            .map(|t| {
                let mut h = Seq::default();
                h.write_u64(t);
                h.finish() & 1023
            })
            .collect();
        assert_eq!(low.len(), 1024);
    }
}
