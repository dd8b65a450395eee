//! keepalived.conf lexer: words, quoted strings and braces, with spans.
//!
//! keepalived reads its configuration line by line, so the lexer keeps the
//! line structure: every token records the *logical* line it belongs to (a
//! line ending in `\` continues on the next one). Rules, as keepalived applies
//! them:
//! - `#` and `!` start a comment anywhere outside double quotes, even inside a
//!   word (`\#` and `\!` stand for the characters themselves);
//! - `{` and `}` are tokens of their own wherever they appear outside quotes,
//!   so `vrrp_instance VI_1{` and `}}` work;
//! - `"..."` is one word without the quotes and ends on the same line.
//!
//! A line longer than [`Limits::line_bytes`] is skipped and a word longer
//! than [`Limits::word_bytes`] dropped, each with an error, so the cost of a
//! line stays bounded whatever the file holds.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Problem;
use crate::findings::Findings;
use crate::limits::Limits;
use crate::preproc::Preproc;
use crate::span::{FileId, Span};

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A word or a quoted string (without its quotes).
    Word {
        /// The text.
        text: String,
        /// True if it was written in double quotes.
        quoted: bool,
    },
    /// `{`
    Open,
    /// `}`
    Close,
}

/// A token with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it starts.
    pub span: Span,
    /// Logical line number (a statement's keyword and values share it).
    pub line: u32,
}

/// Splits `text` (the content of file `file`) into tokens. Problems (an
/// unterminated quote, a cap exceeded) are errors in `found`; lexing carries
/// on, except past [`Limits::tokens`].
pub fn lex(file: FileId, text: &str, limits: &Limits, found: &mut Findings) -> Vec<Token> {
    let mut budget = limits.tokens;
    lex_within(file, text, limits, &mut budget, found)
}

/// [`lex`] with at most `*budget` tokens; the tokens taken are deducted.
pub fn lex_within(
    file: FileId,
    text: &str,
    limits: &Limits,
    budget: &mut usize,
    found: &mut Findings,
) -> Vec<Token> {
    let mut pre = Preproc::new(None, false, limits);
    let mut lx = LineLexer::new(limits, *budget);
    let mut tokens = Vec::new();
    for (line_no, line) in physical_lines(text) {
        let at = Span {
            file,
            line: line_no,
            col: 1,
        };
        if line.len() > limits.line_bytes {
            found.error(at, Problem::LineTooLong(limits.line_bytes));
            lx.break_line();
            continue;
        }
        pre.feed(at, line, found, &mut |found, line_no, text| {
            lx.line(found, &mut tokens, file, line_no, text)
        });
        if lx.stopped() {
            break;
        }
    }
    *budget = budget.saturating_sub(lx.taken());
    // Give back the growth slack: the token list is the largest buffer.
    tokens.shrink_to_fit();
    tokens
}

/// The physical lines of `text` with their 1-based numbers, without line ends.
pub fn physical_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.split('\n').enumerate().map(|(index, raw)| {
        let line_no = u32::try_from(index)
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1);
        (line_no, raw.strip_suffix('\r').unwrap_or(raw))
    })
}

/// Lexes lines one at a time into a caller's token list, numbering logical
/// lines (a line ending in `\` continues on the next) and keeping the total
/// within a token budget shared by every file of a configuration.
#[derive(Debug)]
pub struct LineLexer {
    word_bytes: usize,
    cap: usize,
    budget: usize,
    taken: usize,
    /// The logical line number last handed out.
    logical: u32,
    /// The last line ended with a continuation `\`.
    continued: bool,
    /// The token budget is spent.
    stopped: bool,
}

impl LineLexer {
    /// A lexer allowed `budget` tokens in all.
    pub fn new(limits: &Limits, budget: usize) -> Self {
        LineLexer {
            word_bytes: limits.word_bytes,
            cap: limits.tokens,
            budget,
            taken: 0,
            logical: 0,
            continued: false,
            stopped: false,
        }
    }

    /// Tokens taken so far.
    pub fn taken(&self) -> usize {
        self.taken
    }

