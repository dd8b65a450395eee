//! The option words shared by route and rule lines: a cursor over a line's
//! words, the reason a line is dropped, and the value parsers both read
//! (numbers, prefixes, tables, protocols, TOS, realms).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};

use vigil_model::{Prefix, Table};

use crate::parser::{Stmt, Word};
use crate::span::Span;

/// The words of one line and a cursor over them.
pub(super) struct Words<'a> {
    all: Vec<&'a Word>,
    pub(super) i: usize,
}

impl<'a> Words<'a> {
    pub(super) fn of(line: &'a Stmt) -> Words<'a> {
        let mut all = Vec::with_capacity(line.args.len() + 1);
        all.push(&line.keyword);
        all.extend(line.args.iter());
        Words { all, i: 0 }
    }

    pub(super) fn peek(&self) -> Option<&'a Word> {
        self.all.get(self.i).copied()
    }

    pub(super) fn next(&mut self) -> Option<&'a Word> {
        let w = self.peek();
        self.i += 1;
        w
    }

    /// The value after an option; `Err` names the option when it is missing.
    pub(super) fn value(&mut self, opt: &Word) -> Result<&'a Word, Bad> {
        self.next()
            .ok_or_else(|| Bad(opt.span, format!("`{}` needs a value", opt.text)))
    }

    /// An optional `lock` before a metric's value.
    pub(super) fn lock(&mut self) -> bool {
        if self.peek().is_some_and(|w| w.text == "lock") {
            self.i += 1;
            return true;
        }
        false
    }
}

/// Why a line is dropped, and where.
pub(super) struct Bad(pub(super) Span, pub(super) String);

pub(super) fn bad<T>(w: &Word, why: &str) -> Result<T, Bad> {
    Err(Bad(w.span, format!("{why} ({})", w.text)))
}

/// keepalived's unsigned numbers: decimal or `0x` hexadecimal.
pub(super) fn unsigned(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) if !h.is_empty() => u64::from_str_radix(h, 16).ok(),
        _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        _ => None,
    }
}

pub(super) fn num<T: TryFrom<u64>>(w: &Word, max: u64) -> Result<T, Bad> {
    match unsigned(&w.text) {
        Some(v) if v <= max => T::try_from(v).or_else(|_| bad(w, "value out of range")),
        Some(_) => bad(w, "value out of range"),
        None => bad(w, "not a number"),
    }
}

/// `ADDR[/LEN]`, or `default` / `any` / `all` (family decided later).
pub(super) fn prefix(w: &Word) -> Result<(Prefix, bool), Bad> {
    if matches!(w.text.as_str(), "default" | "any" | "all") {
        let p = Prefix {
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            len: 0,
        };
        return Ok((p, false));
    }
    let (a, l) = match w.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (w.text.as_str(), None),
    };
    let Ok(addr) = a.parse::<IpAddr>() else {
        return bad(w, "bad address");
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        None => max,
        Some(l) => match unsigned(l) {
            Some(v) if v <= u64::from(max) => v as u8,
            _ => return bad(w, "bad prefix length"),
        },
    };
    Ok((Prefix { addr, len }, true))
}

pub(super) fn address(w: &Word) -> Result<IpAddr, Bad> {
    w.text.parse().or_else(|_| bad(w, "bad address"))
}

/// The line's family: unset until a word decides it; a word of the other
/// family drops the line (keepalived: "Cannot mix IPv4 and IPv6").
pub(super) struct Family(pub(super) Option<bool>);

impl Family {
    pub(super) fn set(&mut self, w: &Word, v6: bool) -> Result<(), Bad> {
        match self.0 {
            Some(f) if f != v6 => bad(w, "IPv4 and IPv6 mixed"),
            _ => {
                self.0 = Some(v6);
                Ok(())
            }
        }
    }
}

pub(super) fn table(w: &Word) -> Table {
    match w.text.as_str() {
        "main" => Table::Id(254),
        "local" => Table::Id(255),
        "default" => Table::Id(253),
        t => match unsigned(t).and_then(|v| u32::try_from(v).ok()) {
            Some(n) => Table::Id(n),
            None => Table::Name(t.to_string()),
        },
    }
}

/// `protocol`: iproute2's built-in names or a number.
pub(super) fn protocol(w: &Word) -> Result<u8, Bad> {
    const NAMES: &[(&str, u8)] = &[
        ("none", 0),
        ("redirect", 1),
        ("kernel", 2),
        ("boot", 3),
        ("static", 4),
        ("gated", 8),
        ("ra", 9),
        ("mrt", 10),
        ("zebra", 11),
        ("bird", 12),
        ("dnrouted", 13),
        ("xorp", 14),
        ("ntk", 15),
        ("dhcp", 16),
        ("keepalived", 18),
        ("babel", 42),
    ];
    match NAMES.iter().find(|n| n.0 == w.text) {
        Some(n) => Ok(n.1),
        None => num(w, 255),
    }
}

/// `tos` / `dsfield`: a number (names from rt_dsfield are not read).
pub(super) fn tos(w: &Word) -> Result<u8, Bad> {
    let t = w.text.as_str();
    let v = if t.starts_with("0x") || t.starts_with("0X") {
        unsigned(t)
    } else {
        // iproute2 reads the dsfield as hexadecimal even without 0x.
        u64::from_str_radix(t, 16).ok()
    };
    match v {
        Some(v) if v <= 255 => Ok(v as u8),
        _ => bad(w, "bad TOS value"),
    }
}

/// `realms [FROM/]TO`, numbers (rt_realms names are not read).
pub(super) fn realms(w: &Word) -> Result<u32, Bad> {
    let one = |t: &str| unsigned(t).filter(|&v| v <= 0xffff).map(|v| v as u32);
    let v = match w.text.split_once('/') {
        Some((a, b)) => one(a).zip(one(b)).map(|(a, b)| (a << 16) | b),
        None => one(&w.text),
    };
    v.map_or_else(|| bad(w, "bad realms"), Ok)
}
