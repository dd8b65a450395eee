//! Tokens to syntax tree: statements (`keyword values...`) with optional
//! `{ ... }` blocks, every word keeping its span.
//!
//! A statement is the words of one logical line. Its block's `{` may follow
//! on the same line or start a later one, as keepalived allows. List blocks
//! (`virtual_ipaddress { ... }`, `unicast_peer { ... }`) are read the same
//! way: each line is a statement whose "keyword" is the first item.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Problem, Severity};
use crate::include::Found;
use crate::lexer::{Token, TokenKind};
use crate::span::Span;

/// A word of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text (without quotes).
    pub text: String,
    /// True if written in double quotes.
    pub quoted: bool,
    /// Where it starts.
    pub span: Span,
}

/// `keyword value... [{ statement... }]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// The first word.
    pub keyword: Word,
    /// The other words on its line.
    pub args: Vec<Word>,
    /// Its block, if one follows.
    pub block: Option<Block>,
}

/// A `{ ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Where the `{` is.
    pub open: Span,
    /// The statements inside.
    pub stmts: Vec<Stmt>,
}

struct Frame {
    owner: Option<Stmt>,
    open: Span,
    stmts: Vec<Stmt>,
}

/// Builds the statement tree. Brace problems are appended to `found`; the
/// tree is still built (unclosed blocks are closed at the end).
pub fn parse(tokens: Vec<Token>, found: &mut Vec<Found>) -> Vec<Stmt> {
    let mut stack: Vec<Frame> = alloc::vec![Frame {
        owner: None,
        open: Span::default(),
        stmts: Vec::new()
    }];
    // Logical line of the statement still taking values, if any.
    let mut open_line: Option<u32> = None;
    for tok in tokens {
        let Some(frame) = stack.last_mut() else { break };
        match tok.kind {
            TokenKind::Word { text, quoted } => {
                let word = Word {
                    text,
                    quoted,
                    span: tok.span,
                };
                match frame.stmts.last_mut() {
                    Some(stmt) if open_line == Some(tok.line) => stmt.args.push(word),
                    _ => {
                        frame.stmts.push(Stmt {
                            keyword: word,
                            args: Vec::new(),
                            block: None,
                        });
                        open_line = Some(tok.line);
                    }
                }
            }
            TokenKind::Open => {
                open_line = None;
                match frame.stmts.last() {
                    Some(s) if s.block.is_none() => {
                        let owner = frame.stmts.pop();
                        stack.push(Frame {
                            owner,
                            open: tok.span,
                            stmts: Vec::new(),
                        });
                    }
                    _ => {
                        found.push((tok.span, Problem::UnexpectedOpen, Severity::Error));
                        // Keep braces balanced: an anonymous frame, dropped at '}'.
                        stack.push(Frame {
                            owner: None,
                            open: tok.span,
                            stmts: Vec::new(),
                        });
                    }
                }
            }
            TokenKind::Close => {
                open_line = None;
                if stack.len() == 1 {
                    found.push((tok.span, Problem::UnexpectedClose, Severity::Error));
                } else {
                    close(&mut stack);
                }
            }
        }
    }
    while stack.len() > 1 {
        if let Some(Frame { owner: Some(s), .. }) = stack.last() {
            found.push((
                s.keyword.span,
                Problem::UnclosedBlock(s.keyword.text.clone()),
                Severity::Error,
            ));
        }
        close(&mut stack);
    }
    stack.pop().map(|f| f.stmts).unwrap_or_default()
}

fn close(stack: &mut Vec<Frame>) {
    let Some(frame) = stack.pop() else { return };
    let Some(parent) = stack.last_mut() else {
        return;
    };
    if let Some(mut owner) = frame.owner {
        owner.block = Some(Block {
            open: frame.open,
            stmts: frame.stmts,
        });
        parent.stmts.push(owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::lex;

    fn tree(text: &str) -> (Vec<Stmt>, Vec<Found>) {
        let mut p = Vec::new();
        let toks = lex(0, text, &mut p);
        let mut found = Vec::new();
        let t = parse(toks, &mut found);
        (t, found)
    }

    fn shape(stmts: &[Stmt]) -> String {
        let mut s = String::new();
        for st in stmts {
            s.push_str(&st.keyword.text);
            for a in &st.args {
                s.push(' ');
                s.push_str(&a.text);
            }
            if let Some(b) = &st.block {
                s.push_str(" {");
                s.push_str(&shape(&b.stmts));
                s.push('}');
            }
            s.push(';');
        }
        s
    }

    #[test]
    fn blocks_nest_and_braces_may_be_attached_or_on_the_next_line() {
        let (t, f) = tree("a 1 {\n b 2\n c\n {\n d\n }\n}\ne{f}g");
        assert!(f.is_empty());
        assert_eq!(shape(&t), "a 1 {b 2;c {d;};};e {f;};g;");
    }

    #[test]
    fn values_stop_at_the_end_of_the_line() {
        let (t, _) = tree("a 1 2\nb\n3");
        assert_eq!(shape(&t), "a 1 2;b;3;");
    }

    #[test]
    fn unclosed_block_is_reported_at_its_keyword() {
        let (t, f) = tree("x {\n  y {\n z\n}\n");
        assert_eq!(shape(&t), "x {y {z;};};");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0.line, 1);
        assert_eq!(f[0].1, Problem::UnclosedBlock("x".into()));
    }

    #[test]
    fn stray_braces() {
        let (t, f) = tree("}\n{ a }\nb");
        assert_eq!(shape(&t), "b;");
        assert_eq!(f[0].1, Problem::UnexpectedClose);
        assert_eq!(f[1].1, Problem::UnexpectedOpen);
        assert_eq!((f[1].0.line, f[1].0.col), (2, 1));
    }
}
