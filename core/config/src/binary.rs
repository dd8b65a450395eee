//! The compact binary configuration: a fixed header, then the postcard
//! encoding of [`Config`].
//!
//! ```text
//! offset  size  field
//!      0     4  magic "VIGL"
//!      4     2  format version, little endian (FORMAT_VERSION)
//!      6     4  body length in bytes, little endian
//!     10     4  CRC-32 (IEEE) of the body, little endian
//!     14     n  body: postcard(Config)
//! ```
//!
//! Decoding checks everything before handing out a value, so a damaged file
//! is refused whole, never half-loaded; the decoded model then goes through
//! the text validator ([`check`]), so a hand-made body meets the same rules. A declared body over
//! [`Limits::file_bytes`] is refused from the header alone; postcard then
//! reads at most the body (the model has no recursive types, and serde's
//! collections preallocate cautiously), so decoding is bounded by the file.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use vigil_model::Config;

use crate::crc32::crc32;
use crate::limits::Limits;

mod check;
pub use check::{check, Refusal};

/// First bytes of every binary configuration.
pub const MAGIC: [u8; 4] = *b"VIGL";
/// The format written by this version; bump when the model changes shape.
pub const FORMAT_VERSION: u16 = 7;

mod field {
    use core::ops::Range;
    pub const MAGIC: Range<usize> = 0..4;
    pub const VERSION: Range<usize> = 4..6;
    pub const LENGTH: Range<usize> = 6..10;
    pub const CRC: Range<usize> = 10..14;
    pub const BODY: usize = 14;
}

/// Size of the header.
pub const HEADER_LEN: usize = field::BODY;

/// Why binary bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinaryError {
    /// Fewer bytes than the header.
    TruncatedHeader(usize),
    /// The magic is not "VIGL".
    BadMagic,
    /// Written by a newer vigil.
    FutureVersion(u16),
    /// A format version this build cannot read (older, retired).
    UnsupportedVersion(u16),
    /// Fewer body bytes than the header declares.
    TruncatedBody {
        /// Declared length.
        declared: u32,
        /// Bytes present.
        present: usize,
    },
    /// More bytes after the declared body.
    TrailingBytes(usize),
    /// The body does not match its CRC.
    CrcMismatch {
        /// CRC in the header.
        stored: u32,
        /// CRC of the body.
        computed: u32,
    },
    /// The body is not a valid encoding of the configuration.
    Decode,
    /// The body decodes but leaves unused bytes.
    UnusedBody(usize),
    /// The configuration is too big to encode (over 4 GiB).
    TooLarge,
    /// The header declares a body over the cap ([`Limits::file_bytes`]).
    BodyTooLarge {
        /// Declared length.
        declared: u32,
        /// The cap.
        limit: usize,
    },
    /// The model breaks the rules a text configuration is held to (see
    /// [`check`]); every problem found, at least one.
    Invalid(Vec<Refusal>),
}

/// Problems listed in [`BinaryError::Invalid`]'s one line; the rest are
/// counted.
const LISTED: usize = 3;

impl fmt::Display for BinaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BinaryError::TruncatedHeader(n) => write!(
                f,
                "binary config truncated: {n} bytes, header needs {HEADER_LEN}"
            ),
            BinaryError::BadMagic => write!(f, "not a vigil binary config (bad magic)"),
            BinaryError::FutureVersion(v) => {
                write!(
                    f,
                    "binary config format {v} is newer than supported ({FORMAT_VERSION})"
                )
            }
            BinaryError::UnsupportedVersion(v) => {
                write!(f, "binary config format {v} is no longer supported: compile the text config again (vigil compile)")
            }
            BinaryError::TruncatedBody { declared, present } => {
                write!(
                    f,
                    "binary config truncated: body has {present} of {declared} bytes"
                )
            }
            BinaryError::TrailingBytes(n) => {
                write!(f, "binary config has {n} trailing bytes after the body")
            }
            BinaryError::CrcMismatch { stored, computed } => {
                write!(
                    f,
                    "binary config damaged: CRC {computed:08x} does not match {stored:08x}"
                )
            }
            BinaryError::Decode => write!(f, "binary config body does not decode"),
            BinaryError::UnusedBody(n) => write!(f, "binary config body has {n} unused bytes"),
            BinaryError::TooLarge => write!(f, "configuration too large for the binary form"),
            BinaryError::BodyTooLarge { declared, limit } => write!(
                f,
                "binary config declares a {declared}-byte body, over the {limit}-byte limit"
            ),
            BinaryError::Invalid(problems) => {
                let n = problems.len();
                write!(f, "binary config refused ({n} problem{}): ", plural(n))?;
                for (i, p) in problems.iter().take(LISTED).enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{p}")?;
                }
                if n > LISTED {
                    write!(f, "; and {} more", n - LISTED)?;
                }
                Ok(())
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// True if `bytes` start like a binary configuration.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.get(field::MAGIC) == Some(&MAGIC[..])
}

