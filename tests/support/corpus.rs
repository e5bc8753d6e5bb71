//! Realistic stems: songs from Debian's OpenTTD music set (`openttd-openmsx`, MIDI), played by
//! FluidSynth with the FluidR3 GM sound font (sampled instruments and sampled drum kits, with
//! FluidSynth's own reverb and chorus), one stem per group bus. Deterministic: the same
//! song, rate and length always render to the same samples. Renders are cached under
//! `target/corpus/render/`.

use midly::{Format, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's `openttd-openmsx` puts its songs.
pub const MIDI_DIR: &str = "/usr/share/games/openttd/baseset/openmsx";
/// Debian's `fluid-soundfont-gm`.
pub const SOUND_FONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
/// Beats of silence after the last note, so reverb and release tails die away in the export.
const TAIL_BEATS: u32 = 12;

/// One stem of a song: its group name and planar stereo audio.
pub struct Stem {
    /// The group bus ("Drums", "Bass", …).
    pub group: String,
    /// Left and right.
    pub audio: Vec<Vec<f32>>,
}

/// The group bus a General MIDI channel plays on, from its program.
fn group_of(channel: u8, program: u8) -> &'static str {
    if channel == 9 {
        return "Drums";
    }
    match program {
        0..=23 => "Keys",
        24..=31 => "Guitars",
        32..=39 => "Bass",
        40..=55 => "Strings",
        56..=87 => "Leads",
        _ => "Music",
    }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/corpus")
}

/// A song's lead stem, or its first pitched one.
pub fn lead(stems: &[Stem]) -> &Stem {
    stems
        .iter()
        .find(|s| s.group == "Leads")
        .or_else(|| stems.iter().find(|s| s.group != "Drums"))
        .expect("a pitched stem")
}

/// The song files of the music set, sorted by name. Panics with the install line if absent.
pub fn songs() -> Vec<PathBuf> {
    let mut songs: Vec<PathBuf> = std::fs::read_dir(MIDI_DIR)
        .unwrap_or_else(|e| {
            panic!("{MIDI_DIR}: {e}: apt-get install openttd-openmsx fluidsynth fluid-soundfont-gm")
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "mid"))
        .collect();
    songs.sort();
    songs
}

