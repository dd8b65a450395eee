//! The line repeaters: `~SEQ(VAR, [START,] [STEP,] END) rest` (`~SEQx`:
//! hexadecimal values) and keepalived 2.2.7's `~LST`:
//! - `~LST(VAR, V1, V2, ...) rest`: `rest` once per value, `$VAR` set to it;
//! - `~LST({A, B}, {1, 2}, {3, 4}) rest`: one variable per name, one braced
//!   set of values per repetition; a set with fewer values leaves the
//!   remaining variables empty, one with more is an error.
//!
//! Names and values end at a blank, `,`, `}` (and `)` for values); blanks
//! around them are skipped. Values are taken as written (parameters in them
//! are replaced when the repeated line is), as keepalived's parser does.

use alloc::string::String;
use alloc::vec::Vec;

/// A parsed `~SEQ`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seq {
    pub var: String,
    pub start: i64,
    pub step: i64,
    pub end: i64,
    pub hex: bool,
}

impl Seq {
    /// `text` is what follows `~SEQ`; `resolve` replaces the parameter
    /// references of one number. The sequence and the rest of the line.
    pub(super) fn parse(
        text: &str,
        mut resolve: impl FnMut(&str) -> String,
    ) -> Option<(Seq, String)> {
        let (hex, text) = match text.strip_prefix('x') {
            Some(s) => (true, s),
            None => (false, text),
        };
        let inner = text.trim_start().strip_prefix('(')?;
        let close = inner.find(')')?;
        let rest = String::from(inner[close + 1..].trim_start_matches([' ', '\t']));
        let mut parts = inner[..close].split(',').map(str::trim);
        let var = parts.next().unwrap_or("");
        let mut nums = Vec::new();
        for p in parts {
            nums.push(parse_long(resolve(p).trim())?);
        }
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let (start, step, end) = match nums.as_slice() {
            [end] => (
                if *end < 0 { -1 } else { 1 },
                if *end < 1 { -1 } else { 1 },
                *end,
            ),
            [s, e] => (*s, if s <= e { 1 } else { -1 }, *e),
            [s, st, e] => (*s, *st, *e),
            _ => return None,
        };
        if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
            return None;
        }
        if hex && (start < 0 || end < 0) {
            return None;
        }
        let seq = Seq {
            var: var.into(),
            start,
            step,
            end,
            hex,
        };
        Some((seq, rest))
    }

    /// How many times the line repeats.
    pub(super) fn count(&self) -> u64 {
        let n = (i128::from(self.end) - i128::from(self.start)) / i128::from(self.step) + 1;
        u64::try_from(n.max(0)).unwrap_or(u64::MAX)
    }

    /// The values, as text, in order.
    pub(super) fn values(&self) -> impl Iterator<Item = String> + '_ {
        let (step, last) = (i128::from(self.step), i128::from(self.end));
        let mut v = i128::from(self.start);
        core::iter::from_fn(move || {
            let more = (step > 0 && v <= last) || (step < 0 && v >= last);
            if !more {
                return None;
            }
            let text = if self.hex {
                alloc::format!("{v:x}")
            } else {
                alloc::format!("{v}")
            };
            v += step;
            Some(text)
        })
    }
}

/// A parsed `~LST`: the variables and one set of values per repetition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct List {
    pub vars: Vec<String>,
    pub sets: Vec<Vec<String>>,
}

/// Why a `~LST` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListError {
    /// Not of the form above.
    Invalid,
    /// A set has more values than there are variables.
    TooManyValues,
}

/// A cursor over the specification, with keepalived's few moves.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// Skips `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    /// The text up to one of `stops` (or the end).
    fn word(&mut self, stops: &[u8]) -> String {
        let from = self.at;
        while self.peek().is_some_and(|c| !stops.contains(&c)) {
            self.at += 1;
        }
        String::from_utf8_lossy(self.s.get(from..self.at).unwrap_or_default()).into_owned()
    }
}

