//! The headroom rule from the mastering side: stems peak around -6 dBFS, never above -3.

/// Where the status changes, in dBFS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadroomThresholds {
    /// Peaks at or below this are ready for mastering (default -6 dBFS).
    pub target_dbfs: f32,
    /// Peaks above this are too hot (default -3 dBFS).
    pub warning_dbfs: f32,
}

impl Default for HeadroomThresholds {
    fn default() -> Self {
        Self {
            target_dbfs: -6.0,
            warning_dbfs: -3.0,
        }
    }
}

/// How a stem's peak level stands against the headroom rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeadroomStatus {
    /// Peak at or below the target.
    Ready,
    /// Between the target and the warning threshold: fine, a little hot.
    Acceptable,
    /// Above the warning threshold: lower the bus by `lower_by_db` to reach the target.
    TooHot {
        /// Gain change that brings the peak to the target, in dB (positive).
        lower_by_db: f32,
    },
    /// A sample or true-peak over, or a flat top baked in upstream.
    Clipped {
        /// Gain change that brings the peak to the target, in dB (0 when the peak is already
        /// below it: the clipping happened before this point and lowering will not undo it).
        lower_by_db: f32,
    },
}

impl HeadroomStatus {
    /// Judges a stem by the larger of its sample peak and true peak (dBFS/dBTP) and whether
    /// any clip was found. Never allocates.
    pub fn assess(
        sample_peak_dbfs: f32,
        true_peak_dbtp: f32,
        clipped: bool,
        thresholds: HeadroomThresholds,
    ) -> Self {
        let peak_db = sample_peak_dbfs.max(true_peak_dbtp);
        let lower_by_db = (peak_db - thresholds.target_dbfs).max(0.0);
        if clipped {
            Self::Clipped { lower_by_db }
        } else if peak_db > thresholds.warning_dbfs {
            Self::TooHot { lower_by_db }
        } else if peak_db > thresholds.target_dbfs {
            Self::Acceptable
        } else {
            Self::Ready
        }
    }

    /// A short label for a status light.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::Acceptable => "Acceptable",
            Self::TooHot { .. } => "Too hot",
            Self::Clipped { .. } => "Clipped",
        }
    }

    /// What is wrong and what to do, in the engineer's words. `bus` names the stem ("Drums").
    /// The peak quoted is the larger of the two, in its own unit. Allocates: not for the
    /// audio thread.
    pub fn advice(
        &self,
        bus: &str,
        sample_peak_dbfs: f32,
        true_peak_dbtp: f32,
        thresholds: HeadroomThresholds,
    ) -> String {
        let target = thresholds.target_dbfs;
        let peak_db = sample_peak_dbfs.max(true_peak_dbtp);
        // Said as it would be read on a meter: "peak -1.2 dBFS" or "true peak -0.4 dBTP".
        let peak = if true_peak_dbtp > sample_peak_dbfs + 0.05 {
            format!("true peak {true_peak_dbtp:.1} dBTP")
        } else {
            format!("peak {sample_peak_dbfs:.1} dBFS")
        };
        let mut sentence = match *self {
            Self::Ready => format!(
                "{peak}: {bus} has the headroom mastering needs (target {target:.0} dBFS)."
            ),
            Self::Acceptable => format!(
                "{peak}: acceptable. Lowering {bus} by {:.1} dB would reach {target:.0} dBFS.",
                peak_db - target
            ),
            Self::TooHot { lower_by_db } => format!(
                "{peak}: too hot. Lower the {bus} bus by {lower_by_db:.1} dB to reach {target:.0} dBFS, then export again."
            ),
            // Samples below full scale with a reconstructed peak above it: nothing is clipped
            // yet, the over appears in a converter or an encoder.
            Self::Clipped { lower_by_db } if sample_peak_dbfs < 0.0 && true_peak_dbtp >= 0.0 => format!(
                "True peak {true_peak_dbtp:+.1} dBTP: the samples are not clipped (peak {sample_peak_dbfs:.1} dBFS), but the waveform between them goes over full scale, so it clips when the file is converted or encoded. Lower the {bus} bus by {lower_by_db:.1} dB and export again."
            ),
            Self::Clipped { lower_by_db } if lower_by_db > 0.0 && sample_peak_dbfs >= 0.0 => format!(
                "Clipped ({peak}): clipping is baked into the file and cannot be undone. Lower the {bus} bus by {lower_by_db:.1} dB and export again."
            ),
            Self::Clipped { .. } => format!(
                "Clipped before this point: {bus} has flat-topped peaks even though its {peak}. Find the clipper or overloaded plugin earlier in the chain, back it off, and export again."
            ),
        };
        // Sentences start with a capital.
        if let Some(first) = sentence.get(..1) {
            let upper = first.to_uppercase();
            sentence.replace_range(..1, &upper);
        }
        sentence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_boundaries() {
        let t = HeadroomThresholds::default();
        assert_eq!(
            HeadroomStatus::assess(-6.0, -6.0, false, t),
            HeadroomStatus::Ready
        );
        assert_eq!(
            HeadroomStatus::assess(-6.0, -5.9, false, t),
            HeadroomStatus::Acceptable
        );
        assert_eq!(
            HeadroomStatus::assess(-3.0, -3.0, false, t),
            HeadroomStatus::Acceptable
        );
        // The larger of the two decides: true peak -1.2 dBTP → lower by 4.8 dB.
        match HeadroomStatus::assess(-2.0, -1.2, false, t) {
            HeadroomStatus::TooHot { lower_by_db } => assert!((lower_by_db - 4.8).abs() < 1e-5),
            other => panic!("expected TooHot, got {other:?}"),
        }
        assert!(matches!(
            HeadroomStatus::assess(-10.0, -10.0, true, t),
            HeadroomStatus::Clipped { lower_by_db } if lower_by_db == 0.0
        ));
    }

    #[test]
    fn advice_names_the_fix() {
        let t = HeadroomThresholds::default();
        let text = HeadroomStatus::assess(-1.2, -1.2, false, t).advice("Drums", -1.2, -1.2, t);
        assert_eq!(
            text,
            "Peak -1.2 dBFS: too hot. Lower the Drums bus by 4.8 dB to reach -6 dBFS, then export again."
        );
        // An inter-sample peak above the sample peak is quoted as what it is.
        let text = HeadroomStatus::assess(0.0, 2.7, true, t).advice("Drums", 0.0, 2.7, t);
        assert_eq!(
            text,
            "Clipped (true peak 2.7 dBTP): clipping is baked into the file and cannot be undone. Lower the Drums bus by 8.7 dB and export again."
        );
    }
}
