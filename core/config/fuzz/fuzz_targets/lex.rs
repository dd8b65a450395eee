//! The lexer on arbitrary text: no panic, and every token within the caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_config::lexer::{lex, TokenKind};
use vigil_config::{Findings, Limits};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Small caps so that inputs of a few KiB reach them.
    let limits = Limits {
        line_bytes: 200,
        word_bytes: 40,
        reported: 8,
        ..Limits::DEFAULT
    };
    let mut found = Findings::new(&limits);
    let tokens = lex(0, &text, &limits, &mut found);
    let mut last_line = 0;
    for t in &tokens {
        assert!(t.span.line >= 1 && t.span.col >= 1);
        assert!(t.line >= last_line, "logical lines go forward");
        last_line = t.line;
        if let TokenKind::Word { text, .. } = &t.kind {
            assert!(text.len() <= limits.word_bytes);
        }
    }
    assert!(found.into_sorted().len() <= 2 * limits.reported + 1);
});
