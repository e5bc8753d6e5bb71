//! A minimal CLAP host on `clack-host`, loading the built `.clap` bundle.
//!
//! It implements `request_callback` for real: every request is answered by calling the
//! plugin's `on_main_thread` after the block that asked for it.

use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::params::{ParamInfoBuffer, ParamInfoFlags, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::process::StartedPluginAudioProcessor;
use clack_host::utils::{BeatTime, ClapId, SecondsTime};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;

/// The plugin's CLAP id (see `ClapPlugin::CLAP_ID`).
pub const PLUGIN_ID: &str = "audio.stem-preflight.meter";
/// The bench floor's id (see [`floor_bundle`]).
pub const FLOOR_PLUGIN_ID: &str = "audio.stem-preflight.bench-floor";

/// nice-plug's CLAP parameter id for a string id (a Java-style string hash, top bit cleared).
pub fn param_id(id: &str) -> u32 {
    id.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u32::from(byte))
    }) & !(1 << 31)
}

/// Builds the release bundles once per test process (a no-op when they are current) and
/// returns the path of the `.clap` file. `$STEM_PREFLIGHT_TEST_CLAP` names a bundle built
/// beforehand instead: a Windows test under Wine cannot start cargo, so the Windows leg builds
/// the Windows bundle first and passes it in.
pub fn release_bundle() -> &'static Path {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(|| match std::env::var_os("STEM_PREFLIGHT_TEST_CLAP") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => bundle("stem_preflight", "Stem Preflight"),
    })
}

/// The bench's floor: a nice-plug pass-through plugin with no metering, built as
/// [`release_bundle`] is. Load it with [`Plugin::load_id`] and [`FLOOR_PLUGIN_ID`].
pub fn floor_bundle() -> &'static Path {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(|| bundle("stem_preflight_floor", "Stem Preflight bench floor"))
}

fn bundle(package: &str, name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args(["xtask", "bundle", package, "--release"])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "bundling {package} failed");
    let path = root.join(format!("target/bundled/{name}.clap"));
    assert!(path.exists(), "no bundle at {}", path.display());
    path
}

/// Builds a debug `.clap` with extra cargo features into its own target folder and returns it.
pub fn debug_build_with_features(features: &str, target_dir: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--lib",
            "--features",
            features,
            "--target-dir",
            target_dir,
        ])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "debug build with {features} failed");
    root.join(target_dir).join("debug/libstem_preflight.so")
}

/// Loads a bundle once per process and keeps it loaded, as a host does.
///
/// NOTE: hosts keep a plugin library loaded while any instance lives; loading and unloading
/// the same library concurrently from several test threads crashes the process.
fn loaded_entry(path: &Path) -> PluginEntry {
    static ENTRIES: std::sync::Mutex<Vec<(PathBuf, PluginEntry)>> =
        std::sync::Mutex::new(Vec::new());
    let mut entries = ENTRIES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, entry)) = entries.iter().find(|(p, _)| p == path) {
        return entry.clone();
    }
    // SAFETY: loading a CLAP bundle runs its initialisation code; it is our own plugin.
    let entry = unsafe { PluginEntry::load(path) }.expect("the .clap loads");
    entries.push((path.to_owned(), entry.clone()));
    entry
}

/// Host state reachable from any thread.
#[derive(Default)]
pub struct HostShared {
    callback_requested: AtomicBool,
    restart_requested: AtomicBool,
    /// How many main-thread callbacks the host delivered.
    pub callbacks_delivered: AtomicU32,
    state: OnceLock<Option<PluginState>>,
    params: OnceLock<Option<PluginParams>>,
    ports_config: OnceLock<Option<PluginAudioPortsConfig>>,
}

impl<'a> SharedHandler<'a> for HostShared {
    fn initializing(&self, instance: InitializingPluginHandle<'a>) {
        let _ = self.state.set(instance.get_extension());
        let _ = self.params.set(instance.get_extension());
        let _ = self.ports_config.set(instance.get_extension());
    }

    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {}

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

/// The host's handler types.
pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// Pass reports from test sessions go under `target/`, never into the user's documents
/// (unless a test chose a folder itself). Set once, before the first instance exists.
fn keep_files_in_target() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (variable, folder) in [
            ("STEM_PREFLIGHT_REPORT_DIR", "test-pass-reports"),
            ("STEM_PREFLIGHT_RUNTIME_DIR", "test-runtime"),
        ] {
            if std::env::var_os(variable).is_none() {
                std::env::set_var(
                    variable,
                    Path::new(env!("CARGO_TARGET_TMPDIR")).join(folder),
                );
            }
        }
    });
}

/// A loaded plugin instance; activate it with [`Plugin::start`].
pub struct Plugin {
    instance: PluginInstance<TestHost>,
    _entry: PluginEntry,
}

/// Where the song is, for the transport passed with a block.
#[derive(Debug, Clone, Copy)]
pub struct Song {
    /// Project position of the block's first sample, seconds.
    pub seconds: f64,
    /// Tempo, BPM.
    pub tempo_bpm: f64,
    /// Time signature.
    pub time_signature: (u16, u16),
    /// Whether the transport is rolling.
    pub playing: bool,
}

