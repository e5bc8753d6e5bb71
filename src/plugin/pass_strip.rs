//! The pass timeline: the peak of each stretch of the current or last pass and where it
//! clipped, in fixed storage the audio thread fills without allocating or locking. When a pass
//! outgrows the strip, neighbouring columns merge in pairs and each covers twice the time, so
//! a pass of any length fits.
//!
//! One writer (the audio thread, through [`StripPen`]), any number of readers (the editor).
//! Clearing and merging bump a sequence number around their writes, so a reader that overlaps
//! them knows to keep its previous picture; ordinary updates only raise a column's peak or add
//! a mark, which a reader may see a block early or late without harm.

use atomic_float::AtomicF32;
use std::sync::atomic::{fence, AtomicI64, AtomicU32, AtomicU64, Ordering};

use super::timeline::{BarBeat, TimelinePosition};
use crate::analysis::ClipKind;

/// Columns across the strip.
pub const STRIP_COLUMNS: usize = 480;
/// Seconds one column covers when a pass begins: 48 s fit before the first merge.
pub const FIRST_COLUMN_S: f64 = 0.1;
/// `bar` of a position without bar and beat.
const NO_BAR: i64 = i64::MIN;

/// The clips, overs and flat tops that fell in one column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub clips: u32,
    pub overs: u32,
    pub flat_tops: u32,
}

impl Marks {
    pub fn any(self) -> bool {
        self.clips + self.overs + self.flat_tops > 0
    }

    /// Packed into one word: 11 bits per kind, saturating (a column shows "2047+" at worst).
    fn pack(self) -> u32 {
        let cap = |n: u32| n.min(FIELD);
        cap(self.clips) | cap(self.overs) << 11 | cap(self.flat_tops) << 22
    }

    fn unpack(word: u32) -> Self {
        Self {
            clips: word & FIELD,
            overs: word >> 11 & FIELD,
            flat_tops: word >> 22 & FIELD,
        }
    }

    fn add(self, other: Self) -> Self {
        Self {
            clips: self.clips + other.clips,
            overs: self.overs + other.overs,
            flat_tops: self.flat_tops + other.flat_tops,
        }
    }
}

const FIELD: u32 = (1 << 11) - 1;

/// One column as stored.
#[derive(Debug, Default)]
struct StoredColumn {
    /// Highest sample magnitude in the column, all channels.
    peak: AtomicF32,
    marks: AtomicU32,
    /// The column's first mark: host seconds (f64 bits), bar ([`NO_BAR`] if none), beat.
    first_seconds: AtomicU64,
    first_bar: AtomicI64,
    first_beat: AtomicU64,
}

impl StoredColumn {
    fn read(&self) -> StripColumn {
        let marks = Marks::unpack(self.marks.load(Ordering::Relaxed));
        let bar = self.first_bar.load(Ordering::Relaxed);
        StripColumn {
            peak: self.peak.load(Ordering::Relaxed),
            marks,
            first_mark: marks.any().then(|| TimelinePosition {
                seconds: f64::from_bits(self.first_seconds.load(Ordering::Relaxed)),
                from_host: true,
                bar_beat: (bar != NO_BAR).then(|| BarBeat {
                    bar,
                    beat: f64::from_bits(self.first_beat.load(Ordering::Relaxed)),
                }),
            }),
        }
    }

    fn write(&self, column: &StripColumn) {
        self.peak.store(column.peak, Ordering::Relaxed);
        if let Some(at) = column.first_mark {
            self.first_seconds
                .store(at.seconds.to_bits(), Ordering::Relaxed);
            let (bar, beat) = at.bar_beat.map_or((NO_BAR, 0.0), |b| (b.bar, b.beat));
            self.first_bar.store(bar, Ordering::Relaxed);
            self.first_beat.store(beat.to_bits(), Ordering::Relaxed);
        }
        // Last, so a reader that sees the marks sees where the first one was.
        self.marks.store(column.marks.pack(), Ordering::Release);
    }
}

