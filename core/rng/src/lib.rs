//! Small seeded pseudo-random generators, shared by the core crates and the
//! tests so that each algorithm is written once. The core reads no entropy:
//! the caller passes a seed, and the same seed gives the same numbers.
//! Neither generator is fit for secrets. No I/O, no `std`.
#![no_std]

/// xorshift64* (Vigna): one word of state, fast, ample quality for spreading
/// timers and picking test cases.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed`; zero (the one state xorshift cannot leave)
    /// is replaced by a fixed odd constant.
    pub const fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(n) => self.next_u64() % n,
            None => self.next_u64(),
        }
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An index into a slice of `len` items (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `p` (53 random bits against `p`).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// splitmix64 (Steele, Lea, Flood): its output mixes every bit of the seed,
/// so nearby seeds give unrelated numbers.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from `seed` (any value, zero included).
    pub const fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_same_seed_same_sequence_and_bounded() {
        let (mut a, mut b, mut c) = (XorShift::new(42), XorShift::new(42), XorShift::new(43));
        for _ in 0..8 {
            let x = a.up_to(1_000);
            assert_eq!(x, b.up_to(1_000));
            assert!(x <= 1_000);
        }
        let (x, z): ([u64; 8], [u64; 8]) = (
            core::array::from_fn(|_| a.next_u64()),
            core::array::from_fn(|_| c.next_u64()),
        );
        assert_ne!(x, z);
        assert_eq!(XorShift::new(0).up_to(0), 0);
        assert_eq!(XorShift::new(5).below(0), 0);
        assert!((0..100).all(|_| a.index(3) < 3));
    }

    #[test]
    fn xorshift_zero_seed_still_moves() {
        let mut r = XorShift::new(0);
        assert_ne!(r.next_u64(), r.next_u64());
    }

    #[test]
    fn xorshift_known_output() {
        // xorshift64* from state 1: 1 ^ (1 << 25) = 0x2000001 after the
        // shifts, times the multiplier.
        let mut r = XorShift::new(1);
        assert_eq!(
            r.next_u64(),
            0x2000001u64.wrapping_mul(0x2545_f491_4f6c_dd1d)
        );
    }

    #[test]
    fn chance_bounds() {
        let mut r = XorShift::new(9);
        assert!((0..1000).all(|_| !r.chance(0.0)));
        assert!((0..1000).all(|_| r.chance(1.0)));
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2_000..3_000).contains(&hits), "{hits}");
    }

    #[test]
    fn splitmix_reference_values() {
        // The first outputs of splitmix64 seeded with 0 (the reference
        // implementation's published sequence).
        let mut r = SplitMix::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }
}
