//! Where in the song a sample is: seconds, and bar:beat when the host gives tempo and metre.

use nice_plug::prelude::Transport;

/// A position on the host's timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimelinePosition {
    /// Seconds from the project start (or from the start of playback when the host gave no
    /// position; see `from_host`).
    pub seconds: f64,
    /// Whether `seconds` comes from the host's transport.
    pub from_host: bool,
    /// Bar and beat, both counted from 1, when tempo and time signature are known.
    pub bar_beat: Option<BarBeat>,
}

/// A musical position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarBeat {
    /// Bar number, from 1.
    pub bar: i64,
    /// Beat within the bar in the time signature's unit, from 1.0 (3.5 is halfway through
    /// beat 3).
    pub beat: f64,
}

/// The host's transport at the first sample of a block, copied so positions of later samples
/// can be computed without the transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockAnchor {
    /// Index of the block's first sample in the plugin's own stream count.
    pub stream_sample: u64,
    /// Host position of that sample in seconds.
    pub seconds: Option<f64>,
    /// Host position in quarter notes.
    pub beats: Option<f64>,
    /// Tempo in quarter notes per minute.
    pub tempo_bpm: Option<f64>,
    /// Time signature numerator and denominator.
    pub time_signature: Option<(i32, i32)>,
    /// Start of the current bar in quarter notes, and its number from 0.
    pub bar_start: Option<(f64, i32)>,
    /// Sample rate, Hz.
    pub sample_rate: f64,
}

impl BlockAnchor {
    /// Copies what is needed from the transport. Never allocates.
    pub fn from_transport(transport: &Transport, stream_sample: u64) -> Self {
        let time_signature = transport
            .time_sig_numerator
            .zip(transport.time_sig_denominator)
            .filter(|&(n, d)| n > 0 && d > 0);
        Self {
            stream_sample,
            seconds: transport.pos_seconds(),
            beats: transport.pos_beats(),
            tempo_bpm: transport.tempo.filter(|t| *t > 0.0 && t.is_finite()),
            time_signature,
            bar_start: transport.bar_start_pos_beats().zip(transport.bar_number()),
            sample_rate: f64::from(transport.sample_rate),
        }
    }

    /// Position of stream sample `stream_sample` (which may lie before this block: clip runs
    /// are reported when they end). Never allocates.
    pub fn position_of(&self, stream_sample: u64) -> TimelinePosition {
        let offset_s = (stream_sample as f64 - self.stream_sample as f64) / self.sample_rate;
        let (seconds, from_host) = match self.seconds {
            Some(start) => (start + offset_s, true),
            None => (stream_sample as f64 / self.sample_rate, false),
        };
        let bar_beat = match (self.tempo_bpm, self.time_signature) {
            (Some(tempo), Some((numerator, denominator))) => {
                let beats = self
                    .beats
                    .or_else(|| self.seconds.map(|s| s * tempo / 60.0))
                    .map(|start| start + offset_s * tempo / 60.0);
                beats.map(|beats| {
                    let bar_quarters = f64::from(numerator) * 4.0 / f64::from(denominator);
                    // Count bars from the host's last bar line when it gives one, so tempo or
                    // metre changes earlier in the song don't shift the count.
                    // Trust the host's bar line only when it is consistent with the block's
                    // position: not before the project start (an export's pre-roll), not
                    // after the block start (Ardour's can sit half a sample late, rounded),
                    // at most a bar before it. Otherwise count from the song's first bar.
                    let (origin, origin_bar) = self
                        .bar_start
                        .filter(|&(start, _)| {
                            self.beats.is_some_and(|block| {
                                block >= 0.0 && start <= block && start > block - bar_quarters
                            })
                        })
                        .map(|(start, bar)| (start, i64::from(bar)))
                        .unwrap_or((0.0, 0));
                    let bars_from_origin =
                        ((beats - origin + BAR_LINE_SNAP_QUARTERS) / bar_quarters).floor();
                    let in_bar = (beats - origin - bars_from_origin * bar_quarters).max(0.0);
                    BarBeat {
                        bar: origin_bar + bars_from_origin as i64 + 1,
                        beat: in_bar * f64::from(denominator) / 4.0 + 1.0,
                    }
                })
            }
            _ => None,
        };
        TimelinePosition {
            seconds,
            from_host,
            bar_beat,
        }
    }
}

/// Host positions are rounded: a point this close (in quarter notes) before a bar line is
/// read as on it, so it never shows as "beat 5.00" of a 4/4 bar.
const BAR_LINE_SNAP_QUARTERS: f64 = 1e-3;

impl TimelinePosition {
    /// "1:23.456" (minutes:seconds) and, when known, "(bar 12, beat 3.50)"; without a host
    /// position, the time since playback started, said so.
    /// Allocates: not for the audio thread.
    pub fn describe(&self) -> String {
        let clock = crate::clock::clock(self.seconds);
        let clock = if self.from_host {
            clock
        } else {
            format!("{clock} after playback started")
        };
        match self.bar_beat {
            Some(BarBeat { bar, .. }) if bar < 1 => format!("{clock} (before bar 1)"),
            Some(BarBeat { bar, beat }) => format!("{clock} (bar {bar}, beat {beat:.2})"),
            None => clock,
        }
    }
}

/// Blocks whose anchors are kept: an event reported up to 31 samples late (a true-peak over)
/// or a clip run that spans blocks still finds the block it began in at block size 1.
const RECENT_BLOCKS: usize = 64;

