//! Do the stems add up to the mix? Reads the reference and every stem in step, sums the stems
//! and measures what is left after subtracting the reference.

use super::decode::{AudioReader, DecodeError};
use super::measure::BLOCK_FRAMES;
use super::source::{self, Source};
use crate::analysis::level::{lane_dot_f64, log10, sum_of_squares};
use crate::analysis::sample_peak::max_abs;
use crate::analysis::{align, Alignment};
use std::io::BufReader;
use std::path::Path;

/// Opens a WAV or AIFF file (or a ZIP archive's entry) for streaming. The buffer serves the
/// header's small reads; the blocks of samples, larger than it, go straight from the file to
/// the decoder.
pub fn open(path: &Path) -> Result<AudioReader<BufReader<Source>>, DecodeError> {
    AudioReader::new(BufReader::with_capacity(1 << 13, source::open(path)?))
}

/// Frames of the stem after its first sound used to align it.
const ALIGN_WINDOW_S: f64 = 6.0;
/// The null test keeps one reader and one block per stem open (and a stem-by-stem matrix).
pub const MAX_NULL_TEST_STEMS: usize = 64;
/// Largest offset searched, seconds either way.
pub const MAX_OFFSET_S: f64 = 10.0;

/// Mono frames `start..start + len` of a file (fewer at its end).
fn read_mono(path: &Path, start: u64, len: u64) -> Result<Vec<f32>, DecodeError> {
    let mut reader = open(path)?;
    reader.seek_to_frame(start)?;
    let n_channels = usize::from(reader.format().channels);
    let mut channels = vec![Vec::new(); n_channels];
    let mut mono = Vec::with_capacity(len as usize);
    while (mono.len() as u64) < len {
        let want = (len - mono.len() as u64).min(BLOCK_FRAMES as u64) as usize;
        let frames = reader.read_planar(&mut channels, want)?;
        if frames == 0 {
            break;
        }
        mono.extend((0..frames).map(|i| channels.iter().map(|c| c[i]).sum::<f32>()));
    }
    Ok(mono)
}

/// Finds a stem's offset against the reference from a window starting at the stem's first
/// sound. Reads only that window from each file.
pub fn stem_offset(
    reference: &Path,
    stem: &Path,
    stem_first_sound: u64,
    sample_rate: u32,
) -> Result<Alignment, DecodeError> {
    let max_lag = (MAX_OFFSET_S * f64::from(sample_rate)) as u64;
    let window = (ALIGN_WINDOW_S * f64::from(sample_rate)) as u64;
    // The same range of both files: a stem shifted the wrong way then loses part of itself out
    // of the range, so a repeating loop cannot match one bar off as well as it matches in place.
    let start = stem_first_sound.saturating_sub(max_lag);
    let len = stem_first_sound + window + max_lag - start;
    let stem_part = read_mono(stem, start, len)?;
    let reference_part = read_mono(reference, start, len)?;
    Ok(align(&reference_part, &stem_part, max_lag as usize))
}

/// A stem in the null test: its file and the frames to skip (positive: the stem is late and
/// its first frames are dropped) or to prepend as silence (negative).
pub struct SumInput<'a> {
    /// The stem file.
    pub path: &'a Path,
    /// Offset to undo, frames.
    pub offset_frames: i64,
}

/// The outcome of a null test.
#[derive(Debug, Clone, PartialEq)]
pub struct NullResult {
    /// Energy of (Σ stems − reference) against the reference's, dB.
    pub residual_db: f32,
    /// Least-squares gain of each stem in the mix (1.0 = present as exported, 0 = absent,
    /// -1 = polarity flipped).
    pub gains: Vec<f32>,
    /// Residual after fitting those gains, dB against the reference: what no stem explains.
    pub fitted_residual_db: f32,
    /// The residual and the reference over the song, [`NULL_COLUMNS`] stretches.
    pub timeline: Vec<NullColumn>,
    /// Largest |Σ stems| over every channel, linear: the peak the mix would have as their plain
    /// sum.
    pub stems_sum_peak: f32,
}

/// Stretches of the song in the null test's timeline.
pub const NULL_COLUMNS: usize = 400;

/// One stretch of the null test's timeline: levels as RMS over all channels, dBFS; `None` for
/// a stretch shorter than a block (a short song).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NullColumn {
    pub mix_dbfs: Option<f32>,
    pub residual_dbfs: Option<f32>,
}

