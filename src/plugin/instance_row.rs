//! How one instance stands: its held peaks, its status light and its line in the overview.

use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;

use super::delivery::NoteEntry;
use super::finished_pass::FinishedPass;
use super::params::{BusRole, StemPreflightParams};
use super::process_time::clock_ms;
use super::shared::{ChannelMeter, MeterShared};
use crate::analysis::level::SILENCE_DB;
use crate::analysis::{gain_to_db, HeadroomStatus, HeadroomThresholds, LimiterVerdict};

/// How an instance stands, as its status light shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Light {
    /// Nothing measured yet.
    NoSignal,
    /// Peak at or below the target.
    Ready,
    /// Between target and warning.
    Acceptable,
    /// Above the warning.
    TooHot,
    /// An over or a baked-in clip.
    Clipped,
}

impl Light {
    /// The light for a status (`None`: no signal yet).
    pub fn of(status: Option<HeadroomStatus>) -> Self {
        match status {
            None => Self::NoSignal,
            Some(HeadroomStatus::Ready) => Self::Ready,
            Some(HeadroomStatus::Acceptable) => Self::Acceptable,
            Some(HeadroomStatus::TooHot { .. }) => Self::TooHot,
            Some(HeadroomStatus::Clipped { .. }) => Self::Clipped,
        }
    }
}

/// The highest peaks and the clip events over an instance's channels since the last reset or
/// pass start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldPeaks {
    /// Sample peak, dBFS.
    pub sample_peak_dbfs: f32,
    /// True peak, dBTP.
    pub true_peak_dbtp: f32,
    /// Clip events.
    pub clips: u64,
}

impl HeldPeaks {
    /// Reads an instance's meters.
    pub fn of(shared: &MeterShared) -> Self {
        let channels = shared.live_channels();
        let max = |pick: fn(&ChannelMeter) -> f32| {
            gain_to_db(channels.iter().map(pick).fold(0.0, f32::max))
        };
        Self {
            sample_peak_dbfs: max(|c| c.max_sample_peak.load(Ordering::Relaxed)),
            true_peak_dbtp: max(|c| c.max_true_peak.load(Ordering::Relaxed)),
            clips: channels
                .iter()
                .map(|c| c.clip_events.load(Ordering::Relaxed))
                .sum(),
        }
    }

    /// The headroom status, or `None` while nothing but silence has passed.
    pub fn status(&self, thresholds: HeadroomThresholds) -> Option<HeadroomStatus> {
        (self.sample_peak_dbfs.max(self.true_peak_dbtp) > SILENCE_DB).then(|| {
            HeadroomStatus::assess(
                self.sample_peak_dbfs,
                self.true_peak_dbtp,
                self.clips > 0,
                thresholds,
            )
        })
    }
}

/// One line of the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRow {
    /// The stem's name.
    pub name: String,
    /// On the master bus (the reference mix).
    pub master: bool,
    /// Sample peak since the last reset or pass start, dBFS.
    pub sample_peak_dbfs: f32,
    /// True peak since the last reset or pass start, dBTP.
    pub true_peak_dbtp: f32,
    /// The status light.
    pub light: Light,
    /// Clip events since the last reset or pass start.
    pub clips: u64,
    /// "none", "likely" or "certain".
    pub limiter: String,
    /// The last pass: "from 0:00.000 (bar 1, beat 1.00), tail decayed".
    pub last_pass: Option<String>,
    /// In a pass, or its pass report not yet handled: an export may still be under way.
    #[serde(default)]
    pub busy: bool,
    /// The last export's part of the delivery note, for a process that writes the note.
    #[serde(default)]
    pub last_export: Option<NoteEntry>,
    /// Runs in another process (not stored in status files).
    #[serde(skip)]
    pub elsewhere: bool,
}

impl InstanceRow {
    /// The row of an instance in this process. Not for the audio thread.
    pub fn of(params: &StemPreflightParams, shared: &MeterShared) -> Self {
        let peaks = HeldPeaks::of(shared);
        // One lock for both fields: a second guard in the same expression would deadlock.
        let last_pass = shared.last_pass().clone();
        Self {
            name: params.display_name(shared.track_name().as_deref()),
            master: params.role.value() == BusRole::Master,
            sample_peak_dbfs: peaks.sample_peak_dbfs,
            true_peak_dbtp: peaks.true_peak_dbtp,
            light: Light::of(peaks.status(params.thresholds())),
            clips: peaks.clips,
            limiter: shared
                .limiter
                .read()
                .map_or(LimiterVerdict::None, |e| e.verdict)
                .name()
                .to_owned(),
            last_pass: last_pass.as_ref().map(FinishedPass::overview_line),
            busy: shared.busy(clock_ms()),
            last_export: last_pass
                .as_ref()
                .filter(|p| p.is_export())
                .map(FinishedPass::note_entry),
            elsewhere: false,
        }
    }
}
