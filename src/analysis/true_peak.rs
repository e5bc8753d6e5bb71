//! True peak: the largest value of the band-limited signal between and at the samples.
//!
//! Work is skipped wherever it cannot change the answer: a stretch whose samples, times the
//! interpolator's L1 norm, stay at or below both the current maximum and full scale can neither
//! raise the maximum nor hold an over; nor can a stretch whose samples bend too gently to carry
//! a peak that far above them (see [`Straying`](super::interpolator::Straying)). A stretch
//! that remains is read on the coarse 4x grid; only if some interval's coarse maximum comes
//! within [`COARSE_UNDER_READ`], or that stretch's straying, of the threshold is the fine 8x
//! grid filled in, and only intervals that come that close on it are read to the top.

use super::interpolator::{
    Interpolator, CENTER, COARSE_FACTOR, COARSE_STEP, COARSE_UNDER_READ, FINE_PHASES,
    FINE_UNDER_READ, LOOKAHEAD, STRETCH_REACH, TAPS,
};
use super::level::gain_to_db;
use super::sample_peak::{greater, largest, max_abs, stretch_maxima, STRETCH};
use super::simd::widest;

/// Intervals evaluated per refill of the work buffer.
const CHUNK: usize = 512;
/// Samples kept before the next interval: a whole stretch (the taps reach [`CENTER`] of them),
/// so the buffer starts on the stream's grid of stretches.
const KEEP_BEFORE: usize = STRETCH;
const _: () = assert!(KEEP_BEFORE >= CENTER);
/// Samples kept from one refill to the next.
const HISTORY: usize = KEEP_BEFORE + LOOKAHEAD;
/// Samples the work buffer holds before it is evaluated.
const FILL_LIMIT: usize = CHUNK + HISTORY;
/// Stretches a round reads maxima of: the one before, those of up to [`CHUNK`] intervals, the
/// one after.
const MAX_SCANNED: usize = CHUNK / STRETCH + 2;
const _: () = assert!(CHUNK / STRETCH <= u32::BITS as usize, "one bit per stretch");
const _: () = assert!(
    CHUNK.is_multiple_of(STRETCH) && HISTORY.is_multiple_of(STRETCH),
    "rounds stay on stretches"
);
/// The work buffer: filled to [`FILL_LIMIT`], with slack after it for the coarse blocks.
const BUFFER: usize = FILL_LIMIT + 2 * STRETCH;
/// Stretch maxima remembered, by absolute stretch number modulo this: more than the buffer
/// holds.
const RING: usize = 64;
const _: () = assert!(RING.is_power_of_two() && RING * STRETCH > BUFFER);
/// Stretches whose samples stay below this (-200 dBFS) are never interpolated: nothing there
/// can matter, and the filter never works on denormal tails of reverbs and fades.
const SILENCE_FLOOR: f32 = 1e-10;

/// Streaming true-peak meter for one channel.
///
/// The result for interval `n` (x\[n\] up to, not including, x\[n+1\]) is known once x\[n+16\]
/// has arrived; intervals are evaluated a whole stretch of [`STRETCH`] at a time, so overs are
/// reported 16 to 31 samples after they happen, and [`finish`](Self::finish) evaluates the end
/// of a stream.
#[derive(Debug, Clone)]
pub struct TruePeakMeter {
    interp: Interpolator,
    /// Sanitised input: `buf[i]` is x\[base + i\].
    buf: Vec<f32>,
    fill: usize,
    base: i64,
    /// Next interval to evaluate (absolute sample index).
    next: i64,
    /// Intervals that exist (samples fed so far).
    total: u64,
    /// Largest |x| of each stretch of [`STRETCH`] samples on the stream's own grid (stretch
    /// `k` holds x\[16k ..= 16k+15\]) at `k mod RING`, for the stretches in the buffer; the
    /// newest may still be partial.
    stretch_max: [f32; RING],
    /// Largest |y| since the last [`take_window_max`](Self::take_window_max).
    window_max: f32,
    /// Largest |y| since the last reset.
    max: f32,
}