/// Fits the Gram matrix only on every n-th block: the gains need a sample, not every frame.
const FIT_STRIDE: u64 = 4;

/// Streams the reference and the stems in step, one stretch of the song per core. Stems with
/// a different channel count from the reference are folded: a mono stem feeds every channel.
/// Allocates per call, not per block.
pub fn null_test(reference: &Path, stems: &[SumInput]) -> Result<NullResult, DecodeError> {
    let frames = open(reference)?.format().frames;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let partials: Vec<Result<Sums, DecodeError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = song_parts(frames, threads)
            .into_iter()
            .map(|range| scope.spawn(move || null_sums(reference, stems, range)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    null_result(partials, stems.len())
}

/// The song's frames cut into `count` stretches (fewer for a short song) that the null test
/// can sum independently.
pub fn song_parts(frames: u64, count: u64) -> Vec<std::ops::Range<u64>> {
    // Stretches start on a multiple of the fit stride so the fitted blocks stay the same.
    let unit = BLOCK_FRAMES as u64 * FIT_STRIDE;
    let per_part = frames.div_ceil(count.max(1)).div_ceil(unit) * unit;
    (0..count)
        .map(|t| t * per_part..((t + 1) * per_part).min(frames))
        .filter(|range| !range.is_empty())
        .collect()
}

/// The null test from the sums of every part of the song ([`song_parts`]), in order.
pub fn null_result(
    partials: Vec<Result<Sums, DecodeError>>,
    k: usize,
) -> Result<NullResult, DecodeError> {
    let mut sums = Sums::new(k);
    for partial in partials {
        sums.add(&partial?);
    }
    let Sums {
        residual,
        energy,
        fit_energy,
        mut gram,
        cross,
        timeline,
        stems_sum_peak,
    } = sums;
    for i in 0..k {
        for j in 0..i {
            gram[i * k + j] = gram[j * k + i];
        }
    }
    let gains = solve(&mut gram, &mut cross.clone(), k);
    // At the least-squares optimum G·g = b, so the fitted residual is ‖r‖² − gᵀb.
    let explained: f64 = gains.iter().zip(&cross).map(|(g, b)| g * b).sum();
    let to_db = |x: f64| (10.0 * log10(x.max(1e-30))) as f32;
    let relative = |x: f64, of: f64| if of > 0.0 { x / of } else { x };
    Ok(NullResult {
        residual_db: to_db(relative(residual, energy)),
        gains: gains.iter().map(|&g| g as f32).collect(),
        fitted_residual_db: to_db(relative(fit_energy - explained, fit_energy)),
        timeline: timeline
            .iter()
            .map(|stretch| {
                let level = |sum: f64| {
                    (stretch.samples > 0.0).then(|| to_db(sum / stretch.samples).max(-200.0))
                };
                NullColumn {
                    mix_dbfs: level(stretch.energy),
                    residual_dbfs: level(stretch.residual),
                }
            })
            .collect(),
        stems_sum_peak,
    })
}

/// One stretch's sums of squares and samples.
#[derive(Debug, Clone, Copy, Default)]
struct Stretch {
    residual: f64,
    energy: f64,
    samples: f64,
}

/// Running sums of a null test over part of the song.
pub struct Sums {
    /// Σ (Σ stems − reference)².
    residual: f64,
    /// Σ reference².
    energy: f64,
    /// Σ reference² over the fitted blocks.
    fit_energy: f64,
    /// Upper triangle of ⟨stem i, stem j⟩ over the fitted blocks.
    gram: Vec<f64>,
    /// ⟨stem i, reference⟩ over the fitted blocks.
    cross: Vec<f64>,
    /// The residual and the reference by stretch of the song.
    timeline: Vec<Stretch>,
    /// Largest |Σ stems|.
    stems_sum_peak: f32,
}

impl Sums {
    fn new(k: usize) -> Self {
        Self {
            residual: 0.0,
            energy: 0.0,
            fit_energy: 0.0,
            gram: vec![0.0; k * k],
            cross: vec![0.0; k],
            timeline: vec![Stretch::default(); NULL_COLUMNS],
            stems_sum_peak: 0.0,
        }
    }

    fn add(&mut self, other: &Self) {
        self.residual += other.residual;
        self.energy += other.energy;
        self.fit_energy += other.fit_energy;
        self.stems_sum_peak = self.stems_sum_peak.max(other.stems_sum_peak);
        self.gram
            .iter_mut()
            .zip(&other.gram)
            .for_each(|(a, b)| *a += b);
        self.cross
            .iter_mut()
            .zip(&other.cross)
            .for_each(|(a, b)| *a += b);
        for (a, b) in self.timeline.iter_mut().zip(&other.timeline) {
            a.residual += b.residual;
            a.energy += b.energy;
            a.samples += b.samples;
        }
    }
}

/// The null test's sums over reference frames `range`.
pub fn null_sums(
    reference: &Path,
    stems: &[SumInput],
    range: std::ops::Range<u64>,
) -> Result<Sums, DecodeError> {
    let mut reference_reader = open(reference)?;
    reference_reader.seek_to_frame(range.start)?;
    let song_frames = reference_reader.format().frames.max(1);
    let n_channels = usize::from(reference_reader.format().channels);
    let k = stems.len();
    let mut readers = Vec::with_capacity(k);
    let mut silence_due = Vec::with_capacity(k);
    for stem in stems {
        let mut reader = open(stem.path)?;
        let position = range.start as i64 + stem.offset_frames;
        reader.seek_to_frame(position.max(0) as u64)?;
        readers.push(reader);
        silence_due.push((-position).max(0) as u64);
    }
    let mut reference_block = vec![Vec::new(); n_channels];
    let mut stem_blocks: Vec<Vec<Vec<f32>>> = readers
        .iter()
        .map(|r| vec![Vec::new(); usize::from(r.format().channels)])
        .collect();
    // Each stem's contribution to each reference channel for this block.
    let mut parts = vec![vec![0.0f32; BLOCK_FRAMES]; k * n_channels];
    let mut sums = Sums::new(k);
    let mut total = vec![0.0f32; BLOCK_FRAMES];
    let mut block_index = 0u64;
    let mut left = range.end - range.start;
    let mut block_start = range.start;
    loop {
        let want = left.min(BLOCK_FRAMES as u64) as usize;
        let frames = reference_reader.read_planar(&mut reference_block, want)?;
        left -= frames as u64;
        if frames == 0 {
            break;
        }
        for (s, reader) in readers.iter_mut().enumerate() {
            let zeros = silence_due[s].min(frames as u64) as usize;
            silence_due[s] -= zeros as u64;
            let got = if zeros < frames {
                reader.read_planar(&mut stem_blocks[s], frames - zeros)?
            } else {
                0
            };
            let stem_channels = stem_blocks[s].len();
            for c in 0..n_channels {
                let part = &mut parts[s * n_channels + c][..frames];
                part.fill(0.0);
                if got == 0 {
                    continue;
                }
                let source = &stem_blocks[s][c.min(stem_channels - 1)];
                for (p, x) in part[zeros..zeros + got].iter_mut().zip(source) {
                    *p = if x.is_finite() { *x } else { 0.0 };
                }
            }
        }
        let fit = block_index.is_multiple_of(FIT_STRIDE);
        let pieces = stretch_pieces(block_start, frames, song_frames);
        for (c, reference_channel) in reference_block.iter_mut().enumerate() {
            for r in reference_channel.iter_mut() {
                if !r.is_finite() {
                    *r = 0.0;
                }
            }
            let reference_channel = &reference_channel[..frames];
            // What the stems leave unexplained: Σ stems − reference.
            let left_over = &mut total[..frames];
            left_over.fill(0.0);
            for s in 0..k {
                for (t, p) in left_over
                    .iter_mut()
                    .zip(&parts[s * n_channels + c][..frames])
                {
                    *t += p;
                }
            }
            // Every part is finite, so their sum's peak is a number (or infinite, past f32).
            sums.stems_sum_peak = sums.stems_sum_peak.max(max_abs(left_over));
            for (t, r) in left_over.iter_mut().zip(reference_channel) {
                *t -= r;
            }
            // By stretch of the song, so the timeline is exact; the totals add the pieces.
            let mut energy = 0.0;
            for (stretch, piece) in pieces.clone() {
                let stretch = &mut sums.timeline[stretch];
                let piece_energy = sum_of_squares(&reference_channel[piece.clone()]);
                let piece_residual = sum_of_squares(&left_over[piece.clone()]);
                stretch.residual += piece_residual;
                stretch.energy += piece_energy;
                stretch.samples += piece.len() as f64;
                sums.residual += piece_residual;
                energy += piece_energy;
            }
            sums.energy += energy;
            if fit {
                // In f64 lanes: the fitted residual is what is left of one sum minus another.
                sums.fit_energy += lane_dot_f64(reference_channel, reference_channel);
                for i in 0..k {
                    let pi = &parts[i * n_channels + c][..frames];
                    sums.cross[i] += lane_dot_f64(pi, reference_channel);
                    for j in i..k {
                        sums.gram[i * k + j] +=
                            lane_dot_f64(pi, &parts[j * n_channels + c][..frames]);
                    }
                }
            }
        }
        block_index += 1;
        block_start += frames as u64;
    }
    Ok(sums)
}

/// The parts of the block of `frames` frames at `block_start` that fall in each of the song's
/// [`NULL_COLUMNS`] stretches: (stretch, frames within the block).
fn stretch_pieces(
    block_start: u64,
    frames: usize,
    song_frames: u64,
) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + Clone {
    let columns = NULL_COLUMNS as u128;
    let stretch_of = move |frame: u64| {
        ((u128::from(frame) * columns / u128::from(song_frames)) as usize).min(NULL_COLUMNS - 1)
    };
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at >= frames {
            return None;
        }
        let stretch = stretch_of(block_start + at as u64);
        // The first frame of the next stretch: ceil((stretch + 1) · song / columns).
        let next = ((stretch as u128 + 1) * u128::from(song_frames)).div_ceil(columns) as u64;
        let end = if stretch + 1 == NULL_COLUMNS {
            frames
        } else {
            (next.saturating_sub(block_start) as usize).clamp(at + 1, frames)
        };
        let piece = (stretch, at..end);
        at = end;
        Some(piece)
    })
}