/// One column as read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StripColumn {
    /// Highest sample magnitude, linear (full scale = 1.0).
    pub peak: f32,
    pub marks: Marks,
    /// Where the column's first clip, over or flat top was. Its `from_host` is not stored: it
    /// is taken from the strip's start.
    pub first_mark: Option<TimelinePosition>,
}

impl StripColumn {
    /// "Clip at 1:23.250 (bar 42, beat 3.00)", or for a column with several, "3 clips and 1 over
    /// from 1:23.250 (bar 42, beat 3.00)".
    pub fn marks_text(&self) -> Option<String> {
        let at = self.first_mark?.describe();
        let marks = self.marks;
        let counted: Vec<String> = [
            (marks.clips, "clip", "clips"),
            (marks.overs, "true-peak over", "true-peak overs"),
            (
                marks.flat_tops,
                "flat top (clipped before this plugin)",
                "flat tops (clipped before this plugin)",
            ),
        ]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        })
        .collect();
        let total = marks.clips + marks.overs + marks.flat_tops;
        Some(if total == 1 {
            let what = counted[0].trim_start_matches("1 ");
            let mut what = what.to_owned();
            if let Some(first) = what.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            format!("{what} at {at}")
        } else {
            format!("{} from {at}", counted.join(" and "))
        })
    }

    fn merge(self, later: Self) -> Self {
        Self {
            peak: self.peak.max(later.peak),
            marks: self.marks.add(later.marks),
            first_mark: self.first_mark.or(later.first_mark),
        }
    }
}

/// The strip as the editor reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StripPicture {
    /// Columns so far, oldest first; at most [`STRIP_COLUMNS`].
    pub columns: Vec<StripColumn>,
    /// Seconds each column covers.
    pub column_s: f64,
    /// Where the strip begins on the host's timeline.
    pub start: TimelinePosition,
}

/// The shared storage, in [`super::shared::MeterShared`].
#[derive(Debug)]
pub struct PassStrip {
    columns: Box<[StoredColumn]>,
    used: AtomicU32,
    frames_per_column: AtomicU64,
    sample_rate: AtomicU64,
    start_seconds: AtomicU64,
    start_from_host: AtomicU32,
    /// Odd while the writer clears or merges.
    sequence: AtomicU32,
}

impl Default for PassStrip {
    fn default() -> Self {
        Self {
            columns: (0..STRIP_COLUMNS)
                .map(|_| StoredColumn::default())
                .collect(),
            used: AtomicU32::new(0),
            frames_per_column: AtomicU64::new(1),
            sample_rate: AtomicU64::new(48_000f64.to_bits()),
            start_seconds: AtomicU64::new(0),
            start_from_host: AtomicU32::new(0),
            sequence: AtomicU32::new(0),
        }
    }
}

impl PassStrip {
    /// The strip as it stands, or `None` if the writer was clearing or merging meanwhile (keep
    /// the last picture; the next frame will read it). Allocates: not for the audio thread.
    pub fn read(&self) -> Option<StripPicture> {
        let before = self.sequence.load(Ordering::Acquire);
        if before % 2 == 1 {
            return None;
        }
        let used = (self.used.load(Ordering::Acquire) as usize).min(STRIP_COLUMNS);
        let from_host = self.start_from_host.load(Ordering::Relaxed) == 1;
        let columns = self.columns[..used]
            .iter()
            .map(|c| {
                let mut column = c.read();
                if let Some(at) = &mut column.first_mark {
                    at.from_host = from_host;
                }
                column
            })
            .collect();
        let picture = StripPicture {
            columns,
            column_s: self.frames_per_column.load(Ordering::Relaxed) as f64
                / f64::from_bits(self.sample_rate.load(Ordering::Relaxed)),
            start: TimelinePosition {
                seconds: f64::from_bits(self.start_seconds.load(Ordering::Relaxed)),
                from_host,
                bar_beat: None,
            },
        };
        fence(Ordering::Acquire);
        (self.sequence.load(Ordering::Relaxed) == before).then_some(picture)
    }

