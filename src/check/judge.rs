//! Per-file verdicts: what the measurements of one file mean for the delivery.

use super::decode::{Container, Encoding};
use super::finding::{Check, Finding};
use super::measure::FileMeasurements;
use crate::analysis::clip::FLAT_TOP_MIN_SAMPLES;
use crate::analysis::dc::dc_advice;
use crate::analysis::{
    to_tenth, ClipEvent, ClipKind, HeadroomStatus, HeadroomThresholds, LimiterVerdict,
};
use crate::channel_name::channel_name;

/// A steady floor in this range (dBFS RMS) is 16-bit dither: TPDF reads -98, rectangular
/// -101, noise-shaped a few dB higher.
const DITHER_16_BIT_DBFS: (f32, f32) = (-102.0, -88.0);
/// A reference mix whose true peak is less than this above its integrated loudness (PLR, dB)
/// is dense: mixes sent for mastering usually keep 12 dB or more, heavily limited masters sit
/// near 8 (docs/measurements.md has the sources).
pub const DENSE_MIX_PLR_DB: f64 = 9.0;
/// A file whose peak is below this is nearly silent, dBFS.
const NEARLY_SILENT_DBFS: f32 = -70.0;
/// Below this the sample peak is digital silence.
const SILENT_DBFS: f32 = -190.0;
/// Clip positions listed in a message.
const LISTED_CLIPS: usize = 5;

/// "1:02.345" for a frame position.
pub fn song_position(frame: u64, sample_rate: u32) -> String {
    crate::clock::clock(frame as f64 / f64::from(sample_rate.max(1)))
}

/// The verdicts for one readable file. `label` names it in messages ("Drums", "the mix");
/// `is_reference` adds the limiter check.
pub fn judge(
    m: &FileMeasurements,
    label: &str,
    is_reference: bool,
    thresholds: HeadroomThresholds,
) -> Vec<Finding> {
    let mut out = format_findings(m);
    let silent = m.sample_peak_dbfs < SILENT_DBFS;
    if silent {
        out.push(Finding::warn(
            Check::Silence,
            format!("{label} is digital silence: check the bus routing, mutes and solos, or leave this stem out."),
        ));
        return out;
    }
    if m.sample_peak_dbfs < NEARLY_SILENT_DBFS {
        out.push(Finding::warn(
            Check::Silence,
            format!("{label} is nearly silent (peak {:.1} dBFS): check the routing; if it is meant to be this quiet, say so in the delivery note.", m.sample_peak_dbfs),
        ));
    }

    let limited = is_reference && m.limiter.verdict != LimiterVerdict::None;
    out.extend(headroom_and_clipping(m, label, thresholds, limited));

    out.extend(content_findings(m, label, is_reference));
    out
}

/// The headroom and clipping findings of [`judge`] for a mix whose limiter the set's evidence
/// judged otherwise than its own detector (`limited`: found from its ceiling; or not, the stems
/// holding the peaks the detector saw held), in place of the ones judged before.
pub fn rejudge_headroom_and_clipping(
    findings: &mut Vec<Finding>,
    m: &FileMeasurements,
    label: &str,
    thresholds: HeadroomThresholds,
    limited: bool,
) {
    let is_clipping = |f: &Finding| matches!(f.check, Check::Headroom | Check::Clipping);
    let Some(at) = findings.iter().position(is_clipping) else {
        return;
    };
    findings.retain(|f| !is_clipping(f));
    let judged = headroom_and_clipping(m, label, thresholds, limited);
    findings.splice(at..at, judged);
}

