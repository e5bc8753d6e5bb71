//! A clip event placed on the timeline, as the audio thread hands it to the editor and the
//! pass report.

use super::timeline::TimelinePosition;
use crate::analysis::ClipEvent;

/// Channels metered per instance: the plugin's layouts are mono and stereo.
pub const MAX_CHANNELS: usize = 2;

/// A clip event with the place on the timeline where it started.
#[derive(Debug, Clone, Copy)]
pub struct ClipNotice {
    /// What and how long.
    pub event: ClipEvent,
    /// Where it started.
    pub position: TimelinePosition,
}
