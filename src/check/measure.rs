//! One pass over one file: every number the checker reports about it, from the same analysis
//! code the plugin runs.

use super::decode::{AudioFormat, AudioReader, DecodeError, Encoding};
use crate::analysis::envelope::PeakEnvelope;
use crate::analysis::level::SOUND_THRESHOLD;
use crate::analysis::{
    gain_to_db, ChannelAnalyzer, ClipEvent, ClipKind, LimiterDetector, LimiterEvidence,
    LossyEvidence, LossyOriginDetector, Loudness, LoudnessMeter, Passage, TailMeter, TailState,
};
use std::io::{Read, Seek};

/// Frames decoded at a time.
pub const BLOCK_FRAMES: usize = 8192;
/// Clip events kept per file (all are counted).
const KEPT_CLIPS: usize = 200;
/// Columns of the waveform overview: one per pixel of the delivery sheet's strip.
pub const ENVELOPE_COLUMNS: usize = 800;
/// Everything measured on one file.
#[derive(Debug, Clone)]
pub struct FileMeasurements {
    /// What the header says (frames = what the file holds).
    pub format: AudioFormat,
    /// Frames the header announced beyond the end of the file.
    pub missing_frames: u64,
    /// Largest |x| over all channels, dBFS.
    pub sample_peak_dbfs: f32,
    /// Largest true peak over all channels, dBTP.
    pub true_peak_dbtp: f32,
    /// The first clip events in time order within each channel (at most 200).
    pub clip_events: Vec<ClipEvent>,
    /// All clip events by kind: sample clips, true-peak overs, flat tops.
    pub clip_counts: [u64; 3],
    /// Limiter evidence over all channels.
    pub limiter: LimiterEvidence,
    /// The passages behind that evidence, for the delivery sheet's picture.
    pub passages: Vec<Passage>,
    /// Mean of each channel (DC) over the blocks where it sounds, linear.
    pub dc_offset: Vec<f32>,
    /// Integer files: bits that carry signal. Float files: 16 or 24 when every sample lies on
    /// that integer grid (the float file was made from integer audio).
    pub effective_bits: Option<u16>,
    /// A lossy encoder's cliff in the spectrum, and the MP3 granule grid where no cliff shows.
    pub lossy: LossyEvidence,
    /// How the file ends.
    pub tail: TailState,
    /// The quietest level held for half a second, dBFS RMS (hiss, hum, dither).
    pub noise_floor_dbfs: Option<f32>,
    /// NaN and ±Inf samples.
    pub non_finite_samples: u64,
    /// First frame louder than -60 dBFS.
    pub first_sound_frame: Option<u64>,
    /// Loudness (BS.1770-5, EBU R128).
    pub loudness: Loudness,
    /// The waveform overview for the delivery sheet.
    pub envelope: PeakEnvelope,
}

impl FileMeasurements {
    /// Clip events of `kind` in the whole file.
    pub fn count(&self, kind: ClipKind) -> u64 {
        self.clip_counts[kind as usize]
    }

    /// The step between two values a sample can take (full scale = 1): the coarser of the
    /// container's grid and the one the audio uses; 0 for float audio on no integer grid.
    pub fn sample_step(&self) -> f32 {
        let bits = match self.format.encoding {
            Encoding::Int { bits } => Some(self.effective_bits.filter(|&b| b > 0).unwrap_or(bits)),
            Encoding::Float { .. } => self.effective_bits,
        };
        bits.map_or(0.0, |b| 2f32.powi(1 - i32::from(b)))
    }
}

/// Which integer grids every finite float sample lies on.
struct GridCheck {
    on_16: bool,
    on_24: bool,
}

impl GridCheck {
    fn process(&mut self, samples: &[f32]) {
        if !self.on_24 {
            return;
        }
        let off_grid = |scale: f32| samples.iter().any(|x| (x * scale).fract() != 0.0);
        if self.on_16 && off_grid(32_768.0) {
            self.on_16 = false;
        }
        if !self.on_16 && off_grid(8_388_608.0) {
            self.on_24 = false;
        }
    }
}

/// The first frame of `channels` louder than -60 dBFS in any channel.
fn first_sound_in(channels: &[&[f32]]) -> Option<usize> {
    let frames = channels.first().map_or(0, |c| c.len());
    (0..frames).find(|&i| channels.iter().any(|c| c[i].abs() > SOUND_THRESHOLD))
}

