//! A minimal JSON writer: commas and string escaping are handled in one
//! place, so the hand-built status document is valid by construction.

use core::fmt::{self, Write};

/// Builds one JSON document into a `String`.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
    /// A value was just completed at this nesting level, so the next value
    /// (or key) needs a comma first.
    need_comma: bool,
}

impl Writer {
    pub(crate) fn begin_object(&mut self) {
        self.open('{');
    }

    pub(crate) fn end_object(&mut self) {
        self.close('}');
    }

    pub(crate) fn begin_array(&mut self) {
        self.open('[');
    }

    pub(crate) fn end_array(&mut self) {
        self.close(']');
    }

    /// An object key; the value follows.
    pub(crate) fn key(&mut self, key: &str) {
        self.comma();
        escape_into(&mut self.out, key);
        self.out.push(':');
        self.need_comma = false;
    }

    pub(crate) fn string(&mut self, value: &str) {
        self.comma();
        escape_into(&mut self.out, value);
        self.need_comma = true;
    }

    /// A number, `true`, `false` or `null`, written by its `Display`.
    pub(crate) fn raw(&mut self, value: impl fmt::Display) {
        self.comma();
        let _ = write!(self.out, "{value}");
        self.need_comma = true;
    }

    /// `key` followed by a string value, or `null`.
    pub(crate) fn field_str(&mut self, key: &str, value: Option<&str>) {
        self.key(key);
        match value {
            Some(v) => self.string(v),
            None => self.raw("null"),
        }
    }

    /// `key` followed by a raw value.
    pub(crate) fn field(&mut self, key: &str, value: impl fmt::Display) {
        self.key(key);
        self.raw(value);
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    fn open(&mut self, c: char) {
        self.comma();
        self.out.push(c);
        self.need_comma = false;
    }

    fn close(&mut self, c: char) {
        self.out.push(c);
        self.need_comma = true;
    }

    fn comma(&mut self) {
        if self.need_comma {
            self.out.push(',');
        }
    }
}

/// Append `s` as a quoted JSON string (RFC 8259 section 7). Non-ASCII text
/// stays UTF-8; U+2028/U+2029 are escaped too so the output also embeds
/// safely in JavaScript.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, s);
        out
    }

    #[test]
    fn escapes_quotes_backslashes_and_controls() {
        assert_eq!(escaped(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(escaped("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(escaped("\u{0}\u{1f}\u{7f}"), "\"\\u0000\\u001f\u{7f}\"");
        assert_eq!(escaped("é\u{2028}"), "\"é\\u2028\"");
    }

    #[test]
    fn commas_go_between_members_only() {
        let mut w = Writer::default();
        w.begin_object();
        w.field("a", 1);
        w.key("b");
        w.begin_array();
        w.raw(2);
        w.begin_object();
        w.end_object();
        w.string("x");
        w.end_array();
        w.field_str("c", None);
        w.end_object();
        assert_eq!(w.finish(), r#"{"a":1,"b":[2,{},"x"],"c":null}"#);
    }
}
