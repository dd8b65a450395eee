//! Shared by the scenario tests: the keepalived vectors and a hex reader.

#![allow(dead_code)] // each test binary uses a different subset

/// One captured datagram (IP header included) and its file name.
pub struct Vector {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

/// Decode a vector file: `#` lines are comments, the rest is hex pairs
/// separated by white space.
pub fn hex(text: &str) -> Vec<u8> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .map(|pair| u8::from_str_radix(pair, 16).expect("vector files hold hex pairs"))
        .collect()
}

macro_rules! vector {
    ($name:literal) => {
        Vector {
            name: $name,
            bytes: hex(include_str!(concat!("../vectors/", $name, ".hex"))),
        }
    };
}

/// Every captured vector (see tests/captures/capture.sh).
pub fn all() -> Vec<Vector> {
    vec![
        vector!("v2-pass"),
        vector!("v2-pass-prio0"),
        vector!("v2-noauth"),
        vector!("v2-unicast"),
        vector!("v3-ipv4"),
        vector!("v3-ipv4-prio0"),
        vector!("v3-ipv4-group44"),
        vector!("v3-ipv4-unicast"),
        vector!("v3-ipv4-unicast-oldcsum"),
        vector!("v3-ipv6"),
        vector!("v3-ipv6-prio0"),
    ]
}

/// keepalived's `auth_type AH` adverts: protocol 51, kept apart from `all()`
/// whose users expect VRRP right after the IP header.
pub fn ah() -> Vec<Vector> {
    vec![
        vector!("v2-ah"),
        vector!("v2-ah-prio0"),
        vector!("v2-ah-unicast"),
    ]
}

/// The vector called `name`.
pub fn get(name: &str) -> Vec<u8> {
    all()
        .into_iter()
        .chain(ah())
        .find(|v| v.name == name)
        .map(|v| v.bytes)
        .expect("known vector name")
}

/// The shared xorshift64*: fixed seeds, reproducible failures.
#[allow(unused_imports)] // only no_panic draws random inputs
pub use vigil_rng::XorShift as Rng;
