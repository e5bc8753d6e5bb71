//! The trace an MP3 encoder leaves in its output even where the audio is band-limited, so
//! that no cut-off shows. The encoder splits the signal with its own filterbank (MPEG-1/2
//! Layer III: 32 polyphase bands, then an 18-line MDCT in each, 576 lines per granule) and
//! quantises many lines to zero. The decoder's output, split again by the same filterbank on
//! the same granule grid, gives those lines back as near-silence; on any other alignment they
//! fill in. So the share of near-silent lines is searched over the 576 possible alignments:
//! audio that never went through MP3 has no alignment that stands out, a decoded MP3 has one.
//!
//! The search is in two stages. A few granules rank all 576 alignments; the best few are then
//! measured on many granules against alignments that mean nothing, which give the spread.

/// The polyphase window of ISO/IEC 11172-3 (Table 3-B.3, the synthesis window D), in units of
/// 2^-16, in which every entry is exact. The analysis window is D / 32.
const WINDOW: [i32; 512] = [
    0, -1, -1, -1, -1, -1, -1, -2, -2, -2, -2, -3, -3, -4, -4, -5, -5, -6, -7, -7, -8, -9, -10,
    -11, -13, -14, -16, -17, -19, -21, -24, -26, -29, -31, -35, -38, -41, -45, -49, -53, -58, -63,
    -68, -73, -79, -85, -91, -97, -104, -111, -117, -125, -132, -139, -147, -154, -161, -169, -176,
    -183, -190, -196, -202, -208, 213, 218, 222, 225, 227, 228, 228, 227, 224, 221, 215, 208, 200,
    189, 177, 163, 146, 127, 106, 83, 57, 29, -2, -36, -72, -111, -153, -197, -244, -294, -347,
    -401, -459, -519, -581, -645, -711, -779, -848, -919, -991, -1064, -1137, -1210, -1283, -1356,
    -1428, -1498, -1567, -1634, -1698, -1759, -1817, -1870, -1919, -1962, -2001, -2032, -2057,
    -2075, -2085, -2087, -2080, -2063, 2037, 2000, 1952, 1893, 1822, 1739, 1644, 1535, 1414, 1280,
    1131, 970, 794, 605, 402, 185, -45, -288, -545, -814, -1095, -1388, -1692, -2006, -2330, -2663,
    -3004, -3351, -3705, -4063, -4425, -4788, -5153, -5517, -5879, -6237, -6589, -6935, -7271,
    -7597, -7910, -8209, -8491, -8755, -8998, -9219, -9416, -9585, -9727, -9838, -9916, -9959,
    -9966, -9935, -9863, -9750, -9592, -9389, -9139, -8840, -8492, -8092, -7640, -7134, 6574, 5959,
    5288, 4561, 3776, 2935, 2037, 1082, 70, -998, -2122, -3300, -4533, -5818, -7154, -8540, -9975,
    -11455, -12980, -14548, -16155, -17799, -19478, -21189, -22929, -24694, -26482, -28289, -30112,
    -31947, -33791, -35640, -37489, -39336, -41176, -43006, -44821, -46617, -48390, -50137, -51853,
    -53534, -55178, -56778, -58333, -59838, -61289, -62684, -64019, -65290, -66494, -67629, -68692,
    -69679, -70590, -71420, -72169, -72835, -73415, -73908, -74313, -74630, -74856, -74992, 75038,
    74992, 74856, 74630, 74313, 73908, 73415, 72835, 72169, 71420, 70590, 69679, 68692, 67629,
    66494, 65290, 64019, 62684, 61289, 59838, 58333, 56778, 55178, 53534, 51853, 50137, 48390,
    46617, 44821, 43006, 41176, 39336, 37489, 35640, 33791, 31947, 30112, 28289, 26482, 24694,
    22929, 21189, 19478, 17799, 16155, 14548, 12980, 11455, 9975, 8540, 7154, 5818, 4533, 3300,
    2122, 998, -70, -1082, -2037, -2935, -3776, -4561, -5288, -5959, 6574, 7134, 7640, 8092, 8492,
    8840, 9139, 9389, 9592, 9750, 9863, 9935, 9966, 9959, 9916, 9838, 9727, 9585, 9416, 9219, 8998,
    8755, 8491, 8209, 7910, 7597, 7271, 6935, 6589, 6237, 5879, 5517, 5153, 4788, 4425, 4063, 3705,
    3351, 3004, 2663, 2330, 2006, 1692, 1388, 1095, 814, 545, 288, 45, -185, -402, -605, -794,
    -970, -1131, -1280, -1414, -1535, -1644, -1739, -1822, -1893, -1952, -2000, 2037, 2063, 2080,
    2087, 2085, 2075, 2057, 2032, 2001, 1962, 1919, 1870, 1817, 1759, 1698, 1634, 1567, 1498, 1428,
    1356, 1283, 1210, 1137, 1064, 991, 919, 848, 779, 711, 645, 581, 519, 459, 401, 347, 294, 244,
    197, 153, 111, 72, 36, 2, -29, -57, -83, -106, -127, -146, -163, -177, -189, -200, -208, -215,
    -221, -224, -227, -228, -228, -227, -225, -222, -218, 213, 208, 202, 196, 190, 183, 176, 169,
    161, 154, 147, 139, 132, 125, 117, 111, 104, 97, 91, 85, 79, 73, 68, 63, 58, 53, 49, 45, 41,
    38, 35, 31, 29, 26, 24, 21, 19, 17, 16, 14, 13, 11, 10, 9, 8, 7, 7, 6, 5, 5, 4, 4, 3, 3, 2, 2,
    2, 2, 1, 1, 1, 1, 1, 1,
];

