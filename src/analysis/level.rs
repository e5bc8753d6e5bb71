//! Conversions between linear gain and decibels.

/// The level reported for digital silence, in dB. Finite so that it can be stored in atomics,
/// compared and printed without special cases.
pub const SILENCE_DB: f32 = -200.0;

/// Linear gain (or absolute sample value) to dB re full scale. Zero, negative and NaN inputs
/// map to [`SILENCE_DB`].
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    if gain > 0.0 {
        (20.0 * gain.log10()).max(SILENCE_DB)
    } else {
        SILENCE_DB
    }
}

/// dB re full scale to linear gain.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_silence() {
        // 0.5 is 20·log10(0.5) = -6.0206 dBFS.
        assert!((gain_to_db(0.5) + 6.0206).abs() < 1e-4);
        assert!((db_to_gain(-6.0206) - 0.5).abs() < 1e-5);
        assert_eq!(gain_to_db(0.0), SILENCE_DB);
        assert_eq!(gain_to_db(f32::NAN), SILENCE_DB);
    }
}