impl Default for TruePeakMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl TruePeakMeter {
    /// A meter for a stream that starts after silence. Allocates; the method set works at any
    /// sample rate because accuracy comes from the fine grid, not from the oversampling factor.
    pub fn new() -> Self {
        let mut meter = Self {
            interp: Interpolator::new(),
            buf: vec![0.0; BUFFER],
            fill: 0,
            base: 0,
            next: 0,
            total: 0,
            stretch_max: [0.0; RING],
            window_max: 0.0,
            max: 0.0,
        };
        meter.reset();
        meter
    }

    /// Starts a new stream. Never allocates.
    pub fn reset(&mut self) {
        // The stream is preceded by silence, so interval 0 has a full window.
        self.buf.fill(0.0);
        self.fill = KEEP_BEFORE;
        self.base = -(KEEP_BEFORE as i64);
        self.next = 0;
        self.total = 0;
        self.stretch_max = [0.0; RING];
        self.window_max = 0.0;
        self.max = 0.0;
    }

    /// Feeds samples. `on_over(n, value)` is called for every interval `n` whose true peak
    /// exceeds full scale (linear `value` > 1.0). Never allocates.
    pub fn process(&mut self, samples: &[f32], on_over: impl FnMut(u64, f32)) {
        self.process_scanned(samples, None, max_abs(samples).is_finite(), on_over);
    }

    /// [`process`](Self::process) when it is already known whether every sample is finite, and
    /// with the samples' [`stretch_maxima`] when the caller has them: they spare the meter its
    /// own scan when the block starts on the stream's grid of stretches (a multiple of
    /// [`STRETCH`] samples into the stream). Never allocates.
    pub fn process_scanned(
        &mut self,
        samples: &[f32],
        maxima: Option<&[f32]>,
        all_finite: bool,
        mut on_over: impl FnMut(u64, f32),
    ) {
        let maxima = maxima.filter(|m| {
            all_finite
                && self.total.is_multiple_of(STRETCH as u64)
                && m.len() >= samples.len().div_ceil(STRETCH)
        });
        let mut rest = samples;
        let mut done = 0;
        while !rest.is_empty() {
            let take = (FILL_LIMIT - self.fill).min(rest.len());
            let (now, later) = rest.split_at(take);
            let to = &mut self.buf[self.fill..self.fill + take];
            if all_finite {
                to.copy_from_slice(now);
            } else {
                copy_sanitized(now, to);
            }
            let at = self.total;
            self.fill += take;
            self.total += take as u64;
            match maxima {
                Some(maxima) => {
                    // Rounds end on whole stretches, so every take of an aligned block starts one.
                    debug_assert!(at.is_multiple_of(STRETCH as u64));
                    let given = &maxima[done / STRETCH..(done + take).div_ceil(STRETCH)];
                    self.remember_maxima((at / STRETCH as u64) as i64, given);
                }
                None => self.scan_new_stretches(at as i64),
            }
            done += take;
            rest = later;
            self.evaluate_ready(i64::MAX, &mut on_over);
        }
    }

    /// Computes from the buffer the maxima of the stretches holding samples `from` up to the
    /// buffer's end.
    fn scan_new_stretches(&mut self, from: i64) {
        let first = from.div_euclid(STRETCH as i64);
        let start = (first * STRETCH as i64 - self.base) as usize;
        let mut maxima = [0.0f32; RING];
        stretch_maxima(&self.buf[start..self.fill], &mut maxima);
        let count = (self.fill - start).div_ceil(STRETCH);
        self.remember_maxima(first, &maxima[..count]);
    }

    /// Stores the maxima of the stretches from number `first` on.
    fn remember_maxima(&mut self, first: i64, maxima: &[f32]) {
        for (k, &m) in maxima.iter().enumerate() {
            self.stretch_max[ring_slot(first + k as i64)] = m;
        }
    }

