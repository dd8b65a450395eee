//! Source positions: which file, which line, which column.

/// Index of a file in the [`crate::SourceMap`] of one parse.
pub type FileId = u16;

/// A position in the configuration text: 1-based line and column (columns
/// count characters, so UTF-8 text before a token does not shift it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file, as an index into the source map.
    pub file: FileId,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub col: u32,
}
