//! `include PATTERN`: textual inclusion, as keepalived does it, anywhere a
//! line may start (even inside a block).
//!
//! Patterns are shell globs (see [`crate::glob`]) resolved relative to the
//! including file's directory (absolute ones as they are). Matches are taken
//! in byte order like glob(3) in the C locale. A pattern that matches nothing
//! is a warning (keepalived carries on); a plain path that cannot be read, a
//! cycle, or nesting deeper than [`MAX_DEPTH`] is an error.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Problem, Severity};
use crate::glob;
use crate::lexer::{lex, Token, TokenKind};
use crate::loader::Loader;
use crate::span::{FileId, Span};

/// Deepest include nesting accepted (the main file is level 0).
pub const MAX_DEPTH: usize = 8;

/// The names of the files taking part in one parse, indexed by [`FileId`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    files: Vec<String>,
}

impl SourceMap {
    /// The path of file `id` (empty if unknown).
    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(usize::from(id))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// All file paths, main file first.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    fn intern(&mut self, path: &str) -> Option<FileId> {
        if let Some(i) = self.files.iter().position(|f| f == path) {
            return FileId::try_from(i).ok();
        }
        let id = FileId::try_from(self.files.len()).ok()?;
        self.files.push(path.into());
        Some(id)
    }
}

/// A located problem found while reading.
pub type Found = (Span, Problem, Severity);

/// The token stream of a file with its includes spliced in.
#[derive(Debug, Default)]
pub struct Expanded {
    /// All tokens in reading order; `Token::line` is renumbered so that
    /// logical lines are distinct across files.
    pub tokens: Vec<Token>,
    /// The files read.
    pub sources: SourceMap,
}

/// Lexes `text` (the file `name`) and everything it includes.
pub fn expand(name: &str, text: &str, loader: &dyn Loader, found: &mut Vec<Found>) -> Expanded {
    let mut ex = Expanded::default();
    let mut state = State {
        loader,
        found,
        stack: Vec::new(),
        next_line: 0,
    };
    if let Some(id) = ex.sources.intern(&normalize(name)) {
        state.file(&mut ex, id, text);
    }
    ex
}

struct State<'a> {
    loader: &'a dyn Loader,
    found: &'a mut Vec<Found>,
    /// Paths of the files being read, outermost first.
    stack: Vec<String>,
    /// Last logical line number handed out.
    next_line: u32,
}

