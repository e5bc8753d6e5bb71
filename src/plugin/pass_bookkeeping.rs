//! What an instance does as passes begin and end: clearing and closing its measurements,
//! following the transport, and handing a finished pass to its report writer.

use nice_plug::prelude::Transport;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::clip_filer::ClipFiler;
use super::clip_notice::MAX_CHANNELS;
use super::pass::{BlockFacts, PassChange, PassTiming};
use super::process_time;
use super::report::{PassMeasurements, REPORTED_CLIPS};
use super::report_writer::{PassReport, ReportWriter};
use super::timeline::{has_transport, BlockAnchor};
use super::StemPreflight;
use crate::analysis::{ClipCounts, ClipKind, LimiterDetector, Loudness, LoudnessMeter, TailMeter};

impl StemPreflight {
    /// Clears the measurements: at the start of a pass and on the editor's Reset. Never
    /// allocates.
    pub(super) fn clear_measurements(&mut self) {
        for analyzer in &mut self.analyzers {
            analyzer.reset();
        }
        if let Some(limiter) = &mut self.limiter {
            limiter.reset();
        }
        if let Some(tail) = &mut self.tail {
            tail.reset();
        }
        if let Some(loudness) = &mut self.loudness {
            loudness.reset();
        }
        match &mut self.lossy {
            Some(detector) => detector.reset(),
            None => self.lossy = self.detectors.take(),
        }
        self.pass_clips = [None; REPORTED_CLIPS];
        self.anchors.clear();
        self.limiter_samples = 0;
        self.stream_samples = 0;
        self.window_samples = 0;
        self.shared.clear();
        self.strip.restart(&self.shared.strip);
        self.repaint.request_repaint();
    }

    /// Ends the measurement of a pass: the true peak of its last samples and the clip runs
    /// still open are evaluated and counted (in the meters and the pass's clip list, placed
    /// from the blocks they began in), so a pass that ends on a clip reports it. Never
    /// allocates.
    pub(super) fn finish_pass_measurements(&mut self) {
        let shared = &*self.shared;
        let mut filer = ClipFiler {
            shared,
            anchors: &self.anchors,
            pass_clips: &mut self.pass_clips,
            strip: Some(&self.strip),
            stream_end: self.stream_samples,
        };
        for (channel, analyzer) in self.analyzers.iter_mut().enumerate() {
            let meter = &shared.channels[channel];
            analyzer.finish(|event| {
                meter.clip_events.fetch_add(1, Ordering::Relaxed);
                if event.kind == ClipKind::FlatTop {
                    meter.flat_top_events.fetch_add(1, Ordering::Relaxed);
                }
                filer.file(event);
            });
            meter
                .max_true_peak
                .fetch_max(analyzer.max_true_peak(), Ordering::Relaxed);
        }
    }

    /// The analyzers start a new stream after a pass's report took their numbers; what the
    /// meters show stays until the next pass or Reset. Never allocates.
    pub(super) fn restart_streams(&mut self) {
        for analyzer in &mut self.analyzers {
            analyzer.reset();
        }
        self.pass_clips = [None; REPORTED_CLIPS];
        self.anchors.clear();
        self.stream_samples = 0;
        self.window_samples = 0;
    }

    /// Follows export passes: at the end of one, hands its report to the writer thread;
    /// at the start of one, clears the measurements so they cover exactly the pass. Never
    /// allocates.
    pub(super) fn follow_pass(&mut self, frames: u32, anchor: BlockAnchor, transport: &Transport) {
        let facts = BlockFacts {
            playing: has_transport(transport).then_some(transport.playing),
            anchor,
            frames,
            arrived: Instant::now(),
        };
        match self.pass.block(&facts) {
            PassChange::None => {}
            PassChange::Started { since_activation } => {
                if !since_activation {
                    self.clear_measurements();
                }
            }
            PassChange::Ended { pass, restarted } => {
                self.finish_pass_measurements();
                self.send_report(pass);
                if restarted {
                    self.clear_measurements();
                } else {
                    self.restart_streams();
                }
            }
        }
        // A pass that restarted in this block is open again.
        if self.pass.current().is_some() {
            self.shared.mark_pass_block(process_time::clock_ms());
        } else {
            self.shared.mark_pass_closed();
        }
    }

    /// Starts this instance's report writer (once; activation runs on the main thread).
    pub(super) fn start_report_writer(&mut self) {
        if self.reports.is_none() {
            self.reports = ReportWriter::start(
                self.params.clone(),
                self.shared.clone(),
                self.detectors.returner(),
            );
        }
    }

    /// Hands the pass, and the lossy-origin detector that followed it, to the report writer.
    /// Never blocks, allocates or frees: the queue is bounded, and a full queue (a stalled
    /// disk) drops the report rather than the audio, keeping the detector.
    pub(super) fn send_report(&mut self, pass: PassTiming) {
        let Some(writer) = &self.reports else {
            return;
        };
        // Counted in flight before the pass shows as closed, so the delivery note waits for
        // this report; closed before the writer can see it, so the writer that handles the
        // last report of an export does not find its own pass still open.
        self.shared.report_sent();
        self.shared.mark_pass_closed();
        let report = PassReport {
            measurements: self.pass_report(pass),
            lossy: self.lossy.take(),
        };
        if let Err(detector) = writer.send(report) {
            self.lossy = detector;
            self.shared.report_handled();
        }
    }

    /// What this instance measured during `pass`. Never allocates.
    pub(super) fn pass_report(&self, pass: PassTiming) -> PassMeasurements {
        let mut sample_peak = [0.0; MAX_CHANNELS];
        let mut true_peak = [0.0; MAX_CHANNELS];
        let mut dc_offset = [0.0; MAX_CHANNELS];
        let mut clips = ClipCounts::default();
        let mut non_finite_samples = 0;
        for (channel, analyzer) in self.analyzers.iter().enumerate() {
            sample_peak[channel] = analyzer.max_sample_peak();
            true_peak[channel] = analyzer.max_true_peak();
            dc_offset[channel] = analyzer.dc_offset();
            let counts = analyzer.summary().clips;
            clips.sample_events += counts.sample_events;
            clips.sample_clipped += counts.sample_clipped;
            clips.true_peak_events += counts.true_peak_events;
            clips.flat_top_events += counts.flat_top_events;
            non_finite_samples += analyzer.non_finite_samples();
        }
        PassMeasurements {
            pass,
            channels: self.analyzers.len(),
            sample_peak,
            true_peak,
            dc_offset,
            clips,
            first_clips: self.pass_clips,
            limiter: self.limiter.as_ref().map_or_else(
                || LimiterDetector::new(1.0).evidence(),
                LimiterDetector::evidence,
            ),
            tail: self
                .tail
                .as_ref()
                .map_or_else(|| TailMeter::new(1.0).state(), TailMeter::state),
            non_finite_samples,
            loudness: self
                .loudness
                .as_ref()
                .map_or(Loudness::NONE, LoudnessMeter::loudness),
            lossy: None,
        }
    }
}