use super::level::finite_lane_sum;
use super::simd::widest;

/// Lines per granule, and the granule in subband samples.
const LINES: usize = 576;
const BANDS: usize = 32;
const GRANULE: usize = 18;
/// The alias-reduction coefficients c_i of the standard (Table 3-B.9).
const ALIAS: [f32; 8] = [
    -0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037,
];

/// Granules that rank all 576 alignments, then granules that measure the best few.
const RANKING_GRANULES: usize = 8;
const MEASURING_GRANULES: usize = 64;
/// Alignments kept from the ranking.
const CANDIDATES: usize = 4;
/// Alignments that mean nothing, measured for the spread.
const REFERENCES: usize = 48;
/// Samples the search reads: the granules, plus one granule before the first (the MDCT
/// overlaps its neighbour) and the polyphase window's length, on every alignment.
pub const EXCERPT_FRAMES: usize = (RANKING_GRANULES + MEASURING_GRANULES + 2) * LINES + 512;

/// A line this far below full scale is silent: far under any audible content, and far over
/// the rounding of a 24-bit or float file (about -140 dB in these units). Decoded MP3s leave
/// their zero lines near the rounding; one sample off the grid, they sit around -90 dB.
const SILENT_LINE: f32 = 3.2e-6; // -110 dB
/// A granule whose loudest line is under this holds too little to count (-60 dB).
const LIVE_GRANULE: f32 = 1e-3;
/// How far the grid's share of silent lines must stand above the others: in robust standard
/// deviations (clean audio stays under 2, a band-limited lead at 320 kbit/s reaches 4 to 30,
/// lower bitrates 20 to 100), and in share.
const MIN_SPREADS: f32 = 8.0;
const MIN_SHARE_RISE: f32 = 0.005;
/// Fewest live granules for a verdict.
const MIN_LIVE_GRANULES: usize = 16;

/// What the search found on the best alignment.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GridEvidence {
    /// Share of silent lines on the best alignment, and the median over alignments that mean
    /// nothing.
    pub grid_share: f32,
    pub other_share: f32,
    /// How far the best stands out, in robust standard deviations of the others.
    pub spreads: f32,
    /// Share of silent lines on the best other candidate more than a few samples away: an
    /// encoder's grid is one alignment in 576, while a tone whose period divides 576 ties
    /// every alignment a period apart.
    pub rival_share: f32,
    /// The alignment, in samples from the excerpt's start (0..576).
    pub offset: usize,
}