/// Encodes a configuration, if it meets the rules [`from_binary`] applies.
pub fn to_binary(config: &Config) -> Result<Vec<u8>, BinaryError> {
    // Never write a file that the loader would refuse.
    check(config, &Limits::DEFAULT).map_err(BinaryError::Invalid)?;
    encode(config)
}

/// The header and body of `config`, whatever it holds.
fn encode(config: &Config) -> Result<Vec<u8>, BinaryError> {
    let body = postcard::to_allocvec(config).map_err(|_| BinaryError::TooLarge)?;
    let len = u32::try_from(body.len()).map_err(|_| BinaryError::TooLarge)?;
    let limit = Limits::DEFAULT.file_bytes - HEADER_LEN;
    if body.len() > limit {
        return Err(BinaryError::BodyTooLarge {
            declared: len,
            limit,
        });
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

fn le_u32(bytes: &[u8], r: Range<usize>) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(r)?.try_into().ok()?))
}

/// Decodes and verifies a binary configuration: the header, the CRC, the
/// encoding, then the model against the text rules ([`check`]).
pub fn from_binary(bytes: &[u8]) -> Result<Config, BinaryError> {
    let config = decode(bytes)?;
    // A CRC only says the bytes are those written, not that a validator
    // wrote them: the model meets the text rules or is refused.
    check(&config, &Limits::DEFAULT).map_err(BinaryError::Invalid)?;
    Ok(config)
}

/// [`from_binary`] without the text rules, for bytes that this build's
/// [`to_binary`] wrote moments ago (the daemon's load child, which ran
/// them): header, version, CRC and encoding are still verified. Running the
/// rules again would only re-print and re-parse the whole configuration in
/// the daemon's heap, the churn the child is there to keep out of it.
pub fn from_own_binary(bytes: &[u8]) -> Result<Config, BinaryError> {
    decode(bytes)
}

