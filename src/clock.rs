//! How times are written for people: "1:02.345", minutes, seconds and milliseconds; dates as a
//! calendar reads them.

/// "1:02.345" for a time in seconds, rounded to the millisecond; "-0:00.016" before the
/// timeline's zero (hosts pre-roll an export from slightly before the project start).
pub fn clock(seconds: f64) -> String {
    let ms = (seconds.abs() * 1000.0).round() as u64;
    let sign = if seconds < 0.0 && ms > 0 { "-" } else { "" };
    format!(
        "{sign}{}:{:02}.{:03}",
        ms / 60_000,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// A moment as a calendar reads it (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl CivilTime {
    /// From seconds since 1970: the civil-from-days algorithm, so no date crate is needed.
    pub fn of(unix_seconds: u64) -> Self {
        let days = (unix_seconds / 86_400) as i64;
        let secs = unix_seconds % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Self {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: month as u8,
            day: day as u8,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn minutes_seconds_and_milliseconds() {
        assert_eq!(clock(0.0), "0:00.000");
        assert_eq!(clock(83.25), "1:23.250");
        assert_eq!(clock(3599.9996), "60:00.000");
        assert_eq!(clock(-0.016), "-0:00.016");
        assert_eq!(clock(-0.0001), "0:00.000");
    }
}