impl GridEvidence {
    /// Whether this is the grid of an MP3 encoder.
    pub fn is_mp3(&self) -> bool {
        let rise = self.grid_share - self.other_share;
        self.spreads >= MIN_SPREADS
            && rise >= MIN_SHARE_RISE
            && self.grid_share - self.rival_share >= rise / 2.0
    }
}

/// The encoder's filterbank: polyphase analysis, MDCT and alias reduction, as the standard
/// gives them (long blocks only: the short blocks of a transient granule only blur it). Loops
/// run across the 32 bands or 64 taps at once, so that they compile to vector arithmetic.
struct HybridFilterbank {
    /// The analysis window, reversed: tap k multiplies the k-th oldest of 512 samples.
    window: [f32; 512],
    /// cos((2k + 1)(i - 16)π / 64), the polyphase matrixing, indexed [63 - i][k].
    matrix: Box<[[f32; BANDS]; 64]>,
    /// The windowed MDCT, [n][line]: 18 lines from 36 subband samples.
    mdct: Box<[[f32; GRANULE]; 2 * GRANULE]>,
    alias_cs: [f32; 8],
    alias_ca: [f32; 8],
}

/// One granule's lines, [line][band].
type Granule = [[f32; BANDS]; GRANULE];

impl HybridFilterbank {
    fn new() -> Self {
        use std::f64::consts::PI;
        let window = std::array::from_fn(|k| WINDOW[511 - k] as f32 / 65_536.0 / 32.0);
        let matrix = Box::new(std::array::from_fn(|q| {
            let i = (63 - q) as f64;
            std::array::from_fn(|k| ((2 * k + 1) as f64 * (i - 16.0) * PI / 64.0).cos() as f32)
        }));
        let mdct = Box::new(std::array::from_fn(|n| {
            let window = (PI / 36.0 * (n as f64 + 0.5)).sin();
            std::array::from_fn(|line| {
                let phase = PI / 72.0 * (2 * n + 1 + GRANULE) as f64 * (2 * line + 1) as f64;
                (window * phase.cos()) as f32
            })
        }));
        let norm = ALIAS.map(|c| (1.0 + c * c).sqrt());
        Self {
            window,
            matrix,
            mdct,
            alias_cs: std::array::from_fn(|i| 1.0 / norm[i]),
            alias_ca: std::array::from_fn(|i| ALIAS[i] / norm[i]),
        }
    }

    /// `frames` sets of 32 subband samples; frame t reads `x[phase + 32t ..][..512]`. Only
    /// the frames of `granules` (on any alignment) are computed, the others left at zero.
    fn subbands(
        &self,
        x: &[f32],
        phase: usize,
        frames: usize,
        granules: &[usize],
    ) -> Vec<[f32; BANDS]> {
        let needed = |t: usize| {
            granules
                .iter()
                .any(|&g| (g * GRANULE..(g + 3) * GRANULE).contains(&t))
        };
        (0..frames)
            .map(|t| {
                if !needed(t) {
                    return [0.0; BANDS];
                }
                let start = phase + BANDS * t;
                let samples = &x[start..start + 512];
                // Taps 64 apart share a matrix column: sum them first.
                let mut folded = [0.0f32; 64];
                for (taps, chunk) in self.window.chunks_exact(64).zip(samples.chunks_exact(64)) {
                    for ((f, w), x) in folded.iter_mut().zip(taps).zip(chunk) {
                        *f += w * x;
                    }
                }
                let mut bands = [0.0f32; BANDS];
                for (column, f) in self.matrix.iter().zip(folded) {
                    for (b, m) in bands.iter_mut().zip(column) {
                        *b += m * f;
                    }
                }
                bands
            })
            .collect()
    }

