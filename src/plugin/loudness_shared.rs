//! The loudness the audio thread publishes for the editor: one atomic per figure, each
//! meaningful on its own (a display may mix two publications for one frame).

use atomic_float::AtomicF32;
use std::sync::atomic::Ordering;

use crate::analysis::Loudness;

/// Published loudness, LUFS or LU; −∞ where nothing was measured yet.
#[derive(Debug)]
pub struct LoudnessShared {
    momentary: AtomicF32,
    short_term: AtomicF32,
    integrated: AtomicF32,
    range: AtomicF32,
    max_short_term: AtomicF32,
}

impl Default for LoudnessShared {
    fn default() -> Self {
        let none = || AtomicF32::new(f32::NEG_INFINITY);
        Self {
            momentary: none(),
            short_term: none(),
            integrated: none(),
            range: none(),
            max_short_term: none(),
        }
    }
}

/// Loudness as the editor reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessReading {
    /// Momentary (400 ms), LUFS.
    pub momentary_lufs: f32,
    /// Short-term (3 s), LUFS.
    pub short_term_lufs: f32,
    /// Integrated since the pass began, LUFS.
    pub integrated_lufs: Option<f32>,
    /// Loudness range, LU.
    pub range_lu: Option<f32>,
    /// Loudest short-term value, LUFS.
    pub max_short_term_lufs: f32,
}

impl LoudnessShared {
    /// Audio thread: the momentary and short-term values, every block.
    pub fn publish_levels(&self, momentary_lufs: f64, short_term_lufs: f64) {
        self.momentary
            .store(momentary_lufs as f32, Ordering::Relaxed);
        self.short_term
            .store(short_term_lufs as f32, Ordering::Relaxed);
    }

    /// Audio thread: everything, at the detector's update rate (the gates read whole
    /// histograms).
    pub fn publish(&self, loudness: &Loudness) {
        self.publish_levels(loudness.momentary_lufs, loudness.short_term_lufs);
        let or_none = |v: Option<f64>| v.map_or(f32::NEG_INFINITY, |v| v as f32);
        self.integrated
            .store(or_none(loudness.integrated_lufs), Ordering::Relaxed);
        self.range
            .store(or_none(loudness.range_lu), Ordering::Relaxed);
        self.max_short_term
            .store(loudness.max_short_term_lufs as f32, Ordering::Relaxed);
    }

    /// Back to nothing measured.
    pub fn clear(&self) {
        self.publish(&Loudness::NONE);
    }

    /// The latest values.
    pub fn read(&self) -> LoudnessReading {
        let some = |v: f32| v.is_finite().then_some(v);
        LoudnessReading {
            momentary_lufs: self.momentary.load(Ordering::Relaxed),
            short_term_lufs: self.short_term.load(Ordering::Relaxed),
            integrated_lufs: some(self.integrated.load(Ordering::Relaxed)),
            range_lu: some(self.range.load(Ordering::Relaxed)),
            max_short_term_lufs: self.max_short_term.load(Ordering::Relaxed),
        }
    }
}
