//! `include PATTERN`: textual inclusion, as keepalived does it, anywhere a
//! line may start (even inside a block).
//!
//! Patterns are shell globs (see [`crate::glob`]) resolved relative to the
//! including file's directory (absolute ones as they are). Matches are taken
//! in byte order like glob(3) in the C locale. A pattern that matches nothing
//! is a warning (keepalived carries on); a plain path that cannot be read, a
//! cycle, or nesting deeper than [`MAX_DEPTH`] is an error.
//!
//! Every file is read through [`Loader::read`] with the bytes it may still
//! have ([`Limits::file_bytes`], and what is left of [`Limits::total_bytes`]),
//! and at most [`Limits::files`] files are read, so no include, glob or
//! special file can make the reader hold more than the caps.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Problem;
use crate::findings::Findings;
pub use crate::findings::Found;
use crate::glob;
use crate::lexer::{physical_lines, LineLexer, Token, TokenKind};
use crate::limits::Limits;
use crate::loader::{LoadError, Loader};
use crate::parser::Builder;
use crate::preproc::Preproc;
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
pub fn expand(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    limits: &Limits,
    found: &mut Findings,
) -> Expanded {
    let mut pre = Preproc::new(None, false, limits);
    expand_pre(name, text, loader, limits, found, &mut pre)
}

/// [`expand`] with keepalived's preprocessor `pre` (config id, parameters).
pub fn expand_pre(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    limits: &Limits,
    found: &mut Findings,
    pre: &mut Preproc,
) -> Expanded {
    expand_with(name, text, loader, limits, found, pre, None)
}

/// [`expand_pre`] that hands each line's tokens to `tree` as they are
/// lexed instead of keeping them: the result's `tokens` stay empty, and the
/// reader holds one line of tokens at a time.
pub fn expand_into(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    limits: &Limits,
    found: &mut Findings,
    pre: &mut Preproc,
    tree: &mut Builder,
) -> SourceMap {
    expand_with(name, text, loader, limits, found, pre, Some(tree)).sources
}

fn expand_with(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    limits: &Limits,
    found: &mut Findings,
    pre: &mut Preproc,
    tree: Option<&mut Builder>,
) -> Expanded {
    let mut ex = Expanded::default();
    let mut state = State {
        pre,
        loader,
        limits,
        found,
        stack: Vec::new(),
        lx: LineLexer::new(limits, limits.tokens),
        files: 1,
        bytes: text.len(),
        tree,
    };
    let Some(id) = ex.sources.intern(&normalize(name)) else {
        return ex;
    };
    if text.len() > limits.file_bytes {
        let at = Span {
            file: id,
            line: 1,
            col: 1,
        };
        let p = Problem::Unreadable(name.into(), LoadError::TooLarge(limits.file_bytes));
        state.found.error(at, p);
        return ex;
    }
    state.file(&mut ex, id, text);
    ex
}

struct State<'a> {
    pre: &'a mut Preproc,
    loader: &'a dyn Loader,
    limits: &'a Limits,
    found: &'a mut Findings,
    /// Files read so far, the main one included.
    files: usize,
    /// Bytes read so far, the main file included.
    bytes: usize,
    /// Paths of the files being read, outermost first.
    stack: Vec<String>,
    /// The lexer shared by all files (logical lines, token budget).
    lx: LineLexer,
    /// Where tokens go as they are lexed; `None`: kept in `Expanded`.
    tree: Option<&'a mut Builder>,
}

