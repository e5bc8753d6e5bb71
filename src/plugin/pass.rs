//! Export passes: when playback or an offline render starts and stops, where it started, and
//! whether the host was rendering faster than real time.
//!
//! Hosts disagree about what they report during an export (a VST3 host may announce the
//! previous processing mode at activation, CLAP's render extension does not reactivate, some
//! hosts never advance the transport), so a pass is recognised from several signs and the
//! offline flag is also inferred from blocks arriving much faster than real time.

use super::timeline::{BlockAnchor, TimelinePosition};
use std::time::Instant;

/// Blocks that arrive this many times faster than their own duration look like an offline
/// render.
const FASTER_THAN_REAL_TIME: f64 = 4.0;
/// Consecutive fast blocks needed before the render is called offline.
const FAST_BLOCKS_NEEDED: u32 = 16;

/// What the plugin knows about one block.
#[derive(Debug, Clone, Copy)]
pub struct BlockFacts {
    /// The transport is rolling (`None`: the host gave no transport).
    pub playing: Option<bool>,
    /// The host's position and tempo at the block's first sample.
    pub anchor: BlockAnchor,
    /// Frames in the block.
    pub frames: u32,
    /// When the block arrived (wall clock).
    pub arrived: Instant,
}

/// A pass in progress or just ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassTiming {
    /// Where it started.
    pub start: TimelinePosition,
    /// It started at the project start (position 0, within one block).
    pub from_project_start: bool,
    /// Frames processed in the pass.
    pub frames: u64,
    /// Sample rate, Hz.
    pub sample_rate: f64,
    /// Tempo at the start, BPM.
    pub tempo_bpm: Option<f64>,
    /// Time signature at the start.
    pub time_signature: Option<(i32, i32)>,
    /// The host said it renders offline, or the blocks came much faster than real time.
    pub offline: bool,
    /// When its first block arrived (wall clock).
    pub began_at: Instant,
    /// When its last block arrived (wall clock).
    pub last_block_at: Instant,
}

impl PassTiming {
    /// Length of the pass, seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / self.sample_rate
    }
}

/// What a block did to the pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PassChange {
    /// Nothing: no pass, or the pass goes on.
    None,
    /// A pass began with this block. `since_activation`: the host gives no transport and the
    /// render was recognised only now, so the pass reaches back to the activation and the
    /// measurements made so far belong to it.
    Started {
        /// The pass includes every block since the activation.
        since_activation: bool,
    },
    /// The pass ended before this block (the transport stopped, or jumped back to the start
    /// while rendering); this block may have started the next one.
    Ended {
        /// The pass that ended.
        pass: PassTiming,
        /// This block started a new pass.
        restarted: bool,
    },
}

/// Follows passes block by block. Allocation-free.
#[derive(Debug, Clone, Default)]
pub struct PassTracker {
    open: Option<PassTiming>,
    /// The host reported offline processing at activation.
    host_offline: bool,
    previous_arrival: Option<Instant>,
    /// Host position of the previous block, seconds.
    previous_seconds: Option<f64>,
    previous_frames: u32,
    fast_blocks: u32,
    /// Frames since the activation, while no pass has begun.
    frames_before_first_pass: Option<u64>,
}

impl PassTracker {
    /// Starts following after an activation; `host_offline` is what the host reported.
    pub fn activated(&mut self, host_offline: bool) {
        *self = Self {
            host_offline,
            frames_before_first_pass: Some(0),
            ..Self::default()
        };
    }

    /// The pass in progress.
    pub fn current(&self) -> Option<&PassTiming> {
        self.open.as_ref()
    }

    /// Ends the pass in progress (deactivation).
    pub fn finish(&mut self) -> Option<PassTiming> {
        self.open.take()
    }

    fn offline(&self) -> bool {
        self.host_offline || self.fast_blocks >= FAST_BLOCKS_NEEDED
    }