/// The file's first frame louder than -60 dBFS ([`FileMeasurements::first_sound_frame`]),
/// reading no further than that.
pub fn first_sound<R: Read + Seek>(mut reader: AudioReader<R>) -> Result<Option<u64>, DecodeError> {
    let mut channels = vec![Vec::new(); usize::from(reader.format().channels)];
    let mut position = 0u64;
    loop {
        let frames = reader.read_planar(&mut channels, BLOCK_FRAMES)?;
        if frames == 0 {
            return Ok(None);
        }
        let slices: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
        if let Some(i) = first_sound_in(&slices) {
            return Ok(Some(position + i as u64));
        }
        position += frames as u64;
    }
}

/// Decodes and measures a whole file. Memory stays at one block per channel.
pub fn measure<R: Read + Seek>(
    mut reader: AudioReader<R>,
) -> Result<FileMeasurements, DecodeError> {
    let format = reader.format();
    let n_channels = usize::from(format.channels);
    let rate = format.sample_rate as f32;
    let mut channels = vec![Vec::with_capacity(BLOCK_FRAMES); n_channels];
    let mut analyzers: Vec<ChannelAnalyzer> = (0..n_channels)
        .map(|c| ChannelAnalyzer::new(c as u16))
        .collect();
    let mut limiter = LimiterDetector::new(rate);
    let mut loudness = LoudnessMeter::new(f64::from(format.sample_rate), n_channels);
    let mut tail = TailMeter::new(rate);
    let mut envelope = PeakEnvelope::new(
        ENVELOPE_COLUMNS,
        format.frames.div_ceil(ENVELOPE_COLUMNS as u64),
    );
    let mut lossy = LossyOriginDetector::new(format.sample_rate);
    let mut grid = GridCheck {
        on_16: matches!(format.encoding, Encoding::Float { .. }),
        on_24: matches!(format.encoding, Encoding::Float { .. }),
    };
    let mut clip_events = Vec::new();
    let mut clip_counts = [0u64; 3];
    let mut first_sound_frame = None;
    let mut position = 0u64;
    let mut record = |event: ClipEvent| {
        clip_counts[event.kind as usize] += 1;
        if clip_events.len() < KEPT_CLIPS {
            clip_events.push(event);
        }
    };
    loop {
        let frames = reader.read_planar(&mut channels, BLOCK_FRAMES)?;
        if frames == 0 {
            break;
        }
        for (analyzer, samples) in analyzers.iter_mut().zip(&channels) {
            analyzer.process(samples, &mut record);
            grid.process(samples);
        }
        let slices: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
        limiter.process(&slices);
        loudness.process(&slices);
        tail.process(&slices);
        envelope.process(&slices);
        lossy.process(&slices);
        if first_sound_frame.is_none() {
            first_sound_frame = first_sound_in(&slices).map(|i| position + i as u64);
        }
        position += frames as u64;
    }
    for analyzer in &mut analyzers {
        analyzer.finish(&mut record);
    }
    clip_events.sort_by_key(|e| (e.start_sample, e.channel));
    let effective_bits = match format.encoding {
        Encoding::Int { .. } => reader.used_bits(),
        Encoding::Float { .. } if position > 0 && grid.on_16 => Some(16),
        Encoding::Float { .. } if position > 0 && grid.on_24 => Some(24),
        Encoding::Float { .. } => None,
    };
    let max_of = |f: fn(&ChannelAnalyzer) -> f32| analyzers.iter().map(f).fold(0.0f32, f32::max);
    Ok(FileMeasurements {
        format,
        missing_frames: reader.missing_frames(),
        sample_peak_dbfs: gain_to_db(max_of(ChannelAnalyzer::max_sample_peak)),
        true_peak_dbtp: gain_to_db(max_of(ChannelAnalyzer::max_true_peak)),
        clip_events,
        clip_counts,
        limiter: limiter.evidence(),
        passages: limiter.passages(),
        dc_offset: analyzers.iter().map(ChannelAnalyzer::dc_offset).collect(),
        effective_bits,
        lossy: lossy.evidence(),
        tail: tail.state(),
        noise_floor_dbfs: tail.noise_floor_dbfs(),
        non_finite_samples: analyzers.iter().map(|a| a.non_finite_samples()).sum(),
        first_sound_frame,
        loudness: loudness.loudness(),
        envelope,
    })
}
