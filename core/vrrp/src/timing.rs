//! The protocol's time formulas, in microseconds (no rounding to ms).

use vigil_wire::vrrp::Version;

/// Microseconds in a centisecond, the unit of advert intervals.
const CENTI_US: u64 = 10_000;

/// An advert interval in centiseconds as microseconds.
pub(crate) fn centis_to_us(cs: u16) -> u64 {
    u64::from(cs) * CENTI_US
}

/// Skew_Time for a priority-like value `p` (256 - priority, or 1 for the
/// minimum skew): v2 `p/256` s (RFC 3768); v3 `p * Master_Adver_Interval / 256`
/// (RFC 5798). Exact to the microsecond (a v3 remainder below 1 µs is cut).
pub(crate) fn skew_us(version: Version, p: u64, master_adver_us: u64) -> u64 {
    match version {
        Version::V2 => p * 1_000_000 / 256,
        Version::V3 => p * (master_adver_us / CENTI_US) * CENTI_US / 256,
    }
}

/// Skew_Time of an instance at `priority`.
pub(crate) fn skew_for(version: Version, priority: u8, master_adver_us: u64) -> u64 {
    skew_us(version, 256 - u64::from(priority), master_adver_us)
}

/// Master_Down_Interval = adverts x Master_Adver_Interval + Skew_Time.
pub(crate) fn master_down_us(
    version: Version,
    adverts: u8,
    master_adver_us: u64,
    priority: u8,
) -> u64 {
    u64::from(adverts) * master_adver_us + skew_for(version, priority, master_adver_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_priority_80_one_second() {
        // 3 x 1 s + (256 - 80) / 256 s = 3.6875 s.
        assert_eq!(master_down_us(Version::V2, 3, 1_000_000, 80), 3_687_500);
        // 100: 156/256 s = 0.609375 s.
        assert_eq!(master_down_us(Version::V2, 3, 1_000_000, 100), 3_609_375);
    }

    #[test]
    fn v3_skew_scales_with_the_interval() {
        // 0.1 s, priority 80: 3 x 100 ms + 176/256 x 100 ms = 368.75 ms.
        assert_eq!(master_down_us(Version::V3, 3, 100_000, 80), 368_750);
        // Minimum skew of a 1 s v3 interval: 1/256 s.
        assert_eq!(skew_us(Version::V3, 1, 1_000_000), 3_906);
        assert_eq!(skew_us(Version::V2, 1, 1_000_000), 3_906);
        assert_eq!(centis_to_us(4095), 40_950_000);
    }
}
