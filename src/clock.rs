//! How times are written for people: "1:02.345", minutes, seconds and milliseconds.

/// "1:02.345" for a time in seconds (negative times read as 0), rounded to the millisecond.
pub fn clock(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn minutes_seconds_and_milliseconds() {
        assert_eq!(clock(0.0), "0:00.000");
        assert_eq!(clock(83.25), "1:23.250");
        assert_eq!(clock(3599.9996), "60:00.000");
        assert_eq!(clock(-1.0), "0:00.000");
    }
}