impl State<'_> {
    /// Reads one file line by line: each line goes through the preprocessor,
    /// and an `include` line it lets through is read there and then, so
    /// parameters and conditionals apply across files in reading order.
    fn file(&mut self, ex: &mut Expanded, id: FileId, text: &str) {
        let path = String::from(ex.sources.name(id));
        self.stack.push(path.clone());
        self.pre.set_pwd(parent(&path));
        let mut lines: Vec<(u32, String)> = Vec::new();
        for (line_no, line) in physical_lines(text) {
            let at = Span {
                file: id,
                line: line_no,
                col: 1,
            };
            if line.len() > self.limits.line_bytes {
                self.found
                    .error(at, Problem::LineTooLong(self.limits.line_bytes));
                self.lx.break_line();
                continue;
            }
            self.pre.feed(at, line, self.found, &mut |_, n, t| {
                lines.push((n, t.into()));
                false
            });
            for (n, t) in lines.drain(..) {
                if is_include(&t) {
                    let mut toks = Vec::new();
                    let mut one = LineLexer::new(self.limits, usize::MAX);
                    one.line(self.found, &mut toks, id, n, &t);
                    let at = toks.first().map_or(at, |t| t.span);
                    self.include(ex, &path, at, toks.get(1..).unwrap_or(&[]));
                    self.pre.set_pwd(parent(&path));
                    self.lx.break_line();
                    continue;
                }
                let stop = self.lx.line(self.found, &mut ex.tokens, id, n, &t);
                if let Some(tree) = self.tree.as_deref_mut() {
                    for tok in ex.tokens.drain(..) {
                        tree.push(tok, self.found);
                    }
                }
                if stop {
                    self.stack.pop();
                    return;
                }
            }
        }
        self.pre.end_file();
        self.stack.pop();
    }

    fn include(&mut self, ex: &mut Expanded, from: &str, at: Span, args: &[Token]) {
        let pattern = match args.first().map(|t| &t.kind) {
            Some(TokenKind::Word { text, .. }) => text.clone(),
            _ => {
                // keepalived skips it as an unknown keyword.
                self.found.warn(at, Problem::IncludeWithoutPath);
                return;
            }
        };
        if let Some(extra) = args.get(1) {
            self.found
                .warn(extra.span, Problem::ExtraValue(token_text(extra)));
        }
        let full = normalize(&join(parent(from), &pattern));
        let paths = if glob::has_wildcards(&full) {
            let Some(mut m) = self.glob(&full) else {
                self.found
                    .error(at, Problem::TooManyFiles(self.limits.files));
                return;
            };
            m.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            if m.is_empty() {
                self.found
                    .warn(at, Problem::IncludeNoMatch(pattern.clone()));
            }
            m
        } else {
            alloc::vec![full]
        };
        for path in paths {
            if self.stack.contains(&path) {
                self.found.error(at, Problem::IncludeCycle(path));
                continue;
            }
            if self.stack.len() > MAX_DEPTH {
                self.found.error(at, Problem::IncludeTooDeep(path));
                continue;
            }
            if self.files >= self.limits.files {
                // The rest of this include would be refused the same way.
                self.found
                    .error(at, Problem::TooManyFiles(self.limits.files));
                return;
            }
            let left = self.limits.total_bytes.saturating_sub(self.bytes);
            let limit = left.min(self.limits.file_bytes);
            let text = match self.loader.read(&path, limit) {
                Ok(t) if t.len() <= limit => t,
                Ok(_) | Err(LoadError::TooLarge(_)) if limit < self.limits.file_bytes => {
                    let p = Problem::TotalTooLarge(self.limits.total_bytes, path);
                    self.found.error(at, p);
                    return;
                }
                Ok(_) => {
                    let p = Problem::Unreadable(path, LoadError::TooLarge(limit));
                    self.found.error(at, p);
                    continue;
                }
                Err(e) => {
                    self.found.error(at, Problem::Unreadable(path, e));
                    continue;
                }
            };
            self.files += 1;
            self.bytes += text.len();
            match ex.sources.intern(&path) {
                Some(id) => self.file(ex, id, &text),
                None => self
                    .found
                    .error(at, Problem::TooManyFiles(usize::from(FileId::MAX))),
            }
        }
    }

    /// Expands a normalized pattern component by component; `None` if a
    /// level has more than [`Limits::files`] candidates (a glob over a big
    /// tree, which would be refused anyway).
    fn glob(&self, pattern: &str) -> Option<Vec<String>> {
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
                if next.len() > self.limits.files {
                    return None;
                }
            }
            current = next;
        }
        Some(current)
    }
}

fn token_text(t: &Token) -> String {
    match &t.kind {
        TokenKind::Word { text, .. } => text.clone(),
        TokenKind::Open => "{".into(),
        TokenKind::Close => "}".into(),
    }
}

/// keepalived's test: the line starts with the word `include`.
fn is_include(line: &str) -> bool {
    line.trim_start_matches([' ', '\t'])
        .strip_prefix("include")
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
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
