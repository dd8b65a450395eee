//! VRRP advertisements: version 2 (RFC 3768) and version 3 (RFC 5798, RFC 9568).
//!
//! (The packet view, field offsets, parse/emit and byte-vector tests live in this
//! file; the types below are the interface the state machine is written against.)

use std::net::IpAddr;

/// IP protocol number of VRRP.
pub const IP_PROTO_VRRP: u8 = 112;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V2,
    V3,
}

/// VRRPv2 authentication (RFC 3768 section 5.3.6). v3 has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    None,
    /// Simple text password, 8 bytes, zero padded.
    Simple([u8; 8]),
}

/// How a v3-over-IPv4 checksum is computed. keepalived's default includes the
/// IPv4 pseudo-header (RFC 5798); `v3_checksum_as_v2` covers the message only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V3Checksum {
    PseudoHeader,
    MessageOnly,
}

/// A validated advertisement. Wire-only fields (checksum, address count, the
/// type which is always ADVERTISEMENT) are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// Advertisement interval in centiseconds. v2 carries whole seconds in 8 bits
    /// (stored here x100); v3 carries 12 bits of centiseconds.
    pub adver_int_cs: u16,
    /// Always `Auth::None` for v3.
    pub auth: Auth,
    /// The virtual addresses, all of one family.
    pub addresses: Vec<IpAddr>,
}
