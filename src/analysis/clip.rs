//! Clip detection: samples at full scale, true-peak overs, and flat tops baked in upstream.

/// One 24-bit LSB: flat-top samples may differ by this much and still count as identical.
pub const LSB_24_BIT: f32 = 1.0 / 8_388_608.0;
/// Consecutive identical samples at the running maximum that reveal a clipped waveform.
pub const FLAT_TOP_MIN_SAMPLES: u64 = 3;
/// Held values below -40 dBFS are quiet DC or a fade's last step, not clipping.
pub const FLAT_TOP_FLOOR: f32 = 0.01;
/// A flat top is a crest that was cut off: the waveform climbs into it. The sample before the
/// run must lie at least this far below it (16 24-bit LSBs), so a DC offset on near-silence,
/// which holds one value to within a few LSBs, is not taken for one.
pub const FLAT_TOP_MIN_RISE: f32 = 16.0 * LSB_24_BIT;
use super::sample_peak::{greater, stretch_maxima, STRETCH};

/// Stretches tested together before testing them one by one.
const GROUP: usize = 4;

/// Samples scanned for stretch maxima at a time by [`ClipDetector::process`].
const SCAN: usize = 1024;

/// What kind of clip an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClipKind {
    /// Samples at or above full scale (|x| ≥ 1.0): clipped the moment it is written to a
    /// fixed-point file.
    Sample,
    /// The reconstructed signal between samples goes above 0 dBTP: a D/A converter or a lossy
    /// encoder will clip it.
    TruePeak,
    /// Three or more identical samples at the loudest level so far: a clipper or an overloaded
    /// stage before this point already flattened the waveform.
    FlatTop,
}

impl ClipKind {
    /// The kind's name in reports: "sample", "true-peak" or "flat-top".
    pub fn name(self) -> &'static str {
        match self {
            Self::Sample => "sample",
            Self::TruePeak => "true-peak",
            Self::FlatTop => "flat-top",
        }
    }
}

/// One clip: a run of consecutive samples (or, for true-peak overs, sample intervals).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipEvent {
    /// What was detected.
    pub kind: ClipKind,
    /// Channel index within the bus (0 = left).
    pub channel: u16,
    /// Index of the first sample of the run, counted from the start of the stream.
    pub start_sample: u64,
    /// Length of the run in samples.
    pub length_samples: u64,
    /// Largest |x| (or true peak) inside the run, linear.
    pub peak: f32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Run {
    start: u64,
    len: u64,
    peak: f32,
}

/// Counts and locates clips on one channel. Feed it samples with
/// [`process`](Self::process) and true-peak overs with [`true_peak_over`](Self::true_peak_over).
#[derive(Debug, Clone)]
pub struct ClipDetector {
    channel: u16,
    /// Samples seen so far (index of the next sample).
    position: u64,
    /// Largest finite |x| so far: the level a flat top must sit at.
    running_max: f32,
    sample_run: Option<Run>,
    true_peak_run: Option<Run>,
    /// Current run of identical samples: its magnitude, sign and extent, and whether the
    /// waveform climbed into it.
    flat_run: Option<(Run, bool, bool)>,
    /// |x| of the previous sample (infinite before the first: nothing climbs into it).
    previous_magnitude: f32,
    counts: ClipCounts,
}

/// Events and clipped samples since the last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClipCounts {
    /// Runs of samples at or above full scale.
    pub sample_events: u64,
    /// Samples at or above full scale.
    pub sample_clipped: u64,
    /// Runs of intervals above 0 dBTP.
    pub true_peak_events: u64,
    /// Flat-topped runs below full scale.
    pub flat_top_events: u64,
}

impl ClipCounts {
    /// Every event of any kind.
    pub fn total_events(&self) -> u64 {
        self.sample_events + self.true_peak_events + self.flat_top_events
    }
}

impl ClipDetector {
    /// A detector for channel `channel`.
    pub fn new(channel: u16) -> Self {
        Self {
            channel,
            position: 0,
            running_max: 0.0,
            sample_run: None,
            true_peak_run: None,
            flat_run: None,
            previous_magnitude: f32::INFINITY,
            counts: ClipCounts::default(),
        }
    }

    /// Starts a new stream. Never allocates.
    pub fn reset(&mut self) {
        *self = Self::new(self.channel);
    }

