//! Reference dynamics processors for labelled test material: a look-ahead brickwall limiter and
//! a feed-forward bus compressor.

/// Look-ahead brickwall limiter: `gain_db` of input gain, then peaks held to `ceiling` (linear)
/// with a 5 ms look-ahead and a 100 ms release, as mastering limiters work.
pub fn limit(x: &[f32], sample_rate: f64, gain_db: f64, ceiling: f64) -> Vec<f32> {
    let gain = 10f64.powf(gain_db / 20.0);
    let look = (0.005 * sample_rate) as usize;
    let release = (-1.0 / (0.1 * sample_rate)).exp();
    let driven: Vec<f64> = x.iter().map(|&v| f64::from(v) * gain).collect();
    // The gain each sample needs, then the minimum over the look-ahead window.
    let needed: Vec<f64> = driven
        .iter()
        .map(|v| {
            if v.abs() > ceiling {
                ceiling / v.abs()
            } else {
                1.0
            }
        })
        .collect();
    let mut out = Vec::with_capacity(x.len());
    let mut envelope = 1.0f64;
    for n in 0..driven.len() {
        let upcoming = needed[n..(n + look).min(needed.len())]
            .iter()
            .fold(1.0f64, |m, &g| m.min(g));
        envelope = if upcoming < envelope {
            // Attack: reach the needed gain by the time the peak arrives (linear ramp).
            envelope - (envelope - upcoming) / look.max(1) as f64 * 4.0
        } else {
            upcoming + (envelope - upcoming) * release
        };
        envelope = envelope.min(needed[n]);
        out.push((driven[n] * envelope) as f32);
    }
    out
}

/// Feed-forward RMS-ish compressor: `ratio`:1 above `threshold_db`, with attack and release
/// times in ms, and make-up gain.
pub fn compress(
    x: &[f32],
    sample_rate: f64,
    threshold_db: f64,
    ratio: f64,
    attack_ms: f64,
    release_ms: f64,
    makeup_db: f64,
) -> Vec<f32> {
    let attack = (-1.0 / (attack_ms / 1000.0 * sample_rate)).exp();
    let release = (-1.0 / (release_ms / 1000.0 * sample_rate)).exp();
    let makeup = 10f64.powf(makeup_db / 20.0);
    let mut level_db = -120.0f64;
    x.iter()
        .map(|&v| {
            let input_db = 20.0 * f64::from(v).abs().max(1e-9).log10();
            let coefficient = if input_db > level_db { attack } else { release };
            level_db = input_db + (level_db - input_db) * coefficient;
            let over = (level_db - threshold_db).max(0.0);
            let reduction_db = over - over / ratio;
            (f64::from(v) * 10f64.powf(-reduction_db / 20.0) * makeup) as f32
        })
        .collect()
}
