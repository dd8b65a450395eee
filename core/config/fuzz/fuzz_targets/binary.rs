//! The binary loader on arbitrary bytes: no panic, and what it accepts
//! encodes back to bytes that load to the same model. When the first byte
//! is odd, the rest is wrapped in a valid header (magic, version, length,
//! CRC) so that the postcard decoder itself is exercised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_config::binary::{FORMAT_VERSION, MAGIC};
use vigil_config::{from_binary, to_binary};

fuzz_target!(|data: &[u8]| {
    let wrapped;
    let bytes = match data.split_first() {
        Some((&sel, body)) if sel & 1 == 1 => {
            let mut b = Vec::with_capacity(14 + body.len());
            b.extend_from_slice(&MAGIC);
            b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
            b.extend_from_slice(&(body.len() as u32).to_le_bytes());
            b.extend_from_slice(&crc32(body).to_le_bytes());
            b.extend_from_slice(body);
            wrapped = b;
            &wrapped[..]
        }
        _ => data,
    };
    if let Ok(config) = from_binary(bytes) {
        let again = to_binary(&config).expect("an accepted model encodes");
        assert_eq!(from_binary(&again).as_ref(), Ok(&config));
    }
});

/// CRC-32 (IEEE), bitwise: the crate's own is private.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