impl Plugin {
    /// Loads the plugin from a `.clap` file.
    pub fn load(path: &Path) -> Self {
        Self::load_id(path, PLUGIN_ID)
    }

    /// Loads the plugin with CLAP id `id` from a `.clap` file.
    pub fn load_id(path: &Path, id: &str) -> Self {
        keep_files_in_target();
        let entry = loaded_entry(path);
        let host = HostInfo::new("Stem Preflight tests", "tests", "https://localhost", "1.0")
            .expect("host info");
        let id = CString::new(id).expect("no NUL in id");
        let instance =
            PluginInstance::<TestHost>::new(|_| HostShared::default(), |_| (), &entry, &id, &host)
                .expect("the plugin instantiates");
        Self {
            instance,
            _entry: entry,
        }
    }

    /// Answers pending main-thread requests, as a real host's event loop would.
    pub fn run_main_thread(&mut self) {
        let requested = self
            .instance
            .access_shared_handler(|h| h.callback_requested.swap(false, Ordering::SeqCst));
        if requested {
            self.instance.call_on_main_thread_callback();
            self.instance
                .access_shared_handler(|h| h.callbacks_delivered.fetch_add(1, Ordering::SeqCst));
        }
    }

    /// Selects the audio layout whose name is `name` ("Stereo", "Mono"). Call before `start`.
    pub fn select_layout(&mut self, name: &str) {
        let config = self
            .instance
            .access_shared_handler(|h| *h.ports_config.get().expect("initialised"))
            .expect("the plugin offers audio port configurations");
        let handle = self.instance.plugin_handle();
        let mut buffer = AudioPortsConfigBuffer::new();
        let id = (0..config.count(&handle))
            .filter_map(|i| {
                config
                    .get(&handle, i, &mut buffer)
                    .map(|c| (c.id, c.name.to_vec()))
            })
            .find(|(_, config_name)| config_name == name.as_bytes())
            .map(|(id, _)| id)
            .unwrap_or_else(|| panic!("no layout named {name}"));
        config.select(&handle, id).expect("layout selected");
    }

    /// Activates and starts processing.
    pub fn start(
        &mut self,
        sample_rate: f64,
        max_frames: u32,
    ) -> StartedPluginAudioProcessor<TestHost> {
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_frames,
        };
        let stopped = self
            .instance
            .activate(|_, _| (), config)
            .expect("activates");
        stopped.start_processing().expect("starts processing")
    }

    /// Stops and deactivates.
    pub fn stop(&mut self, processor: StartedPluginAudioProcessor<TestHost>) {
        self.instance.deactivate(processor.stop_processing());
    }

    /// The plugin's state, as a host saves it with a project.
    pub fn save_state(&mut self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.save_state_into(&mut bytes);
        bytes
    }

    /// Saves the state through `writer`, which may take fewer bytes per call than offered.
    pub fn save_state_into(&mut self, writer: &mut impl std::io::Write) {
        self.state_extension()
            .save(&self.instance.plugin_handle(), writer)
            .expect("state saves");
    }

    /// Offers a state, as a host opening a project does; false if the plugin refused it.
    pub fn try_load_state(&mut self, mut bytes: &[u8]) -> bool {
        self.try_load_state_from(&mut bytes)
    }

    /// Offers a state through `reader`, which may give fewer bytes per call than asked for.
    pub fn try_load_state_from(&mut self, reader: &mut impl std::io::Read) -> bool {
        self.state_extension()
            .load(&self.instance.plugin_handle(), reader)
            .is_ok()
    }

    fn state_extension(&mut self) -> PluginState {
        self.instance
            .access_shared_handler(|h| *h.state.get().expect("initialised"))
            .expect("the plugin has the state extension")
    }

    /// Loads a saved state.
    pub fn load_state(&mut self, bytes: &[u8]) {
        assert!(self.try_load_state(bytes), "state loads");
    }

    /// Sets a persisted field (`#[persist = "key"]`) through the state, as a host restoring a
    /// project does.
    pub fn set_persisted(&mut self, key: &str, value: &serde_json::Value) {
        // nice-plug's CLAP state: a little-endian u64 length, then JSON.
        let saved = self.save_state();
        let mut state: serde_json::Value =
            serde_json::from_slice(&saved[8..]).expect("the state is JSON after its length");
        state["fields"][key] = serde_json::Value::String(value.to_string());
        let json = serde_json::to_vec(&state).expect("serialises");
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend(json);
        self.load_state(&bytes);
    }

    /// A parameter's current value as CLAP sees it.
    pub fn param_value(&mut self, id: &str) -> f64 {
        let params = self.params();
        params
            .get_value(&self.instance.plugin_handle(), ClapId::new(param_id(id)))
            .expect("the parameter exists")
    }

    /// Every parameter as the host sees it.
    pub fn param_infos(&mut self) -> Vec<ParamSummary> {
        let params = self.params();
        let handle = self.instance.plugin_handle();
        let mut buffer = ParamInfoBuffer::new();
        (0..params.count(&handle))
            .filter_map(|i| {
                let info = params.get_info(&handle, i, &mut buffer)?;
                Some(ParamSummary {
                    id: info.id.get(),
                    name: String::from_utf8_lossy(info.name).into_owned(),
                    min: info.min_value,
                    max: info.max_value,
                    stepped: info.flags.contains(ParamInfoFlags::IS_STEPPED),
                })
            })
            .collect()
    }

    /// The plugin's text for a parameter value, as a host displays it.
    pub fn value_to_text(&mut self, id: u32, value: f64) -> Option<String> {
        let params = self.params();
        let mut buffer = [0u8; 256];
        params
            .value_to_text(
                &self.instance.plugin_handle(),
                ClapId::new(id),
                value,
                &mut buffer,
            )
            .ok()
            .map(|text| String::from_utf8_lossy(text).into_owned())
    }

    /// The value the plugin reads from a text typed into the host.
    pub fn text_to_value(&mut self, id: u32, text: &str) -> Option<f64> {
        let params = self.params();
        let text = CString::new(text).ok()?;
        params.text_to_value(&self.instance.plugin_handle(), ClapId::new(id), &text)
    }

    fn params(&mut self) -> PluginParams {
        self.instance
            .access_shared_handler(|h| *h.params.get().expect("initialised"))
            .expect("the plugin has the params extension")
    }
}

