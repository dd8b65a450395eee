//! One error type for every codec: each variant is a distinct reason a packet is
//! refused, so that receivers can keep a counter per reason.

use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the header or than a length field claims.
    Truncated,
    /// The IP version nibble, or the VRRP version, is not one we speak.
    BadVersion,
    /// VRRP type other than 1 (ADVERTISEMENT).
    BadType,
    /// A length or count field disagrees with the bytes present.
    BadLength,
    /// The checksum does not verify (under any accepted form).
    BadChecksum,
    /// VRRPv2 authentication type we do not support (IP Authentication Header).
    UnsupportedAuth,
    /// VRRPv2 authentication type that is not 0, 1 or 2.
    BadAuthType,
    /// An IP header field is out of range (IHL < 5, total length < IHL...).
    BadIpHeader,
    /// The IP payload is not the protocol this parser was asked for.
    WrongProtocol,
    /// A field that must hold a fixed value does not (ARP hardware type...).
    Malformed,
}

pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::Truncated => "truncated packet",
            Error::BadVersion => "unsupported version",
            Error::BadType => "unknown packet type",
            Error::BadLength => "length field disagrees with packet size",
            Error::BadChecksum => "bad checksum",
            Error::UnsupportedAuth => "unsupported authentication (IP AH)",
            Error::BadAuthType => "unknown authentication type",
            Error::BadIpHeader => "malformed IP header",
            Error::WrongProtocol => "wrong IP protocol",
            Error::Malformed => "malformed packet",
        };
        f.write_str(s)
    }
}

impl core::error::Error for Error {}