/// The model in `bytes` if the header, CRC and encoding are sound.
fn decode(bytes: &[u8]) -> Result<Config, BinaryError> {
    if bytes.len() < HEADER_LEN {
        return Err(if bytes.len() >= 4 && !is_binary(bytes) {
            BinaryError::BadMagic
        } else {
            BinaryError::TruncatedHeader(bytes.len())
        });
    }
    if !is_binary(bytes) {
        return Err(BinaryError::BadMagic);
    }
    let version = bytes
        .get(field::VERSION)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_le_bytes)
        .ok_or(BinaryError::TruncatedHeader(bytes.len()))?;
    if version > FORMAT_VERSION {
        return Err(BinaryError::FutureVersion(version));
    }
    if version < FORMAT_VERSION {
        return Err(BinaryError::UnsupportedVersion(version));
    }
    let declared = le_u32(bytes, field::LENGTH).ok_or(BinaryError::TruncatedHeader(bytes.len()))?;
    let stored = le_u32(bytes, field::CRC).ok_or(BinaryError::TruncatedHeader(bytes.len()))?;
    let rest = bytes.get(field::BODY..).unwrap_or(&[]);
    let len = usize::try_from(declared).map_err(|_| BinaryError::TooLarge)?;
    let limit = Limits::DEFAULT.file_bytes - HEADER_LEN;
    if len > limit {
        return Err(BinaryError::BodyTooLarge { declared, limit });
    }
    let body = rest.get(..len).ok_or(BinaryError::TruncatedBody {
        declared,
        present: rest.len(),
    })?;
    if rest.len() > len {
        return Err(BinaryError::TrailingBytes(rest.len() - len));
    }
    let computed = crc32(body);
    if computed != stored {
        return Err(BinaryError::CrcMismatch { stored, computed });
    }
    let (config, unused) =
        postcard::take_from_bytes::<Config>(body).map_err(|_| BinaryError::Decode)?;
    if !unused.is_empty() {
        return Err(BinaryError::UnusedBody(unused.len()));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_every_precision_in_the_encoding() {
        use core::time::Duration;
        let mut c = Config::default();
        for d in [
            Duration::ZERO,
            Duration::new(1, 1),
            Duration::from_micros(3_000_001),
            Duration::from_secs(365 * 86_400),
        ] {
            c.global.vrrp_garp_interval = d;
            assert_eq!(decode(&encode(&c).unwrap()).unwrap(), c, "{d:?}");
        }
        // Too large for the compact encoding: refused, not truncated.
        c.global.vrrp_garp_interval = Duration::new(u64::MAX, 1);
        assert_eq!(encode(&c), Err(BinaryError::TooLarge));
    }

    #[test]
    fn header_layout() {
        let c = Config::default();
        let b = to_binary(&c).unwrap();
        assert_eq!(&b[..4], b"VIGL");
        assert_eq!(u16::from_le_bytes([b[4], b[5]]), FORMAT_VERSION);
        let len = u32::from_le_bytes([b[6], b[7], b[8], b[9]]) as usize;
        assert_eq!(len, b.len() - HEADER_LEN);
        assert_eq!(
            u32::from_le_bytes([b[10], b[11], b[12], b[13]]),
            crc32(&b[HEADER_LEN..])
        );
        assert_eq!(from_binary(&b).unwrap(), c);
    }

    #[test]
    fn each_refusal_has_its_reason() {
        let b = to_binary(&Config::default()).unwrap();
        assert_eq!(from_binary(&b[..3]), Err(BinaryError::TruncatedHeader(3)));
        assert_eq!(
            from_binary(b"XXXXXXXXXXXXXXXXXX"),
            Err(BinaryError::BadMagic)
        );
        let mut future = b.clone();
        future[4] = (FORMAT_VERSION + 1) as u8;
        assert_eq!(
            from_binary(&future),
            Err(BinaryError::FutureVersion(FORMAT_VERSION + 1))
        );
        let mut old = b.clone();
        old[4] = 0;
        assert_eq!(from_binary(&old), Err(BinaryError::UnsupportedVersion(0)));
        let short = &b[..b.len() - 1];
        assert!(matches!(
            from_binary(short),
            Err(BinaryError::TruncatedBody { .. })
        ));
        let mut long = b.clone();
        long.push(0);
        assert_eq!(from_binary(&long), Err(BinaryError::TrailingBytes(1)));
        let mut huge = b.clone();
        huge[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            from_binary(&huge),
            Err(BinaryError::BodyTooLarge {
                declared: u32::MAX,
                ..
            })
        ));
        let mut flipped = b.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            from_binary(&flipped),
            Err(BinaryError::CrcMismatch { .. })
        ));
    }

    #[test]
    fn a_valid_crc_over_a_bad_body_is_a_decode_error() {
        let body = [0xffu8; 3];
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&crc32(&body).to_le_bytes());
        b.extend_from_slice(&body);
        assert_eq!(from_binary(&b), Err(BinaryError::Decode));
        // A valid body followed by extra bytes covered by the CRC.
        let mut body = postcard::to_allocvec(&Config::default()).unwrap();
        body.push(0);
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend_from_slice(&crc32(&body).to_le_bytes());
        b.extend_from_slice(&body);
        assert_eq!(from_binary(&b), Err(BinaryError::UnusedBody(1)));
    }
}
