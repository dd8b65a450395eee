//! A compact serde encoding for `Duration` fields (`#[serde(with = ...)]`).
//!
//! serde's default writes a duration as (seconds, nanoseconds): two varints,
//! at least 2 bytes. Configuration timers are mostly a few whole seconds, so
//! this writes one u64 whose two low bits say the unit:
//!
//! | tag | value            | e.g.                     |
//! |-----|------------------|--------------------------|
//! | 0   | whole seconds    | 6 s -> 24 (1 byte)        |
//! | 1   | microseconds     | 0.1 s -> 400001 (3 bytes) |
//! | 2   | nanoseconds      | 1.000000001 s             |
//!
//! Values whose count does not fit in 62 bits (over 146 years at nanosecond
//! precision) cannot be encoded and make serialization fail.

use core::time::Duration;
use serde::{de, ser, Deserialize, Deserializer, Serializer};

const LIMIT: u128 = 1 << 62;

/// Encodes a duration (see the module doc).
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    let (count, tag) = if d.subsec_nanos() == 0 {
        (u128::from(d.as_secs()), 0)
    } else if d.subsec_nanos().is_multiple_of(1000) {
        (d.as_micros(), 1)
    } else {
        (d.as_nanos(), 2)
    };
    if count >= LIMIT {
        return Err(ser::Error::custom(
            "duration too large for the compact encoding",
        ));
    }
    s.serialize_u64(((count as u64) << 2) | tag)
}

/// Decodes a duration (see the module doc).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let v = u64::deserialize(d)?;
    let count = v >> 2;
    match v & 3 {
        0 => Ok(Duration::from_secs(count)),
        1 => Ok(Duration::from_micros(count)),
        2 => Ok(Duration::from_nanos(count)),
        _ => Err(de::Error::custom("bad duration unit")),
    }
}