    /// Counts since the last reset.
    pub fn counts(&self) -> ClipCounts {
        self.counts
    }

    /// Feeds samples; `on_event` receives each run once it has ended. A NaN inside a run of
    /// full-scale samples neither ends nor starts it; ±Inf counts as full scale. Never
    /// allocates.
    pub fn process(&mut self, samples: &[f32], mut on_event: impl FnMut(ClipEvent)) {
        let mut maxima = [0.0f32; SCAN / STRETCH];
        for piece in samples.chunks(SCAN) {
            let piece_max = stretch_maxima(piece, &mut maxima);
            self.process_scanned(piece, &maxima, piece_max, &mut on_event);
        }
    }

    /// [`process`](Self::process) with the stretch maxima of `samples` and their largest
    /// (`samples_max`) already computed by [`stretch_maxima`]. Samples that cannot hold a clip
    /// are passed over in one test. Never allocates.
    pub fn process_scanned(
        &mut self,
        samples: &[f32],
        maxima: &[f32],
        samples_max: f32,
        mut on_event: impl FnMut(ClipEvent),
    ) {
        // Below the running maximum, as most of a song is once its loudest hit has passed.
        if self.is_quiet(samples_max) {
            self.pass_quiet(samples_max, samples, &mut on_event);
            return;
        }
        // Then groups of stretches: loud material is rare, so most groups pass in one test.
        for (group, group_maxima) in samples
            .chunks(STRETCH * GROUP)
            .zip(maxima[..samples.len().div_ceil(STRETCH)].chunks(GROUP))
        {
            let group_max = group_maxima.iter().fold(0.0f32, |m, &x| greater(m, x));
            let nan = group_maxima.iter().any(|m| m.is_nan());
            if !nan && self.is_quiet(group_max) {
                self.pass_quiet(group_max, group, &mut on_event);
                continue;
            }
            for (sub, &sub_max) in group.chunks(STRETCH).zip(group_maxima) {
                if self.is_quiet(sub_max) {
                    self.pass_quiet(sub_max, sub, &mut on_event);
                    continue;
                }
                for &x in sub {
                    self.step(x, &mut on_event);
                }
            }
        }
    }

    /// Nothing in a stretch with this maximum is at full scale, nor at the running maximum or
    /// loud enough for a flat top: any open run ends at its first sample, and no new one that
    /// counts can start inside it. False for NaN.
    #[inline]
    fn is_quiet(&self, stretch_max: f32) -> bool {
        stretch_max < 1.0
            && (stretch_max < FLAT_TOP_FLOOR || stretch_max < self.running_max - LSB_24_BIT)
    }

    fn pass_quiet(
        &mut self,
        stretch_max: f32,
        stretch: &[f32],
        on_event: &mut impl FnMut(ClipEvent),
    ) {
        self.running_max = greater(self.running_max, stretch_max);
        self.previous_magnitude = stretch.last().map_or(self.previous_magnitude, |x| x.abs());
        self.end_sample_run(on_event);
        self.end_flat_run(on_event);
        self.position += stretch.len() as u64;
    }

    fn step(&mut self, x: f32, on_event: &mut impl FnMut(ClipEvent)) {
        let position = self.position;
        self.position += 1;
        let previous = std::mem::replace(&mut self.previous_magnitude, x.abs());
        if x.is_nan() {
            if let Some(run) = &mut self.sample_run {
                run.len += 1;
            }
            self.end_flat_run(on_event);
            return;
        }
        let magnitude = x.abs();
        if magnitude >= 1.0 {
            self.counts.sample_clipped += 1;
            let run = self.sample_run.get_or_insert(Run {
                start: position,
                len: 0,
                peak: 0.0,
            });
            run.len += 1;
            run.peak = run.peak.max(magnitude);
            // Full-scale runs are sample clips, not flat tops.
            self.end_flat_run(on_event);
            return;
        }
        self.end_sample_run(on_event);
        self.running_max = self.running_max.max(magnitude);

        let positive = x > 0.0;
        match &mut self.flat_run {
            Some((run, sign, _))
                if *sign == positive && (magnitude - run.peak).abs() <= LSB_24_BIT =>
            {
                run.len += 1;
            }
            _ => {
                self.end_flat_run(on_event);
                self.flat_run = Some((
                    Run {
                        start: position,
                        len: 1,
                        peak: magnitude,
                    },
                    positive,
                    previous <= magnitude - FLAT_TOP_MIN_RISE,
                ));
            }
        }
    }

