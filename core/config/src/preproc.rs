//! keepalived's line preprocessor (keepalived.conf(5), "ADVANCED
//! CONFIGURATION"), applied to each line before it is split into words:
//! - `@ID rest` keeps `rest` only if ID is the config id; `@^ID rest` only
//!   if it is not (no config id: `@ID` lines go, `@^ID` lines stay);
//! - `$NAME=VALUE` defines a parameter (a value ending in `\` continues on
//!   the next lines: a multi-line definition, each line kept as a line);
//! - `$NAME` (followed by a blank, `,`, `)` or the end) and `${NAME}` are
//!   replaced by the value, again and again, as keepalived rescans; an
//!   undefined parameter stays as written; a multi-line parameter must end
//!   its line and expands to its lines;
//! - `~SEQ(VAR, [START,] [STEP,] END) rest` (`~SEQx`: hexadecimal) repeats
//!   `rest` with `$VAR` set to each value.
//!
//! Predefined: `${_PWD}` (the current file's directory), `${_INSTANCE}` (the
//! config id), `${_HASH}` and `${_BANG}` (`#`, `!`).
//!
//! Expansion is bounded: the lines and bytes it generates share one budget
//! ([`Limits::tokens`] lines, [`Limits::total_bytes`] bytes), a line may not
//! grow past [`Limits::line_bytes`], one line gets at most
//! [`MAX_REPLACEMENTS`] replacements and nesting stops at [`MAX_NESTING`]; past
//! any of them the rest of the expansion is refused with one error naming the
//! cap, so a `~SEQ` or a parameter bomb costs a bounded amount of memory.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::Problem;
use crate::findings::Findings;
use crate::limits::Limits;
use crate::span::Span;

/// Most replacements on one line (keepalived rescans after each one, so a
/// parameter whose value names itself would never end).
pub const MAX_REPLACEMENTS: usize = 1024;
/// Deepest nesting of `~SEQ` and multi-line parameters.
pub const MAX_NESTING: usize = 16;

/// Where the output lines go: `(findings, physical line, text)`; returns
/// true to stop (the token budget is spent).
pub type Emit<'e> = dyn FnMut(&mut Findings, u32, &str) -> bool + 'e;

/// A parameter.
#[derive(Debug, Clone)]
struct Def {
    name: String,
    /// One entry per line (one for a plain definition).
    lines: Vec<String>,
    multiline: bool,
}

/// What a preprocessor line did, for `vigil check -D`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// `@ID` / `@^ID`: whether the line was kept.
    Conditional {
        /// The id after `@` or `@^`.
        id: String,
        /// `@^`.
        negated: bool,
        /// The line was kept.
        kept: bool,
    },
    /// `$NAME=...` (number of lines of the value).
    Definition(String, usize),
    /// `~SEQ(VAR, ...)` and how many times it repeats its line.
    Sequence(String, u64),
}

impl core::fmt::Display for Resolved {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Resolved::Conditional { id, negated, kept } => write!(
                f,
                "conditional @{}{id}: line {}",
                if *negated { "^" } else { "" },
                if *kept { "kept" } else { "skipped" }
            ),
            Resolved::Definition(name, _) => write!(f, "parameter ${name} defined"),
            Resolved::Sequence(var, n) => write!(f, "~SEQ({var}) repeats its line {n} times"),
        }
    }
}

/// Preprocessor state; parameters live across files, as in keepalived.
#[derive(Debug, Clone)]
pub struct Preproc {
    config_id: Option<String>,
    defs: Vec<Def>,
    /// The multi-line definition still reading lines (index into `defs`).
    reading: Option<usize>,
    /// Directory of the file being read (`${_PWD}`).
    pwd: String,
    lines_left: usize,
    bytes_left: usize,
    line_bytes: usize,
    /// The budget is spent: expansions are dropped (reported once).
    spent: bool,
    /// Collect [`Resolved`] notes.
    detail: bool,
    notes: Vec<(Span, Resolved)>,
    notes_cap: usize,
}

impl Preproc {
    /// A preprocessor for one configuration read with `config_id`.
    pub fn new(config_id: Option<&str>, detail: bool, limits: &Limits) -> Self {
        Preproc {
            config_id: config_id.map(String::from),
            defs: Vec::new(),
            reading: None,
            pwd: String::new(),
            lines_left: limits.tokens,
            bytes_left: limits.total_bytes,
            line_bytes: limits.line_bytes,
            spent: false,
            detail,
            notes: Vec::new(),
            notes_cap: limits.reported.saturating_mul(10),
        }
    }

