//! Stem Preflight: catches clipped, hot or limited stems before they go to mastering.
//!
//! - [`analysis`]: the pure DSP shared by the plugin and the file checker.
//! - [`plugin`]: the CLAP/VST3 glue.
//! - [`check`]: the file checker behind `stem-preflight check`.
//! - [`clock`], [`channel_name`]: how times and channels are written for people.
//! - [`delivery_note`]: the note that goes with the stems, from the checker or the plugin.
//! - [`editor`]: the egui editor.
//! - [`sheet`]: the delivery sheet (an HTML page with pictures), from the checker or the plugin.
//! - [`severity`]: how bad a finding is.

pub mod analysis;
pub mod channel_name;
pub mod check;
pub mod clock;
pub mod delivery_note;
pub mod editor;
pub mod plugin;
pub mod severity;
pub mod sheet;

nice_plug::nice_export_clap!(plugin::StemPreflight);
nice_plug::nice_export_vst3!(plugin::StemPreflight);
