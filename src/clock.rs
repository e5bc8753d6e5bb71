//! How times are written for people: "1:02.345", minutes, seconds and milliseconds.

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