    /// Sets the directory `${_PWD}` names (the file now read).
    pub fn set_pwd(&mut self, dir: &str) {
        self.pwd = dir.into();
    }

    /// Ends a file: a multi-line definition does not run into the next one.
    pub fn end_file(&mut self) {
        self.reading = None;
    }

    /// What the preprocessor lines resolved to, in reading order.
    pub fn into_notes(self) -> Vec<(Span, Resolved)> {
        self.notes
    }

    /// Feeds one physical line (without its line end); the lines it stands
    /// for go to `emit`. Returns true if `emit` asked to stop.
    pub fn feed(&mut self, at: Span, raw: &str, found: &mut Findings, emit: &mut Emit) -> bool {
        if let Some(i) = self.reading {
            self.continue_definition(i, raw);
            return false;
        }
        let t = raw.trim_start_matches([' ', '\t']);
        let special = t.starts_with(['@', '$', '~'])
            || (!self.defs.is_empty() && t.contains('$'))
            || t.contains("${_");
        if !special {
            return emit(found, at.line, raw);
        }
        self.process(at, decomment(raw), 0, found, emit)
    }

    fn note(&mut self, at: Span, r: Resolved) {
        if self.detail && self.notes.len() < self.notes_cap {
            self.notes.push((at, r));
        }
    }

    /// Takes one generated line out of the budget; false (reported once)
    /// when it is spent.
    fn take(&mut self, at: Span, bytes: usize, found: &mut Findings) -> bool {
        if self.spent {
            return false;
        }
        if self.lines_left == 0 || self.bytes_left < bytes {
            self.spent = true;
            found.error(at, Problem::ExpansionTooLarge(self.lines_budget_text()));
            return false;
        }
        self.lines_left -= 1;
        self.bytes_left -= bytes;
        true
    }

    fn lines_budget_text(&self) -> String {
        alloc::format!(
            "{} lines or {} bytes",
            Limits::DEFAULT.tokens,
            Limits::DEFAULT.total_bytes
        )
    }

    fn continue_definition(&mut self, i: usize, raw: &str) {
        let line = decomment(raw);
        let (text, more) = match line.strip_suffix('\\') {
            Some(t) => (t.trim_end_matches([' ', '\t']).trim_start(), true),
            None => (line.trim(), false),
        };
        if let Some(d) = self.defs.get_mut(i) {
            if !text.is_empty() {
                d.lines.push(text.into());
            }
        }
        if !more || line.is_empty() {
            self.reading = None;
        }
    }

    /// Processes one line of text (decommented), possibly generated.
    fn process(
        &mut self,
        at: Span,
        line: String,
        depth: usize,
        found: &mut Findings,
        emit: &mut Emit,
    ) -> bool {
        if depth > MAX_NESTING {
            found.error(at, Problem::ExpansionTooDeep(MAX_NESTING));
            return false;
        }
        let mut line = line;
        let mut replacements = 0usize;
        loop {
            let t = line.trim_start_matches([' ', '\t']);
            if let Some(rest) = t.strip_prefix('@') {
                let (negated, rest) = match rest.strip_prefix('^') {
                    Some(r) => (true, r),
                    None => (false, rest),
                };
                // keepalived needs something after the id; else the line goes.
                let Some(end) = rest.find([' ', '\t']) else {
                    return false;
                };
                let id = &rest[..end];
                let kept = (self.config_id.as_deref() == Some(id)) != negated;
                let r = Resolved::Conditional {
                    id: id.into(),
                    negated,
                    kept,
                };
                self.note(at, r);
                if !kept {
                    return false;
                }
                // Blanks keep the columns of what follows.
                let cut = line.len() - rest.len() + end;
                let mut kept_line = " ".repeat(cut);
                kept_line.push_str(&line[cut..]);
                line = kept_line;
                continue;
            }
            if t.starts_with('$') && self.define(at, t) {
                return false;
            }
            if let Some(seq) = t.strip_prefix("~SEQ") {
                let seq = String::from(seq);
                return self.sequence(at, &seq, depth, found, emit);
            }
            if t.starts_with('~') || !t.contains('$') {
                break;
            }
            match self.substitute(at, &line, &mut replacements, found) {
                Sub::None => break,
                Sub::Failed => return false,
                Sub::Line(l) => line = decomment(&l),
                Sub::Multi(first, def) => {
                    // The first line replaces the reference; the others follow.
                    let rest: Vec<String> = self
                        .defs
                        .get(def)
                        .map(|d| d.lines.iter().skip(1).cloned().collect())
                        .unwrap_or_default();
                    if self.process(at, first, depth + 1, found, emit) {
                        return true;
                    }
                    for l in rest {
                        if !self.take(at, l.len(), found) {
                            return false;
                        }
                        if self.process(at, l, depth + 1, found, emit) {
                            return true;
                        }
                    }
                    return false;
                }
            }
        }
        emit(found, at.line, &line)
    }