    /// Ends the stream: evaluates the last intervals as if silence followed. The meter must be
    /// reset before it is fed again. Never allocates.
    pub fn finish(&mut self, mut on_over: impl FnMut(u64, f32)) {
        let end = self.total as i64;
        let mut padding = LOOKAHEAD;
        while padding > 0 {
            let take = (FILL_LIMIT - self.fill).min(padding);
            self.buf[self.fill..self.fill + take].fill(0.0);
            let at = self.base + self.fill as i64;
            self.fill += take;
            self.scan_new_stretches(at);
            padding -= take;
            self.evaluate_ready(end, &mut on_over);
        }
    }

    /// The largest reading since the last take, then starts a new window: at least the
    /// window's sample peak and at most its true peak, exact wherever the window raised the
    /// maximum since reset (intervals that cannot do that are not read, only their samples).
    /// The plugin draws its bars from it; nothing else depends on it. Never allocates.
    pub fn take_window_max(&mut self) -> f32 {
        std::mem::take(&mut self.window_max)
    }

    /// Largest |y| (linear) since the last reset, over the intervals evaluated so far.
    pub fn max(&self) -> f32 {
        self.max
    }

    /// The current display window's reading so far (see [`take_window_max`](Self::take_window_max)).
    pub fn window_max(&self) -> f32 {
        self.window_max
    }

    /// Every interval before this sample index has been evaluated.
    pub fn evaluated_until(&self) -> u64 {
        self.next as u64
    }

    /// [`max`](Self::max) in dBTP.
    pub fn true_peak_dbtp(&self) -> f32 {
        gain_to_db(self.max)
    }

    /// Evaluates every interval whose window is complete (and below `end`), then keeps the
    /// history the next intervals need.
    ///
    /// While streaming (`end` is `i64::MAX`) only whole stretches are evaluated, so rounds
    /// start on the stream's grid of stretches and read their maxima from `stretch_max`.
    fn evaluate_ready(&mut self, end: i64, on_over: &mut impl FnMut(u64, f32)) {
        let complete = self.base + self.fill as i64 - LOOKAHEAD as i64;
        let ready_end = if end == i64::MAX {
            complete.div_euclid(STRETCH as i64) * STRETCH as i64
        } else {
            complete.min(end)
        };
        if self.next < ready_end {
            self.evaluate_range(ready_end, on_over);
        }
        // Keep x[next - KEEP_BEFORE ..] for the next round.
        let keep_from = (self.next - KEEP_BEFORE as i64 - self.base) as usize;
        let keep_from = keep_from.min(self.fill);
        self.buf.copy_within(keep_from..self.fill, 0);
        self.fill -= keep_from;
        self.base += keep_from as i64;
        debug_assert!(self.fill < HISTORY + STRETCH);
    }

