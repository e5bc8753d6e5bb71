//! Lossy origin from both traces an MP3 or AAC encoder leaves: the cliff in the long-term
//! spectrum where it stopped coding, and, where the audio holds too little above 15 kHz for a
//! cliff to show, the MP3 frame grid. One detector for the file checker and the plugin, so
//! that the same audio gets the same verdict from both.

use super::cutoff::{CutoffDetector, SpectralCutoff};
use super::mp3_grid::{GridEvidence, GridSearch};

/// What the lossy-origin checks found in one stream.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LossyEvidence {
    /// The spectrum's cliff, if there is one.
    pub cutoff: Option<SpectralCutoff>,
    /// The frame-grid search, run only where no cliff shows (a cliff already says it).
    pub mp3_grid: Option<GridEvidence>,
}

/// The verdict: which trace shows the lossy origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LossyOrigin {
    Cutoff(SpectralCutoff),
    Mp3Grid(GridEvidence),
}

impl LossyEvidence {
    /// The trace that shows a lossy origin, if one does.
    pub fn verdict(&self) -> Option<LossyOrigin> {
        self.cutoff.map(LossyOrigin::Cutoff).or_else(|| {
            self.mp3_grid
                .filter(GridEvidence::is_mp3)
                .map(LossyOrigin::Mp3Grid)
        })
    }
}

impl LossyOrigin {
    /// The finding, with the fix; `label` names the stem or file.
    pub fn advice(&self, label: &str) -> String {
        match self {
            Self::Cutoff(cutoff) => format!("The spectrum stops abruptly at {:.1} kHz ({:.0} dB drop), the way an MP3 or AAC encoder leaves it: {label} (or a sample in it) was made from a lossy file. Replace the lossy source with the original WAV and export again.", cutoff.frequency_hz / 1000.0, cutoff.drop_db),
            Self::Mp3Grid(grid) => format!("{label} carries an MP3 encoder's frame grid: split on the encoder's own filterbank, {:.0} % of its spectrum lines are silent on one alignment against {:.0} % on the others, the lines the encoder rounded to zero. It was made from an MP3 (or a sample in it was). Replace the lossy source with the original WAV and export again.", 100.0 * grid.grid_share, 100.0 * grid.other_share),
        }
    }
}

/// Follows a mono stream for both traces. Allocates in `new` only; `process` and `reset`
/// never allocate. The search itself ([`Self::evidence`]) allocates and takes tens of
/// milliseconds: it belongs off the audio thread.
pub struct LossyOriginDetector {
    sample_rate: u32,
    cutoff: CutoffDetector,
    grid: Option<GridSearch>,
}

impl LossyOriginDetector {
    /// A detector for a stream at `sample_rate`.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            sample_rate,
            cutoff: CutoffDetector::new(sample_rate as f32),
            grid: GridSearch::new(sample_rate),
        }
    }

    /// The rate it was built for.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Adds a block of channels (of equal length), searched as their mean.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S]) {
        let Some((first, others)) = channels.split_first() else {
            return;
        };
        let scale = 1.0 / channels.len() as f32;
        let mut mono = [0.0f32; 256];
        let mut done = 0;
        let frames = first.as_ref().len();
        while done < frames {
            let take = (frames - done).min(mono.len());
            let mono = &mut mono[..take];
            mono.copy_from_slice(&first.as_ref()[done..done + take]);
            for channel in others {
                let channel = &channel.as_ref()[done..done + take];
                mono.iter_mut().zip(channel).for_each(|(m, x)| *m += x);
            }
            mono.iter_mut().for_each(|m| *m *= scale);
            self.cutoff.process(mono);
            if let Some(grid) = &mut self.grid {
                grid.process(mono);
            }
            done += take;
        }
    }

    /// Forgets the stream.
    pub fn reset(&mut self) {
        self.cutoff.reset();
        if let Some(grid) = &mut self.grid {
            grid.reset();
        }
    }

    /// What the stream so far shows.
    pub fn evidence(&self) -> LossyEvidence {
        let cutoff = self.cutoff.cutoff();
        let mp3_grid = self
            .grid
            .as_ref()
            .filter(|_| cutoff.is_none())
            .and_then(GridSearch::evidence);
        LossyEvidence { cutoff, mp3_grid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cutoff::tests::noise;

    #[test]
    fn full_band_noise_is_not_lossy_and_a_reset_forgets_the_stream() {
        let mut detector = LossyOriginDetector::new(48_000);
        assert_eq!(detector.sample_rate(), 48_000);
        let left = noise(48_000.0, 3.0, None);
        let right: Vec<f32> = left.iter().rev().copied().collect();
        for (l, r) in left.chunks(333).zip(right.chunks(333)) {
            detector.process(&[l, r]);
        }
        let evidence = detector.evidence();
        assert_eq!(evidence.cutoff, None);
        assert!(evidence.mp3_grid.is_some(), "3 s is enough to search");
        assert_eq!(evidence.verdict(), None);
        detector.reset();
        assert_eq!(detector.evidence(), LossyEvidence::default());
    }

    #[test]
    fn a_cliff_is_the_verdict_and_the_grid_is_not_searched_behind_it() {
        let mut detector = LossyOriginDetector::new(44_100);
        detector.process(&[noise(44_100.0, 3.0, Some(16_000.0))]);
        let evidence = detector.evidence();
        let cutoff = evidence.cutoff.expect("a cliff at 16 kHz");
        assert!((cutoff.frequency_hz - 16_000.0).abs() < 300.0, "{cutoff:?}");
        assert_eq!(evidence.mp3_grid, None);
        let advice = evidence.verdict().expect("lossy").advice("Lead");
        assert!(advice.contains("stops abruptly at 16."), "{advice}");
    }

    #[test]
    fn the_channels_are_searched_as_their_mean_in_any_block_size() {
        // Left and right cancel: their mean is silence, whatever the blocks.
        let left = noise(48_000.0, 3.0, None);
        let right: Vec<f32> = left.iter().map(|x| -x).collect();
        let mut detector = LossyOriginDetector::new(48_000);
        for (l, r) in left.chunks(1_000).zip(right.chunks(1_000)) {
            detector.process(&[l, r]);
        }
        assert_eq!(detector.evidence(), LossyEvidence::default());
        detector.process::<&[f32]>(&[]);
    }

    #[test]
    fn a_rate_without_a_grid_still_looks_for_the_cliff() {
        let mut detector = LossyOriginDetector::new(50_000);
        detector.process(&[noise(50_000.0, 2.0, None)]);
        assert_eq!(detector.evidence(), LossyEvidence::default());
    }
}
