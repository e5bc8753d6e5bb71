//! State shared between the audio thread and the editor, without locks.
//!
//! Peaks use read-and-reset: the audio thread does one `fetch_max` per block, the editor
//! `swap`s once per frame, so no peak between two frames is lost. Clip events travel over a
//! bounded channel with `try_send`; when it is full the event is counted as dropped (the clip
//! counters stay exact).

use atomic_float::AtomicF32;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::clip_notice::{ClipNotice, MAX_CHANNELS};
use super::finished_pass::FinishedPass;
use super::loudness_shared::LoudnessShared;
use super::pass_strip::PassStrip;
use crate::analysis::{LimiterEvidence, LimiterVerdict};

/// A pass that has had no block for this long no longer holds up the delivery note: the host
/// stopped processing that instance.
pub const PASS_QUIET_AFTER: std::time::Duration = std::time::Duration::from_secs(2);
/// Clip events queued for the editor before further ones are dropped.
pub const CLIP_QUEUE_CAPACITY: usize = 1024;

/// One channel's meter values (linear gain; full scale = 1.0).
#[derive(Debug, Default)]
pub struct ChannelMeter {
    /// Sample peak since the editor last read it (read-and-reset).
    pub sample_peak: AtomicF32,
    /// True peak since the editor last read it (read-and-reset).
    pub true_peak: AtomicF32,
    /// Sample peak since the last reset.
    pub max_sample_peak: AtomicF32,
    /// True peak since the last reset.
    pub max_true_peak: AtomicF32,
    /// Clip events (all kinds) since the last reset.
    pub clip_events: AtomicU64,
    /// Flat-top events since the last reset (clipping baked in before this plugin).
    pub flat_top_events: AtomicU64,
    /// NaN or infinite samples since the last reset.
    pub non_finite_samples: AtomicU64,
}

/// Everything the editor reads from the audio thread.
#[derive(Debug)]
pub struct MeterShared {
    /// Per channel; only the first `channel_count` are live.
    pub channels: [ChannelMeter; MAX_CHANNELS],
    /// Channels in the active layout.
    pub channel_count: AtomicU32,
    /// Sample rate of the active configuration, Hz.
    pub sample_rate: AtomicF32,
    /// Set by the editor; the audio thread clears its measurements at the next block.
    pub reset_requested: AtomicBool,
    /// Clip events that did not fit in the queue.
    pub dropped_clip_notices: AtomicU64,
    /// The limiter detector's latest evidence.
    pub limiter: LimiterShared,
    /// The pass's loudness.
    pub loudness: LoudnessShared,
    /// The pass timeline: peaks and clips over the current or last pass.
    pub strip: PassStrip,
    /// What became of the last pass report. Only the background and GUI threads lock it.
    pub reports: std::sync::Mutex<ReportLog>,
    /// A pass is open (audio thread).
    pass_open: AtomicBool,
    /// [`super::process_time::clock_ms`] at the open pass's latest block (audio thread).
    pass_block_ms: AtomicU64,
    /// Pass reports handed to the writer and not yet handled.
    reports_in_flight: AtomicU32,
    /// The last pass the writer handled. Only non-audio threads lock it.
    last_pass: std::sync::Mutex<Option<FinishedPass>>,
    /// The host's name for the track (VST3 channel context, CLAP track info), when it gives
    /// one. Only non-audio threads lock it.
    track_name: std::sync::Mutex<Option<String>>,
    clip_sender: Sender<ClipNotice>,
    clip_receiver: Receiver<ClipNotice>,
}

impl Default for MeterShared {
    fn default() -> Self {
        let (clip_sender, clip_receiver) = crossbeam_channel::bounded(CLIP_QUEUE_CAPACITY);
        Self {
            channels: Default::default(),
            channel_count: AtomicU32::new(2),
            sample_rate: AtomicF32::new(48_000.0),
            reset_requested: AtomicBool::new(false),
            dropped_clip_notices: AtomicU64::new(0),
            limiter: LimiterShared::default(),
            loudness: LoudnessShared::default(),
            strip: PassStrip::default(),
            reports: std::sync::Mutex::new(ReportLog::default()),
            pass_open: AtomicBool::new(false),
            pass_block_ms: AtomicU64::new(0),
            reports_in_flight: AtomicU32::new(0),
            last_pass: std::sync::Mutex::new(None),
            track_name: std::sync::Mutex::new(None),
            clip_sender,
            clip_receiver,
        }
    }
}