    /// Feeds one block. Never allocates.
    pub fn block(&mut self, facts: &BlockFacts) -> PassChange {
        if let Some(previous) = self.previous_arrival {
            let block_s = f64::from(self.previous_frames) / facts.anchor.sample_rate;
            let gap_s = facts
                .arrived
                .saturating_duration_since(previous)
                .as_secs_f64();
            if gap_s * FASTER_THAN_REAL_TIME < block_s {
                self.fast_blocks = self.fast_blocks.saturating_add(1);
            } else {
                self.fast_blocks = 0;
            }
        }
        self.previous_arrival = Some(facts.arrived);
        self.previous_frames = facts.frames;

        // A render restarted from the top: the old pass ends, a new one begins. (A transport
        // that never advances stays at its position and restarts nothing.)
        let block_s = f64::from(facts.frames) / facts.anchor.sample_rate;
        let moved_back = self
            .previous_seconds
            .zip(facts.anchor.seconds)
            .is_some_and(|(before, now)| before - now > block_s);
        self.previous_seconds = facts.anchor.seconds;
        let jumped_to_start =
            self.open.is_some() && moved_back && at_project_start(&facts.anchor, facts.frames);
        let rolling = match facts.playing {
            Some(playing) => playing,
            // No transport at all: an offline render is a pass until deactivation (a slow
            // block in the middle does not split it).
            None => self.open.is_some() || self.offline(),
        };
        let mut ended = None;
        if self.open.is_some() && (!rolling || jumped_to_start) {
            ended = self.open.take();
        }
        let started = rolling && self.open.is_none();
        let reach_back = match (started, facts.playing) {
            (true, None) => self.frames_before_first_pass.unwrap_or(0),
            _ => 0,
        };
        let since_activation = reach_back > 0;
        if started {
            self.frames_before_first_pass = None;
            self.open = Some(PassTiming {
                start: facts
                    .anchor
                    .position_of(facts.anchor.stream_sample.saturating_sub(reach_back)),
                from_project_start: at_project_start(&facts.anchor, facts.frames),
                frames: reach_back,
                sample_rate: facts.anchor.sample_rate,
                tempo_bpm: facts.anchor.tempo_bpm,
                time_signature: facts.anchor.time_signature,
                offline: self.offline(),
                began_at: facts.arrived,
                last_block_at: facts.arrived,
            });
        }
        let offline = self.offline();
        if let Some(open) = &mut self.open {
            open.frames += u64::from(facts.frames);
            open.offline |= offline;
            open.last_block_at = facts.arrived;
        } else if let Some(frames) = &mut self.frames_before_first_pass {
            *frames += u64::from(facts.frames);
        }
        match (ended, started) {
            (Some(pass), restarted) => PassChange::Ended { pass, restarted },
            (None, true) => PassChange::Started { since_activation },
            (None, false) => PassChange::None,
        }
    }
}