    fn begin_rewrite(&self) {
        self.sequence.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
    }

    fn end_rewrite(&self) {
        self.sequence.fetch_add(1, Ordering::Release);
    }
}

/// The audio thread's side: where the pass is, in frames. Never allocates.
#[derive(Debug, Clone, Copy)]
pub struct StripPen {
    sample_rate: f64,
    first_frames_per_column: u64,
    frames_per_column: u64,
    /// Frames drawn since the strip began.
    frames: u64,
    used: usize,
}

impl StripPen {
    /// A pen for `sample_rate`; call [`Self::restart`] before drawing.
    pub fn new(sample_rate: f64) -> Self {
        let first = (sample_rate * FIRST_COLUMN_S).round().max(1.0) as u64;
        Self {
            sample_rate,
            first_frames_per_column: first,
            frames_per_column: first,
            frames: 0,
            used: 0,
        }
    }

    /// Empties the strip: a pass begins, or Reset.
    pub fn restart(&mut self, strip: &PassStrip) {
        strip.begin_rewrite();
        for column in strip.columns.iter() {
            column.write(&StripColumn::default());
        }
        self.frames_per_column = self.first_frames_per_column;
        self.frames = 0;
        self.used = 0;
        strip.used.store(0, Ordering::Relaxed);
        strip
            .frames_per_column
            .store(self.frames_per_column, Ordering::Relaxed);
        strip
            .sample_rate
            .store(self.sample_rate.to_bits(), Ordering::Relaxed);
        strip.end_rewrite();
    }

    /// Frames drawn since the strip began.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Extends the strip by a block of `frames` frames, starting at `start` on the host's
    /// timeline if this is the strip's first block. Its peak follows with [`Self::raise`], once
    /// the block's clips are marked.
    pub fn advance(&mut self, strip: &PassStrip, frames: u64, start: TimelinePosition) {
        if frames == 0 {
            return;
        }
        if self.frames == 0 {
            strip
                .start_seconds
                .store(start.seconds.to_bits(), Ordering::Relaxed);
            strip
                .start_from_host
                .store(u32::from(start.from_host), Ordering::Relaxed);
        }
        let last = self.frames + frames - 1;
        while last / self.frames_per_column >= STRIP_COLUMNS as u64 {
            self.halve(strip);
        }
        self.frames += frames;
        let used = (last / self.frames_per_column) as usize + 1;
        if used > self.used {
            self.used = used;
            strip.used.store(used as u32, Ordering::Release);
        }
    }

    /// Raises every column the last `frames` frames touch to `peak`, their highest sample
    /// magnitude (a block is far shorter than a column, so this costs one or two columns).
    pub fn raise(&self, strip: &PassStrip, frames: u64, peak: f32) {
        if frames == 0 || frames > self.frames {
            return;
        }
        let first = ((self.frames - frames) / self.frames_per_column) as usize;
        let last = ((self.frames - 1) / self.frames_per_column) as usize;
        for column in &strip.columns[first..=last] {
            column.peak.fetch_max(peak, Ordering::Relaxed);
        }
    }

    /// Draws a block: [`Self::advance`] then [`Self::raise`].
    #[cfg(test)]
    fn draw(&mut self, strip: &PassStrip, frames: u64, peak: f32, start: TimelinePosition) {
        self.advance(strip, frames, start);
        self.raise(strip, frames, peak);
    }