    /// Evaluates intervals `next..ready_end`, a stretch of [`STRETCH`] intervals at a time.
    fn evaluate_range(&mut self, ready_end: i64, on_over: &mut impl FnMut(u64, f32)) {
        let first = (self.next - self.base) as usize;
        debug_assert_eq!(first, KEEP_BEFORE);
        debug_assert_eq!(self.next % STRETCH as i64, 0);
        let count = (ready_end - self.next) as usize;
        let stretches = count.div_ceil(STRETCH);
        // Largest |x| of the stretch before, of each stretch of these intervals and of the one
        // after them: `maxima[s + 1]` is stretch `s`'s. At the end of a stream the last one
        // may reach past the samples; no window of these intervals does.
        let before = self.next / STRETCH as i64 - 1;
        let slot = ring_slot(before);
        let mut maxima = [0.0; MAX_SCANNED];
        let (to_end, wrapped) = maxima.split_at_mut((RING - slot).min(MAX_SCANNED));
        to_end.copy_from_slice(&self.stretch_max[slot..slot + to_end.len()]);
        wrapped.copy_from_slice(&self.stretch_max[..wrapped.len()]);
        // Every sample of these intervals is a point of the signal: the maximum is at least
        // their largest, so any interval that cannot beat them is skipped at once.
        let full = count / STRETCH;
        let partial = &self.buf[first + full * STRETCH..first + count];
        let ready_max = maxima[1..=full]
            .iter()
            .fold(largest_of(partial), |m, &v| greater(m, v));
        self.window_max = greater(self.window_max, ready_max);
        self.max = greater(self.max, ready_max);
        // Which stretches something within reach of their taps could make beat the
        // threshold; the others are skipped. Tested for all at once, without branches, then
        // tested again as the threshold rises.
        let bound = self.interp.max_l1();
        let reach_max = |s: usize| greater(greater(maxima[s], maxima[s + 1]), maxima[s + 2]);
        let threshold = self.threshold();
        let mut pending = 0u32;
        for s in 0..stretches {
            pending |= u32::from(reach_max(s) * bound > threshold) << s;
        }
        let bends = if pending != 0 {
            stretch_bends(&self.buf, stretches)
        } else {
            [0.0; MAX_SCANNED]
        };
        while pending != 0 {
            let s = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            let threshold = self.threshold();
            let level = reach_max(s);
            if level * bound <= threshold {
                continue;
            }
            // A smooth stretch (a tone, a slow passage) cannot stray far from its samples.
            let bend = greater(greater(bends[s], bends[s + 1]), bends[s + 2]);
            let samples_max = greater(maxima[s + 1], maxima[s + 2]);
            if samples_max + self.interp.between_samples().at_most(bend, level) < threshold {
                continue;
            }
            let done = s * STRETCH;
            let interval = self.next + done as i64;
            let sub = (count - done).min(STRETCH);
            self.evaluate_sub(first + done, sub, interval, bend, level, on_over);
        }
        self.next = ready_end;
    }

    /// The level that matters: the maximum so far, at most full scale (every over is read),
    /// never below the silence floor.
    #[inline]
    fn threshold(&self) -> f32 {
        self.max.clamp(SILENCE_FLOOR, 1.0)
    }

    /// Reads intervals `first..first+count` (at local index `local`) that the skip bound
    /// could not rule out. `bend` and `level` are the largest second difference and |x| within
    /// their taps' reach: they bound how far a peak can lie above the grids' points.
    fn evaluate_sub(
        &mut self,
        local: usize,
        count: usize,
        first: i64,
        bend: f32,
        level: f32,
        on_over: &mut impl FnMut(u64, f32),
    ) {
        let reach: &[f32; STRETCH_REACH] = self.buf[local - CENTER..local - CENTER + STRETCH_REACH]
            .try_into()
            .expect("the buffer has a block of slack past its fill limit");
        let coarse = self.interp.coarse_block(reach);

        // Each grid's largest |y| per interval, all intervals at once (vectorised); usually
        // none comes near the threshold on the coarse grid and the stretch is done.
        let samples: &[f32; STRETCH + 1] = self.buf[local..local + STRETCH + 1]
            .try_into()
            .expect("the buffer has slack past its fill limit");
        let mut grid_max = [0.0f32; STRETCH];
        for (i, g) in grid_max.iter_mut().enumerate() {
            *g = greater(samples[i].abs(), samples[i + 1].abs());
        }
        let mut widen = |rows: &[[f32; STRETCH]]| {
            for row in rows {
                for (g, y) in grid_max.iter_mut().zip(row) {
                    *g = greater(*g, y.abs());
                }
            }
            // Intervals past `count` are not ready: they must not count.
            grid_max[count..].fill(0.0);
            largest(&grid_max)
        };
        let coarse_slack = self.interp.between_coarse_points().at_most(bend, level);
        if widen(&coarse) < candidate_floor(self.threshold(), COARSE_UNDER_READ, coarse_slack) {
            return;
        }
        let fine = self.interp.fine_block(reach);
        let fine_slack = self.interp.between_fine_points().at_most(bend, level);
        if widen(&fine) < candidate_floor(self.threshold(), FINE_UNDER_READ, fine_slack) {
            return;
        }

        // Which intervals come close enough, as bits (branch-free), then one at a time.
        let floor = candidate_floor(self.threshold(), FINE_UNDER_READ, fine_slack);
        let mut close = grid_max
            .iter()
            .enumerate()
            .fold(0u32, |bits, (i, &g)| bits | u32::from(g >= floor) << i);
        while close != 0 {
            let i = close.trailing_zeros() as usize;
            close &= close - 1;
            // Readings so far may have raised the threshold past this interval.
            if grid_max[i] < candidate_floor(self.threshold(), FINE_UNDER_READ, fine_slack) {
                continue;
            }
            let points = fine_points(samples[i], &coarse, &fine, i, samples[i + 1]);
            let l = local + i;
            let peak = interval_peak(&points, || {
                let before: &[f32; TAPS] = self.buf[l - 1 - CENTER..l - 1 - CENTER + TAPS]
                    .try_into()
                    .expect("a whole stretch is kept before the interval");
                self.interp.seven_eighths(before).abs()
            });
            self.window_max = self.window_max.max(peak);
            self.max = self.max.max(peak);
            if peak > 1.0 {
                on_over((first + i as i64) as u64, peak);
            }
        }
    }
}

