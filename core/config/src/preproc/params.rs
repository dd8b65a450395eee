//! Parameters: `$NAME=VALUE` definitions (plain and multi-line), the
//! predefined `${_...}` ones, and the rescanning replacement of `$NAME` /
//! `${NAME}` references in a line.

use alloc::string::String;
use alloc::vec::Vec;

use super::{Preproc, Resolved, MAX_REPLACEMENTS};
use crate::error::Problem;
use crate::findings::Findings;
use crate::span::Span;

/// A parameter.
#[derive(Debug, Clone)]
pub(super) struct Def {
    pub(super) name: String,
    /// One entry per line (one for a plain definition).
    pub(super) lines: Vec<String>,
    pub(super) multiline: bool,
}

impl Preproc {
    pub(super) fn continue_definition(&mut self, i: usize, raw: &str) {
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

    /// `$NAME=VALUE`: true if `t` is a definition (then stored).
    pub(super) fn define(&mut self, at: Span, t: &str) -> bool {
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

    pub(super) fn set(&mut self, name: &str, value: String) {
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

    /// The value of a predefined parameter; `params` only for `_RANDOM`.
    fn predefined(&mut self, name: &str, params: &str) -> Option<String> {
        if !params.is_empty() && name != "_RANDOM" {
            return None;
        }
        match name {
            "_RANDOM" => Some(self.rng.value(params)),
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
    pub(super) fn substitute(
        &mut self,
        at: Span,
        line: &str,
        count: &mut usize,
        found: &mut Findings,
    ) -> Sub {
        let mut out = String::from(line);
        let mut pos = 0;
        let mut changed = false;
        while let Some(off) = out.get(pos..).and_then(|s| s.find('$')) {
            let start = pos + off;
            let Some((name, params, end)) = reference(&out[start + 1..])
                .map(|r| (String::from(r.name), String::from(r.params), r.len))
            else {
                pos = start + 1;
                continue;
            };
            let name = name.as_str();
            let whole_line = start + 1 + end == out.len();
            let user = self.defs.iter().position(|d| d.name == name);
            let value = match user {
                // Only built-in parameters take arguments (`_RANDOM`).
                Some(_) if !params.is_empty() => None,
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
                None => self.predefined(name, &params),
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
pub(super) enum Sub {
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

/// A parameter reference, just after its `$`.
struct Reference<'a> {
    name: &'a str,
    /// `${NAME 1 10}`: the digits and blanks after the name (trimmed).
    params: &'a str,
    /// Length of the reference after the `$`.
    len: usize,
}

/// The parameter reference at the start of `s` (just after `$`). keepalived
/// allows digits and blanks after the name of a braced one (arguments, for
/// `_RANDOM`), but not a blank just before the `}` after a digit.
fn reference(s: &str) -> Option<Reference<'_>> {
    let braces = s.starts_with('{');
    let body = if braces { &s[1..] } else { s };
    if !body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    let len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let name = &body[..len];
    if !braces {
        let after = body[len..].chars().next();
        let ok = matches!(after, None | Some(' ' | '\t' | ',' | ')'));
        return ok.then_some(Reference {
            name,
            params: "",
            len,
        });
    }
    let tail = &body[len..];
    let args = tail
        .find(|c: char| !(c == ' ' || c.is_ascii_digit()))
        .unwrap_or(tail.len());
    if !tail[args..].starts_with('}') {
        return None;
    }
    let params = &tail[..args];
    if params.ends_with(' ') && params.contains(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(Reference {
        name,
        params: params.trim(),
        len: len + args + 2,
    })
}

/// The line without its comment (a `#` or `!` outside quotes and not
/// escaped) and without trailing blanks; escapes are kept for the lexer.
pub(super) fn decomment(line: &str) -> String {
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
