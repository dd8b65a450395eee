//! The whole text path (lexer, includes, parser, validator) on arbitrary
//! text: no panic, the same result twice, and an accepted configuration
//! printed by `show` reads back to the same model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_config::{parse_text, show, MemoryLoader, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loader = MemoryLoader::new();
    for strict in [false, true] {
        let opts = Options { strict, ..Options::default() };
        let first = parse_text("f.conf", text, &loader, opts);
        assert_eq!(first, parse_text("f.conf", text, &loader, opts));
        if let Ok((config, _)) = first {
            let shown = show(&config);
            match parse_text("shown.conf", &shown, &loader, Options::default()) {
                Ok((again, _)) => assert_eq!(again, config, "show round trip:\n{shown}"),
                Err(e) => panic!("show output refused: {e:?}\n{shown}"),
            }
        }
    }
});