    /// Reports that true-peak interval `interval` (between samples n and n+1) is above full
    /// scale; calls arrive in increasing order. Never allocates.
    pub fn true_peak_over(
        &mut self,
        interval: u64,
        peak: f32,
        mut on_event: impl FnMut(ClipEvent),
    ) {
        if let Some(run) = &mut self.true_peak_run {
            if run.start + run.len == interval {
                run.len += 1;
                run.peak = run.peak.max(peak);
                return;
            }
        }
        self.end_true_peak_run(&mut on_event);
        self.true_peak_run = Some(Run {
            start: interval,
            len: 1,
            peak,
        });
    }

    /// Every interval before `evaluated_until` has been checked for overs: a run that ended
    /// before it is complete. Never allocates.
    pub fn true_peak_checked_until(
        &mut self,
        evaluated_until: u64,
        mut on_event: impl FnMut(ClipEvent),
    ) {
        if matches!(self.true_peak_run, Some(run) if run.start + run.len < evaluated_until) {
            self.end_true_peak_run(&mut on_event);
        }
    }

    /// Ends the stream: reports the runs still open. Never allocates.
    pub fn finish(&mut self, mut on_event: impl FnMut(ClipEvent)) {
        self.end_sample_run(&mut on_event);
        self.end_flat_run(&mut on_event);
        self.end_true_peak_run(&mut on_event);
    }

    fn emit(&self, kind: ClipKind, run: Run, on_event: &mut impl FnMut(ClipEvent)) {
        on_event(ClipEvent {
            kind,
            channel: self.channel,
            start_sample: run.start,
            length_samples: run.len,
            peak: run.peak,
        });
    }

    fn end_sample_run(&mut self, on_event: &mut impl FnMut(ClipEvent)) {
        if let Some(run) = self.sample_run.take() {
            self.counts.sample_events += 1;
            self.emit(ClipKind::Sample, run, on_event);
        }
    }

    fn end_true_peak_run(&mut self, on_event: &mut impl FnMut(ClipEvent)) {
        if let Some(run) = self.true_peak_run.take() {
            self.counts.true_peak_events += 1;
            self.emit(ClipKind::TruePeak, run, on_event);
        }
    }

    fn end_flat_run(&mut self, on_event: &mut impl FnMut(ClipEvent)) {
        if let Some((run, _, climbed)) = self.flat_run.take() {
            let at_running_max = run.peak >= self.running_max - LSB_24_BIT;
            if run.len >= FLAT_TOP_MIN_SAMPLES
                && run.peak >= FLAT_TOP_FLOOR
                && at_running_max
                && climbed
            {
                self.counts.flat_top_events += 1;
                self.emit(ClipKind::FlatTop, run, on_event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_tops(samples: &[f32], block: usize) -> Vec<ClipEvent> {
        let mut detector = ClipDetector::new(0);
        let mut events = Vec::new();
        for piece in samples.chunks(block) {
            detector.process(piece, |e| events.push(e));
        }
        detector.finish(|e| events.push(e));
        events.retain(|e| e.kind == ClipKind::FlatTop);
        events
    }

    #[test]
    fn a_clipped_low_note_is_a_flat_top_and_dc_on_near_silence_is_not() {
        // 40 Hz at 0.6, clipped at 0.5: a crest flattened for about 4 ms at 48 kHz, twice
        // per cycle over 0.1 s (8 crests).
        let clipped: Vec<f32> = (0..4800)
            .map(|n| {
                (0.6 * (std::f32::consts::TAU * 40.0 * n as f32 / 48_000.0).sin()).clamp(-0.5, 0.5)
            })
            .collect();
        // A 2 % DC offset under 70 samples of silence and a note's first, tiny samples, as a
        // plugin's DC on a song's first milliseconds leaves it.
        let dc: Vec<f32> = (0..70).map(|n| 0.02 + 1e-7 * (n % 3) as f32).collect();
        for block in [1, 64, 4096] {
            assert_eq!(flat_tops(&clipped, block).len(), 8, "block {block}");
            assert!(flat_tops(&dc, block).is_empty(), "block {block}");
        }
    }
}
