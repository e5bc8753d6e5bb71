//! Where a clip event found on the audio thread is filed.

use super::clip_notice::ClipNotice;
use super::pass_strip::StripPen;
use super::report::REPORTED_CLIPS;
use super::shared::MeterShared;
use super::timeline::RecentAnchors;
use crate::analysis::ClipEvent;

/// Where a clip event goes: the pass's first clips (for its report), the editor's queue, and
/// the pass timeline when it is being drawn. Never allocates.
pub(super) struct ClipFiler<'a> {
    pub shared: &'a MeterShared,
    pub anchors: &'a RecentAnchors,
    pub pass_clips: &'a mut [Option<ClipNotice>; REPORTED_CLIPS],
    pub strip: Option<&'a StripPen>,
    /// The stream count just after the last sample drawn on the strip.
    pub stream_end: u64,
}

impl ClipFiler<'_> {
    pub fn file(&mut self, event: ClipEvent) {
        let notice = ClipNotice {
            event,
            position: self.anchors.position_of(event.start_sample),
        };
        // Kept whether or not a pass is open yet: a render without a transport is recognised
        // only after some blocks, and its pass then covers them.
        if let Some(slot) = self.pass_clips.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(notice);
        }
        self.shared.post_clip(notice);
        if let Some(pen) = self.strip {
            let back = self.stream_end.saturating_sub(event.start_sample);
            let frame = pen.frames().saturating_sub(back);
            pen.mark(&self.shared.strip, frame, event.kind, notice.position);
        }
    }
}