/// What the file is and whether it holds what it claims: length, container, bit depth, dither,
/// invalid samples.
fn format_findings(m: &FileMeasurements) -> Vec<Finding> {
    let mut out = Vec::new();
    let format = m.format;
    let container = match format.container {
        Container::Wav => "WAV",
        Container::Aiff => "AIFF",
    };
    if m.missing_frames > 0 {
        out.push(Finding::fail(
            Check::Readable,
            format!(
                "The file is cut short: the header announces {} more samples ({:.2} s) than it holds. Export it again and check the disk had space.",
                m.missing_frames,
                m.missing_frames as f64 / f64::from(format.sample_rate)
            ),
        ));
    }
    match format.encoding {
        Encoding::Int { bits } if bits < 24 => out.push(Finding::fail(
            Check::BitDepth,
            format!("{container}, {bits}-bit: mastering needs 24-bit or 32-bit float. Export again at 24-bit (no dither to 16-bit)."),
        )),
        encoding => out.push(Finding::pass(
            Check::Format,
            format!("{container}, {encoding}, {} Hz", format.sample_rate),
        )),
    }
    let silent = m.sample_peak_dbfs < SILENT_DBFS;
    if let Some(bits) = m.effective_bits.filter(|&b| b < 24 && !silent) {
        if bits < format.encoding.bits() {
            out.push(Finding::fail(
                Check::EffectiveBitDepth,
                format!("The {} file holds only {bits}-bit audio: something in the chain (an export setting, a 16-bit intermediate file) reduced it. Export from the session at 24-bit.", format.encoding),
            ));
        }
    }
    let truncated = m.effective_bits.is_some_and(|b| b < 24);
    if let Some(floor) = m.noise_floor_dbfs {
        let dither_range = DITHER_16_BIT_DBFS.0..=DITHER_16_BIT_DBFS.1;
        if format.encoding.bits() >= 24 && !truncated && dither_range.contains(&floor) {
            out.push(Finding::warn(
                Check::Dither,
                format!("The quiet passages hold a steady noise floor at {floor:.0} dBFS, the level of 16-bit dither: dither seems to be on for this {} export. Turn it off (mastering dithers once, at the end) and export again.", format.encoding),
            ));
        }
    }
    if m.non_finite_samples > 0 {
        out.push(Finding::fail(
            Check::InvalidSamples,
            format!("{} samples are NaN or infinite: a plugin blew up during the export. Find it (the meter's NaN count shows where), fix it and export again.", m.non_finite_samples),
        ));
    }
    out
}

/// What the sound itself shows: a limiter on the mix, a lossy origin, a cut tail, DC offset.
fn content_findings(m: &FileMeasurements, label: &str, is_reference: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if is_reference {
        let limiter = m.limiter;
        let text = limiter.explanation();
        out.push(match limiter.verdict {
            LimiterVerdict::Certain => Finding::fail(Check::Limiter, text),
            LimiterVerdict::Likely => Finding::warn(Check::Limiter, text),
            LimiterVerdict::None => {
                Finding::pass(Check::Limiter, "No sign of a limiter on the mix.")
            }
        });
    }
    if let Some(origin) = m.lossy.verdict() {
        out.push(Finding::warn(Check::LossyOrigin, origin.advice(label)));
    }
    if m.tail.cut {
        let extend = m.tail.extend_hint();
        out.push(Finding::warn(
            Check::Tail,
            format!("The file ends while the sound is still at {:.0} dBFS: the reverb or release tail is cut. Extend the export range {extend}.", m.tail.end_level_dbfs),
        ));
    }
    let channels = usize::from(m.format.channels);
    for (channel, &dc) in m.dc_offset.iter().enumerate() {
        if let Some(advice) = dc_advice(dc, &channel_name(channel, channels)) {
            out.push(Finding::warn(Check::DcOffset, advice));
        }
    }
    out
}

/// The note for a dense reference mix (PLR under [`DENSE_MIX_PLR_DB`]). The caller adds it
/// only when no limiter finding already names the cause.
pub fn dense_mix_note(m: &FileMeasurements) -> Option<Finding> {
    let integrated = m.loudness.integrated_lufs?;
    let plr = m.loudness.plr_db(m.true_peak_dbtp)?;
    (plr < DENSE_MIX_PLR_DB).then(|| {
        let plr = to_tenth(plr);
        Finding::note(
            Check::Loudness,
            format!("The mix is dense: {integrated:.1} LUFS integrated, its true peak only {plr:.1} dB above (PLR). Mastering has little room left; if compression or saturation on the master bus is there for loudness, consider sending a version without it."),
        )
    })
}