    /// The 576 lines of the granule whose MDCT block starts at subband frame `first`.
    #[inline(always)]
    fn granule(&self, subbands: &[[f32; BANDS]], first: usize, lines: &mut Granule) {
        // The encoder inverts every other sample of the odd bands.
        let frames: [[f32; BANDS]; 2 * GRANULE] = std::array::from_fn(|n| {
            let frame = &subbands[first + n];
            std::array::from_fn(|b| {
                if n % 2 == 1 && b % 2 == 1 {
                    -frame[b]
                } else {
                    frame[b]
                }
            })
        });
        // One line at a time, summed over the 36 samples in order: the sum stays in registers.
        for (i, line) in lines.iter_mut().enumerate() {
            let mut sum = [0.0f32; BANDS];
            for (frame, row) in frames.iter().zip(self.mdct.iter()) {
                let c = row[i];
                for (s, x) in sum.iter_mut().zip(frame) {
                    *s += c * x;
                }
            }
            *line = sum;
        }
        for band in 1..BANDS {
            for i in 0..8 {
                let upper = lines[GRANULE - 1 - i][band - 1];
                let lower = lines[i][band];
                lines[GRANULE - 1 - i][band - 1] =
                    upper * self.alias_cs[i] + lower * self.alias_ca[i];
                lines[i][band] = lower * self.alias_cs[i] - upper * self.alias_ca[i];
            }
        }
    }

    /// Silent lines and all lines of the live granules `granules` on alignment `offset`,
    /// from the subbands of the offset's phase.
    fn silent_lines(
        &self,
        subbands: &[[f32; BANDS]],
        offset: usize,
        granules: &[usize],
    ) -> (usize, usize) {
        // In the widest vectors the CPU has: the same operations in the same order, so the
        // same bits.
        widest(
            #[inline(always)]
            || {
                let first = offset / BANDS;
                let mut lines = [[0.0f32; BANDS]; GRANULE];
                let (mut silent, mut total) = (0, 0);
                for &g in granules {
                    self.granule(subbands, first + g * GRANULE, &mut lines);
                    let flat = lines.as_flattened();
                    if flat.iter().fold(0.0f32, |m, x| m.max(x.abs())) < LIVE_GRANULE {
                        continue;
                    }
                    silent += flat.iter().filter(|x| x.abs() < SILENT_LINE).count();
                    total += LINES;
                }
                (silent, total)
            },
        )
    }
}

/// Subband frames that `granules` need on any alignment.
fn frames_for(granules: usize) -> usize {
    LINES / BANDS + (granules + 1) * GRANULE
}

