//! Caps on everything a configuration can make the reader hold or do.
//!
//! A router has tens of MiB of memory; an `include /dev/zero`, a glob that
//! matches a log directory or a generated file gone wrong must be refused in
//! a fraction of a second, with the cap named, instead of exhausting it.
//! keepalived's real configurations are a few KB (the largest in the test
//! corpora is 3.3 KB, 485 words), so every default is far above what a real
//! configuration needs, and low enough that the worst input within them
//! peaks under 16 MiB of heap while read (`tests/mem_peak.rs`).

/// The caps applied while reading one configuration (main file and includes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file (text or binary), in bytes.
    pub file_bytes: usize,
    /// Largest sum of all files read for one configuration, in bytes.
    pub total_bytes: usize,
    /// Longest physical line, in bytes (the line is skipped).
    pub line_bytes: usize,
    /// Longest word or quoted string, in bytes.
    pub word_bytes: usize,
    /// Most tokens (words and braces) in all files together: what bounds the
    /// memory of the syntax tree and the model (about 200 bytes per token at
    /// worst, measured), whatever the bytes per token.
    pub tokens: usize,
    /// Deepest `{ }` nesting.
    pub depth: usize,
    /// Most files read for one configuration, the main one included.
    pub files: usize,
    /// Most errors listed, and separately most warnings; the rest are counted
    /// in one closing "N more" diagnostic.
    pub reported: usize,
}

impl Limits {
    /// The caps `vigil` applies (see the README, "Limits").
    pub const DEFAULT: Limits = Limits {
        file_bytes: 1 << 20,
        total_bytes: 4 << 20,
        line_bytes: 16 << 10,
        word_bytes: 4 << 10,
        tokens: 5 << 14,
        depth: 16,
        files: 1024,
        reported: 100,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