/// Renders the first `seconds` of `song` (notes starting later are dropped; those sounding
/// then play out, and the tails after them) at `rate` Hz, one stereo stem per group bus.
pub fn render(song: &Path, rate: u32, seconds: f64) -> Vec<Stem> {
    let name = song.file_stem().expect("file name").to_string_lossy();
    let cache = target_dir().join(format!("render/{name}-{rate}-{seconds}"));
    let bytes = std::fs::read(song).expect("MIDI file readable");
    let smf = Smf::parse(&bytes).expect("a valid MIDI file");
    let Timing::Metrical(ticks_per_beat) = smf.header.timing else {
        panic!("{name}: SMPTE timing is not used by the music set");
    };
    let ticks_per_beat = u32::from(ticks_per_beat.as_int());
    // Absolute ticks of every event, and each channel's first program.
    let tracks: Vec<Vec<(u32, TrackEventKind)>> = smf
        .tracks
        .iter()
        .map(|track| {
            let mut at = 0u32;
            track
                .iter()
                .map(|e| {
                    at += e.delta.as_int();
                    (at, e.kind)
                })
                .collect()
        })
        .collect();
    let mut programs = [None::<u8>; 16];
    let mut first_tempo = None;
    for (_, kind) in tracks.iter().flatten() {
        match kind {
            TrackEventKind::Midi {
                channel,
                message: MidiMessage::ProgramChange { program },
            } => {
                programs[usize::from(channel.as_int())].get_or_insert(program.as_int());
            }
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => {
                first_tempo.get_or_insert(t.as_int());
            }
            _ => {}
        }
    }
    let us_per_beat = f64::from(first_tempo.unwrap_or(500_000));
    let limit = (seconds * 1e6 / us_per_beat * f64::from(ticks_per_beat)) as u32;
    let keep = |at: u32, kind: &TrackEventKind| match kind {
        TrackEventKind::Midi {
            message: MidiMessage::NoteOn { vel, .. },
            ..
        } => at <= limit || vel.as_int() == 0,
        TrackEventKind::Meta(MetaMessage::EndOfTrack) => false,
        TrackEventKind::Midi { .. } => true,
        _ => at <= limit,
    };
    let last = tracks
        .iter()
        .flatten()
        .filter(|(at, kind)| keep(*at, kind))
        .map(|(at, _)| *at)
        .max()
        .unwrap_or(0);
    let end = last + TAIL_BEATS * ticks_per_beat;
    let mut groups: Vec<&'static str> = Vec::new();
    let mut sounding = [false; 16];
    for (at, kind) in tracks.iter().flatten() {
        if let TrackEventKind::Midi {
            channel,
            message: MidiMessage::NoteOn { vel, .. },
        } = kind
        {
            if vel.as_int() > 0 && *at <= limit {
                sounding[usize::from(channel.as_int())] = true;
            }
        }
    }
    for channel in 0..16u8 {
        let group = group_of(channel, programs[usize::from(channel)].unwrap_or(0));
        if sounding[usize::from(channel)] && !groups.contains(&group) {
            groups.push(group);
        }
    }
    std::fs::create_dir_all(&cache).expect("corpus folder");
    let mut stems: Vec<Stem> = groups
        .iter()
        .map(|&group| {
            let raw = cache.join(format!("{group}.f32"));
            if !raw.exists() {
                let in_group = |channel: u8| {
                    group_of(channel, programs[usize::from(channel)].unwrap_or(0)) == group
                };
                let filtered: Vec<Vec<TrackEvent>> = tracks
                    .iter()
                    .map(|track| {
                        let mut previous = 0u32;
                        let mut out: Vec<TrackEvent> = track
                            .iter()
                            .filter(|(at, kind)| keep(*at, kind))
                            .filter(|(_, kind)| match kind {
                                TrackEventKind::Midi { channel, .. } => in_group(channel.as_int()),
                                _ => true,
                            })
                            .map(|(at, kind)| {
                                let delta = at - previous;
                                previous = *at;
                                TrackEvent {
                                    delta: delta.into(),
                                    kind: *kind,
                                }
                            })
                            .collect();
                        out.push(TrackEvent {
                            delta: (end - previous).into(),
                            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
                        });
                        out
                    })
                    .collect();
                let mut header = smf.header;
                if filtered.len() > 1 {
                    header.format = Format::Parallel;
                }
                let stem_smf = Smf {
                    header,
                    tracks: filtered,
                };
                let midi = cache.join(format!("{group}.mid"));
                stem_smf.save(&midi).expect("stem MIDI written");
                fluidsynth(&midi, &raw, rate);
            }
            let bytes = std::fs::read(&raw).expect("render readable");
            let samples: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let left = samples.iter().step_by(2).copied().collect();
            let right = samples.iter().skip(1).step_by(2).copied().collect();
            Stem {
                group: group.to_owned(),
                audio: vec![left, right],
            }
        })
        .collect();
    // Every stem runs to the same end, as a DAW exports them.
    let frames = stems.iter().map(|s| s.audio[0].len()).max().unwrap_or(0);
    for stem in &mut stems {
        for channel in &mut stem.audio {
            channel.resize(frames, 0.0);
        }
    }
    stems
}

fn fluidsynth(midi: &Path, raw: &Path, rate: u32) {
    let partial = raw.with_extension("part");
    let status = Command::new("fluidsynth")
        .args(["-n", "-i", "-q", "-g", "0.5", "-r", &rate.to_string()])
        .args(["-O", "float", "-T", "raw", "-F"])
        .arg(&partial)
        .arg(SOUND_FONT)
        .arg(midi)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run fluidsynth ({e}): apt-get install fluidsynth fluid-soundfont-gm")
        });
    assert!(status.success(), "fluidsynth failed on {}", midi.display());
    std::fs::rename(&partial, raw).expect("render kept");
}
