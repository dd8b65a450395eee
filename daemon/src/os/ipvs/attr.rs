//! Netlink attributes (TLVs): a writer for requests and a checked reader for
//! replies. Attribute headers are host order; a payload is padded to 4 bytes.

use std::net::IpAddr;

use super::error::DecodeError;

const HDR: usize = 4;
const NLA_F_NESTED: u16 = 0x8000;
/// Strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from a received type.
const TYPE_MASK: u16 = 0x3fff;

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// Appends attributes to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn bytes(&mut self, ty: u16, data: &[u8]) {
        self.header(ty, data.len());
        self.buf.extend_from_slice(data);
        self.pad();
    }

    pub fn u8(&mut self, ty: u16, v: u8) {
        self.bytes(ty, &[v]);
    }

    /// A host-order u16 (AF, PROTOCOL, TUN_FLAGS).
    pub fn u16(&mut self, ty: u16, v: u16) {
        self.bytes(ty, &v.to_ne_bytes());
    }

    /// A network-order u16 (PORT, TUN_PORT).
    pub fn be16(&mut self, ty: u16, v: u16) {
        self.bytes(ty, &v.to_be_bytes());
    }

    pub fn u32(&mut self, ty: u16, v: u32) {
        self.bytes(ty, &v.to_ne_bytes());
    }

    /// A NUL-terminated string.
    pub fn string(&mut self, ty: u16, s: &str) {
        self.header(ty, s.len() + 1);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        self.pad();
    }

    /// An address in the kernel's 16-byte `nf_inet_addr` union.
    pub fn addr(&mut self, ty: u16, addr: &IpAddr) {
        self.bytes(ty, &addr16(addr));
    }

    /// A nest (with NLA_F_NESTED, which IPVS accepts) filled by `f`.
    pub fn nest(&mut self, ty: u16, f: impl FnOnce(&mut Writer)) {
        let start = self.buf.len();
        self.header(ty | NLA_F_NESTED, 0);
        f(self);
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn header(&mut self, ty: u16, payload: usize) {
        self.buf
            .extend_from_slice(&((HDR + payload) as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
    }

    fn pad(&mut self) {
        self.buf.resize(align(self.buf.len()), 0);
    }
}

/// The 16-byte union: IPv4 in the first 4 bytes, the rest zero.
pub fn addr16(addr: &IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => {
            let mut b = [0; 16];
            b[..4].copy_from_slice(&a.octets());
            b
        }
        IpAddr::V6(a) => a.octets(),
    }
}

/// One received attribute.
#[derive(Debug, Clone, Copy)]
pub struct Attr<'a> {
    pub ty: u16,
    pub data: &'a [u8],
}

impl<'a> Attr<'a> {
    fn fixed<const N: usize>(&self, what: &'static str) -> Result<[u8; N], DecodeError> {
        <[u8; N]>::try_from(self.data).map_err(|_| DecodeError::BadLength {
            attr: what,
            len: self.data.len(),
        })
    }

    pub fn u8(&self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.fixed::<1>(what)?[0])
    }

    pub fn u16(&self, what: &'static str) -> Result<u16, DecodeError> {
        self.fixed(what).map(u16::from_ne_bytes)
    }

    pub fn be16(&self, what: &'static str) -> Result<u16, DecodeError> {
        self.fixed(what).map(u16::from_be_bytes)
    }

    pub fn u32(&self, what: &'static str) -> Result<u32, DecodeError> {
        self.fixed(what).map(u32::from_ne_bytes)
    }

    /// A counter of either width: the old STATS nest mixes u32 and u64.
    pub fn counter(&self, what: &'static str) -> Result<u64, DecodeError> {
        match self.data.len() {
            4 => self.u32(what).map(u64::from),
            _ => self.fixed(what).map(u64::from_ne_bytes),
        }
    }

    /// A string up to its first NUL.
    pub fn string(&self, what: &'static str) -> Result<String, DecodeError> {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.data.len());
        std::str::from_utf8(&self.data[..end])
            .map(str::to_owned)
            .map_err(|_| DecodeError::BadString(what))
    }

    /// An address of family `af` from the 16-byte union (or a bare 4 bytes).
    pub fn addr(&self, af: u16, what: &'static str) -> Result<IpAddr, DecodeError> {
        let bad = DecodeError::BadLength {
            attr: what,
            len: self.data.len(),
        };
        match af {
            super::uapi::AF_INET => {
                let b: [u8; 4] = self
                    .data
                    .get(..4)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(bad)?;
                Ok(IpAddr::from(b))
            }
            super::uapi::AF_INET6 => self.fixed::<16>(what).map(IpAddr::from),
            other => Err(DecodeError::UnknownFamily(other)),
        }
    }

    /// The attributes inside this one.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.data)
    }
}

/// The attributes of a buffer, in order; an error ends the iteration.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            let hdr = self
                .rest
                .get(..HDR)
                .ok_or(DecodeError::Truncated("attribute"))?;
            let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
            let ty = u16::from_ne_bytes([hdr[2], hdr[3]]) & TYPE_MASK;
            let data = self
                .rest
                .get(HDR..len.max(HDR))
                .filter(|_| len >= HDR)
                .ok_or(DecodeError::Truncated("attribute"))?;
            self.rest = self.rest.get(align(len)..).unwrap_or(&[]);
            Ok(Attr { ty, data })
        })();
        if parsed.is_err() {
            self.rest = &[];
        }
        Some(parsed)
    }
}

/// The attributes of a buffer indexed by type (unknown types, PAD included,
/// are kept but never asked for).
pub struct Table<'a> {
    attrs: Vec<Attr<'a>>,
}

impl<'a> Table<'a> {
    pub fn parse(buf: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(Table {
            attrs: Attrs::new(buf).collect::<Result<_, _>>()?,
        })
    }

    /// The last attribute of this type.
    pub fn get(&self, ty: u16) -> Option<Attr<'a>> {
        self.attrs.iter().rev().find(|a| a.ty == ty).copied()
    }

    /// The attribute of this type, which must be there.
    pub fn need(&self, ty: u16, what: &'static str) -> Result<Attr<'a>, DecodeError> {
        self.get(ty).ok_or(DecodeError::Missing(what))
    }
}