    /// True once the budget is spent (reported once).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The next line starts a new logical line whatever this one ended with.
    pub fn break_line(&mut self) {
        self.continued = false;
    }

    /// Lexes one line into `out`; true to stop (the budget is spent).
    pub fn line(
        &mut self,
        found: &mut Findings,
        out: &mut Vec<Token>,
        file: FileId,
        line_no: u32,
        text: &str,
    ) -> bool {
        if self.stopped {
            return true;
        }
        if !self.continued {
            self.logical = self.logical.saturating_add(1);
        }
        let before = out.len();
        let mut lx = Lexer {
            file,
            word_bytes: self.word_bytes,
            out,
        };
        self.continued = lx.line(found, line_no, self.logical, text);
        let added = out.len() - before;
        if self.taken + added > self.budget {
            let keep = before + (self.budget - self.taken);
            let at = out.get(keep).map_or(
                Span {
                    file,
                    line: line_no,
                    col: 1,
                },
                |t| t.span,
            );
            out.truncate(keep);
            self.taken = self.budget;
            found.error(at, Problem::TooManyTokens(self.cap));
            self.stopped = true;
            return true;
        }
        self.taken += added;
        false
    }
}

struct Lexer<'a> {
    file: FileId,
    word_bytes: usize,
    out: &'a mut Vec<Token>,
}