/// At or before position 0, within one block: hosts start renders a little after 0, or
/// before it (Ardour pre-rolls an export by the chain's latency), and either way the export
/// covers the project start.
fn at_project_start(anchor: &BlockAnchor, frames: u32) -> bool {
    let block_s = f64::from(frames.max(1)) / anchor.sample_rate;
    match anchor.seconds {
        Some(seconds) => seconds <= block_s,
        None => anchor.beats.is_some_and(|beats| {
            anchor
                .tempo_bpm
                .is_some_and(|tempo| beats * 60.0 / tempo <= block_s)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const RATE: f64 = 48_000.0;
    const BLOCK: u32 = 480; // 10 ms

    struct Session {
        tracker: PassTracker,
        clock: Instant,
        stream: u64,
    }

    impl Session {
        fn new(host_offline: bool) -> Self {
            let mut tracker = PassTracker::default();
            tracker.activated(host_offline);
            Self {
                tracker,
                clock: Instant::now(),
                stream: 0,
            }
        }

        /// One block at host position `seconds` (None: no transport), arriving after `gap`.
        fn block(
            &mut self,
            playing: Option<bool>,
            seconds: Option<f64>,
            gap: Duration,
        ) -> PassChange {
            self.clock += gap;
            let anchor = BlockAnchor {
                stream_sample: self.stream,
                seconds,
                beats: seconds.map(|s| s * 2.0),
                tempo_bpm: Some(120.0),
                time_signature: Some((4, 4)),
                bar_start: None,
                sample_rate: RATE,
            };
            self.stream += u64::from(BLOCK);
            self.tracker.block(&BlockFacts {
                playing,
                anchor,
                frames: BLOCK,
                arrived: self.clock,
            })
        }
    }

    const REAL_TIME: Duration = Duration::from_millis(10);
    const FAST: Duration = Duration::from_micros(100);

    #[test]
    fn an_export_pre_rolled_by_the_latency_starts_at_the_project_start() {
        // Ardour 7.3 with a look-ahead limiter on the master starts the export 37 ms early.
        let mut s = Session::new(true);
        s.block(Some(true), Some(-0.037), FAST);
        let pass = *s.tracker.current().unwrap();
        assert!(pass.from_project_start);
        // A pass that starts a block and more after zero does not.
        let mut s = Session::new(true);
        s.block(Some(true), Some(0.5), FAST);
        assert!(!s.tracker.current().unwrap().from_project_start);
    }

    #[test]
    fn a_pass_from_the_project_start_and_one_from_bar_17() {
        let mut s = Session::new(false);
        assert_eq!(s.block(Some(false), Some(0.0), REAL_TIME), PassChange::None);
        assert_eq!(
            s.block(Some(true), Some(0.0), REAL_TIME),
            PassChange::Started {
                since_activation: false
            }
        );
        for i in 1..100 {
            s.block(Some(true), Some(f64::from(i) * 0.01), REAL_TIME);
        }
        let PassChange::Ended { pass, restarted } = s.block(Some(false), Some(1.0), REAL_TIME)
        else {
            panic!("the stop ends the pass")
        };
        assert!(!restarted);
        assert!(pass.from_project_start);
        assert!(!pass.offline);
        assert_eq!(pass.frames, 100 * u64::from(BLOCK));
        assert!((pass.duration_s() - 1.0).abs() < 1e-12);

        // Bar 17 at 120 BPM in 4/4 is 32 s in.
        assert_eq!(
            s.block(Some(true), Some(32.0), REAL_TIME),
            PassChange::Started {
                since_activation: false
            }
        );
        let pass = *s.tracker.current().unwrap();
        assert!(!pass.from_project_start);
        assert_eq!(pass.start.bar_beat.unwrap().bar, 17);
    }

    #[test]
    fn offline_is_inferred_from_fast_blocks_and_a_transportless_render_is_a_pass() {
        let mut s = Session::new(false);
        s.block(Some(true), Some(0.0), FAST);
        for i in 1..40 {
            s.block(Some(true), Some(f64::from(i) * 0.01), FAST);
        }
        assert!(s.tracker.current().unwrap().offline);

        // The host said offline and gives no transport: the first block starts the pass.
        let mut s = Session::new(true);
        assert_eq!(
            s.block(None, None, FAST),
            PassChange::Started {
                since_activation: false
            }
        );
        assert!(s.tracker.current().unwrap().offline);
        assert_eq!(s.block(None, None, FAST), PassChange::None);
        assert_eq!(s.tracker.finish().unwrap().frames, 2 * u64::from(BLOCK));
    }

    #[test]
    fn a_transportless_render_recognised_late_reaches_back_to_the_activation() {
        // Not said to be offline, no transport: the 17th fast block shows it is a render.
        let mut s = Session::new(false);
        let changes: Vec<PassChange> = (0..40).map(|_| s.block(None, None, FAST)).collect();
        let started = changes
            .iter()
            .position(|c| *c != PassChange::None)
            .expect("a pass starts");
        assert!(started > 0);
        assert_eq!(
            changes[started],
            PassChange::Started {
                since_activation: true
            }
        );
        // A slow block in the middle does not split it.
        assert_eq!(s.block(None, None, REAL_TIME), PassChange::None);
        let pass = s.tracker.finish().unwrap();
        assert_eq!(
            pass.frames,
            41 * u64::from(BLOCK),
            "every block since activation"
        );
        assert_eq!(pass.start.seconds, 0.0);
    }

    #[test]
    fn a_transport_that_never_advances_still_counts_the_pass() {
        let mut s = Session::new(false);
        for _ in 0..50 {
            s.block(Some(true), Some(0.0), REAL_TIME);
        }
        let pass = s.tracker.finish().unwrap();
        assert_eq!(pass.frames, 50 * u64::from(BLOCK));
        assert!(pass.from_project_start);
    }

    #[test]
    fn start_and_stop_around_every_block() {
        let mut s = Session::new(false);
        let mut passes = 0;
        for i in 0..20 {
            s.block(Some(true), Some(f64::from(i)), REAL_TIME);
            if let PassChange::Ended { pass, .. } =
                s.block(Some(false), Some(f64::from(i)), REAL_TIME)
            {
                assert_eq!(pass.frames, u64::from(BLOCK));
                passes += 1;
            }
        }
        assert_eq!(passes, 20);
    }

    #[test]
    fn a_render_restarting_from_the_top_is_a_new_pass() {
        let mut s = Session::new(true);
        for i in 0..10 {
            s.block(Some(true), Some(f64::from(i) * 0.01), FAST);
        }
        let change = s.block(Some(true), Some(0.0), FAST);
        let PassChange::Ended { pass, restarted } = change else {
            panic!("{change:?}")
        };
        assert!(restarted);
        assert_eq!(pass.frames, 10 * u64::from(BLOCK));
    }
}