impl State<'_> {
    fn file(&mut self, ex: &mut Expanded, id: FileId, text: &str) {
        let path = String::from(ex.sources.name(id));
        self.stack.push(path.clone());
        let mut problems = Vec::new();
        let tokens = lex(id, text, &mut problems);
        self.found
            .extend(problems.into_iter().map(|(s, p)| (s, p, Severity::Error)));

        let mut i = 0;
        let mut prev_local: Option<u32> = None;
        while let Some(tok) = tokens.get(i) {
            let starts_line = prev_local != Some(tok.line);
            if starts_line {
                self.next_line = self.next_line.saturating_add(1);
            }
            prev_local = Some(tok.line);
            let is_include =
                matches!(&tok.kind, TokenKind::Word { text, quoted: false } if text == "include");
            if starts_line && is_include {
                let args: Vec<&Token> = tokens[i + 1..]
                    .iter()
                    .take_while(|t| t.line == tok.line)
                    .collect();
                i += 1 + args.len();
                self.include(ex, &path, tok.span, &args);
                // Whatever follows the include belongs to a new line.
                prev_local = None;
                continue;
            }
            let mut t = tok.clone();
            t.line = self.next_line;
            ex.tokens.push(t);
            i += 1;
        }
        self.stack.pop();
    }

    fn include(&mut self, ex: &mut Expanded, from: &str, at: Span, args: &[&Token]) {
        let pattern = match args.first().map(|t| &t.kind) {
            Some(TokenKind::Word { text, .. }) => text.clone(),
            _ => {
                self.found
                    .push((at, Problem::IncludeWithoutPath, Severity::Error));
                return;
            }
        };
        if let Some(extra) = args.get(1) {
            self.found.push((
                extra.span,
                Problem::ExtraValue(token_text(extra)),
                Severity::Warning,
            ));
        }
        let full = normalize(&join(parent(from), &pattern));
        let paths = if glob::has_wildcards(&full) {
            let mut m = self.glob(&full);
            m.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            if m.is_empty() {
                self.found.push((
                    at,
                    Problem::IncludeNoMatch(pattern.clone()),
                    Severity::Warning,
                ));
            }
            m
        } else {
            alloc::vec![full]
        };
        for path in paths {
            if self.stack.contains(&path) {
                self.found
                    .push((at, Problem::IncludeCycle(path), Severity::Error));
                continue;
            }
            if self.stack.len() > MAX_DEPTH {
                self.found
                    .push((at, Problem::IncludeTooDeep(path), Severity::Error));
                continue;
            }
            let text = match self.loader.read(&path) {
                Ok(t) => t,
                Err(e) => {
                    self.found
                        .push((at, Problem::Unreadable(path, e), Severity::Error));
                    continue;
                }
            };
            match ex.sources.intern(&path) {
                Some(id) => self.file(ex, id, &text),
                None => self
                    .found
                    .push((at, Problem::TooManyFiles, Severity::Error)),
            }
        }
    }

    /// Expands a normalized pattern component by component.
    fn glob(&self, pattern: &str) -> Vec<String> {
        let absolute = pattern.starts_with('/');
        let mut current: Vec<String> = alloc::vec![String::new()];
        let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
        for part in parts {
            let mut next = Vec::new();
            for base in &current {
                let prefix = match (absolute, base.is_empty()) {
                    (true, _) => alloc::format!("{base}/"),
                    (false, true) => String::new(),
                    (false, false) => alloc::format!("{base}/"),
                };
                if !glob::has_wildcards(part) {
                    next.push(alloc::format!("{prefix}{part}"));
                    continue;
                }
                let dir = match (absolute, base.is_empty()) {
                    (true, true) => String::from("/"),
                    (false, true) => String::from("."),
                    _ => base.clone(),
                };
                // Unreadable or non-directories simply match nothing (glob(3)).
                let Ok(mut names) = self.loader.list_dir(&dir) else {
                    continue;
                };
                names.sort_unstable();
                for name in names.into_iter().filter(|n| glob::matches(part, n)) {
                    next.push(alloc::format!("{prefix}{name}"));
                }
            }
            current = next;
        }
        current
    }
}

fn token_text(t: &Token) -> String {
    match &t.kind {
        TokenKind::Word { text, .. } => text.clone(),
        TokenKind::Open => "{".into(),
        TokenKind::Close => "}".into(),
    }
}

/// The directory part of a path ("" for a bare name).
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "",
    }
}

fn join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') || dir.is_empty() {
        rel.into()
    } else if dir.ends_with('/') {
        alloc::format!("{dir}{rel}")
    } else {
        alloc::format!("{dir}/{rel}")
    }
}

/// Removes `.` and empty components and folds `..` lexically, so that one
/// file has one name (for cycle detection).
fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            _ => parts.push(c),
        }
    }
    let body = parts.join("/");
    if absolute {
        alloc::format!("/{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            normalize("/etc/./keepalived//conf.d/../x.conf"),
            "/etc/keepalived/x.conf"
        );
        assert_eq!(normalize("a/../../b"), "../b");
        assert_eq!(normalize("/../b"), "/b");
        assert_eq!(parent("/etc/k.conf"), "/etc");
        assert_eq!(parent("/k.conf"), "/");
        assert_eq!(parent("k.conf"), "");
        assert_eq!(join("/etc", "conf.d/*.conf"), "/etc/conf.d/*.conf");
        assert_eq!(join("/etc", "/abs"), "/abs");
        assert_eq!(join("", "rel"), "rel");
    }
}
