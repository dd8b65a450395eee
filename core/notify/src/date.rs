//! The `Date:` header as keepalived writes it: strftime
//! `%a, %d %b %Y %H:%M:%S %z` of local time (`Mon, 01 Mar 2021 09:44:08 +0000`).

use alloc::format;
use alloc::string::String;

/// A broken-down local time (what `localtime_r` gives), with the offset
/// from UTC in seconds east.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    /// 1..=12.
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// 0 = Sunday.
    pub weekday: u8,
    pub utc_offset_secs: i32,
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl LocalTime {
    /// UTC civil time of a Unix timestamp (for hosts without a zone, and tests).
    pub fn utc(unix_secs: i64) -> LocalTime {
        let days = unix_secs.div_euclid(86_400);
        let rem = unix_secs.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        LocalTime {
            year: year as i32,
            month: month as u8,
            day: day as u8,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
            weekday: (days + 4).rem_euclid(7) as u8,
            utc_offset_secs: 0,
        }
    }

    /// `Mon, 01 Mar 2021 09:44:08 +0000`.
    pub fn rfc822(&self) -> String {
        let wd = DAYS.get(usize::from(self.weekday)).unwrap_or(&"Sun");
        let mon = MONTHS
            .get(usize::from(self.month.saturating_sub(1)))
            .unwrap_or(&"Jan");
        let sign = if self.utc_offset_secs < 0 { '-' } else { '+' };
        let off = self.utc_offset_secs.unsigned_abs() / 60;
        format!(
            "{wd}, {:02} {mon} {} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            self.day,
            self.year,
            self.hour,
            self.minute,
            self.second,
            off / 60,
            off % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_example() {
        // 2021-03-01 09:44:08 UTC was a Monday.
        assert_eq!(
            LocalTime::utc(1_614_591_848).rfc822(),
            "Mon, 01 Mar 2021 09:44:08 +0000"
        );
        let mut t = LocalTime::utc(0);
        assert_eq!(t.rfc822(), "Thu, 01 Jan 1970 00:00:00 +0000");
        t.utc_offset_secs = -(5 * 3600 + 30 * 60);
        assert!(t.rfc822().ends_with(" -0530"));
        assert_eq!(
            LocalTime::utc(951_782_400).rfc822(),
            "Tue, 29 Feb 2000 00:00:00 +0000"
        );
    }
}
