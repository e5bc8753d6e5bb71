//! The lossy-origin detectors travel between the audio thread, which feeds one through a pass,
//! and the report writer, which searches it after the pass (tens of milliseconds, allocating)
//! and gives it back cleared. Boxes move over bounded channels: nothing is allocated or freed
//! on the audio thread. An instance keeps a spare, so a pass that begins while the writer still
//! searches the last one has its own.

use crate::analysis::LossyOriginDetector;
use crossbeam_channel::{Receiver, Sender};

/// A detector on the heap, so that handing it over moves a pointer.
pub type Detector = Box<LossyOriginDetector>;

/// Spare detectors waiting for a pass.
const SPARES: usize = 1;

/// One instance's spare detectors.
pub struct DetectorPool {
    spare: Receiver<Detector>,
    give_back: Sender<Detector>,
}

impl Default for DetectorPool {
    fn default() -> Self {
        let (give_back, spare) = crossbeam_channel::bounded(SPARES);
        Self { spare, give_back }
    }
}

impl DetectorPool {
    /// Makes `current` and the spare detectors fit `sample_rate` (main thread, at activation;
    /// allocates, and drops the detectors of another rate).
    pub fn prepare(&self, current: &mut Option<Detector>, sample_rate: u32) {
        if current
            .as_ref()
            .is_none_or(|d| d.sample_rate() != sample_rate)
        {
            *current = Some(Box::new(LossyOriginDetector::new(sample_rate)));
        }
        let fitting: Vec<Detector> = self
            .spare
            .try_iter()
            .filter(|d| d.sample_rate() == sample_rate)
            .collect();
        for detector in fitting {
            let _ = self.give_back.try_send(detector);
        }
        while !self.spare.is_full() {
            let fresh = Box::new(LossyOriginDetector::new(sample_rate));
            if self.give_back.try_send(fresh).is_err() {
                break;
            }
        }
    }

    /// A spare detector, if one is back. Never blocks or allocates.
    pub fn take(&self) -> Option<Detector> {
        self.spare.try_recv().ok()
    }

    /// The end the report writer gives detectors back through.
    pub fn returner(&self) -> DetectorReturn {
        DetectorReturn(self.give_back.clone())
    }
}

/// The report writer's end of the pool.
pub struct DetectorReturn(Sender<Detector>);

impl DetectorReturn {
    /// Clears `detector` for a stream at `sample_rate` (a new one when the rate has changed)
    /// and gives it back. One the pool has no room for is dropped here, off the audio thread.
    pub fn give_back(&self, mut detector: Detector, sample_rate: u32) {
        if detector.sample_rate() == sample_rate {
            detector.reset();
        } else {
            detector = Box::new(LossyOriginDetector::new(sample_rate));
        }
        let _ = self.0.try_send(detector);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detectors_go_round_and_follow_the_rate() {
        let pool = DetectorPool::default();
        let mut current = None;
        pool.prepare(&mut current, 48_000);
        let first = current.take().expect("one in use");
        assert_eq!(first.sample_rate(), 48_000);
        let spare = pool.take().expect("a spare");
        assert!(pool.take().is_none(), "one spare only");
        // The writer gives both back; the pool keeps what it has room for.
        let writer = pool.returner();
        writer.give_back(first, 48_000);
        writer.give_back(spare, 48_000);
        assert!(pool.take().is_some());
        assert!(pool.take().is_none());
        // A rate change: the writer rebuilds what it gives back, activation what it holds.
        writer.give_back(Box::new(LossyOriginDetector::new(48_000)), 96_000);
        assert_eq!(pool.take().map(|d| d.sample_rate()), Some(96_000));
        let mut current = Some(Box::new(LossyOriginDetector::new(44_100)));
        writer.give_back(Box::new(LossyOriginDetector::new(44_100)), 44_100);
        pool.prepare(&mut current, 88_200);
        assert_eq!(current.map(|d| d.sample_rate()), Some(88_200));
        assert_eq!(pool.take().map(|d| d.sample_rate()), Some(88_200));
    }
}