/// One parameter's description.
#[derive(Debug, Clone)]
pub struct ParamSummary {
    pub id: u32,
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub stepped: bool,
}

/// Buffers and ports for driving one activated processor.
pub struct Driver {
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    steady_time: u64,
    events: EventBuffer,
}

impl Driver {
    /// A driver for `channels` channels.
    pub fn new(channels: usize) -> Self {
        Self {
            input_ports: AudioPorts::with_capacity(channels, 1),
            output_ports: AudioPorts::with_capacity(channels, 1),
            steady_time: 0,
            events: EventBuffer::with_capacity(16),
        }
    }

    /// Queues a parameter change (CLAP value: normalized 0..1, or the step for enums) for the
    /// next block.
    pub fn set_param(&mut self, id: &str, value: f64) {
        self.set_param_at(0, id, value);
    }

    /// Queues a parameter change at sample `offset` of the next block (queue them in time
    /// order, as CLAP requires).
    pub fn set_param_at(&mut self, offset: u32, id: &str, value: f64) {
        self.events.push(&ParamValueEvent::new(
            offset,
            ClapId::new(param_id(id)),
            Pckn::match_all(),
            value,
        ));
    }

    /// Processes one block: `input[ch]` → returns `output[ch]`, both `frames` long.
    pub fn process(
        &mut self,
        processor: &mut StartedPluginAudioProcessor<TestHost>,
        input: &mut [Vec<f32>],
        output: &mut [Vec<f32>],
        song: Option<Song>,
    ) {
        let transport = song.map(transport_event);
        let inputs = self.input_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                input
                    .iter_mut()
                    .map(|channel| InputChannel::variable(&mut channel[..])),
            ),
        }]);
        let mut outputs = self.output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                output.iter_mut().map(|channel| &mut channel[..]),
            ),
        }]);
        let frames = inputs.frames_count().unwrap_or(0);
        processor
            .process(
                &inputs,
                &mut outputs,
                &InputEvents::from_buffer(&self.events),
                &mut OutputEvents::void(),
                Some(self.steady_time),
                transport.as_ref(),
            )
            .expect("process succeeds");
        self.events.clear();
        self.steady_time += u64::from(frames);
    }
}

fn transport_event(song: Song) -> TransportEvent {
    let beats = song.seconds * song.tempo_bpm / 60.0;
    let bar_quarters = f64::from(song.time_signature.0) * 4.0 / f64::from(song.time_signature.1);
    let bar_number = (beats / bar_quarters).floor();
    let mut flags = TransportFlags::HAS_TEMPO
        | TransportFlags::HAS_BEATS_TIMELINE
        | TransportFlags::HAS_SECONDS_TIMELINE
        | TransportFlags::HAS_TIME_SIGNATURE;
    if song.playing {
        flags |= TransportFlags::IS_PLAYING;
    }
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags,
        song_pos_beats: BeatTime::from_float(beats),
        song_pos_seconds: SecondsTime::from_float(song.seconds),
        tempo: song.tempo_bpm,
        tempo_inc: 0.0,
        loop_start_beats: BeatTime::from_int(0),
        loop_end_beats: BeatTime::from_int(0),
        loop_start_seconds: SecondsTime::from_int(0),
        loop_end_seconds: SecondsTime::from_int(0),
        bar_start: BeatTime::from_float(bar_number * bar_quarters),
        bar_number: bar_number as i32,
        time_signature_numerator: song.time_signature.0,
        time_signature_denominator: song.time_signature.1,
    }
}
