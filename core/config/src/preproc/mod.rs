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
//! - `~SEQ(VAR, [START,] [STEP,] END) rest` (`~SEQx`: hexadecimal) and
//!   `~LST(VAR, V1, V2...) rest` / `~LST({A, B}, {A1, B1}, ...) rest` repeat
//!   `rest` with the variables set to each value ([`repeat`]).
//!
//! Predefined, as in keepalived 2.2.7: `${_PWD}` (the current file's
//! directory), `${_INSTANCE}` (the config id), `${_HASH}` and `${_BANG}`
//! (`#`, `!`), `${_RANDOM [MIN [MAX]]}` (a new number at each use, [`random`]).
//!
//! Expansion is bounded: the lines and bytes it generates share one budget
//! ([`Limits::tokens`] lines, [`Limits::total_bytes`] bytes), a line may not
//! grow past [`Limits::line_bytes`], one line gets at most
//! [`MAX_REPLACEMENTS`] replacements and nesting stops at [`MAX_NESTING`]; past
//! any of them the rest of the expansion is refused with one error naming the
//! cap, so a `~SEQ` or a parameter bomb costs a bounded amount of memory.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Problem;
use crate::findings::Findings;
use crate::limits::Limits;
use crate::span::Span;

mod params;
mod random;
mod repeat;

use params::{decomment, Def, Sub};
use repeat::{List, ListError, Seq};

/// Most replacements on one line (keepalived rescans after each one, so a
/// parameter whose value names itself would never end).
pub const MAX_REPLACEMENTS: usize = 1024;
/// Deepest nesting of `~SEQ` and multi-line parameters.
pub const MAX_NESTING: usize = 16;

/// Where the output lines go: `(findings, physical line, text)`; returns
/// true to stop (the token budget is spent).
pub type Emit<'e> = dyn FnMut(&mut Findings, u32, &str) -> bool + 'e;

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
    /// `~LST(VARS, ...)` (the variables, comma separated) and how many
    /// times it repeats its line.
    List(String, u64),
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
            Resolved::List(vars, n) => write!(f, "~LST({vars}) repeats its line {n} times"),
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
    /// `${_RANDOM}`'s generator.
    rng: random::Rng,
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
            rng: random::Rng::new(0),
        }
    }

    /// Seeds `${_RANDOM}` (the same seed gives the same numbers).
    pub fn set_random_seed(&mut self, seed: u64) {
        self.rng = random::Rng::new(seed);
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
            || t.contains("${_")
            || t.contains("$_");
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
            if let Some(lst) = t.strip_prefix("~LST") {
                let lst = String::from(lst);
                return self.list(at, &lst, depth, found, emit);
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

    /// `~SEQ(...)` (the text after `~SEQ`).
    fn sequence(
        &mut self,
        at: Span,
        seq: &str,
        depth: usize,
        found: &mut Findings,
        emit: &mut Emit,
    ) -> bool {
        // The numbers may be parameters (keepalived replaces them first).
        let mut resolve = |p: &str| {
            let mut dummy = 0;
            match self.substitute(at, p, &mut dummy, found) {
                Sub::Line(l) => l,
                _ => p.into(),
            }
        };
        let Some((seq_spec, rest)) = Seq::parse(seq, &mut resolve) else {
            found.error(at, Problem::BadSequence(alloc::format!("~SEQ{seq}")));
            return false;
        };
        let count = seq_spec.count();
        self.note(at, Resolved::Sequence(seq_spec.var.clone(), count));
        if !self.fits(at, count, found) {
            return false;
        }
        for value in seq_spec.values() {
            self.set(&seq_spec.var, value);
            if !self.take(at, rest.len(), found) {
                return false;
            }
            if self.process(at, rest.clone(), depth + 1, found, emit) {
                return true;
            }
        }
        false
    }

    /// `~LST(...)` (the text after `~LST`).
    fn list(
        &mut self,
        at: Span,
        lst: &str,
        depth: usize,
        found: &mut Findings,
        emit: &mut Emit,
    ) -> bool {
        let (list, rest) = match List::parse(lst) {
            Ok(x) => x,
            Err(e) => {
                let text = alloc::format!("~LST{lst}");
                let p = match e {
                    ListError::Invalid => Problem::BadList(text),
                    ListError::TooManyValues => Problem::ListTooManyValues(text),
                };
                found.error(at, p);
                return false;
            }
        };
        let count = list.sets.len() as u64;
        self.note(at, Resolved::List(list.vars.join(","), count));
        if !self.fits(at, count, found) {
            return false;
        }
        for set in &list.sets {
            for (var, value) in list.vars.iter().zip(set) {
                self.set(var, value.clone());
            }
            if !self.take(at, rest.len(), found) {
                return false;
            }
            if self.process(at, rest.clone(), depth + 1, found, emit) {
                return true;
            }
        }
        false
    }

    /// Refuses a repetition of `count` lines that cannot fit the budget,
    /// before generating any of it.
    fn fits(&mut self, at: Span, count: u64, found: &mut Findings) -> bool {
        if count > self.lines_left as u64 {
            self.spent = true;
            found.error(at, Problem::ExpansionTooLarge(self.lines_budget_text()));
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests;
