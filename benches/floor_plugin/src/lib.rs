//! The floor of the `plugin_process` bench: what a host pays for any nice-plug plugin that
//! passes audio through, with the same wrapper, layouts and host as Stem Preflight and no
//! metering at all. Built for the bench only.

use nice_plug::prelude::*;
use std::sync::Arc;

#[derive(Default)]
struct PassThrough {
    params: Arc<NoParams>,
}

#[derive(Params, Default)]
struct NoParams {}

impl Plugin for PassThrough {
    const NAME: &'static str = "Stem Preflight bench floor";
    const VENDOR: &'static str = "Stem Preflight";
    const URL: &'static str = "https://crates.io/crates/nice-plug";
    const EMAIL: &'static str = "stem-preflight@localhost";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    /// The audio is already in place: nothing to do.
    fn process(
        &mut self,
        _buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        ProcessStatus::Normal
    }
}

impl ClapPlugin for PassThrough {
    const CLAP_ID: &'static str = "audio.stem-preflight.bench-floor";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("A pass-through plugin: the bench's floor");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::AudioEffect, ClapFeature::Utility];
}

nice_export_clap!(PassThrough);