/// Solves G g = b by Gaussian elimination with partial pivoting; singular directions (a
/// silent stem) get gain 0.
fn solve(gram: &mut [f64], b: &mut [f64], k: usize) -> Vec<f64> {
    let scale = (0..k).map(|i| gram[i * k + i]).fold(0.0f64, f64::max);
    let tiny = scale * 1e-12;
    for col in 0..k {
        let pivot = (col..k)
            .max_by(|&a, &b| gram[a * k + col].abs().total_cmp(&gram[b * k + col].abs()))
            .unwrap_or(col);
        if gram[pivot * k + col].abs() <= tiny {
            continue;
        }
        for j in 0..k {
            gram.swap(col * k + j, pivot * k + j);
        }
        b.swap(col, pivot);
        for row in 0..k {
            if row == col {
                continue;
            }
            let factor = gram[row * k + col] / gram[col * k + col];
            if factor == 0.0 {
                continue;
            }
            for j in col..k {
                gram[row * k + j] -= factor * gram[col * k + j];
            }
            b[row] -= factor * b[col];
        }
    }
    (0..k)
        .map(|i| {
            let d = gram[i * k + i];
            if d.abs() > tiny {
                b[i] / d
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_cut_exactly_at_the_stretches_of_the_song() {
        for song_frames in [1u64, 399, 400, 401, 768_000, 10_000_019] {
            let mut seen = 0u64;
            let mut last_stretch = 0;
            let block = 4096;
            while seen < song_frames {
                let frames = block.min((song_frames - seen) as usize);
                let mut at = 0;
                for (stretch, piece) in stretch_pieces(seen, frames, song_frames) {
                    assert_eq!(piece.start, at, "{song_frames}: contiguous");
                    assert!(stretch >= last_stretch);
                    for frame in [piece.start, piece.end - 1] {
                        let of = (u128::from(seen + frame as u64) * NULL_COLUMNS as u128
                            / u128::from(song_frames)) as usize;
                        assert_eq!(of, stretch, "{song_frames}: frame {}", seen + frame as u64);
                    }
                    last_stretch = stretch;
                    at = piece.end;
                }
                assert_eq!(at, frames);
                seen += frames as u64;
            }
            assert_eq!(
                last_stretch,
                (NULL_COLUMNS - 1).min(song_frames as usize - 1)
            );
        }
    }
}
