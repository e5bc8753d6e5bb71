//! Test signals with known analytic properties.

use std::f64::consts::PI;

/// A sine of `amplitude` at `freq_hz`, starting phase `phase_deg`, with raised-cosine fades in
/// and out over `fade_ms`. An abrupt onset or ending has a real inter-sample overshoot (Gibbs);
/// with the fades the analytic peak is exactly `amplitude`.
pub fn faded_sine(
    sample_rate: f64,
    freq_hz: f64,
    amplitude: f64,
    phase_deg: f64,
    fade_ms: f64,
    total_s: f64,
) -> Vec<f32> {
    let len = (total_s * sample_rate).round() as usize;
    let fade = (fade_ms / 1000.0 * sample_rate).round().max(1.0);
    (0..len)
        .map(|n| {
            let t = n as f64;
            let from_edge = t.min((len - 1) as f64 - t);
            let envelope = if from_edge < fade {
                0.5 - 0.5 * (PI * from_edge / fade).cos()
            } else {
                1.0
            };
            let phase = 2.0 * PI * freq_hz * t / sample_rate + phase_deg.to_radians();
            (amplitude * envelope * phase.sin()) as f32
        })
        .collect()
}

/// A small deterministic generator (xorshift64*), so tests need no extra crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// Program-like material: filtered noise under a slowly varying envelope with drum-like
/// transients, scaled so its sample peak is `peak` (linear).
pub fn program(sample_rate: f64, seconds: f64, peak: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let len = (seconds * sample_rate) as usize;
    let beat = (sample_rate * 0.5) as usize;
    let mut low = 0.0f64;
    let mut out: Vec<f32> = (0..len)
        .map(|n| {
            let white = rng.unit() * 2.0 - 1.0;
            // One-pole low-pass mixed with the white noise: a darker, music-like spectrum.
            low += 0.05 * (white - low);
            let swell = 0.55 + 0.45 * (2.0 * PI * 0.13 * n as f64 / sample_rate).sin();
            let since_hit = (n % beat) as f64 / sample_rate;
            let hit = 2.5 * (-since_hit * 30.0).exp();
            ((4.0 * low + 0.3 * white) * (swell + hit)) as f32
        })
        .collect();
    let max = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    for x in &mut out {
        *x *= peak / max;
    }
    out
}

/// A song-like mix: kick and snare with transients, a bass line, a pad, vocal-like formant
/// bursts, sections at different levels and quiet gaps. Peaks normalised to `peak`.
pub fn song(sample_rate: f64, seconds: f64, peak: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let len = (seconds * sample_rate) as usize;
    let tempo_hz = 2.0 + rng.unit() * 0.3; // beats per second
    let beat = (sample_rate / tempo_hz) as usize;
    let section = beat * 16;
    let mut noise_state = 0.0f64;
    let mut out: Vec<f32> = (0..len)
        .map(|n| {
            let t = n as f64 / sample_rate;
            let in_beat = (n % beat) as f64 / sample_rate;
            let beat_index = n / beat;
            let section_index = n / section;
            // Verse, chorus, breakdown: the loudness moves by several dB.
            let section_gain = [0.55, 1.0, 0.35, 0.8][section_index % 4];
            // A short gap at the end of every fourth section.
            if section_index % 4 == 3 && n % section > section - beat {
                return 0.0;
            }
            let kick = if beat_index.is_multiple_of(2) {
                (2.0 * PI * (50.0 + 80.0 * (-in_beat * 30.0).exp()) * in_beat).sin()
                    * (-in_beat * 8.0).exp()
            } else {
                0.0
            };
            let white = rng.unit() * 2.0 - 1.0;
            noise_state += 0.3 * (white - noise_state);
            let snare = if beat_index % 2 == 1 {
                noise_state * 1.2 * (-in_beat * 18.0).exp()
            } else {
                0.0
            };
            let root = [55.0, 55.0, 73.4, 49.0][(beat_index / 4) % 4];
            let bass = 0.5 * (2.0 * PI * root * t).sin() * (0.6 + 0.4 * (-in_beat * 4.0).exp());
            let pad = 0.15
                * ((2.0 * PI * root * 4.0 * t).sin()
                    + (2.0 * PI * root * 5.04 * t).sin()
                    + (2.0 * PI * root * 6.0 * t).sin());
            let syllable = ((t * 4.0).fract() * PI).sin().powi(2);
            let vocal = 0.3
                * syllable
                * ((2.0 * PI * 220.0 * t).sin() * 0.5
                    + (2.0 * PI * 660.0 * t).sin() * 0.3
                    + (2.0 * PI * 2500.0 * t).sin() * 0.1);
            (section_gain * (kick + snare + bass + pad + vocal)) as f32
        })
        .collect();
    let max = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    for x in &mut out {
        *x *= peak / max;
    }
    out
}
