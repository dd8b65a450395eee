//! Timestamps printed by `ip -ts monitor` (run with TZ=UTC), turned into seconds
//! since the Unix epoch so they compare with pcap capture times.

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC) to Unix seconds.
pub fn parse_utc(ts: &str) -> Option<f64> {
    let (date, time) = ts.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let y: i64 = d.next()?.parse().ok()?;
    let mo: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    let mut t = time.splitn(3, ':');
    let h: f64 = t.next()?.parse().ok()?;
    let mi: f64 = t.next()?.parse().ok()?;
    let s: f64 = t.next()?.parse().ok()?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(y, mo, day) as f64 * 86_400.0 + h * 3600.0 + mi * 60.0 + s)
}

/// The first time `addr` was added in `ip -ts -o monitor address` output.
pub fn first_add(monitor: &str, addr: &str) -> Option<f64> {
    let needle = format!("inet {addr}/");
    monitor.lines().find_map(|l| {
        let rest = l.strip_prefix('[')?;
        let (ts, event) = rest.split_once(']')?;
        if event.trim_start().starts_with("Deleted") || !event.contains(&needle) {
            return None;
        }
        parse_utc(ts)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_to_epoch() {
        assert_eq!(parse_utc("1970-01-01T00:00:00.000000"), Some(0.0));
        // `date -u -d 2026-11-24T18:39:23 +%s`
        let t = parse_utc("2026-11-24T18:39:23.858474").unwrap();
        assert!((t - 1_795_545_563.858474).abs() < 1e-6);
        assert_eq!(parse_utc("2000-03-01T00:00:00"), Some(951_868_800.0));
        assert_eq!(parse_utc("2026-13-01T00:00:00"), None);
        assert_eq!(parse_utc("garbage"), None);
    }

    #[test]
    fn first_addition_of_the_vip() {
        let m = "[2026-11-24T18:39:23.000001] Deleted 3: eth0    inet 192.168.67.150/24 scope global eth0\n\
                 [2026-11-24T18:39:23.500000] 3: eth0    inet 192.168.67.15/24 scope global eth0\n\
                 [2026-11-24T18:39:24.250000] 3: eth0    inet 192.168.67.150/24 scope global secondary eth0:0\n";
        let t = first_add(m, "192.168.67.150").unwrap();
        assert!((t - parse_utc("2026-11-24T18:39:24.25").unwrap()).abs() < 1e-9);
        assert_eq!(first_add(m, "192.168.67.1"), None);
    }
}