    /// `$NAME=VALUE`: true if `t` is a definition (then stored).
    fn define(&mut self, at: Span, t: &str) -> bool {
        let body = &t[1..];
        let name_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let name = &body[..name_len];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return false;
        }
        let Some(value) = body[name_len..].strip_prefix('=') else {
            return false;
        };
        let value = value.trim_start_matches([' ', '\t']);
        let (first, multiline) = match value.strip_suffix('\\') {
            Some(v) => (v.trim_end_matches([' ', '\t']), true),
            None => (value, false),
        };
        let mut lines = Vec::new();
        if !multiline || !first.is_empty() {
            lines.push(String::from(first));
        }
        let def = Def {
            name: name.into(),
            lines,
            multiline,
        };
        let i = match self.defs.iter().position(|d| d.name == name) {
            Some(i) => {
                if let Some(d) = self.defs.get_mut(i) {
                    *d = def;
                }
                i
            }
            None => {
                self.defs.push(def);
                self.defs.len() - 1
            }
        };
        if multiline {
            self.reading = Some(i);
        }
        self.note(at, Resolved::Definition(name.into(), 1));
        true
    }

    /// `~SEQ(...)` (the text after `~SEQ`).
    fn sequence(
        &mut self,
        at: Span,
        seq: &str,
        depth: usize,
        found: &mut Findings,
        emit: &mut Emit,
    ) -> bool {
        let (hex, seq) = match seq.strip_prefix('x') {
            Some(s) => (true, s),
            None => (false, seq),
        };
        let bad = |found: &mut Findings| {
            found.error(at, Problem::BadSequence(alloc::format!("~SEQ{seq}")));
            false
        };
        let Some(inner) = seq.trim_start().strip_prefix('(') else {
            return bad(found);
        };
        let Some(close) = inner.find(')') else {
            return bad(found);
        };
        let rest = inner[close + 1..]
            .trim_start_matches([' ', '\t'])
            .to_string();
        let mut parts = inner[..close].split(',').map(str::trim);
        let var = parts.next().unwrap_or("");
        let mut nums = Vec::new();
        for p in parts {
            let mut dummy = 0;
            let p = match self.substitute(at, p, &mut dummy, found) {
                Sub::Line(l) => l,
                _ => p.into(),
            };
            match parse_long(p.trim()) {
                Some(n) => nums.push(n),
                None => return bad(found),
            }
        }
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return bad(found);
        }
        let (start, step, end) = match nums.as_slice() {
            [end] => (
                if *end < 0 { -1 } else { 1 },
                if *end < 1 { -1 } else { 1 },
                *end,
            ),
            [s, e] => (*s, if s <= e { 1 } else { -1 }, *e),
            [s, st, e] => (*s, *st, *e),
            _ => return bad(found),
        };
        if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
            return bad(found);
        }
        if hex && (start < 0 || end < 0) {
            return bad(found);
        }
        let count = (i128::from(end) - i128::from(start)) / i128::from(step) + 1;
        let count = u64::try_from(count.max(0)).unwrap_or(u64::MAX);
        self.note(at, Resolved::Sequence(var.into(), count));
        // Refuse a bomb before generating any of it.
        if count > self.lines_left as u64 {
            self.spent = true;
            found.error(at, Problem::ExpansionTooLarge(self.lines_budget_text()));
            return false;
        }
        let mut v = i128::from(start);
        let last = i128::from(end);
        while (step > 0 && v <= last) || (step < 0 && v >= last) {
            let text = if hex {
                alloc::format!("{v:x}")
            } else {
                alloc::format!("{v}")
            };
            self.set(var, text);
            if !self.take(at, rest.len(), found) {
                return false;
            }
            if self.process(at, rest.clone(), depth + 1, found, emit) {
                return true;
            }
            v += i128::from(step);
        }
        false
    }

    fn set(&mut self, name: &str, value: String) {
        let def = Def {
            name: name.into(),
            lines: alloc::vec![value],
            multiline: false,
        };
        match self.defs.iter_mut().find(|d| d.name == name) {
            Some(d) => *d = def,
            None => self.defs.push(def),
        }
    }

    /// The value of a predefined parameter.
    fn predefined(&self, name: &str) -> Option<String> {
        match name {
            "_PWD" => Some(self.pwd.clone()),
            "_INSTANCE" => Some(self.config_id.clone().unwrap_or_default()),
            // Escaped: the lexer would take a bare one for a comment.
            "_HASH" => Some("\\#".into()),
            "_BANG" => Some("\\!".into()),
            _ => None,
        }
    }

    /// Replaces the parameter references of `line`, rescanning after each
    /// replacement as keepalived does.
    fn substitute(&mut self, at: Span, line: &str, count: &mut usize, found: &mut Findings) -> Sub {
        let mut out = String::from(line);
        let mut pos = 0;
        let mut changed = false;
        while let Some(off) = out.get(pos..).and_then(|s| s.find('$')) {
            let start = pos + off;
            let Some((name, end)) =
                reference(&out[start + 1..]).map(|(n, _, e)| (String::from(n), e))
            else {
                pos = start + 1;
                continue;
            };
            let name = name.as_str();
            let whole_line = start + 1 + end == out.len();
            let user = self.defs.iter().position(|d| d.name == name);
            let value = match user {
                Some(i) => {
                    let d = &self.defs[i];
                    if d.multiline && !whole_line {
                        None
                    } else if d.multiline {
                        let first = d.lines.first().cloned().unwrap_or_default();
                        let mut l = String::from(&out[..start]);
                        l.push_str(&first);
                        *count += 1;
                        return Sub::Multi(l, i);
                    } else {
                        d.lines.first().cloned()
                    }
                }
                None => self.predefined(name),
            };
            let Some(value) = value else {
                pos = start + 1;
                continue;
            };
            *count += 1;
            if *count > MAX_REPLACEMENTS {
                found.error(at, Problem::ExpansionTooDeep(MAX_REPLACEMENTS));
                return Sub::Failed;
            }
            let grown = out.len() - (end + 1) + value.len();
            if grown > self.line_bytes {
                found.error(at, Problem::LineTooLong(self.line_bytes));
                return Sub::Failed;
            }
            out.replace_range(start..start + 1 + end, &value);
            changed = true;
            // Rescan from the replacement (keepalived's recursion), except
            // for the escaped characters, which are final.
            pos = if name == "_HASH" || name == "_BANG" {
                start + value.len()
            } else {
                start
            };
        }
        if changed {
            Sub::Line(out)
        } else {
            Sub::None
        }
    }
}

