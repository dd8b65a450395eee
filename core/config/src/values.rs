//! Scalar values as keepalived writes them: integers, decimal seconds, IP
//! addresses, booleans and shell-like command lines.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

/// A decimal integer with an optional sign; `None` if it is not one.
pub fn int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

/// Decimal seconds (`1`, `0.5`, `.25`, `3.000001`), exact to the nanosecond
/// (at most 9 fraction digits).
pub fn duration(text: &str) -> Option<Duration> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if frac.len() > 9
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut secs: u64 = 0;
    for b in whole.bytes() {
        secs = secs.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    let mut nanos: u32 = 0;
    for i in 0..9 {
        let d = frac.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + d;
    }
    Some(Duration::new(secs, nanos))
}

/// Formats a duration as the shortest exact decimal seconds.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.subsec_nanos();
    if nanos == 0 {
        return alloc::format!("{}", d.as_secs());
    }
    let frac = alloc::format!("{nanos:09}");
    alloc::format!("{}.{}", d.as_secs(), frac.trim_end_matches('0'))
}

/// An IPv4 or IPv6 address.
pub fn ip(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

/// keepalived's booleans: on/off, true/false, yes/no.
pub fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// The prefix length of an IPv4 netmask such as 255.255.255.0 (contiguous
/// ones only).
pub fn netmask_prefix(text: &str) -> Option<u8> {
    let IpAddr::V4(mask) = ip(text)? else {
        return None;
    };
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// The IPv4 netmask of a prefix length (0..=32).
pub fn prefix_netmask(prefix: u8) -> core::net::Ipv4Addr {
    let bits = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    core::net::Ipv4Addr::from(bits)
}

/// Splits a command line into words (see [`vigil_model::split_words`]).
pub fn split_command(text: &str) -> Vec<String> {
    vigil_model::split_words(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(int("100"), Some(100));
        assert_eq!(int("-30"), Some(-30));
        assert_eq!(int("+5"), Some(5));
        assert_eq!(int(""), None);
        assert_eq!(int("-"), None);
        assert_eq!(int("1e3"), None);
        assert_eq!(int("99999999999999999999"), None);
    }

    #[test]
    fn durations_are_exact() {
        assert_eq!(duration("1"), Some(Duration::from_secs(1)));
        assert_eq!(duration("0.1"), Some(Duration::from_millis(100)));
        assert_eq!(duration(".25"), Some(Duration::from_millis(250)));
        assert_eq!(duration("3.000001"), Some(Duration::from_micros(3_000_001)));
        assert_eq!(duration("1.000000001"), Some(Duration::new(1, 1)));
        assert_eq!(duration("1.0000000001"), None);
        assert_eq!(duration("-1"), None);
        assert_eq!(duration("."), None);
        assert_eq!(duration("1s"), None);
        for s in ["0", "1", "0.1", "40.95", "0.000001", "12.5"] {
            assert_eq!(format_duration(duration(s).unwrap()), s);
        }
    }

    #[test]
    fn masks() {
        assert_eq!(netmask_prefix("255.255.255.0"), Some(24));
        assert_eq!(netmask_prefix("0.0.0.0"), Some(0));
        assert_eq!(netmask_prefix("255.255.255.255"), Some(32));
        assert_eq!(netmask_prefix("255.0.255.0"), None);
        assert_eq!(prefix_netmask(24).to_string(), "255.255.255.0");
        assert_eq!(prefix_netmask(0).to_string(), "0.0.0.0");
        assert_eq!(prefix_netmask(32).to_string(), "255.255.255.255");
    }

    #[test]
    fn commands() {
        assert_eq!(
            split_command("/etc/keepalived/mail.sh master"),
            ["/etc/keepalived/mail.sh", "master"]
        );
        assert_eq!(
            split_command("  a  'b c' \"d e\" f\\ g "),
            ["a", "b c", "d e", "f g"]
        );
        assert_eq!(split_command("x ''"), ["x", ""]);
        assert!(split_command("   ").is_empty());
    }

    #[test]
    fn booleans() {
        assert_eq!(boolean("On"), Some(true));
        assert_eq!(boolean("no"), Some(false));
        assert_eq!(boolean("maybe"), None);
    }
}
