//! Stem Preflight as a program of its own (nice-plug's standalone wrapper): used to show the
//! editor in a real window for the screenshot test. `--help` lists the audio options.

fn main() {
    nice_plug::nice_export_standalone::<stem_preflight::plugin::StemPreflight>();
}
