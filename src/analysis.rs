//! Pure DSP shared by the plugin and the file checker.
//!
//! Nothing in here knows about nice-plug, egui or files. Every type allocates only in its
//! constructor; `process`, `reset` and the readers never allocate, lock, block or panic.

pub mod align;
pub mod channel;
pub mod clip;
pub mod cutoff;
pub mod dc;
pub mod envelope;
pub mod headroom;
pub mod interpolator;
pub mod k_weighting;
pub mod level;
pub mod limiter;
pub mod lossy_origin;
pub mod loudness;
pub mod mp3_grid;
pub mod sample_peak;
pub mod simd;
pub mod tail;
pub mod true_peak;

pub use align::{align, Alignment};
pub use channel::{ChannelAnalyzer, ChannelSummary};
pub use clip::{ClipCounts, ClipDetector, ClipEvent, ClipKind};
pub use cutoff::{CutoffDetector, SpectralCutoff};
pub use headroom::{HeadroomStatus, HeadroomThresholds};
pub use level::{db_to_gain, gain_to_db, to_tenth};
pub use limiter::{LimiterDetector, LimiterEvidence, LimiterVerdict, Passage};
pub use lossy_origin::{LossyEvidence, LossyOrigin, LossyOriginDetector};
pub use loudness::{Loudness, LoudnessFigures, LoudnessMeter};
pub use sample_peak::SamplePeak;
pub use tail::{TailMeter, TailState};
pub use true_peak::TruePeakMeter;