/// Searches `excerpt` (mono, at least [`EXCERPT_FRAMES`] long; a shorter one gives `None`) for
/// an MP3 encoder's granule grid. `None` also when too few granules hold sound.
pub fn search(excerpt: &[f32]) -> Option<GridEvidence> {
    if excerpt.len() < EXCERPT_FRAMES || excerpt.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let bank = HybridFilterbank::new();
    let share = |(silent, total): (usize, usize)| silent as f32 / total.max(1) as f32;
    // The loudest granules rank the alignments (on any alignment, a granule's lines come from
    // about the same samples); the rest measure.
    let granules = RANKING_GRANULES + MEASURING_GRANULES;
    let mut by_energy: Vec<(f32, usize)> = (0..granules)
        .map(|g| {
            let span = &excerpt[g * LINES..][..2 * LINES];
            (span.iter().map(|x| x * x).sum(), g)
        })
        .collect();
    by_energy.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let ranking: Vec<usize> = by_energy[..RANKING_GRANULES]
        .iter()
        .map(|&(_, g)| g)
        .collect();
    let measuring: Vec<usize> = (0..granules).filter(|g| !ranking.contains(g)).collect();
    let mut ranked = Vec::with_capacity(LINES);
    for phase in 0..BANDS {
        let subbands = bank.subbands(excerpt, phase, frames_for(granules), &ranking);
        for offset in (phase..LINES).step_by(BANDS) {
            let lines = bank.silent_lines(&subbands, offset, &ranking);
            ranked.push((share(lines), offset));
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let candidates: Vec<usize> = ranked[..CANDIDATES].iter().map(|&(_, o)| o).collect();
    // Alignments that mean nothing: eight phases, spread over the granule, none within a few
    // samples of a candidate (the grid's neighbours share some of its silence).
    let near = |o: usize| candidates.iter().any(|&c| neighbours(o, c));
    let references: Vec<usize> = (0..LINES)
        .filter(|o| o % BANDS % 4 == 3 && (o / BANDS) % 3 == 1 && !near(*o))
        .take(REFERENCES)
        .collect();
    let mut phases: Vec<Option<Vec<[f32; BANDS]>>> = vec![None; BANDS];
    let mut measure = |offset: usize| {
        let subbands = phases[offset % BANDS].get_or_insert_with(|| {
            bank.subbands(excerpt, offset % BANDS, frames_for(granules), &measuring)
        });
        bank.silent_lines(subbands, offset, &measuring)
    };
    let measured: Vec<(f32, usize, usize)> = candidates
        .iter()
        .map(|&offset| {
            let lines = measure(offset);
            (share(lines), offset, lines.1 / LINES)
        })
        .collect();
    let (grid_share, offset, live) = measured
        .iter()
        .copied()
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    let rival_share = measured
        .iter()
        .filter(|&&(_, o, _)| !neighbours(o, offset))
        .map(|&(s, _, _)| s)
        .fold(0.0, f32::max);
    if live < MIN_LIVE_GRANULES {
        return None;
    }
    let mut others: Vec<f32> = references.iter().map(|&o| share(measure(o))).collect();
    let other_share = median(&mut others);
    let mut deviations: Vec<f32> = others.iter().map(|s| (s - other_share).abs()).collect();
    let spread = 1.4826 * median(&mut deviations);
    Some(GridEvidence {
        grid_share,
        other_share,
        spreads: (grid_share - other_share) / spread.max(1e-6),
        offset,
        rival_share,
    })
}

/// Two alignments a few samples apart (around the granule): they share much of their silence.
fn neighbours(a: usize, b: usize) -> bool {
    let d = a.abs_diff(b);
    d.min(LINES - d) <= 3
}

fn median(values: &mut [f32]) -> f32 {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// The loudest stretch of [`EXCERPT_FRAMES`] mono samples of a stream (of back-to-back
/// stretches), kept for [`search`]; a stream shorter than that is kept whole. Built with room
/// for both stretches, it never allocates afterwards.
#[derive(Debug, Clone)]
pub struct LoudestExcerpt {
    filling: Vec<f32>,
    filling_energy: f64,
    loudest: Vec<f32>,
    loudest_energy: f64,
}

impl Default for LoudestExcerpt {
    fn default() -> Self {
        Self {
            filling: Vec::with_capacity(EXCERPT_FRAMES),
            filling_energy: 0.0,
            loudest: Vec::with_capacity(EXCERPT_FRAMES),
            loudest_energy: 0.0,
        }
    }
}

impl LoudestExcerpt {
    /// Forgets the stream, keeping the room.
    pub fn reset(&mut self) {
        self.filling.clear();
        self.loudest.clear();
        self.filling_energy = 0.0;
        self.loudest_energy = 0.0;
    }

    pub fn process(&mut self, mono: &[f32]) {
        let mut rest = mono;
        while !rest.is_empty() {
            let take = (EXCERPT_FRAMES - self.filling.len()).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.filling.extend_from_slice(now);
            self.filling_energy += finite_lane_sum(now, |x| x * x);
            rest = later;
            if self.filling.len() == EXCERPT_FRAMES {
                if self.loudest.is_empty() || self.filling_energy > self.loudest_energy {
                    std::mem::swap(&mut self.filling, &mut self.loudest);
                    self.loudest_energy = self.filling_energy;
                }
                self.filling.clear();
                self.filling_energy = 0.0;
            }
        }
    }

    /// The loudest whole stretch, or what there is.
    pub fn excerpt(&self) -> &[f32] {
        if self.loudest.is_empty() {
            &self.filling
        } else {
            &self.loudest
        }
    }
}

/// Where the grid is searched for a stream at a given rate. MP3 goes up to 48 kHz; a file at
/// twice or four times 44.1 or 48 kHz made from one was resampled up by that factor, which
/// keeps the MP3's own samples, nearly, on one phase of every second (or fourth) sample. Each
/// phase is kept and searched on its own. Allocates in `new` only.
#[derive(Debug, Clone)]
pub struct GridSearch {
    factor: usize,
    phases: Vec<LoudestExcerpt>,
    next_phase: usize,
}

impl GridSearch {
    /// `None` for a rate that cannot hold an MP3's grid.
    pub fn new(sample_rate: u32) -> Option<Self> {
        let factor = match sample_rate {
            0 => return None,
            rate if rate <= 48_000 => 1,
            88_200 | 96_000 => 2,
            176_400 | 192_000 => 4,
            _ => return None,
        };
        Some(Self {
            factor,
            phases: (0..factor).map(|_| LoudestExcerpt::default()).collect(),
            next_phase: 0,
        })
    }

    /// Forgets the stream.
    pub fn reset(&mut self) {
        self.phases.iter_mut().for_each(LoudestExcerpt::reset);
        self.next_phase = 0;
    }

    /// Adds mono samples. Never allocates: each phase is picked out through a small buffer.
    pub fn process(&mut self, mono: &[f32]) {
        if self.factor == 1 {
            self.phases[0].process(mono);
            return;
        }
        let mut chunk = [0.0f32; 256];
        for (k, excerpt) in self.phases.iter_mut().enumerate() {
            let skip = (k + self.factor - self.next_phase) % self.factor;
            let mut picked = mono.iter().skip(skip).step_by(self.factor).copied();
            loop {
                let filled = chunk
                    .iter_mut()
                    .zip(&mut picked)
                    .map(|(c, x)| *c = x)
                    .count();
                if filled == 0 {
                    break;
                }
                excerpt.process(&chunk[..filled]);
            }
        }
        self.next_phase = (self.next_phase + mono.len()) % self.factor;
    }

    /// The strongest evidence over the phases.
    pub fn evidence(&self) -> Option<GridEvidence> {
        self.phases
            .iter()
            .filter_map(|e| search(e.excerpt()))
            .max_by(|a, b| a.spreads.total_cmp(&b.spreads))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(cycles_per_sample: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| {
                (0.5 * (2.0 * std::f64::consts::PI * cycles_per_sample * n as f64).sin()) as f32
            })
            .collect()
    }

    #[test]
    fn a_tone_lands_in_its_band_and_its_line() {
        let bank = HybridFilterbank::new();
        for line in [3, 40, 100, 301, 455] {
            // The middle of line `line`: 576 lines share half the sample rate.
            let x = sine((line as f64 + 0.5) / (2.0 * LINES as f64), EXCERPT_FRAMES);
            let granules: Vec<usize> = (2..10).collect();
            let subbands = bank.subbands(&x, 0, frames_for(10), &granules);
            let energy: Vec<f32> = (0..BANDS)
                .map(|b| subbands[40..90].iter().map(|f| f[b] * f[b]).sum())
                .collect();
            let loudest = (0..BANDS).max_by(|&a, &b| energy[a].total_cmp(&energy[b]));
            assert_eq!(loudest, Some(line / GRANULE), "line {line}: {energy:?}");
            // A steady tone's lines sway with its phase: its energy over granules does not.
            let mut flat = vec![0.0f32; LINES];
            let mut lines = [[0.0f32; BANDS]; GRANULE];
            for g in granules {
                bank.granule(&subbands, g * GRANULE, &mut lines);
                for (l, e) in flat.iter_mut().enumerate() {
                    *e += lines[l % GRANULE][l / GRANULE].powi(2);
                }
            }
            let peak = (0..LINES).max_by(|&a, &b| flat[a].total_cmp(&flat[b]));
            assert_eq!(peak, Some(line), "line {line}");
        }
    }

    #[test]
    fn noise_has_no_grid() {
        let mut seed = 7u32;
        let x: Vec<f32> = (0..EXCERPT_FRAMES)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.2
            })
            .collect();
        let evidence = search(&x).expect("enough sound");
        assert!(!evidence.is_mp3(), "{evidence:?}");
        assert!(evidence.spreads.abs() < 5.0, "{evidence:?}");
    }

    #[test]
    fn a_steady_tone_has_no_grid() {
        // A test tone repeats exactly: at 1 kHz and 48 kHz every 48 samples, so every
        // alignment 48 apart sees the same granules, and one may catch more quiet lines than
        // the others. That is the tone's period, not an encoder's grid.
        for (hz, rate, level) in [
            (1000.0, 48_000.0, 0.891_250_9),
            (1000.0, 48_000.0, 0.5),
            (1000.0, 44_100.0, 0.891),
            (440.0, 48_000.0, 0.7),
            (3000.0, 48_000.0, 0.95),
            (750.0, 48_000.0, 0.3),
        ] {
            // As a test-tone generator makes it, in double precision, a second into the tone.
            let x: Vec<f32> = (EXCERPT_FRAMES..2 * EXCERPT_FRAMES)
                .map(|n| {
                    let phase = 2.0 * std::f64::consts::PI * hz * n as f64 / rate;
                    (level * phase.sin()) as f32
                })
                .collect();
            let evidence = search(&x);
            assert!(
                !evidence.is_some_and(|e| e.is_mp3()),
                "{hz} Hz at {rate}, {level}: {evidence:?}"
            );
        }
    }

    #[test]
    fn a_sweep_has_no_grid() {
        // 20 Hz to 20 kHz at 48 kHz, rounded to 24 bits as a file would hold it.
        let (rate, len) = (48_000.0, EXCERPT_FRAMES);
        let span = len as f64 / rate;
        let k = (20_000.0f64 / 20.0).ln() / span;
        let x: Vec<f32> = (0..len)
            .map(|n| {
                let t = n as f64 / rate;
                let phase = 2.0 * std::f64::consts::PI * 20.0 * ((k * t).exp() - 1.0) / k;
                ((0.5 * phase.sin() * 8_388_608.0).round() / 8_388_608.0) as f32
            })
            .collect();
        let evidence = search(&x).expect("enough sound");
        assert!(!evidence.is_mp3(), "{evidence:?}");
    }

    #[test]
    fn too_short_silent_or_broken_excerpts_give_no_verdict() {
        assert_eq!(search(&[0.1; 1000]), None);
        assert_eq!(search(&vec![0.0; EXCERPT_FRAMES]), None);
        let mut broken = sine(0.01, EXCERPT_FRAMES);
        broken[500] = f32::NAN;
        assert_eq!(search(&broken), None);
    }

    #[test]
    fn each_phase_of_a_doubled_rate_is_kept_apart() {
        assert!(GridSearch::new(44_100).is_some_and(|g| g.factor == 1));
        assert!(GridSearch::new(96_000).is_some_and(|g| g.factor == 2));
        assert!(GridSearch::new(192_000).is_some_and(|g| g.factor == 4));
        assert!(GridSearch::new(50_000).is_none());
        let mut grid = GridSearch::new(96_000).unwrap();
        // Even samples 1.0, odd ones 2.0, in blocks of odd lengths.
        let stream: Vec<f32> = (0..1001).map(|n| 1.0 + (n % 2) as f32).collect();
        for block in stream.chunks(7) {
            grid.process(block);
        }
        assert!(grid.phases[0].excerpt().iter().all(|&x| x == 1.0));
        assert!(grid.phases[1].excerpt().iter().all(|&x| x == 2.0));
        assert_eq!(grid.phases[0].excerpt().len(), 501);
        // One long block at four times the rate, each phase longer than the picking buffer.
        let mut grid = GridSearch::new(192_000).unwrap();
        let stream: Vec<f32> = (0..5001).map(|n| (n % 4) as f32).collect();
        grid.process(&stream);
        for (k, phase) in grid.phases.iter().enumerate() {
            assert!(phase.excerpt().iter().all(|&x| x == k as f32), "phase {k}");
            assert_eq!(phase.excerpt().len(), if k == 0 { 1251 } else { 1250 });
        }
        grid.reset();
        assert!(grid.phases.iter().all(|p| p.excerpt().is_empty()));
    }

    #[test]
    fn the_loudest_stretch_is_kept() {
        let mut excerpt = LoudestExcerpt::default();
        let quiet = vec![0.01f32; EXCERPT_FRAMES];
        let loud = vec![0.5f32; EXCERPT_FRAMES];
        // In odd blocks, across stretch boundaries.
        let stream: Vec<f32> = [&quiet, &loud, &quiet]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for block in stream.chunks(1000) {
            excerpt.process(block);
        }
        assert_eq!(excerpt.excerpt(), &loud[..]);
        let mut short = LoudestExcerpt::default();
        short.process(&[0.2; 100]);
        assert_eq!(short.excerpt().len(), 100);
    }
}
