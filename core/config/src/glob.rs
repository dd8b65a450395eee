//! Shell wildcard matching for `include` (one path component at a time), as
//! glob(3) does it: `*`, `?`, `[abc]`, `[a-z]`, `[!x]` / `[^x]`, and `\`
//! escapes. A leading `.` in a name must be matched explicitly.

use alloc::vec::Vec;

/// True if `pattern` contains a wildcard that needs a directory listing.
pub fn has_wildcards(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// True if the file name `name` matches `pattern` (no `/` in either).
pub fn matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher: remember the last `*` and retry it one char further.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            Some(&pc) => {
                if let Some(&nc) = n.get(ni) {
                    if let Some(next) = match_one(&p, pi, pc, nc) {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
            }
            None if ni == n.len() => return true,
            None => {}
        }
        // Mismatch: let the last star swallow one more character.
        match star {
            Some((sp, sn)) if sn < n.len() => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return false,
        }
    }
}

/// Matches one pattern element at `pi` (first char `pc`) against `nc`;
/// returns the index after the element when it matches.
fn match_one(p: &[char], pi: usize, pc: char, nc: char) -> Option<usize> {
    match pc {
        '?' => Some(pi + 1),
        '[' => match class(p, pi + 1, nc) {
            Some((true, end)) => Some(end),
            Some((false, _)) => None,
            // No closing ']': the '[' is an ordinary character.
            None => (nc == '[').then_some(pi + 1),
        },
        '\\' => match p.get(pi + 1) {
            Some(&e) => (e == nc).then_some(pi + 2),
            None => (nc == '\\').then_some(pi + 1),
        },
        _ => (pc == nc).then_some(pi + 1),
    }
}

/// Evaluates a bracket class starting after its `[`: (matched, index after
/// `]`), or `None` if the class is not closed.
fn class(p: &[char], mut i: usize, nc: char) -> Option<(bool, usize)> {
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let c = *p.get(i)?;
        if c == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        let lo = if c == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            c
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = *p.get(i + 2)?;
            hit |= lo <= nc && nc <= hi;
            i += 3;
        } else {
            hit |= lo == nc;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_questions() {
        assert!(matches("*.conf", "vi1.conf"));
        assert!(!matches("*.conf", ".conf"));
        assert!(matches("*", "a"));
        assert!(matches("*", ""));
        assert!(!matches("*.conf", "vi1.conf.bak"));
        assert!(matches("v?1.*", "vi1.conf"));
        assert!(!matches("v?1", "v1"));
        assert!(matches("*a*b*c", "xxaxxbxxbc"));
        assert!(!matches("*a*b*c", "xxaxxbxxb"));
    }

    #[test]
    fn classes() {
        assert!(matches("[abc].conf", "b.conf"));
        assert!(!matches("[abc].conf", "d.conf"));
        assert!(matches("[a-c]x", "cx"));
        assert!(matches("[!a-c]x", "dx"));
        assert!(!matches("[^a-c]x", "ax"));
        assert!(matches("[]]", "]"));
        assert!(matches("[a-]", "-"));
        assert!(matches("[x", "[x"));
    }

    #[test]
    fn hidden_files_need_an_explicit_dot() {
        assert!(!matches("*", ".hidden"));
        assert!(!matches("?hidden", ".hidden"));
        assert!(matches(".*", ".hidden"));
    }

    #[test]
    fn escapes_and_utf8() {
        assert!(matches("a\\*", "a*"));
        assert!(!matches("a\\*", "ab"));
        assert!(matches("配置?.conf", "配置1.conf"));
    }
}
