//! A waveform overview: the lowest and highest sample of each column of time, across all
//! channels, in storage fixed when it is made. When the audio outgrows the columns, neighbours
//! merge in pairs and each column covers twice the time, so any length fits.

/// The lowest and highest sample of one column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    pub min: f32,
    pub max: f32,
}

impl Column {
    const EMPTY: Self = Self {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
    };

    fn merge(self, other: Self) -> Self {
        Self {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }
}

/// The lowest and highest finite sample, in eight independent lanes so that the loop compiles to
/// vector min/max (one running min over a slice is a serial chain the compiler may not reorder).
/// A comparison with NaN is false, so NaN changes no lane; an infinity, which would, is rare
/// enough to be left to a second, careful pass.
fn finite_range(samples: &[f32]) -> Column {
    const LANES: usize = 8;
    let mut low = [f32::INFINITY; LANES];
    let mut high = [f32::NEG_INFINITY; LANES];
    let chunks = samples.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for lane in 0..LANES {
            let x = chunk[lane];
            low[lane] = if x < low[lane] { x } else { low[lane] };
            high[lane] = if x > high[lane] { x } else { high[lane] };
        }
    }
    let lanes = low
        .into_iter()
        .zip(high)
        .map(|(min, max)| Column { min, max });
    let tail = rest.iter().map(|&x| Column { min: x, max: x });
    let range = lanes
        .chain(tail)
        .filter(|c| !c.min.is_nan())
        .fold(Column::EMPTY, Column::merge);
    if range.min == f32::NEG_INFINITY || range.max == f32::INFINITY {
        let finite = samples.iter().filter(|x| x.is_finite());
        finite.fold(Column::EMPTY, |c, &x| c.merge(Column { min: x, max: x }))
    } else {
        range
    }
}

/// The overview being drawn. Allocates only in [`PeakEnvelope::new`].
#[derive(Debug, Clone)]
pub struct PeakEnvelope {
    columns: Vec<Column>,
    /// Columns complete or begun.
    used: usize,
    frames_per_column: u64,
    /// Frames in the current (last) column.
    in_column: u64,
}

impl PeakEnvelope {
    /// At most `columns` columns of at least `frames_per_column` frames each (a file whose
    /// length is known gets `frames / columns` rounded up, and never merges).
    pub fn new(columns: usize, frames_per_column: u64) -> Self {
        Self {
            columns: vec![Column::EMPTY; columns.max(2)],
            used: 0,
            frames_per_column: frames_per_column.max(1),
            in_column: 0,
        }
    }

    /// Frames each column covers.
    pub fn frames_per_column(&self) -> u64 {
        self.frames_per_column
    }

    /// Adds one block, one slice per channel (all the same length). Non-finite samples are
    /// left out.
    pub fn process<S: AsRef<[f32]>>(&mut self, channels: &[S]) {
        let frames = channels.first().map_or(0, |c| c.as_ref().len());
        let mut at = 0;
        while at < frames {
            if self.used == 0 || self.in_column == self.frames_per_column {
                if self.used == self.columns.len() {
                    self.halve();
                }
                if self.used == 0 || self.in_column == self.frames_per_column {
                    self.used += 1;
                    self.in_column = 0;
                }
            }
            let take = ((self.frames_per_column - self.in_column) as usize).min(frames - at);
            let column = &mut self.columns[self.used - 1];
            for channel in channels {
                let samples = &channel.as_ref()[at..(at + take).min(channel.as_ref().len())];
                *column = column.merge(finite_range(samples));
            }
            self.in_column += take as u64;
            at += take;
        }
    }

    /// Merges neighbours in pairs: half the columns, each twice as long.
    fn halve(&mut self) {
        let half = self.used.div_ceil(2);
        for i in 0..half {
            let second = self
                .columns
                .get(2 * i + 1)
                .copied()
                .filter(|_| 2 * i + 1 < self.used);
            let first = self.columns[2 * i];
            self.columns[i] = second.map_or(first, |s| first.merge(s));
        }
        self.columns[half..].fill(Column::EMPTY);
        // The last column was full (or the merge would not be needed): its pair is complete
        // only if `used` was even.
        self.in_column = if self.used.is_multiple_of(2) {
            2 * self.frames_per_column
        } else {
            self.frames_per_column
        };
        self.used = half;
        self.frames_per_column *= 2;
    }

    /// The columns so far, oldest first; a column without a finite sample reads 0..0.
    pub fn columns(&self) -> impl Iterator<Item = Column> + '_ {
        self.columns[..self.used].iter().map(|c| {
            if c.min <= c.max {
                *c
            } else {
                Column { min: 0.0, max: 0.0 }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(frames: usize) -> Vec<f32> {
        (0..frames).map(|i| i as f32).collect()
    }

    #[test]
    fn a_known_length_fills_its_columns_exactly() {
        let signal = ramp(1000);
        let mut envelope = PeakEnvelope::new(10, 100);
        for block in signal.chunks(37) {
            envelope.process(&[block]);
        }
        let columns: Vec<Column> = envelope.columns().collect();
        assert_eq!(columns.len(), 10);
        for (i, c) in columns.iter().enumerate() {
            assert_eq!((c.min, c.max), ((i * 100) as f32, (i * 100 + 99) as f32));
        }
    }

    #[test]
    fn a_longer_stream_merges_columns_and_keeps_every_sample() {
        for frames in [1, 99, 100, 101, 1000, 1001, 2999, 12_345] {
            let signal = ramp(frames);
            let mut envelope = PeakEnvelope::new(8, 10);
            for block in signal.chunks(7) {
                envelope.process(&[block, block]);
            }
            let columns: Vec<Column> = envelope.columns().collect();
            assert!(columns.len() <= 8, "{frames}");
            let per = envelope.frames_per_column() as usize;
            for (i, c) in columns.iter().enumerate() {
                let last = ((i + 1) * per).min(frames) - 1;
                assert_eq!(
                    (c.min, c.max),
                    ((i * per) as f32, last as f32),
                    "{frames} col {i}"
                );
            }
            assert_eq!(columns.last().unwrap().max, (frames - 1) as f32);
        }
    }

    #[test]
    fn the_lanes_find_what_one_sample_at_a_time_finds() {
        let mut seed = 12_345u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        };
        for len in [0, 1, 7, 8, 9, 63, 64, 100, 1001] {
            let mut samples: Vec<f32> = (0..len).map(|_| next()).collect();
            for (i, bad) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY]
                .iter()
                .enumerate()
            {
                if let Some(x) = samples.get_mut(i * 5) {
                    *x = *bad;
                }
            }
            let finite = samples.iter().copied().filter(|x| x.is_finite());
            let expected = (
                finite.clone().fold(f32::INFINITY, f32::min),
                finite.fold(f32::NEG_INFINITY, f32::max),
            );
            let found = finite_range(&samples);
            assert_eq!((found.min, found.max), expected, "{len}");
        }
    }

    #[test]
    fn non_finite_samples_are_left_out() {
        let mut envelope = PeakEnvelope::new(4, 2);
        envelope.process(&[[f32::NAN, 0.5, f32::INFINITY, f32::NAN]]);
        let columns: Vec<Column> = envelope.columns().collect();
        assert_eq!(columns[0], Column { min: 0.5, max: 0.5 });
        assert_eq!(columns[1], Column { min: 0.0, max: 0.0 });
    }
}
