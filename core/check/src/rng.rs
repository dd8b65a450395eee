//! A small seeded PRNG for the warmup spread: keepalived uses `rand()`, we
//! take the seed from the caller so runs are reproducible and no entropy
//! source is read here.

/// xorshift64* (Vigna): fast, tiny state, ample quality for spreading timers.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator from `seed`; zero (the one state xorshift cannot leave)
    /// is replaced by a fixed odd constant.
    pub(crate) fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..=max`.
    pub(crate) fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(n) => self.next_u64() % n,
            None => self.next_u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_bounded() {
        let mut a = XorShift::new(42);
        let mut b = XorShift::new(42);
        let mut c = XorShift::new(43);
        let xs: alloc::vec::Vec<u64> = (0..8).map(|_| a.up_to(1_000)).collect();
        let ys: alloc::vec::Vec<u64> = (0..8).map(|_| b.up_to(1_000)).collect();
        let zs: alloc::vec::Vec<u64> = (0..8).map(|_| c.up_to(1_000)).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        assert!(xs.iter().all(|&x| x <= 1_000));
        assert_eq!(XorShift::new(0).up_to(0), 0);
    }

    #[test]
    fn zero_seed_still_moves() {
        let mut r = XorShift::new(0);
        assert_ne!(r.next_u64(), r.next_u64());
    }
}
