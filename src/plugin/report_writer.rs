//! Each instance's report writer: its own thread, fed over a bounded queue, writes the reports
//! of finished passes and hands them to the overview. It is our own thread rather than
//! nice-plug's background task: a task holds the whole plugin wrapper while it runs, and a host
//! that destroys the plugin meanwhile makes the worker join itself. Ours holds only the
//! parameters and the shared state, and ends when the plugin (the sender) goes away.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::lossy_handoff::{Detector, DetectorReturn};
use super::params::{BusRole, StemPreflightParams};
use super::report::{self, PassKind, PassMeasurements};
use super::shared::{FailedReport, MeterShared};
use super::{finished_pass, overview, process_time};
use crate::analysis::{LossyEvidence, LossyOriginDetector};

/// Pass reports waiting for the writer; more than a handful means the disk has stalled.
const REPORT_QUEUE: usize = 16;

/// What the audio thread hands over at the end of a pass.
pub struct PassReport {
    pub measurements: PassMeasurements,
    /// The lossy-origin detector that followed the pass, to be searched here.
    pub lossy: Option<Detector>,
}

/// The report writer thread and the queue that feeds it.
pub struct ReportWriter {
    queue: Option<crossbeam_channel::Sender<PassReport>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReportWriter {
    /// Starts the thread (main thread; allocates). `None` when the system refuses a thread.
    /// Searched detectors go back through `detectors`.
    pub fn start(
        params: Arc<StemPreflightParams>,
        shared: Arc<MeterShared>,
        detectors: DetectorReturn,
    ) -> Option<Self> {
        let (sender, receiver) = crossbeam_channel::bounded::<PassReport>(REPORT_QUEUE);
        let thread = std::thread::Builder::new()
            .name("stem-preflight-reports".into())
            .spawn(move || {
                for PassReport {
                    measurements,
                    lossy,
                } in receiver
                {
                    write_pass_report(&params, &shared, &measurements, lossy.as_deref());
                    if let Some(detector) = lossy {
                        let rate = shared.sample_rate.load(Ordering::Relaxed).round() as u32;
                        detectors.give_back(detector, rate);
                    }
                }
            })
            .ok()?;
        Some(Self {
            queue: Some(sender),
            thread: Some(thread),
        })
    }

    /// Queues a report; when the queue is full (a stalled disk) the report is dropped and its
    /// detector given back. Never blocks, allocates or frees.
    pub fn send(&self, report: PassReport) -> Result<(), Option<Detector>> {
        match &self.queue {
            Some(queue) => queue.try_send(report).map_err(|e| e.into_inner().lossy),
            None => Err(report.lossy),
        }
    }
}

impl Drop for ReportWriter {
    /// Waits for the last report to be written: no thread may outlive the plugin library.
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The report writer thread: searches an export pass for a lossy origin with `lossy`, the
/// detector that followed it (tens of milliseconds, so not for playback), writes its report
/// (kept in memory with the reason when the write fails), then hands every pass to the
/// overview, which keeps it for the editor and writes the delivery note when this was the last
/// instance of an export to finish.
pub fn write_pass_report(
    params: &StemPreflightParams,
    shared: &MeterShared,
    report: &PassMeasurements,
    lossy: Option<&LossyOriginDetector>,
) {
    let min_s = params
        .report_min_s
        .read()
        .map_or(report::MIN_EXPORT_S, |m| *m);
    let name = params.display_name(shared.track_name().as_deref());
    let is_master = params.role.value() == BusRole::Master;
    let thresholds = params.thresholds();
    let folder = params.report_folder();
    let armed = params.export_armed.load(Ordering::Acquire);
    let kind = report.kind(min_s, armed);
    let mut report = *report;
    report.lossy = lossy_evidence(&report, kind, lossy);
    if kind == PassKind::Export {
        // One armed pass only; an offline export uses up the arm too, so a later playback
        // is never saved by surprise.
        params.export_armed.store(false, Ordering::Release);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let written_at = report::file_date_time(now);
        let json = report.to_json(&name, is_master, thresholds, &written_at);
        let json = serde_json::to_string_pretty(&json).unwrap_or_default();
        let text = report.to_text(&name, is_master, thresholds, &written_at);
        let base = format!("{written_at} {}", report::file_safe(&name));
        let outcome = report::write_report(&folder, &base, &json, &text);
        let mut log = shared.reports.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(path) => {
                log.written = Some(path);
                log.failed = None;
            }
            Err(error) => {
                log.failed = Some(FailedReport {
                    error,
                    folder: folder.clone(),
                    base,
                    json,
                    text,
                })
            }
        }
    }
    overview::pass_finished(
        shared,
        finished_pass::FinishedPass {
            report,
            name,
            master: is_master,
            thresholds,
            folder,
            kind,
            noted: false,
            began_unix_ms: process_time::unix_ms_at(report.pass.began_at),
            ended_unix_ms: process_time::unix_ms_at(report.pass.last_block_at),
            // A read overlapping a merge of the strip is retried; the next one cannot overlap.
            timeline: (0..3).find_map(|_| shared.strip.read()).unwrap_or_default(),
        },
    );
}

/// The lossy-origin evidence of a pass of `kind`: searched for exports only, and only with a
/// detector that followed a stream at the pass's rate (one taken before a change of rate did
/// not).
fn lossy_evidence(
    report: &PassMeasurements,
    kind: PassKind,
    lossy: Option<&LossyOriginDetector>,
) -> Option<LossyEvidence> {
    let pass_rate = report.pass.sample_rate.round() as u32;
    lossy
        .filter(|d| kind == PassKind::Export && d.sample_rate() == pass_rate)
        .map(LossyOriginDetector::evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cutoff::tests::noise;

    #[test]
    fn only_exports_at_the_detectors_rate_are_searched() {
        let mut detector = LossyOriginDetector::new(48_000);
        detector.process(&[noise(48_000.0, 3.0, Some(16_000.0))]);
        let mut report = crate::plugin::tests::export(true, true, 30.0);
        let found = lossy_evidence(&report, PassKind::Export, Some(&detector));
        assert!(found.and_then(|e| e.verdict()).is_some(), "{found:?}");
        for kind in [PassKind::Playback, PassKind::Partial] {
            assert_eq!(lossy_evidence(&report, kind, Some(&detector)), None);
        }
        assert_eq!(lossy_evidence(&report, PassKind::Export, None), None);
        report.pass.sample_rate = 96_000.0;
        assert_eq!(
            lossy_evidence(&report, PassKind::Export, Some(&detector)),
            None
        );
    }
}
