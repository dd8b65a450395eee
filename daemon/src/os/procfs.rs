//! What track_process reads of /proc: the running processes (thread-group
//! leaders; zombies are not running, as keepalived counts), their comm and
//! their command line.

use std::fs;

/// The pids of every process (the numeric entries of /proc).
pub fn pids() -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The process's name as the kernel keeps it (`/proc/PID/comm`, at most 15
/// bytes); `None` for a zombie or a process gone.
pub fn comm(pid: u32) -> Option<String> {
    let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) S ...": COMM may hold ')' and blanks; the state follows the last ')'.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let open = stat.iter().position(|&b| b == b'(')?;
    if stat.get(close + 2) == Some(&b'Z') {
        return None;
    }
    let name = stat.get(open + 1..close)?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// The process's argv (`/proc/PID/cmdline`, NUL separated); empty for a
/// kernel thread or a zombie.
pub fn cmdline(pid: u32) -> Option<Vec<String>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(split_cmdline(&raw))
}

/// NUL-separated arguments (the last NUL is optional).
pub fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ourselves() {
        let me = std::process::id();
        assert!(pids().contains(&me));
        assert!(comm(me).is_some_and(|c| !c.is_empty() && c.len() <= 15));
        assert!(cmdline(me).is_some_and(|a| !a.is_empty()));
    }

    #[test]
    fn cmdline_split() {
        assert_eq!(
            split_cmdline(b"nginx\0-g\0daemon off;\0"),
            ["nginx", "-g", "daemon off;"]
        );
        assert_eq!(split_cmdline(b"a\0\0b"), ["a", "", "b"]);
        assert!(split_cmdline(b"").is_empty());
    }
}
