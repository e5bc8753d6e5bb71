//! Host-visible parameters and persisted per-instance settings.

use nice_plug::prelude::*;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use crate::analysis::HeadroomThresholds;

/// What this instance sits on, which changes how hard some warnings are.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusRole {
    /// A group bus exported as a stem (Drums, Bass, Vocals…).
    #[id = "stem"]
    Stem,
    /// The master bus, exported as the reference mix.
    #[id = "master"]
    #[name = "Reference mix (master)"]
    Master,
}

/// The editor's size when it is first opened, points.
pub const EDITOR_SIZE: (f32, f32) = (640.0, 660.0);

/// The parameters. The `#[id]` strings are saved in every project: never rename them.
#[derive(Params)]
pub struct StemPreflightParams {
    /// The stem's name as the user typed it; empty means "use the host's track name".
    #[persist = "stem_name"]
    pub stem_name: Arc<RwLock<String>>,

    /// Where pass reports go; empty means the default (see `report::default_folder`).
    #[persist = "report_folder"]
    pub report_folder: Arc<RwLock<String>>,

    /// An armed real-time pass from the project start needs this many seconds to count as an
    /// export.
    #[persist = "report_min_s"]
    pub report_min_s: Arc<RwLock<f32>>,

    /// The next real-time pass from the project start is an export (the user armed it). Any
    /// export disarms it.
    #[persist = "export_armed"]
    pub export_armed: Arc<AtomicBool>,

    /// The editor's size in points (before zoom), as the user last left it.
    #[persist = "editor_size"]
    pub editor_size: Arc<RwLock<(f32, f32)>>,

    /// Peaks at or below this are ready for mastering, dBFS.
    #[id = "target_peak"]
    pub target_peak_dbfs: FloatParam,

    /// Peaks above this are too hot, dBFS.
    #[id = "warning_peak"]
    pub warning_peak_dbfs: FloatParam,

    /// Stem or reference mix.
    #[id = "role"]
    pub role: EnumParam<BusRole>,
}

impl Default for StemPreflightParams {
    fn default() -> Self {
        Self {
            stem_name: Arc::new(RwLock::new(String::new())),
            report_folder: Arc::new(RwLock::new(String::new())),
            report_min_s: Arc::new(RwLock::new(super::report::MIN_EXPORT_S)),
            export_armed: Arc::new(AtomicBool::new(false)),
            editor_size: Arc::new(RwLock::new(EDITOR_SIZE)),
            // The seed guides: stems peak around -6 dBFS, never above -3 dBFS.
            target_peak_dbfs: FloatParam::new(
                "Target peak",
                -6.0,
                FloatRange::Linear {
                    min: -24.0,
                    max: 0.0,
                },
            )
            .with_step_size(0.1)
            .with_unit(" dBFS"),
            warning_peak_dbfs: FloatParam::new(
                "Warning peak",
                -3.0,
                FloatRange::Linear {
                    min: -24.0,
                    max: 0.0,
                },
            )
            .with_step_size(0.1)
            .with_unit(" dBFS"),
            role: EnumParam::new("Role", BusRole::Stem),
        }
    }
}

impl StemPreflightParams {
    /// The thresholds as set; a warning set below the target is read as equal to it.
    pub fn thresholds(&self) -> HeadroomThresholds {
        let target_dbfs = self.target_peak_dbfs.value();
        HeadroomThresholds {
            target_dbfs,
            warning_dbfs: self.warning_peak_dbfs.value().max(target_dbfs),
        }
    }

    /// The report folder as chosen, else the default. Allocates: not for the audio thread.
    pub fn report_folder(&self) -> std::path::PathBuf {
        let chosen = self
            .report_folder
            .read()
            .map(|folder| folder.trim().to_owned())
            .unwrap_or_default();
        if chosen.is_empty() {
            super::report::default_folder()
        } else {
            std::path::PathBuf::from(chosen)
        }
    }

    /// The name to show: the user's, else the host's track name, else "Stem".
    /// Allocates: not for the audio thread.
    pub fn display_name(&self, track_name: Option<&str>) -> String {
        let typed = self
            .stem_name
            .read()
            .map(|name| name.trim().to_owned())
            .unwrap_or_default();
        if !typed.is_empty() {
            typed
        } else {
            track_name
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .unwrap_or("Stem")
                .to_owned()
        }
    }
}