/// The smallest grid maximum at which an interval's peak could reach `threshold`: the grid's
/// generic `under_read`, or the stretch's own `slack` when that is smaller.
#[inline]
fn candidate_floor(threshold: f32, under_read: f32, slack: f32) -> f32 {
    greater(threshold * under_read, threshold - slack)
}

/// Interval `i`'s fine grid as magnitudes: its first sample, the seven interpolated points,
/// the next sample.
#[inline]
fn fine_points(
    sample: f32,
    coarse: &[[f32; STRETCH]; COARSE_FACTOR - 1],
    fine: &[[f32; STRETCH]; COARSE_FACTOR],
    i: usize,
    next: f32,
) -> [f32; FINE_PHASES + 1] {
    std::array::from_fn(|j| match j {
        0 => sample.abs(),
        FINE_PHASES => next.abs(),
        _ if j % COARSE_STEP == 0 => coarse[j / COARSE_STEP - 1][i].abs(),
        _ => fine[j / COARSE_STEP][i].abs(),
    })
}

/// The largest |y| of one interval, from its fine grid (`points[j]` is |y(n + j/8)|, the last
/// the next sample): its highest point, topped by the parabola through it and its neighbours.
/// `before` gives |y(n - 1/8)| for a top at x\[n\]; a top at the next sample is the next
/// interval's to refine.
fn interval_peak(points: &[f32; FINE_PHASES + 1], before: impl FnOnce() -> f32) -> f32 {
    let top = (1..=FINE_PHASES).fold(0, |best, j| if points[j] > points[best] { j } else { best });
    let here = points[top];
    if top == FINE_PHASES {
        return here;
    }
    let left = if top == 0 { before() } else { points[top - 1] };
    let right = points[top + 1];
    let curvature = left - 2.0 * here + right;
    if left <= here && curvature < 0.0 {
        let offset = 0.5 * (left - right) / curvature;
        here - 0.25 * (left - right) * offset
    } else {
        here
    }
}

/// How sharply the samples bend in each stretch of the work buffer, from the stretch before a
/// round's first interval on: `bends[s + 1]` is the largest |x\[k\] − 2x\[k+1\] + x\[k+2\]|
/// with `k` in stretch `s`. The three around a stretch cover every second difference within
/// its intervals' taps. (Past the fill limit the buffer holds stale samples: a larger bend
/// only costs a search, never a miss.)
fn stretch_bends(buf: &[f32], stretches: usize) -> [f32; MAX_SCANNED] {
    let mut bends = [0.0; MAX_SCANNED];
    widest(
        #[inline(always)]
        || {
            for (s, bend) in bends.iter_mut().enumerate().take(stretches + 2) {
                let x: &[f32; STRETCH + 2] = buf[s * STRETCH..s * STRETCH + STRETCH + 2]
                    .try_into()
                    .expect("the buffer has slack past its fill limit");
                let mut d = [0.0f32; STRETCH];
                for (k, d) in d.iter_mut().enumerate() {
                    *d = (x[k] - 2.0 * x[k + 1] + x[k + 2]).abs();
                }
                *bend = largest(&d);
            }
        },
    );
    bends
}