/// The anchors of the most recent blocks, newest last, so an event that began some blocks
/// before the one that reports it (a clip run across a transport jump or loop) is placed from
/// the block it began in. Fixed size; never allocates.
#[derive(Debug, Clone, Copy)]
pub struct RecentAnchors {
    anchors: [BlockAnchor; RECENT_BLOCKS],
    count: usize,
    next: usize,
}

impl Default for RecentAnchors {
    fn default() -> Self {
        Self {
            anchors: [BlockAnchor::default(); RECENT_BLOCKS],
            count: 0,
            next: 0,
        }
    }
}

impl RecentAnchors {
    /// Forgets every block (the stream count restarted). Never allocates.
    pub fn clear(&mut self) {
        self.count = 0;
        self.next = 0;
    }

    /// Records the next block's anchor. Never allocates.
    pub fn push(&mut self, anchor: BlockAnchor) {
        self.anchors[self.next] = anchor;
        self.next = (self.next + 1) % RECENT_BLOCKS;
        self.count = (self.count + 1).min(RECENT_BLOCKS);
    }

    /// Where stream sample `stream_sample` sat on the timeline, from the newest block that
    /// began at or before it (the oldest kept, for an event older than all of them). Never
    /// allocates.
    pub fn position_of(&self, stream_sample: u64) -> TimelinePosition {
        let newest_first = (1..=self.count)
            .map(|back| self.anchors[(self.next + RECENT_BLOCKS - back) % RECENT_BLOCKS]);
        let mut chosen = BlockAnchor::default();
        for anchor in newest_first {
            chosen = anchor;
            if anchor.stream_sample <= stream_sample {
                break;
            }
        }
        chosen.position_of(stream_sample)
    }
}

/// Whether the host sends a transport at all: one that does not leaves every position empty.
pub fn has_transport(transport: &Transport) -> bool {
    transport.playing || transport.pos_seconds().is_some() || transport.pos_beats().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor() -> BlockAnchor {
        BlockAnchor {
            stream_sample: 48_000,
            seconds: Some(10.0),
            beats: Some(20.0),
            tempo_bpm: Some(120.0),
            time_signature: Some((4, 4)),
            bar_start: Some((20.0, 5)),
            sample_rate: 48_000.0,
        }
    }

    #[test]
    fn offsets_map_to_seconds_and_bars() {
        // Half a second after the anchor at 120 BPM is one quarter note later: beat 2 of bar 6
        // (bar 5 counted from 0 starts at quarter note 20).
        let position = anchor().position_of(48_000 + 24_000);
        assert!((position.seconds - 10.5).abs() < 1e-9);
        let bar_beat = position.bar_beat.unwrap();
        assert_eq!(bar_beat.bar, 6);
        assert!((bar_beat.beat - 2.0).abs() < 1e-9);
        // Two seconds later: four quarters, the next bar's downbeat.
        let later = anchor().position_of(48_000 + 96_000).bar_beat.unwrap();
        assert_eq!(later.bar, 7);
        assert!((later.beat - 1.0).abs() < 1e-9);
    }

    #[test]
    fn events_before_the_block_and_six_eight() {
        let mut anchor = anchor();
        anchor.time_signature = Some((6, 8));
        // 6/8: a bar is three quarter notes, beats are eighths. 0.25 s earlier = half a quarter
        // before quarter 20 (the bar line): the last eighth of the previous bar.
        let position = anchor.position_of(48_000 - 12_000);
        let bar_beat = position.bar_beat.unwrap();
        assert_eq!(bar_beat.bar, 5);
        assert!((bar_beat.beat - 6.0).abs() < 1e-9);
    }

    #[test]
    fn without_a_host_position_counts_from_playback() {
        let anchor = BlockAnchor {
            stream_sample: 0,
            sample_rate: 44_100.0,
            ..Default::default()
        };
        let position = anchor.position_of(88_200);
        assert_eq!(position.seconds, 2.0);
        assert!(!position.from_host);
        assert!(position.bar_beat.is_none());
        assert_eq!(position.describe(), "0:02.000 after playback started");
    }

    /// A block as Ardour 7.3 describes it at 120 BPM in 4/4, with its own bar line.
    fn ardour_block(seconds: f64, beats: f64, bar_start: (f64, i32)) -> BlockAnchor {
        BlockAnchor {
            stream_sample: 0,
            seconds: Some(seconds),
            beats: Some(beats),
            tempo_bpm: Some(120.0),
            time_signature: Some((4, 4)),
            bar_start: Some(bar_start),
            sample_rate: 48_000.0,
        }
    }

    #[test]
    fn a_pre_roll_before_the_project_start_is_said_so() {
        // Ardour starts an export 768 samples before zero and reports a bar line of its own
        // there; the position is before bar 1 whatever the host's bar count says.
        let anchor = ardour_block(-0.016, -0.032, (-4.0, -3));
        let position = anchor.position_of(0);
        assert_eq!(position.bar_beat.unwrap().bar, 0);
        assert_eq!(position.describe(), "-0:00.016 (before bar 1)");
        // From zero on, bars count from 1 again.
        assert_eq!(
            anchor.position_of(768).describe(),
            "0:00.000 (bar 1, beat 1.00)"
        );
    }

    #[test]
    fn a_host_bar_line_rounded_past_the_block_start_is_not_trusted() {
        // Ardour 7.3 at 2.000 s, 120 BPM: the block starts half a sample before beat 4 and
        // the bar line it reports is half a sample after it.
        let anchor = ardour_block(2.0, 3.999_98, (4.000_02, 0));
        let bar_beat = anchor.position_of(0).bar_beat.unwrap();
        assert_eq!(bar_beat.bar, 2);
        assert!((bar_beat.beat - 1.0).abs() < 1e-3, "{bar_beat:?}");
    }
}