/// What [`Preproc::substitute`] made of a line.
enum Sub {
    /// No reference to a defined parameter.
    None,
    /// A cap was hit (reported).
    Failed,
    /// The line with its references replaced.
    Line(String),
    /// The line up to a multi-line parameter plus its first line, and the
    /// parameter (its other lines follow).
    Multi(String, usize),
}

/// The parameter reference at the start of `s` (just after `$`): its name,
/// whether it is braced, and the length of the reference after the `$`.
fn reference(s: &str) -> Option<(&str, bool, usize)> {
    let braces = s.starts_with('{');
    let body = if braces { &s[1..] } else { s };
    if !body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    let len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let after = body[len..].chars().next();
    if braces {
        (after == Some('}')).then_some((&body[..len], true, len + 2))
    } else {
        matches!(after, None | Some(' ' | '\t' | ',' | ')')).then_some((&body[..len], false, len))
    }
}

/// strtol with base 0: decimal, `0x` hexadecimal, `0` octal, signed.
fn parse_long(s: &str) -> Option<i64> {
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

/// The line without its comment (a `#` or `!` outside quotes and not
/// escaped) and without trailing blanks; escapes are kept for the lexer.
fn decomment(line: &str) -> String {
    let mut quoted = false;
    let mut escaped = false;
    let mut cut = line.len();
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if !quoted => escaped = true,
            '"' => quoted = !quoted,
            '#' | '!' if !quoted => {
                cut = i;
                break;
            }
            _ => {}
        }
    }
    String::from(line[..cut].trim_end_matches([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: Option<&str>, text: &str) -> (Vec<String>, Vec<Problem>) {
        run_with(id, text, &Limits::DEFAULT)
    }

    fn run_with(id: Option<&str>, text: &str, limits: &Limits) -> (Vec<String>, Vec<Problem>) {
        let mut p = Preproc::new(id, false, limits);
        let mut found = Findings::new(limits);
        let mut out = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let at = Span {
                file: 0,
                line: i as u32 + 1,
                col: 1,
            };
            p.feed(at, l, &mut found, &mut |_, _, t| {
                out.push(t.trim().to_string());
                false
            });
        }
        let problems = found.into_sorted().into_iter().map(|f| f.1).collect();
        (out, problems)
    }

    #[test]
    fn conditionals_follow_the_config_id() {
        let text = "@main router_id a\n@backup router_id b\n@^main x\n@main";
        assert_eq!(run(Some("main"), text).0, ["router_id a"]);
        assert_eq!(run(Some("backup"), text).0, ["router_id b", "x"]);
        assert_eq!(run(None, text).0, ["x"]);
    }

    #[test]
    fn parameters_are_replaced_at_use_and_rescanned() {
        let text = "$B=10.2.${S}\n$S=0\n${B}.100/32\n$S=10\n${B}.100/32\n$P priority $P\n";
        let (out, p) = run(None, text);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(out, ["10.2.0.100/32", "10.2.10.100/32", "$P priority $P"]);
        let (out, _) = run(Some("m"), "@m $PRIO=240\n@b $PRIO=200\npriority $PRIO\n");
        assert_eq!(out, ["priority 240"]);
        let (out, _) = run(Some("m"), "$IF=@m\n$IF priority 1\n");
        assert_eq!(out, ["priority 1"]);
    }

    #[test]
    fn multiline_parameters_expand_to_their_lines_and_nest() {
        let text = "$RS= \\\n real_server 1.1.1.${N} 80 { \\\n weight 1 \\\n }\n\
                    $VS= \\\n virtual_server x { \\\n $N=1 \\\n $RS \\\n $N=2 \\\n $RS \\\n }\n$VS\n";
        let (out, p) = run(None, text);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            out,
            [
                "virtual_server x {",
                "real_server 1.1.1.1 80 {",
                "weight 1",
                "}",
                "real_server 1.1.1.2 80 {",
                "weight 1",
                "}",
                "}"
            ]
        );
    }

    #[test]
    fn sequences_repeat_their_line() {
        let (out, p) = run(
            None,
            "~SEQ(S, 0, 3) a 10.0.${S}.1\n~SEQx(X, 0x90, 0x10, 0xc0) ${X}\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            out,
            [
                "a 10.0.0.1",
                "a 10.0.1.1",
                "a 10.0.2.1",
                "a 10.0.3.1",
                "90",
                "a0",
                "b0",
                "c0"
            ]
        );
        let (out, _) = run(None, "~SEQ(A,2) ~SEQ(B,3,-1,2) ${A}.${B}\n");
        assert_eq!(out, ["1.3", "1.2", "2.3", "2.2"]);
        let (_, p) = run(None, "~SEQ(A, 1, 0, 3) x\n");
        assert!(matches!(p[..], [Problem::BadSequence(_)]));
    }

    #[test]
    fn bombs_are_refused_with_one_error() {
        let limits = Limits {
            tokens: 1000,
            ..Limits::DEFAULT
        };
        let (out, p) = run_with(None, "~SEQ(A, 1, 1000000000000) x\n", &limits);
        assert!(out.is_empty());
        assert!(matches!(p[..], [Problem::ExpansionTooLarge(_)]));
        // Nested: each level is small, the product is not.
        let (out, p) = run_with(None, "~SEQ(A,100) ~SEQ(B,100) ~SEQ(C,100) x\n", &limits);
        assert!(out.len() < 1000);
        assert!(matches!(p[..], [Problem::ExpansionTooLarge(_)]));
        // A parameter that names itself.
        let (_, p) = run(None, "$A=x $A\ny $A\n");
        assert!(matches!(
            p[..],
            [Problem::ExpansionTooDeep(_)] | [Problem::LineTooLong(_)]
        ));
        let (_, p) = run(None, "$A= \\\n$A\n$A\n");
        assert!(matches!(p[..], [Problem::ExpansionTooDeep(_)]), "{p:?}");
        // Doubling: 2^30 bytes would come out; the replacement or line cap
        // stops it.
        let mut text = String::from("$A0=xx\n");
        for i in 1..31 {
            text.push_str(&alloc::format!("$A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
        }
        text.push_str("${A30}\n");
        let (out, p) = run(None, &text);
        assert!(out.is_empty());
        assert!(
            matches!(
                p[..],
                [Problem::LineTooLong(_)] | [Problem::ExpansionTooDeep(_)]
            ),
            "{p:?}"
        );
    }

    #[test]
    fn predefined_and_comments() {
        let (out, _) = run(
            Some("r1"),
            "x ${_INSTANCE} ${_HASH} # c\n$V=a # comment\n$V\n",
        );
        assert_eq!(out, ["x r1 \\#", "a"]);
    }
}
