//! The set's slow work, each stem's alignment and the null test, started together with the
//! per-file measurements so that both cores stay busy to the end. The headers already say
//! which file is the mix and which stems share its rate; whatever the measurements later
//! contradict (a stem that fails to decode, a different first sound) is simply redone.

use super::decode::DecodeError;
use super::measure::{self, FileMeasurements};
use super::parallel::parallel_map;
use super::sum::{self, null_sums, song_parts, NullResult, SumInput, Sums, MAX_NULL_TEST_STEMS};
use crate::analysis::Alignment;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One piece of work for a core.
enum Job<'a> {
    /// A stretch of the null test (stems at offset 0), started first: the longest jobs.
    NullPart(std::ops::Range<u64>),
    /// Everything about one file.
    Measure(&'a Path),
    /// A stem's offset against the mix.
    Align(&'a Path),
}

enum Outcome {
    NullPart(Result<Sums, DecodeError>),
    /// Boxed: the measurements are large and the other outcomes small.
    Measured(Box<Result<FileMeasurements, DecodeError>>),
    /// `None` when the stem could not be read.
    Aligned(Option<PreparedAlignment>),
}

struct PreparedAlignment {
    stem: PathBuf,
    /// The stem's first sound and its alignment from there; `None` for a silent stem.
    from_first_sound: Option<(u64, Result<Alignment, DecodeError>)>,
}

/// Set results computed ahead, for [`super::set_checks`] to use when they match.
pub struct Prepared {
    alignments: Vec<PreparedAlignment>,
    /// The stems summed, and the null test without offsets.
    null: Option<(Vec<PathBuf>, Result<NullResult, DecodeError>)>,
}

impl Prepared {
    /// The alignment of `stem` found from its first sound at `first_sound`, if it was made
    /// ahead (`None` for a silent stem).
    pub fn take_alignment(
        &mut self,
        stem: &Path,
        first_sound: Option<u64>,
    ) -> Option<Option<Result<Alignment, DecodeError>>> {
        let at = self.alignments.iter().position(|a| {
            a.stem == stem && a.from_first_sound.as_ref().map(|(first, _)| *first) == first_sound
        })?;
        let prepared = self.alignments.swap_remove(at);
        Some(prepared.from_first_sound.map(|(_, result)| result))
    }

    /// The null test without offsets, if it was run ahead over exactly these stems.
    pub fn take_null(&mut self, stems: &[SumInput]) -> Option<Result<NullResult, DecodeError>> {
        let (summed, _) = self.null.as_ref()?;
        let same =
            summed.len() == stems.len() && summed.iter().zip(stems).all(|(a, b)| a == b.path);
        if !same || stems.iter().any(|s| s.offset_frames != 0) {
            return None;
        }
        self.null.take().map(|(_, result)| result)
    }
}

/// Measures every file and, when `reference` names the mix among them, prepares the set's
/// alignments and null test on the same cores. `progress` sees (files measured, files).
pub fn measure_all(
    files: &[PathBuf],
    reference: Option<usize>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (Vec<Result<FileMeasurements, DecodeError>>, Prepared) {
    // Which files will be stems at the mix's rate, from the headers alone.
    let mix = reference.and_then(|r| {
        let format = sum::open(&files[r]).ok()?.format();
        let stems: Vec<&Path> = files
            .iter()
            .enumerate()
            .filter(|&(i, path)| {
                i != r
                    && sum::open(path)
                        .is_ok_and(|reader| reader.format().sample_rate == format.sample_rate)
            })
            .map(|(_, path)| path.as_path())
            .collect();
        Some((files[r].as_path(), format, stems))
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let mut jobs = Vec::new();
    let summed: Vec<SumInput> = match &mix {
        Some((_, format, stems)) if !stems.is_empty() && stems.len() <= MAX_NULL_TEST_STEMS => {
            jobs.extend(
                song_parts(format.frames, cores)
                    .into_iter()
                    .map(Job::NullPart),
            );
            stems
                .iter()
                .map(|path| SumInput {
                    path,
                    offset_frames: 0,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    jobs.extend(files.iter().map(|path| Job::Measure(path)));
    if let Some((_, _, stems)) = &mix {
        jobs.extend(stems.iter().map(|path| Job::Align(path)));
    }

    let done = AtomicUsize::new(0);
    let outcomes = parallel_map(&jobs, |job| match job {
        Job::NullPart(range) => {
            let (mix_path, _, _) = mix.as_ref().expect("null test jobs only with a mix");
            Outcome::NullPart(null_sums(mix_path, &summed, range.clone()))
        }
        Job::Measure(path) => {
            let result = sum::open(path).and_then(measure::measure);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, files.len());
            Outcome::Measured(Box::new(result))
        }
        Job::Align(stem) => {
            let (mix_path, format, _) = mix.as_ref().expect("alignment jobs only with a mix");
            let first_sound = sum::open(stem).and_then(measure::first_sound).ok();
            Outcome::Aligned(first_sound.map(|first_sound| PreparedAlignment {
                stem: stem.to_path_buf(),
                from_first_sound: first_sound.map(|first| {
                    let result = sum::stem_offset(mix_path, stem, first, format.sample_rate);
                    (first, result)
                }),
            }))
        }
    });

    let mut measured = Vec::with_capacity(files.len());
    let mut parts = Vec::new();
    let mut alignments = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::NullPart(part) => parts.push(part),
            Outcome::Measured(m) => measured.push(*m),
            Outcome::Aligned(a) => alignments.extend(a),
        }
    }
    let null = (!parts.is_empty()).then(|| {
        let result = sum::null_result(parts, summed.len());
        (
            summed.iter().map(|s| s.path.to_path_buf()).collect(),
            result,
        )
    });
    (measured, Prepared { alignments, null })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_made_ahead_are_used_only_when_they_match() {
        let alignment = Alignment {
            offset_frames: 7,
            correlation: 0.9,
            correlation_in_place: 0.1,
        };
        let null = NullResult {
            residual_db: -80.0,
            gains: vec![1.0],
            fitted_residual_db: -80.0,
            timeline: Vec::new(),
            stems_sum_peak: 0.5,
        };
        let mut prepared = Prepared {
            alignments: vec![PreparedAlignment {
                stem: PathBuf::from("Song_Bass.wav"),
                from_first_sound: Some((100, Ok(alignment))),
            }],
            null: Some((vec![PathBuf::from("Song_Bass.wav")], Ok(null.clone()))),
        };
        // Another first sound (the measurement disagrees) or another stem: made again.
        assert!(prepared
            .take_alignment(Path::new("Song_Bass.wav"), Some(99))
            .is_none());
        assert!(prepared
            .take_alignment(Path::new("Song_Keys.wav"), Some(100))
            .is_none());
        let taken = prepared.take_alignment(Path::new("Song_Bass.wav"), Some(100));
        assert!(matches!(taken, Some(Some(Ok(a))) if a == alignment));

        let input = |path, offset_frames| SumInput {
            path,
            offset_frames,
        };
        let bass = Path::new("Song_Bass.wav");
        let keys = Path::new("Song_Keys.wav");
        assert!(prepared
            .take_null(&[input(bass, 0), input(keys, 0)])
            .is_none());
        assert!(prepared.take_null(&[input(bass, 480)]).is_none());
        let taken = prepared.take_null(&[input(bass, 0)]);
        assert!(matches!(taken, Some(Ok(n)) if n == null));
        assert!(prepared.take_null(&[input(bass, 0)]).is_none(), "used once");
    }
}
