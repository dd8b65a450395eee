//! `${_RANDOM}` / `${_RANDOM MIN}` / `${_RANDOM MIN MAX}` as keepalived 2.2.7
//! computes it: a number in MIN..=MAX (defaults 0 and 32767), printed in at
//! most as many digits as MAX has. The core reads no entropy: the caller
//! seeds the generator ([`crate::Options::random_seed`]; the daemon uses the
//! clock, as keepalived seeds random(3) with time(2)).

use alloc::string::String;
use vigil_rng::SplitMix;

/// splitmix64: small, and good enough for spreading delays.
#[derive(Debug, Clone)]
pub(super) struct Rng(SplitMix);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(SplitMix::new(seed))
    }

    /// The replacement of `${_RANDOM params}`; `params` is the text between
    /// the name and `}` (digits and blanks only, checked by the caller).
    pub(super) fn value(&mut self, params: &str) -> String {
        let mut nums = params.split_ascii_whitespace().map(|p| {
            // strtoul saturates.
            p.parse::<u64>().unwrap_or(u64::MAX)
        });
        let min = nums.next().unwrap_or(0);
        let max = nums.next().unwrap_or(32767);
        // keepalived's unsigned arithmetic: MIN above MAX wraps around.
        let span = max.wrapping_sub(min).wrapping_add(1);
        let r = self.0.next_u64() >> 33; // random(3) gives 31 bits
        let v = if span == 0 { r } else { r % span }.wrapping_add(min);
        let mut text = alloc::format!("{v}");
        text.truncate(alloc::format!("{max}").len());
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_defaults() {
        let mut r = Rng::new(7);
        for _ in 0..200 {
            let v: u64 = r.value("").parse().unwrap();
            assert!(v <= 32767);
            let v: u64 = r.value("5 9").parse().unwrap();
            assert!((5..=9).contains(&v), "{v}");
            let v: u64 = r.value("30000").parse().unwrap();
            assert!((30000..=32767).contains(&v), "{v}");
        }
        // Every value of a small range comes up.
        let seen: std::collections::BTreeSet<String> = (0..200).map(|_| r.value("1 3")).collect();
        assert_eq!(seen.len(), 3);
        // MIN above MAX: keepalived's wrap, cut to MAX's width.
        assert_eq!(r.value("50 7").len(), 1);
        // The seed decides.
        let (mut a, mut b) = (Rng::new(1), Rng::new(1));
        assert_eq!(a.value(""), b.value(""));
    }
}
