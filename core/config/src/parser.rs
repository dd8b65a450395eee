//! Tokens to syntax tree: statements (`keyword values...`) with optional
//! `{ ... }` blocks, every word keeping its span.
//!
//! A statement is the words of one logical line. Its block's `{` may follow
//! on the same line or start a later one, as keepalived allows. List blocks
//! (`virtual_ipaddress { ... }`, `unicast_peer { ... }`) are read the same
//! way: each line is a statement whose "keyword" is the first item.
//!
//! The parser is iterative (an explicit stack of open blocks) and nesting is
//! capped at [`Limits::depth`]: blocks deeper than that are skipped whole,
//! so neither parsing nor dropping the tree can overflow the call stack.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Problem;
use crate::findings::Findings;
use crate::lexer::{Token, TokenKind};
use crate::limits::Limits;
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
    /// Its block, if one follows. Boxed: most statements have none, and
    /// the tree of a large configuration is mostly such statements.
    pub block: Option<alloc::boxed::Box<Block>>,
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

/// Builds the statement tree one token at a time, so that the reader never
/// holds the whole token list: each token becomes part of the tree as it is
/// lexed (at the cap, the list cost as much as the tree).
pub struct Builder {
    stack: Vec<Frame>,
    depth: usize,
    /// Logical line of the statement still taking values, if any.
    open_line: Option<u32>,
    /// Open braces inside a block skipped for depth.
    skipping: usize,
}

impl Builder {
    /// An empty tree, nesting capped at `limits.depth`.
    pub fn new(limits: &Limits) -> Self {
        Builder {
            stack: alloc::vec![Frame {
                owner: None,
                open: Span::default(),
                stmts: Vec::new()
            }],
            depth: limits.depth,
            open_line: None,
            skipping: 0,
        }
    }

    /// Adds the next token; brace problems go to `found`.
    pub fn push(&mut self, tok: Token, found: &mut Findings) {
        if self.skipping > 0 {
            match tok.kind {
                TokenKind::Open => self.skipping += 1,
                TokenKind::Close => self.skipping -= 1,
                TokenKind::Word { .. } => {}
            }
            self.open_line = None;
            return;
        }
        if matches!(tok.kind, TokenKind::Open) && self.stack.len() > self.depth {
            found.error(tok.span, Problem::TooDeep(self.depth));
            self.skipping = 1;
            return;
        }
        let Some(frame) = self.stack.last_mut() else {
            return;
        };
        match tok.kind {
            TokenKind::Word { text, quoted } => {
                let word = Word {
                    text,
                    quoted,
                    span: tok.span,
                };
                match frame.stmts.last_mut() {
                    Some(stmt) if self.open_line == Some(tok.line) => stmt.args.push(word),
                    last => {
                        // The previous statement is complete: drop the slack
                        // of its values (a Vec of one word holds four).
                        if let Some(prev) = last {
                            prev.args.shrink_to_fit();
                        }
                        frame.stmts.push(Stmt {
                            keyword: word,
                            args: Vec::new(),
                            block: None,
                        });
                        self.open_line = Some(tok.line);
                    }
                }
            }
            TokenKind::Open => {
                self.open_line = None;
                match frame.stmts.last() {
                    Some(s) if s.block.is_none() => {
                        let owner = frame.stmts.pop();
                        self.stack.push(Frame {
                            owner,
                            open: tok.span,
                            stmts: Vec::new(),
                        });
                    }
                    _ => {
                        // keepalived: "Unexpected '{' - ignoring" (the block too).
                        found.warn(tok.span, Problem::UnexpectedOpen);
                        // Keep braces balanced: an anonymous frame, dropped at '}'.
                        self.stack.push(Frame {
                            owner: None,
                            open: tok.span,
                            stmts: Vec::new(),
                        });
                    }
                }
            }
            TokenKind::Close => {
                self.open_line = None;
                if self.stack.len() == 1 {
                    // keepalived: "Extra '}' found", and carries on.
                    found.warn(tok.span, Problem::UnexpectedClose);
                } else {
                    close(&mut self.stack);
                }
            }
        }
    }

    /// The tree; unclosed blocks are closed here, each reported.
    pub fn finish(mut self, found: &mut Findings) -> Vec<Stmt> {
        while self.stack.len() > 1 {
            if let Some(Frame { owner: Some(s), .. }) = self.stack.last() {
                found.error(
                    s.keyword.span,
                    Problem::UnclosedBlock(s.keyword.text.clone()),
                );
            }
            close(&mut self.stack);
        }
        let mut top = self.stack.pop().map(|f| f.stmts).unwrap_or_default();
        if let Some(last) = top.last_mut() {
            last.args.shrink_to_fit();
        }
        top.shrink_to_fit();
        top
    }
}

/// Builds the statement tree. Brace problems are appended to `found`; the
/// tree is still built (unclosed blocks are closed at the end).
pub fn parse(tokens: Vec<Token>, limits: &Limits, found: &mut Findings) -> Vec<Stmt> {
    let mut b = Builder::new(limits);
    for tok in tokens {
        b.push(tok, found);
    }
    b.finish(found)
}

fn close(stack: &mut Vec<Frame>) {
    let Some(frame) = stack.pop() else { return };
    let Some(parent) = stack.last_mut() else {
        return;
    };
    if let Some(mut owner) = frame.owner {
        // The tree lives through validation: keep no growth slack in it.
        let mut stmts = frame.stmts;
        if let Some(last) = stmts.last_mut() {
            last.args.shrink_to_fit();
        }
        stmts.shrink_to_fit();
        owner.args.shrink_to_fit();
        owner.block = Some(alloc::boxed::Box::new(Block {
            open: frame.open,
            stmts,
        }));
        parent.stmts.push(owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::lex;

    fn tree_with(text: &str, limits: &Limits) -> (Vec<Stmt>, Vec<crate::findings::Found>) {
        let mut found = Findings::new(limits);
        let toks = lex(0, text, limits, &mut found);
        let t = parse(toks, limits, &mut found);
        (t, found.into_sorted())
    }

    fn tree(text: &str) -> (Vec<Stmt>, Vec<crate::findings::Found>) {
        tree_with(text, &Limits::DEFAULT)
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

    #[test]
    fn blocks_deeper_than_the_cap_are_skipped_whole() {
        let limits = Limits {
            depth: 2,
            ..Limits::DEFAULT
        };
        let (t, f) = tree_with("a {\n b {\n c {\n d { e }\n }\n x\n }\n y\n}\nz", &limits);
        assert_eq!(shape(&t), "a {b {c;x;};y;};z;");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].0.line, f[0].0.col), (3, 4));
        assert_eq!(f[0].1, Problem::TooDeep(2));
    }

    #[test]
    fn any_depth_parses_and_drops_without_recursion() {
        let text = "vrrp_instance {\n".repeat(200_000);
        let (t, f) = tree(&text);
        assert_eq!(t.len(), 1);
        let deep: Vec<_> = f
            .iter()
            .filter(|x| matches!(x.1, Problem::TooDeep(_)))
            .collect();
        assert_eq!(deep.len(), 1);
        assert_eq!(deep[0].0.line, Limits::DEFAULT.depth as u32 + 1);
    }
}