impl List {
    /// `text` is what follows `~LST`: the list and the rest of the line.
    pub(super) fn parse(text: &str) -> Result<(List, String), ListError> {
        let mut c = Cursor {
            s: text.as_bytes(),
            at: 0,
        };
        c.blanks();
        if !c.eat(b'(') {
            return Err(ListError::Invalid);
        }
        c.blanks();
        // The variables: one name, or `{A, B, ...}`.
        let end = if c.eat(b'{') {
            c.blanks();
            b'}'
        } else {
            b','
        };
        let mut vars = Vec::new();
        loop {
            vars.push(c.word(b" \t,}"));
            c.blanks();
            if c.peek() == Some(end) {
                break;
            }
            if !c.eat(b',') {
                return Err(ListError::Invalid);
            }
            c.blanks();
        }
        if c.eat(b'}') {
            c.blanks();
        }
        if !c.eat(b',') {
            return Err(ListError::Invalid);
        }
        c.blanks();
        let mut sets = Vec::new();
        loop {
            let end = if c.eat(b'{') {
                c.blanks();
                b'}'
            } else {
                b','
            };
            let mut set = Vec::new();
            loop {
                set.push(c.word(b" \t,})"));
                c.blanks();
                let next = c.peek();
                if next == Some(end) || (next == Some(b')') && end == b',') {
                    break;
                }
                if !c.eat(b',') {
                    return Err(ListError::Invalid);
                }
                c.blanks();
                if set.len() >= vars.len() {
                    return Err(ListError::TooManyValues);
                }
            }
            // Missing values are blank.
            set.resize(vars.len(), String::new());
            sets.push(set);
            if end == b'}' && c.eat(b'}') {
                c.blanks();
            }
            if c.eat(b')') {
                break;
            }
            if !c.eat(b',') {
                return Err(ListError::Invalid);
            }
            c.blanks();
        }
        c.blanks();
        let rest = String::from_utf8_lossy(c.s.get(c.at..).unwrap_or_default()).into_owned();
        Ok((List { vars, sets }, rest))
    }
}

/// strtol with base 0: decimal, `0x` hexadecimal, `0` octal, signed.
pub(super) fn parse_long(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = (Vec<String>, Vec<Vec<String>>, String);

    fn list(t: &str) -> Result<Parsed, ListError> {
        List::parse(t).map(|(l, rest)| (l.vars, l.sets, rest))
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| String::from(*x)).collect()
    }

    #[test]
    fn lists_as_keepalived_reads_them() {
        let (vars, sets, rest) = list("(IF, eth0, eth1 ,eth2) interface $IF").unwrap();
        assert_eq!(vars, v(&["IF"]));
        assert_eq!(sets, [v(&["eth0"]), v(&["eth1"]), v(&["eth2"])]);
        assert_eq!(rest, "interface $IF");
        let (vars, sets, _) = list("({A, B}, {1, 2}, { 3 }, {4,5}) x").unwrap();
        assert_eq!(vars, v(&["A", "B"]));
        assert_eq!(sets, [v(&["1", "2"]), v(&["3", ""]), v(&["4", "5"])]);
        // Unbraced values with several variables: one value per set.
        let (_, sets, _) = list("({A,B}, 1, 2) x").unwrap();
        assert_eq!(sets, [v(&["1", ""]), v(&["2", ""])]);
        assert_eq!(list("({A,B}, {1,2,3}) x"), Err(ListError::TooManyValues));
        for bad in [
            "IF, a) x",
            "(IF a) x",
            "(IF, a x",
            "(IF)",
            "({A,B} {1,2}) x",
        ] {
            assert_eq!(list(bad), Err(ListError::Invalid), "{bad}");
        }
    }

    #[test]
    fn sequences() {
        let (s, rest) = Seq::parse("(S, 0, 3) a", |p| p.into()).unwrap();
        assert_eq!((s.count(), rest.as_str()), (4, "a"));
        assert_eq!(s.values().collect::<Vec<_>>(), v(&["0", "1", "2", "3"]));
        let (s, _) = Seq::parse("x(X, 0x90, 0x10, 0xc0) y", |p| p.into()).unwrap();
        assert_eq!(s.values().collect::<Vec<_>>(), v(&["90", "a0", "b0", "c0"]));
        assert!(Seq::parse("(A, 1, 0, 3) x", |p| p.into()).is_none());
    }
}