    /// Marks a clip, over or flat top that began at `frame` (counted from the strip's start;
    /// clamped to what has been drawn), placed at `at` on the host's timeline.
    pub fn mark(&self, strip: &PassStrip, frame: u64, kind: ClipKind, at: TimelinePosition) {
        if self.used == 0 {
            return;
        }
        let index = ((frame / self.frames_per_column) as usize).min(self.used - 1);
        let stored = &strip.columns[index];
        let mut column = stored.read();
        let added = match kind {
            ClipKind::Sample => Marks {
                clips: 1,
                ..Marks::default()
            },
            ClipKind::TruePeak => Marks {
                overs: 1,
                ..Marks::default()
            },
            ClipKind::FlatTop => Marks {
                flat_tops: 1,
                ..Marks::default()
            },
        };
        // Only the column's first mark says where it was; later ones leave it as stored.
        column.first_mark = (!column.marks.any()).then_some(at);
        column.marks = column.marks.add(added);
        stored.write(&column);
    }

    /// Merges neighbours in pairs: half the columns, each twice as long.
    fn halve(&mut self, strip: &PassStrip) {
        strip.begin_rewrite();
        let half = self.used.div_ceil(2);
        for i in 0..STRIP_COLUMNS {
            let merged = if i < half {
                let first = strip.columns[2 * i].read();
                if 2 * i + 1 < self.used {
                    first.merge(strip.columns[2 * i + 1].read())
                } else {
                    first
                }
            } else {
                StripColumn::default()
            };
            strip.columns[i].write(&merged);
        }
        self.used = half;
        self.frames_per_column *= 2;
        strip.used.store(half as u32, Ordering::Relaxed);
        strip
            .frames_per_column
            .store(self.frames_per_column, Ordering::Relaxed);
        strip.end_rewrite();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 1000.0;

    fn at(seconds: f64) -> TimelinePosition {
        TimelinePosition {
            seconds,
            from_host: true,
            bar_beat: Some(BarBeat {
                bar: 1 + (seconds / 2.0) as i64,
                beat: 1.0,
            }),
        }
    }

    fn pen() -> (StripPen, PassStrip) {
        let strip = PassStrip::default();
        let mut pen = StripPen::new(RATE);
        pen.restart(&strip);
        (pen, strip)
    }

    #[test]
    fn each_column_holds_the_peak_of_its_stretch() {
        let (mut pen, strip) = pen();
        // 100 frames per column at 1 kHz; blocks of 50 frames, the peak rising by block.
        for block in 0..10 {
            pen.draw(&strip, 50, block as f32 / 10.0, at(12.0));
        }
        let picture = strip.read().unwrap();
        assert_eq!(picture.column_s, 0.1);
        assert_eq!(picture.start.seconds, 12.0);
        let peaks: Vec<f32> = picture.columns.iter().map(|c| c.peak).collect();
        assert_eq!(peaks, [0.1, 0.3, 0.5, 0.7, 0.9]);
    }

    #[test]
    fn a_pass_of_any_length_fits_and_keeps_every_peak_and_mark() {
        let (mut pen, strip) = pen();
        // Ten minutes at 1 kHz in blocks of 64: 6000 columns' worth, merged four times.
        let total = 600_000u64;
        let loud_at = 345_678u64;
        let clip_at = 123_456u64;
        let mut drawn = 0;
        while drawn < total {
            let frames = 64.min(total - drawn);
            let peak = if (drawn..drawn + frames).contains(&loud_at) {
                1.0
            } else {
                0.25
            };
            pen.draw(&strip, frames, peak, at(0.0));
            if (drawn..drawn + frames).contains(&clip_at) {
                pen.mark(&strip, clip_at, ClipKind::Sample, at(clip_at as f64 / RATE));
                pen.mark(&strip, clip_at + 1, ClipKind::TruePeak, at(0.0));
            }
            drawn += frames;
        }
        let picture = strip.read().unwrap();
        assert!(picture.columns.len() <= STRIP_COLUMNS);
        assert!(picture.columns.len() > STRIP_COLUMNS / 2);
        assert_eq!(picture.column_s, 1.6);
        let column_of = |frame: u64| (frame as f64 / RATE / picture.column_s) as usize;
        for (i, column) in picture.columns.iter().enumerate() {
            let expected = if i == column_of(loud_at) { 1.0 } else { 0.25 };
            assert_eq!(column.peak, expected, "column {i}");
            if i == column_of(clip_at) {
                assert_eq!(
                    column.marks,
                    Marks {
                        clips: 1,
                        overs: 1,
                        flat_tops: 0
                    }
                );
                assert_eq!(column.first_mark, Some(at(123.456)));
            } else {
                assert!(!column.marks.any(), "column {i}");
            }
        }
    }

    #[test]
    fn merging_keeps_the_earlier_first_mark_and_adds_the_counts() {
        let (mut pen, strip) = pen();
        pen.draw(&strip, 48_000, 0.5, at(0.0));
        pen.mark(&strip, 100, ClipKind::FlatTop, at(0.1));
        pen.mark(&strip, 150, ClipKind::Sample, at(0.15));
        pen.mark(&strip, 47_999, ClipKind::Sample, at(47.999));
        // Past 48 s: columns merge in pairs.
        pen.draw(&strip, 1000, 0.5, at(0.0));
        let picture = strip.read().unwrap();
        assert_eq!(picture.column_s, 0.2);
        assert_eq!(
            picture.columns[0].marks,
            Marks {
                clips: 1,
                overs: 0,
                flat_tops: 1
            }
        );
        assert_eq!(picture.columns[0].first_mark, Some(at(0.1)));
        assert_eq!(picture.columns[239].marks.clips, 1);
        assert_eq!(picture.columns[239].first_mark, Some(at(47.999)));
    }

    #[test]
    fn a_restart_empties_the_strip_and_a_mark_before_any_audio_is_ignored() {
        let (mut pen, strip) = pen();
        pen.draw(&strip, 500, 1.0, at(3.0));
        pen.mark(&strip, 10, ClipKind::Sample, at(3.01));
        pen.restart(&strip);
        pen.mark(&strip, 0, ClipKind::Sample, at(0.0));
        assert_eq!(strip.read().unwrap().columns, []);
        pen.draw(&strip, 10, 0.5, at(7.0));
        let picture = strip.read().unwrap();
        assert_eq!(picture.columns.len(), 1);
        assert!(!picture.columns[0].marks.any());
        assert_eq!(picture.start.seconds, 7.0);
    }

    #[test]
    fn a_reader_overlapping_a_rewrite_gets_none() {
        let strip = PassStrip::default();
        strip.begin_rewrite();
        assert_eq!(strip.read(), None);
        strip.end_rewrite();
        assert!(strip.read().is_some());
    }

    #[test]
    fn a_marker_says_what_it_was_and_where() {
        let column = |clips, overs, flat_tops| StripColumn {
            peak: 1.0,
            marks: Marks {
                clips,
                overs,
                flat_tops,
            },
            first_mark: Some(TimelinePosition {
                seconds: 83.25,
                from_host: true,
                bar_beat: Some(BarBeat { bar: 42, beat: 3.0 }),
            }),
        };
        assert_eq!(
            column(1, 0, 0).marks_text().unwrap(),
            "Clip at 1:23.250 (bar 42, beat 3.00)"
        );
        assert_eq!(
            column(0, 1, 0).marks_text().unwrap(),
            "True-peak over at 1:23.250 (bar 42, beat 3.00)"
        );
        assert_eq!(
            column(3, 1, 0).marks_text().unwrap(),
            "3 clips and 1 true-peak over from 1:23.250 (bar 42, beat 3.00)"
        );
        assert_eq!(
            column(0, 0, 2).marks_text().unwrap(),
            "2 flat tops (clipped before this plugin) from 1:23.250 (bar 42, beat 3.00)"
        );
        assert_eq!(StripColumn::default().marks_text(), None);
    }
}
