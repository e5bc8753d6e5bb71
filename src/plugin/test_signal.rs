//! Known signals for the standalone build: with `STEM_PREFLIGHT_TEST_SIGNAL` set, the standalone
//! plugin meters one of these instead of its (silent) input, so the editor can be shown in each
//! state in a real window without an audio interface. Plugin builds never use it.

use std::f32::consts::TAU;

/// Environment variable naming the signal, optionally followed by `,name=<stem name>`:
/// `too-hot,name=Drums`.
pub const TEST_SIGNAL_VAR: &str = "STEM_PREFLIGHT_TEST_SIGNAL";

/// The signal and the stem name from [`TEST_SIGNAL_VAR`]'s value.
pub fn parse_setting(value: &str) -> Option<(TestSignal, Option<String>)> {
    let mut parts = value.split(',');
    let signal = TestSignal::parse(parts.next()?)?;
    let name = parts.find_map(|p| p.trim().strip_prefix("name=").map(str::to_owned));
    Some((signal, name))
}

/// The signals on offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestSignal {
    /// A 1 kHz sine at -12 dBFS.
    Ready,
    /// A 1 kHz sine at -4.5 dBFS: between the default target and warning.
    Acceptable,
    /// A 1 kHz sine at -2 dBFS.
    TooHot,
    /// A 1 kHz sine at -6 dBFS with three samples at full scale, once per loop.
    Clipped,
    /// Drum-like hits over a bed whose loudness swings, through a brickwall limiter at -1 dBFS.
    Limited,
}

impl TestSignal {
    /// From the environment variable's value ("ready", "acceptable", "too-hot", "clipped",
    /// "limited").
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "ready" => Some(Self::Ready),
            "acceptable" => Some(Self::Acceptable),
            "too-hot" => Some(Self::TooHot),
            "clipped" => Some(Self::Clipped),
            "limited" => Some(Self::Limited),
            _ => None,
        }
    }

    /// Eight seconds of the signal at `sample_rate`, played in a loop. Allocates.
    pub fn render(self, sample_rate: f32) -> Vec<f32> {
        let len = (8.0 * sample_rate) as usize;
        let sine = |amplitude: f32| -> Vec<f32> {
            (0..len)
                .map(|n| amplitude * (TAU * 1000.0 * n as f32 / sample_rate).sin())
                .collect()
        };
        match self {
            Self::Ready => sine(0.25),
            Self::Acceptable => sine(0.5957),
            Self::TooHot => sine(0.794),
            Self::Clipped => {
                let mut x = sine(0.5);
                let at = (2.0 * sample_rate) as usize;
                x[at..at + 3].fill(1.0);
                x
            }
            Self::Limited => limited_noise(len, sample_rate),
        }
    }
}

/// A drum-like hit every 250 ms over a noise bed whose level swings 18 dB every 4 s, driven
/// into a limiter with 1 ms look-ahead and 50 ms release at -1 dBFS: every hit is pinned to the
/// ceiling while the loudness keeps moving, as in a limited song.
fn limited_noise(len: usize, sample_rate: f32) -> Vec<f32> {
    let ceiling = 10f32.powf(-1.0 / 20.0);
    let mut state = 0x2545_f491_u32;
    let hit_every = (0.25 * sample_rate) as usize;
    // Two one-pole low-passes at 3 kHz: music has little energy near Nyquist, and full-band
    // noise would make inter-sample overs no real mix has.
    let pole = (-TAU * 3000.0 / sample_rate).exp();
    let (mut low1, mut low2) = (0.0f32, 0.0f32);
    let x: Vec<f32> = (0..len)
        .map(|n| {
            // xorshift32: deterministic, no dependency.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let white = state as f32 / u32::MAX as f32 * 2.0 - 1.0;
            low1 = white + pole * (low1 - white);
            low2 = low1 + pole * (low2 - low1);
            // The low-pass costs about 8 dB of level; give it back.
            let noise = 2.5 * low2;
            let bed_db = -15.0 + 9.0 * (TAU * n as f32 / (4.0 * sample_rate)).sin();
            let since_hit = (n % hit_every) as f32 / sample_rate;
            let hit = 2.0 * (-since_hit / 0.02).exp();
            noise * (10f32.powf(bed_db / 20.0) * 3f32.sqrt() + hit)
        })
        .collect();
    // Gain each sample needs; its minimum around each sample, then averaged over the same
    // reach: smooth (few inter-sample overs) and never above what any sample needs, because
    // every averaged minimum covers the sample itself.
    let needed: Vec<f32> = x.iter().map(|v| (ceiling / v.abs()).min(1.0)).collect();
    let look = (0.001 * sample_rate) as usize;
    let around = |n: usize| n.saturating_sub(look)..(n + look + 1).min(len);
    let held: Vec<f32> = (0..len)
        .map(|n| needed[around(n)].iter().fold(1.0f32, |m, &g| m.min(g)))
        .collect();
    let release = 1.0 / (0.05 * sample_rate);
    let mut gain = 1.0f32;
    (0..len)
        .map(|n| {
            let reach = &held[around(n)];
            let smooth = reach.iter().sum::<f32>() / reach.len() as f32;
            gain = smooth.min(gain + (1.0 - gain) * release);
            x[n] * gain
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{gain_to_db, LimiterDetector, LimiterVerdict};

    #[test]
    fn the_signals_have_the_levels_they_promise() {
        let peak = |x: &[f32]| gain_to_db(x.iter().fold(0.0f32, |m, v| m.max(v.abs())));
        assert!((peak(&TestSignal::Ready.render(48_000.0)) - -12.04).abs() < 0.01);
        assert!((peak(&TestSignal::Acceptable.render(48_000.0)) - -4.5).abs() < 0.01);
        assert!((peak(&TestSignal::TooHot.render(48_000.0)) - -2.0).abs() < 0.01);
        assert_eq!(peak(&TestSignal::Clipped.render(48_000.0)), 0.0);
        let limited = TestSignal::Limited.render(48_000.0);
        assert!(peak(&limited) <= -1.0 + 1e-4);
        assert!(peak(&limited) > -1.01);
        assert_eq!(TestSignal::parse("too-hot"), Some(TestSignal::TooHot));
        assert_eq!(TestSignal::parse("loud"), None);
        assert_eq!(
            parse_setting("clipped,name=Vocals"),
            Some((TestSignal::Clipped, Some("Vocals".to_owned())))
        );
        assert_eq!(parse_setting("ready"), Some((TestSignal::Ready, None)));
    }

    #[test]
    fn the_limited_signal_is_recognised_as_limited() {
        let x = TestSignal::Limited.render(48_000.0);
        let mut detector = LimiterDetector::new(48_000.0);
        for _ in 0..2 {
            detector.process(&[&x, &x]);
        }
        let evidence = detector.evidence();
        assert!(evidence.verdict >= LimiterVerdict::Likely, "{evidence:?}");
        // Limited, not clipped: the true peak stays below full scale.
        let mut true_peak = crate::analysis::TruePeakMeter::new();
        true_peak.process(&x, |_, _| {});
        assert!(
            true_peak.true_peak_dbtp() < 0.0,
            "{}",
            true_peak.true_peak_dbtp()
        );
    }
}
