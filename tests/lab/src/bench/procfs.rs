//! Memory and CPU figures of a daemon read from /proc. A daemon is every process
//! inside its host's namespace (keepalived forks a VRRP child; vigil is one process).

use std::process::Command;

/// Resident memory of a set of processes, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// VmRSS summed over the processes.
    pub rss_kib: u64,
    /// VmHWM (peak RSS) summed over the processes.
    pub hwm_kib: u64,
    /// RssAnon: the private heap and stacks, the part that a shared library
    /// mapping does not explain.
    pub anon_kib: u64,
    pub processes: usize,
}

/// The pids inside network namespace `ns` (as `ip netns pids` lists them).
pub fn namespace_pids(ns: &str) -> Result<Vec<u32>, String> {
    let out = Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .map_err(|e| format!("ip netns pids {ns}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ip netns pids {ns}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// The command name of `pid` (its `comm`), if it still exists.
pub fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The value in KiB of a `Key:   N kB` line of /proc/PID/status.
pub fn status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// VmRSS and VmHWM summed over `pids`; processes that vanished are skipped.
pub fn memory(pids: &[u32]) -> Memory {
    let mut m = Memory::default();
    for pid in pids {
        let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        m.rss_kib += status_kib(&s, "VmRSS").unwrap_or(0);
        m.hwm_kib += status_kib(&s, "VmHWM").unwrap_or(0);
        m.anon_kib += status_kib(&s, "RssAnon").unwrap_or(0);
        m.processes += 1;
    }
    m
}

/// utime + stime, in clock ticks, from the text of /proc/PID/stat.
pub fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: count fields
    // from the last ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut f = rest.split_whitespace();
    // After ')': state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = f.nth(11)?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU ticks (utime + stime, all threads) summed over `pids`.
pub fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .filter_map(|s| stat_cpu_ticks(&s))
        .sum()
}

/// Clock ticks per second (USER_HZ): 100 on every Linux architecture we target.
pub const TICKS_PER_SEC: f64 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let s = "Name:\tkeepalived\nVmHWM:\t    5120 kB\nVmRSS:\t    4096 kB\n";
        assert_eq!(status_kib(s, "VmRSS"), Some(4096));
        assert_eq!(status_kib(s, "VmHWM"), Some(5120));
        assert_eq!(status_kib(s, "VmSwap"), None);
    }

    #[test]
    fn stat_fields_after_a_tricky_name() {
        let s = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 5 0 0";
        assert_eq!(stat_cpu_ticks(s), Some(10));
        assert_eq!(stat_cpu_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn own_process_is_measured() {
        let me = std::process::id();
        let m = memory(&[me, u32::MAX]);
        assert_eq!(m.processes, 1);
        assert!(m.rss_kib > 0 && m.hwm_kib >= m.rss_kib);
        assert!(m.anon_kib > 0 && m.anon_kib <= m.rss_kib);
        // Burn a little CPU so the counter is not trivially zero.
        let mut x = 0u64;
        let t = std::time::Instant::now();
        while t.elapsed().as_millis() < 50 {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        assert!(x != 1);
        assert!(cpu_ticks(&[me]) > 0);
    }
}