impl Lexer<'_> {
    /// Adds a word unless it is over the cap.
    fn word(&mut self, found: &mut Findings, text: String, quoted: bool, span: Span, line: u32) {
        if text.len() > self.word_bytes {
            found.error(span, Problem::WordTooLong(self.word_bytes));
            return;
        }
        self.out.push(Token {
            kind: TokenKind::Word { text, quoted },
            span,
            line,
        });
    }

    /// Lexes one physical line; returns true if it ends with a continuation `\`.
    fn line(&mut self, found: &mut Findings, line_no: u32, logical: u32, line: &str) -> bool {
        let file = self.file;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let span_at = |i: usize| Span {
            file,
            line: line_no,
            col: u32::try_from(i).unwrap_or(u32::MAX - 1).saturating_add(1),
        };
        while let Some(&c) = chars.get(i) {
            match c {
                ' ' | '\t' | '\x0b' | '\x0c' => i += 1,
                '#' | '!' => break,
                '{' | '}' => {
                    let kind = if c == '{' {
                        TokenKind::Open
                    } else {
                        TokenKind::Close
                    };
                    self.out.push(Token {
                        kind,
                        span: span_at(i),
                        line: logical,
                    });
                    i += 1;
                }
                '"' => {
                    let rest = chars.get(i + 1..).unwrap_or(&[]);
                    let end = rest.iter().position(|&c| c == '"');
                    let text: String = rest.iter().take(end.unwrap_or(rest.len())).collect();
                    self.word(found, text, true, span_at(i), logical);
                    match end {
                        Some(len) => i += len + 2,
                        None => {
                            found.error(span_at(i), Problem::UnterminatedQuote);
                            return false;
                        }
                    }
                }
                '\\' if chars.get(i + 1).is_none() => return true,
                _ => {
                    let start = i;
                    let mut text = String::new();
                    while let Some(&c) = chars.get(i) {
                        match c {
                            ' ' | '\t' | '\x0b' | '\x0c' | '#' | '!' | '{' | '}' | '"' => break,
                            '\\' => match chars.get(i + 1) {
                                Some(&e @ ('#' | '!')) => {
                                    text.push(e);
                                    i += 2;
                                }
                                // A trailing backslash continues the line: end the word here.
                                None => break,
                                Some(_) => {
                                    text.push('\\');
                                    i += 1;
                                }
                            },
                            _ => {
                                text.push(c);
                                i += 1;
                            }
                        }
                    }
                    self.word(found, text, false, span_at(start), logical);
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, u32, u32, u32)> {
        let mut found = Findings::new(&Limits::DEFAULT);
        let toks = lex(0, text, &Limits::DEFAULT, &mut found);
        let problems = found.into_sorted();
        assert!(problems.is_empty(), "{problems:?}");
        toks.into_iter()
            .map(|t| {
                let s = match t.kind {
                    TokenKind::Word {
                        text,
                        quoted: false,
                    } => text,
                    TokenKind::Word { text, quoted: true } => alloc::format!("\"{text}\""),
                    TokenKind::Open => "{".into(),
                    TokenKind::Close => "}".into(),
                };
                (s, t.span.line, t.span.col, t.line)
            })
            .collect()
    }

    #[test]
    fn words_braces_and_columns() {
        let w = words("vrrp_instance VI_1{\n  state MASTER }}");
        let got: Vec<_> = w.iter().map(|(s, l, c, _)| (s.as_str(), *l, *c)).collect();
        assert_eq!(
            got,
            [
                ("vrrp_instance", 1, 1),
                ("VI_1", 1, 15),
                ("{", 1, 19),
                ("state", 2, 3),
                ("MASTER", 2, 9),
                ("}", 2, 16),
                ("}", 2, 17)
            ]
        );
    }

    #[test]
    fn comments_anywhere_and_escapes() {
        let w =
            words("priority 100 # 优先级\nstate BACKUP! x\nauth_pass a\\#b#c\n# whole\n! whole");
        let got: Vec<_> = w.iter().map(|(s, ..)| s.as_str()).collect();
        assert_eq!(
            got,
            ["priority", "100", "state", "BACKUP", "auth_pass", "a#b"]
        );
    }

    #[test]
    fn columns_count_characters_after_utf8() {
        // The comment is on the previous line; here UTF-8 precedes nothing,
        // but a quoted UTF-8 string shifts the next column by characters.
        let w = words("x \"é\" y");
        assert_eq!(w[2].2, 7);
    }

    #[test]
    fn quoted_strings_keep_blanks_and_hashes() {
        let w = words("notify \"/bin/x.sh a # b\" root");
        assert_eq!(w[1].0, "\"/bin/x.sh a # b\"");
        assert_eq!(w[2].0, "root");
    }

    #[test]
    fn backslash_continues_the_logical_line() {
        let w = words("a b \\\n c\nd");
        let lines: Vec<_> = w.iter().map(|(s, _, _, l)| (s.as_str(), *l)).collect();
        assert_eq!(lines, [("a", 1), ("b", 1), ("c", 1), ("d", 2)]);
    }

    #[test]
    fn unterminated_quote_is_reported_with_its_column() {
        let mut found = Findings::new(&Limits::DEFAULT);
        let toks = lex(3, "script \"/bin/x", &Limits::DEFAULT, &mut found);
        assert_eq!(toks.len(), 2);
        assert_eq!(
            found.into_sorted(),
            [(
                Span {
                    file: 3,
                    line: 1,
                    col: 8
                },
                Problem::UnterminatedQuote,
                crate::error::Severity::Error
            )]
        );
    }

    #[test]
    fn long_lines_and_words_are_skipped_with_an_error() {
        let limits = Limits {
            line_bytes: 16,
            word_bytes: 4,
            ..Limits::DEFAULT
        };
        let mut found = Findings::new(&limits);
        let toks = lex(
            0,
            "a bcdef \"ghijk\"\nxxxxxxxxxxxxxxxxx\nok",
            &limits,
            &mut found,
        );
        let texts: Vec<_> = toks
            .iter()
            .map(|t| match &t.kind {
                TokenKind::Word { text, .. } => text.as_str(),
                _ => "?",
            })
            .collect();
        assert_eq!(texts, ["a", "ok"]);
        let got: Vec<_> = found
            .into_sorted()
            .into_iter()
            .map(|(s, p, _)| (s.line, s.col, p))
            .collect();
        assert_eq!(
            got,
            [
                (1, 3, Problem::WordTooLong(4)),
                (1, 9, Problem::WordTooLong(4)),
                (2, 1, Problem::LineTooLong(16))
            ]
        );
    }

    #[test]
    fn crlf_line_ends() {
        let w = words("a\r\nb\r\n");
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].0, "b");
    }
}
