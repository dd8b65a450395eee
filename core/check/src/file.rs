//! FILE_CHECK's reading of a tracked file (keepalived 2.2.7 `track_file.c`,
//! `process_track_file` / `update_track_file_status`), sans-IO.

/// The number a tracked file holds, read as C's `strtol(buf, NULL, 0)` over
/// its first 127 bytes: leading blanks, a sign, `0x` hex or `0` octal,
/// digits up to the first other character; no digits is 0. A missing or
/// empty file is 0 too (the shell passes an empty slice). `None`: the
/// number is out of keepalived's range and the reading is ignored.
pub fn value(content: &[u8]) -> Option<i64> {
    let s = &content[..content.len().min(127)];
    let mut i = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(s.len());
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let hex_digit = s.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
    let radix = match (s.get(i), s.get(i + 1)) {
        (Some(b'0'), Some(b'x' | b'X')) if hex_digit => {
            i += 2;
            16
        }
        (Some(b'0'), _) => 8,
        _ => 10,
    };
    let mut n: i64 = 0;
    for &b in &s[i..] {
        let Some(d) = (b as char).to_digit(radix) else {
            break;
        };
        // strtol's ERANGE: keepalived ignores the reading.
        n = n.checked_mul(i64::from(radix))?.checked_add(i64::from(d))?;
    }
    let n = if neg { -n } else { n };
    (i64::from(i32::MIN)..=i64::from(i32::MAX) + 1)
        .contains(&n)
        .then_some(n)
}

/// What a value means for a FILE_CHECK: `None` is down (keepalived's
/// FAULT); `Some(d)` is up, with `d` added to the real server's weight.
/// Weight 0: a nonzero value is down (with `reverse`, a zero value), and
/// the weight is untouched. Otherwise `value * weight` (negated with
/// `reverse`), down only where it reaches `i32::MIN`.
pub fn verdict(value: i64, weight: i32, reverse: bool) -> Option<i64> {
    if weight == 0 {
        return ((value != 0) == reverse).then_some(0);
    }
    let mult = if reverse { -1 } else { 1 };
    let w = value
        .saturating_mul(i64::from(weight))
        .saturating_mul(mult)
        .clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    (w != i64::from(i32::MIN)).then_some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_strtol_base_0() {
        assert_eq!(value(b"0\n"), Some(0));
        assert_eq!(value(b"  42 junk"), Some(42));
        assert_eq!(value(b"-7"), Some(-7));
        assert_eq!(value(b"0x1f"), Some(31));
        assert_eq!(value(b"010"), Some(8));
        assert_eq!(value(b"up"), Some(0));
        assert_eq!(value(b""), Some(0));
        assert_eq!(value(b"0x"), Some(0));
        assert_eq!(value(b"2147483648"), Some(2_147_483_648));
        assert_eq!(value(b"2147483649"), None);
        assert_eq!(value(b"99999999999999999999"), None);
    }

    #[test]
    fn weight_zero_is_up_or_down() {
        assert_eq!(verdict(0, 0, false), Some(0));
        assert_eq!(verdict(3, 0, false), None);
        assert_eq!(verdict(0, 0, true), None);
        assert_eq!(verdict(3, 0, true), Some(0));
    }

    #[test]
    fn a_weight_scales_the_value() {
        assert_eq!(verdict(5, 10, false), Some(50));
        assert_eq!(verdict(5, 10, true), Some(-50));
        assert_eq!(verdict(0, 10, false), Some(0));
        assert_eq!(verdict(-1, i32::MAX, false), Some(-i64::from(i32::MAX)));
        assert_eq!(verdict(i64::from(i32::MIN), 1, false), None);
        assert_eq!(verdict(-2, i32::MAX, false), None);
    }
}