/// Where stretch `k` (which may be -1, the silence before the stream) keeps its maximum.
#[inline]
fn ring_slot(k: i64) -> usize {
    // Two's complement: the same as `k.rem_euclid(RING)` for a power of two.
    k as usize & (RING - 1)
}

/// Largest |x| of at most a stretch of values.
#[inline]
fn largest_of(values: &[f32]) -> f32 {
    let mut padded = [0.0f32; STRETCH];
    for (p, v) in padded.iter_mut().zip(values) {
        *p = v.abs();
    }
    largest(&padded)
}

/// Copies samples into the work buffer with NaN replaced by zero and ±Inf by full scale (it is
/// as loud as a sample can be), so the filter only ever sees finite numbers.
fn copy_sanitized(from: &[f32], to: &mut [f32]) {
    for (dst, &x) in to.iter_mut().zip(from) {
        *dst = if x.is_nan() {
            0.0
        } else if x.is_infinite() {
            x.signum()
        } else {
            x
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(x: &[f32]) -> f32 {
        let mut meter = TruePeakMeter::new();
        meter.process(x, |_, _| {});
        meter.finish(|_, _| {});
        meter.max()
    }

    #[test]
    fn never_below_sample_peak() {
        let x: Vec<f32> = (0..4000)
            .map(|i| (((i * 7919) % 1009) as f32 / 504.5 - 1.0) * 0.7)
            .collect();
        let sample_peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(measure(&x) >= sample_peak);
    }

    #[test]
    fn single_impulse_reads_its_height() {
        // A lone sample of 0.5: the interpolant's maximum is the sample itself.
        let mut x = vec![0.0f32; 100];
        x[50] = 0.5;
        assert!((measure(&x) - 0.5).abs() < 1e-6);
    }

    /// Peak and overs of `x` fed in blocks of `size`, each with its stretch maxima.
    fn measure_with_maxima(x: &[f32], size: usize) -> (f32, Vec<(u64, f32)>) {
        let mut meter = TruePeakMeter::new();
        let mut overs = Vec::new();
        let mut maxima = vec![0.0; size.div_ceil(STRETCH)];
        for block in x.chunks(size) {
            let all = stretch_maxima(block, &mut maxima);
            meter.process_scanned(block, Some(&maxima), all.is_finite(), |n, y| {
                overs.push((n, y))
            });
        }
        meter.finish(|n, y| overs.push((n, y)));
        (meter.max(), overs)
    }

    #[test]
    fn given_stretch_maxima_change_nothing() {
        // Quiet noise with louder and louder bursts whose peaks lie between samples (each must
        // be found where it is), a stretch of loud noise with overs, and a NaN.
        let mut x: Vec<f32> = (0..20_000u32)
            .map(|i| {
                let level = if (8_000..12_000).contains(&i) {
                    1.05
                } else {
                    0.001
                };
                ((i.wrapping_mul(2_654_435_761) >> 8) as f32 / 8_388_608.0 - 1.0) * level
            })
            .collect();
        for (k, at) in (100..7_900).step_by(397).enumerate() {
            let height = 0.2 + 0.01 * k as f32;
            x[at..at + 4].copy_from_slice(&[height, -height, height, -height]);
        }
        x[15_001] = f32::NAN;
        let mut meter = TruePeakMeter::new();
        let mut own = Vec::new();
        meter.process(&x, |n, y| own.push((n, y)));
        meter.finish(|n, y| own.push((n, y)));
        assert!(!own.is_empty());
        // Long blocks on the grid of stretches (4096, 512), short ones (48), off it (37), both in
        // turn (24), and long blocks off the grid after the first (1000).
        for size in [4096, 512, 48, 37, 24, 1000] {
            assert_eq!(
                measure_with_maxima(&x, size),
                (meter.max(), own.clone()),
                "{size}"
            );
        }
    }

    /// Interval `n`'s fine grid (as magnitudes) when `x` is all there is, silence around it,
    /// computed the meter's way.
    fn points_of(interp: &Interpolator, x: &[f32], n: i64) -> [f32; FINE_PHASES + 1] {
        let at = |i: i64| x.get(i as usize).copied().filter(|_| i >= 0).unwrap_or(0.0);
        let reach: [f32; STRETCH_REACH] = std::array::from_fn(|k| at(n - CENTER as i64 + k as i64));
        let (coarse, fine) = (interp.coarse_block(&reach), interp.fine_block(&reach));
        fine_points(at(n), &coarse, &fine, 0, at(n + 1))
    }

    /// What the meter reads in every interval of `x`, with no interval skipped.
    fn every_interval(x: &[f32]) -> Vec<f32> {
        let interp = Interpolator::new();
        let at = |i: i64| x.get(i as usize).copied().filter(|_| i >= 0).unwrap_or(0.0);
        (0..x.len() as i64)
            .map(|n| {
                interval_peak(&points_of(&interp, x, n), || {
                    let before: [f32; TAPS] =
                        std::array::from_fn(|k| at(n - 1 - CENTER as i64 + k as i64));
                    interp.seven_eighths(&before).abs()
                })
            })
            .collect()
    }

    /// Tones from 20 Hz to past 0.45·fs at 48 kHz, a sung note with vibrato and harmonics whose
    /// level jumps, full-scale noise, a square wave, lone impulses.
    fn varied_signals() -> Vec<(String, Vec<f32>)> {
        let tone = |f: f64, a: f64, phase: f64| -> Vec<f32> {
            (0..6000)
                .map(|n| {
                    (a * (std::f64::consts::TAU * f * n as f64 / 48_000.0 + phase).sin()) as f32
                })
                .collect()
        };
        let mut signals: Vec<(String, Vec<f32>)> = [
            20.0, 220.0, 1000.0, 5000.0, 12_000.0, 19_000.0, 21_600.0, 23_000.0,
        ]
        .iter()
        .enumerate()
        .map(|(i, &f)| (format!("{f} Hz"), tone(f, 1.05, 0.3 * i as f64)))
        .collect();
        let sung = (0..20_000)
            .map(|n| {
                let t = n as f64 / 48_000.0;
                let level = if (t % 0.2) < 0.14 { 1.0 } else { 0.1 };
                let f0 = 220.0 * (1.0 + 0.01 * (std::f64::consts::TAU * 5.0 * t).sin());
                let voice: f64 = (1..6)
                    .map(|h| (std::f64::consts::TAU * f0 * h as f64 * t).sin() / h as f64)
                    .sum();
                (0.6 * level * voice) as f32
            })
            .collect();
        signals.push(("sung note".into(), sung));
        let noise = (0..6000u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 8) as f32 / 8_388_608.0 - 1.0) * 0.99)
            .collect();
        signals.push(("noise".into(), noise));
        signals.push((
            "square".into(),
            (0..6000)
                .map(|n| if (n / 24) % 2 == 0 { 0.9 } else { -0.9 })
                .collect(),
        ));
        let mut impulses = vec![0.0f32; 3000];
        for (k, at) in (100..2900).step_by(173).enumerate() {
            impulses[at] = if k % 2 == 0 { 0.8 } else { -1.0 };
        }
        signals.push(("impulses".into(), impulses));
        signals
    }

    #[test]
    fn peaks_never_stray_further_than_the_bounds_say() {
        let interp = Interpolator::new();
        for (name, x) in varied_signals() {
            let at = |i: i64| x.get(i as usize).copied().filter(|_| i >= 0).unwrap_or(0.0);
            for (n, peak) in every_interval(&x).into_iter().enumerate() {
                let n = n as i64;
                // The taps' reach, and the sample before it for the fine point before x[n].
                let window: Vec<f32> = (n - 1 - CENTER as i64..=n + LOOKAHEAD as i64)
                    .map(at)
                    .collect();
                let level = window.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let bend = window
                    .windows(3)
                    .fold(0.0f32, |m, w| m.max((w[0] - 2.0 * w[1] + w[2]).abs()));
                let points = points_of(&interp, &x, n);
                let grid_max =
                    |step: usize| points.iter().step_by(step).fold(0.0f32, |m, &v| m.max(v));
                let bounds = [
                    ("line", grid_max(FINE_PHASES), interp.between_samples(), 0.0),
                    (
                        "coarse",
                        grid_max(COARSE_STEP),
                        interp.between_coarse_points(),
                        COARSE_UNDER_READ,
                    ),
                    (
                        "fine",
                        grid_max(1),
                        interp.between_fine_points(),
                        FINE_UNDER_READ,
                    ),
                ];
                for (grid, max, straying, under_read) in bounds {
                    let above = max + straying.at_most(bend, level);
                    assert!(
                        peak <= above,
                        "{name}, interval {n}: {peak} above the {grid} bound {above}"
                    );
                    assert!(
                        peak * under_read <= max,
                        "{name}, interval {n}: the {grid} grid under-reads {peak} as {max}"
                    );
                }
            }
        }
    }

    #[test]
    fn skipping_changes_nothing() {
        // The meter skips most intervals; searching every one must find the same maximum and
        // the same overs, to the bit.
        for (name, x) in varied_signals() {
            let peaks = every_interval(&x);
            let sample_peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let brute_max = peaks.iter().fold(sample_peak, |m, &p| m.max(p));
            let brute_overs: Vec<(u64, f32)> = peaks
                .iter()
                .enumerate()
                .filter(|(_, &p)| p > 1.0)
                .map(|(n, &p)| (n as u64, p))
                .collect();
            let mut meter = TruePeakMeter::new();
            let mut overs = Vec::new();
            meter.process(&x, |n, y| overs.push((n, y)));
            meter.finish(|n, y| overs.push((n, y)));
            assert_eq!(meter.max(), brute_max, "{name}");
            assert_eq!(overs, brute_overs, "{name}");
        }
    }

    #[test]
    fn display_windows_read_between_their_sample_and_true_peaks_and_change_nothing_else() {
        for (name, x) in varied_signals() {
            let peaks = every_interval(&x);
            let mut plain = TruePeakMeter::new();
            let mut plain_overs = Vec::new();
            plain.process(&x, |n, y| plain_overs.push((n, y)));
            let mut meter = TruePeakMeter::new();
            let mut overs = Vec::new();
            let mut from = 0usize;
            for block in x.chunks(100) {
                meter.process(block, |n, y| overs.push((n, y)));
                let until = meter.evaluated_until() as usize;
                let window = meter.take_window_max();
                if until > from {
                    let samples = x[from..until].iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    let true_peak = peaks[from..until].iter().fold(samples, |m, &p| m.max(p));
                    assert!(
                        samples <= window && window <= true_peak,
                        "{name}, {from}..{until}: {samples} <= {window} <= {true_peak}"
                    );
                }
                from = until;
            }
            assert_eq!(meter.max(), plain.max(), "{name}");
            assert_eq!(overs, plain_overs, "{name}");
        }
    }

    #[test]
    fn non_finite_input_survives() {
        let x = [0.1, f32::NAN, f32::INFINITY, -0.2, f32::MIN_POSITIVE / 4.0];
        assert!(measure(&x).is_finite());
    }
}