/// The headroom verdict and the clipping baked into the file, each cause named once:
/// clipped samples and flat tops are baked in; an inter-sample over, or a float file above
/// full scale, is not, and a gain change before export fixes it. `limited`: a limiter was found
/// on this mix.
fn headroom_and_clipping(
    m: &FileMeasurements,
    label: &str,
    thresholds: HeadroomThresholds,
    limited: bool,
) -> Vec<Finding> {
    let format = m.format;
    let float = matches!(format.encoding, Encoding::Float { .. });
    // Plateaus on a coarse grid are the grid's (the bit-depth finding names it), and at a
    // limiter's ceiling the limiter's (its finding names it): neither is a clipper's mark.
    let coarse = m.effective_bits.is_some_and(|b| b < 24) || format.encoding.bits() < 24;
    let flat_tops_tell = !(coarse || limited);
    // In a float file a sample above full scale is stored as it is; only a run held at exactly
    // full scale (a clipper set to 0 dBFS) is baked in.
    let baked = |e: &&ClipEvent| match e.kind {
        ClipKind::FlatTop => flat_tops_tell,
        ClipKind::Sample => !float || (e.peak == 1.0 && e.length_samples >= FLAT_TOP_MIN_SAMPLES),
        ClipKind::TruePeak => false,
    };
    let baked_events: Vec<&ClipEvent> = m.clip_events.iter().filter(baked).collect();
    let sample_clips = if float {
        baked_events
            .iter()
            .filter(|e| e.kind == ClipKind::Sample)
            .count() as u64
    } else {
        m.count(ClipKind::Sample)
    };
    let flat_tops = if flat_tops_tell {
        m.count(ClipKind::FlatTop)
    } else {
        0
    };
    let inter_sample = m.count(ClipKind::TruePeak) > 0;
    // One shortest possible flat top per channel, and nothing else, also happens at the
    // smooth crest of a low note.
    let lone_flat_top = sample_clips == 0
        && flat_tops <= u64::from(format.channels)
        && baked_events
            .iter()
            .all(|e| e.kind == ClipKind::FlatTop && e.length_samples == FLAT_TOP_MIN_SAMPLES);
    // Such crests pass: clipping leaves many flat tops, not one or two of the shortest kind.
    let baked_in = sample_clips + flat_tops > 0 && !lone_flat_top;
    let lower_by_db = m.sample_peak_dbfs.max(m.true_peak_dbtp) - thresholds.target_dbfs;
    let mut out = Vec::new();
    if float && m.sample_peak_dbfs > 0.0 && !baked_in {
        out.push(Finding::warn(
            Check::Headroom,
            format!(
                "{label} peaks at {:+.1} dBFS in a 32-bit float file: nothing is clipped in the file, but it clips as soon as anyone converts it to 24-bit or any other fixed-point format. Lower the {label} bus by {lower_by_db:.1} dB (to {:.0} dBFS) and export again.",
                m.sample_peak_dbfs, thresholds.target_dbfs
            ),
        ));
    } else {
        let over = baked_in || inter_sample;
        let status = HeadroomStatus::assess(m.sample_peak_dbfs, m.true_peak_dbtp, over, thresholds);
        let advice = status.advice(label, m.sample_peak_dbfs, m.true_peak_dbtp, thresholds);
        out.push(match status {
            HeadroomStatus::Ready | HeadroomStatus::Acceptable => {
                Finding::pass(Check::Headroom, advice)
            }
            HeadroomStatus::Clipped { .. } if baked_in => Finding::fail(Check::Headroom, advice),
            HeadroomStatus::TooHot { .. } | HeadroomStatus::Clipped { .. } => {
                Finding::warn(Check::Headroom, advice)
            }
        });
    }
    let at = |e: &ClipEvent| {
        format!(
            "{} ({})",
            song_position(e.start_sample, format.sample_rate),
            channel_name(usize::from(e.channel), usize::from(format.channels))
        )
    };
    if baked_in {
        let listed: Vec<String> = baked_events
            .iter()
            .take(LISTED_CLIPS)
            .map(|e| {
                let what = if e.kind == ClipKind::FlatTop {
                    "flat top"
                } else {
                    "clip"
                };
                format!(
                    "{} {what} ({}, {} samples)",
                    song_position(e.start_sample, format.sample_rate),
                    channel_name(usize::from(e.channel), usize::from(format.channels)),
                    e.length_samples
                )
            })
            .collect();
        let more = (sample_clips + flat_tops).saturating_sub(listed.len() as u64);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let fix = if sample_clips == 0 {
            "Flat-topped peaks below full scale mean a clipper or an overloaded plugin flattened them before the export: back it off and export again."
        } else {
            "Lower the bus (or the plugin that overloads) and export again; clipping in a file cannot be undone."
        };
        // Only the kinds found: "2 clipped runs", "4 flat tops", or both.
        let counted: Vec<String> = [(sample_clips, "clipped run"), (flat_tops, "flat top")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect();
        out.push(Finding::fail(
            Check::Clipping,
            format!(
                "{label} has {} baked in: {}{more}. {fix}",
                counted.join(" and "),
                listed.join(", ")
            ),
        ));
    } else if lone_flat_top && flat_tops > 0 {
        let at: Vec<String> = baked_events.iter().map(|e| at(e)).collect();
        out.push(Finding::pass(
            Check::Clipping,
            format!("No clipped samples. {FLAT_TOP_MIN_SAMPLES}-sample plateaus at {} are smooth crests, not a clipper's marks (clipping leaves many).", at.join(", ")),
        ));
    } else {
        out.push(Finding::pass(
            Check::Clipping,
            "No clipped samples or flat tops.",
        ));
    }
    out
}