impl MeterShared {
    /// Queues a clip notice for the editor; never blocks or allocates. Returns false if the
    /// queue was full and the notice was dropped (and counted).
    pub fn post_clip(&self, notice: ClipNotice) -> bool {
        match self.clip_sender.try_send(notice) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped_clip_notices.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// The meters of the active layout's channels.
    pub fn live_channels(&self) -> &[ChannelMeter] {
        let count = self.channel_count.load(Ordering::Relaxed) as usize;
        &self.channels[..count.min(MAX_CHANNELS)]
    }

    /// Audio thread: a pass is open and had a block at `now_ms` ([`super::process_time::clock_ms`]).
    pub fn mark_pass_block(&self, now_ms: u64) {
        self.pass_block_ms.store(now_ms, Ordering::Relaxed);
        self.pass_open.store(true, Ordering::Release);
    }

    /// Audio thread: the pass ended (call after [`Self::report_sent`]).
    pub fn mark_pass_closed(&self) {
        self.pass_open.store(false, Ordering::Release);
    }

    /// In a pass that had a block within [`PASS_QUIET_AFTER`] of `now_ms`, or a pass report
    /// not yet handled: an export may still be under way.
    pub fn busy(&self, now_ms: u64) -> bool {
        let in_pass = self.pass_open.load(Ordering::Acquire)
            && now_ms.saturating_sub(self.pass_block_ms.load(Ordering::Relaxed))
                <= PASS_QUIET_AFTER.as_millis() as u64;
        in_pass || self.reports_in_flight() > 0
    }

    /// Audio thread: a pass report is on its way to the writer.
    pub fn report_sent(&self) {
        self.reports_in_flight.fetch_add(1, Ordering::AcqRel);
    }

    /// A sent report was handled, or never left.
    pub fn report_handled(&self) {
        // Never below zero, whatever the order of calls.
        let _ = self
            .reports_in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Pass reports sent and not yet handled.
    pub fn reports_in_flight(&self) -> u32 {
        self.reports_in_flight.load(Ordering::Acquire)
    }

    /// The last pass the writer handled. Not for the audio thread.
    pub fn last_pass(&self) -> std::sync::MutexGuard<'_, Option<FinishedPass>> {
        self.last_pass.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the host's name for the track. Not for the audio thread.
    pub fn set_track_name(&self, name: &str) {
        *self.track_name.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.to_owned());
    }

    /// The host's name for the track, if it gave one. Not for the audio thread.
    pub fn track_name(&self) -> Option<String> {
        self.track_name
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The next queued clip notice, if any (editor side).
    pub fn next_clip(&self) -> Option<ClipNotice> {
        self.clip_receiver.try_recv().ok()
    }

    /// Audio thread: clears every published value after a reset.
    pub fn clear(&self) {
        for channel in &self.channels {
            for value in [
                &channel.sample_peak,
                &channel.true_peak,
                &channel.max_sample_peak,
                &channel.max_true_peak,
            ] {
                value.store(0.0, Ordering::Relaxed);
            }
            channel.clip_events.store(0, Ordering::Relaxed);
            channel.flat_top_events.store(0, Ordering::Relaxed);
            channel.non_finite_samples.store(0, Ordering::Relaxed);
        }
        self.dropped_clip_notices.store(0, Ordering::Relaxed);
        self.limiter.clear();
        self.loudness.clear();
    }
}

/// The last report written, or the one that could not be: kept so nothing is lost.
#[derive(Debug, Clone, Default)]
pub struct ReportLog {
    /// Path of the last report written.
    pub written: Option<std::path::PathBuf>,
    /// A report that could not be written, with the reason.
    pub failed: Option<FailedReport>,
}

/// A report that is still only in memory.
#[derive(Debug, Clone)]
pub struct FailedReport {
    /// Why the write failed.
    pub error: String,
    /// Where it should go.
    pub folder: std::path::PathBuf,
    /// File name without extension.
    pub base: String,
    /// The JSON report.
    pub json: String,
    /// The text report.
    pub text: String,
}

/// The limiter evidence as a seqlock: every field is an atomic, and the sequence number tells
/// the reader whether it saw one consistent publication. The sequence only ever goes forward
/// (a reader that saw it even twice saw no write in between); clearing is a publication too.
#[derive(Debug, Default)]
pub struct LimiterShared {
    /// Odd while a publication is being written.
    sequence: AtomicU32,
    /// Evidence was published since the last clear.
    published: AtomicBool,
    verdict: AtomicU32,
    ceiling_dbfs: AtomicF32,
    pinned_share: AtomicF32,
    top_share: AtomicF32,
    loudness_range_db: AtomicF32,
    moving_share: AtomicF32,
    ties_at_top: AtomicU32,
    loud_seconds: AtomicF32,
}

impl LimiterShared {
    /// Audio thread (the only writer): publishes new evidence. Never blocks or allocates.
    pub fn publish(&self, evidence: &LimiterEvidence) {
        self.write(|| {
            self.published.store(true, Ordering::Relaxed);
            self.store(evidence);
        });
    }

    /// Audio thread: forgets the evidence (after a reset). Never blocks or allocates.
    pub fn clear(&self) {
        self.write(|| self.published.store(false, Ordering::Relaxed));
    }

    /// One write: the sequence turns odd, the fields change, the sequence turns even again.
    fn write(&self, fields: impl FnOnce()) {
        let sequence = self.sequence.load(Ordering::Relaxed);
        self.sequence
            .store(sequence.wrapping_add(1), Ordering::Relaxed);
        std::sync::atomic::fence(Ordering::Release);
        fields();
        self.sequence
            .store(sequence.wrapping_add(2), Ordering::Release);
    }

    fn store(&self, evidence: &LimiterEvidence) {
        let verdict = match evidence.verdict {
            LimiterVerdict::None => 0,
            LimiterVerdict::Likely => 1,
            LimiterVerdict::Certain => 2,
        };
        self.verdict.store(verdict, Ordering::Relaxed);
        self.ceiling_dbfs
            .store(evidence.ceiling_dbfs, Ordering::Relaxed);
        self.pinned_share
            .store(evidence.pinned_share, Ordering::Relaxed);
        self.top_share.store(evidence.top_share, Ordering::Relaxed);
        self.loudness_range_db
            .store(evidence.loudness_range_db, Ordering::Relaxed);
        self.moving_share
            .store(evidence.moving_share, Ordering::Relaxed);
        self.ties_at_top
            .store(evidence.ties_at_top, Ordering::Relaxed);
        self.loud_seconds
            .store(evidence.loud_seconds, Ordering::Relaxed);
    }

    /// Editor: the latest consistent evidence, or `None` before the first publication.
    pub fn read(&self) -> Option<LimiterEvidence> {
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let published = self.published.load(Ordering::Relaxed);
            let evidence = LimiterEvidence {
                verdict: match self.verdict.load(Ordering::Relaxed) {
                    2 => LimiterVerdict::Certain,
                    1 => LimiterVerdict::Likely,
                    _ => LimiterVerdict::None,
                },
                ceiling_dbfs: self.ceiling_dbfs.load(Ordering::Relaxed),
                pinned_share: self.pinned_share.load(Ordering::Relaxed),
                top_share: self.top_share.load(Ordering::Relaxed),
                loudness_range_db: self.loudness_range_db.load(Ordering::Relaxed),
                moving_share: self.moving_share.load(Ordering::Relaxed),
                ties_at_top: self.ties_at_top.load(Ordering::Relaxed),
                loud_seconds: self.loud_seconds.load(Ordering::Relaxed),
            };
            std::sync::atomic::fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                return published.then_some(evidence);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{ClipEvent, ClipKind};
    use crate::plugin::timeline::TimelinePosition;

    fn notice() -> ClipNotice {
        ClipNotice {
            event: ClipEvent {
                kind: ClipKind::Sample,
                channel: 0,
                start_sample: 0,
                length_samples: 1,
                peak: 1.0,
            },
            position: TimelinePosition {
                seconds: 0.0,
                from_host: true,
                bar_beat: None,
            },
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let shared = MeterShared::default();
        for _ in 0..CLIP_QUEUE_CAPACITY {
            assert!(shared.post_clip(notice()));
        }
        assert!(!shared.post_clip(notice()));
        assert!(!shared.post_clip(notice()));
        assert_eq!(shared.dropped_clip_notices.load(Ordering::Relaxed), 2);
        assert!(shared.next_clip().is_some());
        assert!(shared.post_clip(notice()));
    }

    #[test]
    fn limiter_evidence_round_trips_through_the_seqlock() {
        let shared = LimiterShared::default();
        assert!(shared.read().is_none());
        let evidence = LimiterEvidence {
            verdict: LimiterVerdict::Certain,
            ceiling_dbfs: -0.3,
            pinned_share: 0.91,
            top_share: 0.5,
            loudness_range_db: 9.0,
            moving_share: 0.8,
            ties_at_top: 7,
            loud_seconds: 42.0,
        };
        shared.publish(&evidence);
        shared.publish(&evidence);
        assert_eq!(shared.read(), Some(evidence));
        shared.clear();
        assert!(shared.read().is_none());
    }

    #[test]
    fn a_reader_never_sees_a_torn_publication_even_across_clears() {
        // Every publication's fields all equal one number; a torn read mixes two. The writer
        // clears between publications, as a reset does: a sequence that went back to where a
        // reader started would let that reader accept a mix.
        let shared = std::sync::Arc::new(LimiterShared::default());
        let evidence = |k: u32| LimiterEvidence {
            verdict: LimiterVerdict::Likely,
            ceiling_dbfs: k as f32,
            pinned_share: k as f32,
            top_share: k as f32,
            loudness_range_db: k as f32,
            moving_share: k as f32,
            ties_at_top: k,
            loud_seconds: k as f32,
        };
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let reads = std::sync::Arc::new(AtomicU64::new(0));
        let reader = {
            let (shared, done, reads) = (shared.clone(), done.clone(), reads.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    if let Some(e) = shared.read() {
                        let k = e.ties_at_top as f32;
                        let fields = [
                            e.ceiling_dbfs,
                            e.pinned_share,
                            e.top_share,
                            e.loudness_range_db,
                            e.moving_share,
                            e.loud_seconds,
                        ];
                        assert!(fields.iter().all(|&f| f == k), "torn read: {e:?}");
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };
        // Keep writing until the reader has read many times, or has stopped on a torn read.
        // The writer makes way now and then: on a machine busy with other tests the two may
        // share a core, and a reader that never runs proves nothing.
        let mut k = 0u32;
        while reads.load(Ordering::Relaxed) < 20_000 && !reader.is_finished() {
            // f32 holds these exactly.
            shared.publish(&evidence(k % 16_000_000));
            if k.is_multiple_of(3) {
                shared.clear();
            }
            if k.is_multiple_of(64) {
                std::thread::yield_now();
            }
            k = k.wrapping_add(1);
        }
        done.store(true, Ordering::Relaxed);
        reader.join().expect("no torn read");
    }

    #[test]
    fn read_and_reset_keeps_the_largest_peak_between_reads() {
        let meter = ChannelMeter::default();
        // Three blocks between two editor frames: the frame sees the largest.
        for block_peak in [0.2, 0.7, 0.4] {
            meter.sample_peak.fetch_max(block_peak, Ordering::Relaxed);
        }
        assert_eq!(meter.sample_peak.swap(0.0, Ordering::Relaxed), 0.7);
        assert_eq!(meter.sample_peak.swap(0.0, Ordering::Relaxed), 0.0);
    }
}
