//! keepalived.conf reader, validator, printer and compact binary form.
//!
//! No I/O happens here: files are reached through a caller-supplied
//! [`Loader`], and the result is a [`vigil_model::Config`] with every default
//! resolved, plus the warnings met on the way.
//!
//! ```text
//! text --preproc--> lines --lexer--> tokens --include--> tokens --parser--> AST --validate--> Config
//! Config --binary--> bytes --binary--> Config          Config --show--> text
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod binary;
mod crc32;
pub mod error;
pub mod findings;
pub mod glob;
pub mod include;
pub mod lexer;
pub mod limits;
pub mod loader;
pub mod pair;
pub mod parser;
pub mod preproc;
pub mod show;
pub mod span;
mod validate;
pub mod values;

pub use binary::{from_binary, from_own_binary, to_binary, BinaryError, Refusal, FORMAT_VERSION};
pub use error::{Diagnostic, Problem, Severity};
pub use findings::Findings;
pub use include::SourceMap;
pub use limits::Limits;
pub use loader::{LoadError, Loader, MemoryLoader};
pub use show::show;
pub use validate::{effective_preempt, vmac_name};

use alloc::string::String;
use alloc::vec::Vec;
use vigil_model::Config;

/// How to read a configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options<'a> {
    /// Strict mode: unknown keywords are errors, not warnings.
    pub strict: bool,
    /// The config id that `@ID` conditional lines are compared with
    /// (keepalived's `-i`; the caller supplies the default, the host name up
    /// to its first dot). `None`: every `@ID` line is skipped and every
    /// `@^ID` line kept.
    pub config_id: Option<&'a str>,
    /// Add a [`Severity::Note`] for each conditional line, parameter
    /// definition and `~SEQ` (what `vigil check -D` prints).
    pub detail: bool,
    /// Seed of `${_RANDOM}` (keepalived seeds it with the time; the core
    /// reads no clock, so the caller does). `None`: a fixed seed. A
    /// `random_seed N` in `global_defs` overrides it.
    pub random_seed: Option<u64>,
}

/// A configuration and the warnings met while reading it.
pub type Loaded = (Config, Vec<Diagnostic>);

/// Reads and validates the configuration file at `path` (and its includes).
/// `Err` holds every diagnostic (errors and warnings) in file order.
pub fn parse_file(
    loader: &dyn Loader,
    path: &str,
    opts: Options,
) -> Result<Loaded, Vec<Diagnostic>> {
    match loader.read(path, Limits::DEFAULT.file_bytes) {
        Ok(text) => parse_text(path, &text, loader, opts),
        Err(e) => Err(alloc::vec![Diagnostic {
            severity: Severity::Error,
            file: path.into(),
            line: 1,
            col: 1,
            problem: Problem::Unreadable(path.into(), e),
        }]),
    }
}

/// Reads and validates `text`, the content of the file `name`; includes are
/// resolved relative to `name` through `loader`.
pub fn parse_text(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    opts: Options,
) -> Result<Loaded, Vec<Diagnostic>> {
    parse_text_with(name, text, loader, opts, &Limits::DEFAULT)
}

/// [`parse_text`] under other caps than [`Limits::DEFAULT`].
pub fn parse_text_with(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    opts: Options,
    limits: &Limits,
) -> Result<Loaded, Vec<Diagnostic>> {
    let first = parse_once(name, text, loader, opts, limits);
    // `global_defs { random_seed N }` seeds `${_RANDOM}` (keepalived.conf(5)):
    // the keyword is only known once the text is read, so a configuration
    // that sets another seed than the one used is read once more with it
    // (once: a seed that is itself random does not loop).
    let wanted = match &first {
        Ok((c, _)) => c.global.random_seed.map(u64::from),
        Err(_) => None,
    };
    match wanted {
        Some(seed) if opts.random_seed != Some(seed) => {
            let opts = Options {
                random_seed: Some(seed),
                ..opts
            };
            parse_once(name, text, loader, opts, limits)
        }
        _ => first,
    }
}

fn parse_once(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    opts: Options,
    limits: &Limits,
) -> Result<Loaded, Vec<Diagnostic>> {
    let mut found = Findings::new(limits);
    let mut pre = preproc::Preproc::new(opts.config_id, opts.detail, limits);
    pre.set_random_seed(opts.random_seed.unwrap_or(0));
    // Each stage is dropped before the next grows: tokens go into the tree
    // as they are lexed, and the validator frees each top-level block of
    // the tree once read (tests/mem_peak.rs measures the peak).
    let mut tree = parser::Builder::new(limits);
    let sources = include::expand_into(name, text, loader, limits, &mut found, &mut pre, &mut tree);
    for (at, r) in pre.into_notes() {
        found.push((at, Problem::Resolved(r), Severity::Note));
    }
    let stmts = tree.finish(&mut found);
    let config = validate::validate(stmts, opts.strict, &mut found);
    // Stable order: by position as read (file order of first appearance).
    let diags: Vec<Diagnostic> = found
        .into_sorted()
        .into_iter()
        .map(|(span, problem, severity)| Diagnostic {
            severity,
            file: String::from(sources.name(span.file)),
            line: span.line,
            col: span.col,
            problem,
        })
        .collect();
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok((config, diags))
    }
}

/// Why [`load_any`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadAnyError {
    /// The bytes are a binary configuration that is refused.
    Binary(BinaryError),
    /// The bytes are text with errors (or not UTF-8).
    Text(Vec<Diagnostic>),
}

impl core::fmt::Display for LoadAnyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadAnyError::Binary(e) => write!(f, "{e}"),
            LoadAnyError::Text(d) => {
                for (i, d) in d.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
        }
    }
}

/// Loads either form: bytes starting with the binary magic are decoded,
/// anything else is parsed as keepalived.conf text named `name`.
pub fn load_any(
    bytes: &[u8],
    name: &str,
    loader: &dyn Loader,
    opts: Options,
) -> Result<Loaded, LoadAnyError> {
    if binary::is_binary(bytes) {
        return from_binary(bytes)
            .map(|c| (c, Vec::new()))
            .map_err(LoadAnyError::Binary);
    }
    match core::str::from_utf8(bytes) {
        Ok(text) => parse_text(name, text, loader, opts).map_err(LoadAnyError::Text),
        Err(e) => {
            // Point at the first bad byte.
            let good = bytes.get(..e.valid_up_to()).unwrap_or(&[]);
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let col = core::str::from_utf8(good.get(line_start..).unwrap_or(&[]))
                .map_or(0, |s| s.chars().count())
                + 1;
            Err(LoadAnyError::Text(alloc::vec![Diagnostic {
                severity: Severity::Error,
                file: name.into(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                col: u32::try_from(col).unwrap_or(u32::MAX),
                problem: Problem::NotUtf8,
            }]))
        }
    }
}
