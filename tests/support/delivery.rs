//! Deliveries made from rendered songs ([`super::corpus`]): stems plus their exact sum as the
//! reference mix, written as a DAW exports them (24-bit WAV, `Song_Group.wav`), clean or with
//! exactly one defect whose ground truth is recorded next to the files (`truth.txt`).

use super::corpus::Stem;
use super::external::pipe_bytes;
use super::files::{write_wav, Store};
use std::path::Path;

/// Peak of planar audio, linear.
pub fn peak(audio: &[Vec<f32>]) -> f32 {
    audio.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Σ of the stems, sample by sample.
pub fn sum(stems: &[Stem]) -> Vec<Vec<f32>> {
    let frames = stems[0].audio[0].len();
    (0..2)
        .map(|c| {
            (0..frames)
                .map(|n| stems.iter().map(|s| s.audio[c][n]).sum())
                .collect()
        })
        .collect()
}

/// Multiplies every sample by `gain`.
pub fn scaled(audio: &[Vec<f32>], gain: f32) -> Vec<Vec<f32>> {
    audio
        .iter()
        .map(|c| c.iter().map(|x| x * gain).collect())
        .collect()
}

fn interleave(audio: &[Vec<f32>]) -> Vec<u8> {
    let frames = audio[0].len();
    let mut bytes = Vec::with_capacity(frames * audio.len() * 4);
    for n in 0..frames {
        for channel in audio {
            bytes.extend_from_slice(&channel[n].to_le_bytes());
        }
    }
    bytes
}

fn deinterleave(bytes: &[u8], channels: usize) -> Vec<Vec<f32>> {
    let samples: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (0..channels)
        .map(|c| samples.iter().skip(c).step_by(channels).copied().collect())
        .collect()
}

/// Runs `program args…` with `audio` as interleaved 32-bit float on stdin; returns its stdout
/// read back as `channels` planar channels.
pub fn pipe(program: &str, args: &[&str], audio: &[Vec<f32>], channels: usize) -> Vec<Vec<f32>> {
    deinterleave(&pipe_bytes(program, args, interleave(audio)), channels)
}

/// ffmpeg with one audio filter on stereo float audio; `out_rate` resamples on the way out.
pub fn ffmpeg(audio: &[Vec<f32>], rate: u32, filter: &str, out_rate: u32) -> Vec<Vec<f32>> {
    let (rate, out_rate) = (rate.to_string(), out_rate.to_string());
    let args = [
        "-v", "error", "-f", "f32le", "-ar", &rate, "-ac", "2", "-i", "pipe:0", "-af", filter,
        "-ar", &out_rate, "-f", "f32le", "pipe:1",
    ];
    pipe("ffmpeg", &args, audio, 2)
}

/// ffmpeg's `alimiter` (5 ms attack, 50 ms release), stereo-linked: `gain_db` into `ceiling_db`.
pub fn alimiter(audio: &[Vec<f32>], rate: u32, gain_db: f64, ceiling_db: f64) -> Vec<Vec<f32>> {
    let filter = format!(
        "alimiter=level_in={:.6}:limit={:.6}:attack=5:release=50:level=false",
        10f64.powf(gain_db / 20.0),
        10f64.powf(ceiling_db / 20.0)
    );
    ffmpeg(audio, rate, &filter, rate)
}

/// x42-dpl (stereo), run offline by `lv2file`: `gain_db` into `ceiling_db`.
pub fn x42_dpl(
    audio: &[Vec<f32>],
    rate: u32,
    gain_db: f64,
    ceiling_db: f64,
    work: &Path,
) -> Vec<Vec<f32>> {
    let (input, output) = (work.join("dpl-in.wav"), work.join("dpl-out.wav"));
    write_wav(&input, rate, audio, Store::Float32);
    super::external::run_dpl(&input, &output, gain_db, ceiling_db, "stereo");
    let output_path = output.to_str().expect("UTF-8 path");
    let args = ["-V1", output_path, "-t", "f32", "-"];
    let limited = pipe("sox", &args, &[vec![]], 2);
    std::fs::remove_file(&input).ok();
    std::fs::remove_file(&output).ok();
    limited
}

/// An MP3 round trip through LAME (ffmpeg's libmp3lame) at `bitrate` ("128k", or "V2" for
/// VBR quality 2), decoded in float as a DAW decodes a sample. Rates above 48 kHz go through
/// 48 kHz, as an MP3 cannot hold them.
pub fn mp3_round_trip(audio: &[Vec<f32>], rate: u32, bitrate: &str, work: &Path) -> Vec<Vec<f32>> {
    let mp3 = work.join("round-trip.mp3");
    let (rate_text, encode_rate) = (rate.to_string(), rate.min(48_000).to_string());
    let quality = match bitrate.strip_prefix('V') {
        Some(q) => ["-q:a", q],
        None => ["-b:a", bitrate],
    };
    let mp3_path = mp3.to_str().expect("UTF-8 path");
    let mut encode = vec![
        "-v",
        "error",
        "-y",
        "-f",
        "f32le",
        "-ar",
        &rate_text,
        "-ac",
        "2",
        "-i",
        "pipe:0",
        "-ar",
        &encode_rate,
        "-c:a",
        "libmp3lame",
    ];
    encode.extend(quality);
    encode.push(mp3_path);
    pipe("ffmpeg", &encode, audio, 2);
    let decode = [
        "-v", "error", "-i", mp3_path, "-ar", &rate_text, "-f", "f32le", "-ac", "2", "pipe:1",
    ];
    let mut decoded = pipe("ffmpeg", &decode, &[vec![]], 2);
    std::fs::remove_file(&mp3).ok();
    for channel in &mut decoded {
        channel.resize(audio[0].len(), 0.0);
    }
    decoded
}

/// 16-bit with TPDF dither, as a 16-bit export with dither on leaves it (then stored in 24 bits).
pub fn dithered_to_16_bit(audio: &[Vec<f32>], seed: u64) -> Vec<Vec<f32>> {
    let mut rng = super::signals::Rng::new(seed);
    let lsb = 1.0 / 32768.0;
    audio
        .iter()
        .map(|c| {
            c.iter()
                .map(|&x| {
                    let tpdf = rng.unit() - rng.unit();
                    ((f64::from(x) / lsb + tpdf).round() * lsb) as f32
                })
                .collect()
        })
        .collect()
}

/// The file name of a stem or the mix: `Song_Group.wav`.
pub fn file_name(song: &str, group: &str) -> String {
    format!("{song}_{group}.wav")
}

/// Writes `files` (name, audio, how stored) at `rate` and the ground truth into `dir`, which
/// is emptied first.
pub fn write_set(
    dir: &Path,
    rate: u32,
    files: &[(String, Vec<Vec<f32>>, Store, u32)],
    truth: &str,
) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("set folder");
    for (name, audio, store, file_rate) in files {
        let file_rate = if *file_rate == 0 { rate } else { *file_rate };
        write_wav(&dir.join(name), file_rate, audio, *store);
    }
    std::fs::write(dir.join("truth.txt"), truth).expect("truth written");
}

/// Undoes a processor's latency as a DAW's delay compensation does: finds the delay (up to
/// 50 ms) at which `processed` best matches `original` and moves it back by that much.
pub fn delay_compensated(
    original: &[Vec<f32>],
    processed: Vec<Vec<f32>>,
    rate: u32,
) -> Vec<Vec<f32>> {
    let mono =
        |a: &[Vec<f32>]| -> Vec<f32> { (0..a[0].len()).map(|n| a[0][n] + a[1][n]).collect() };
    let (x, y) = (mono(original), mono(&processed));
    let max_lag = (0.05 * f64::from(rate)) as usize;
    // One second around the loudest moment, where the processor surely passes signal.
    let loudest = (0..x.len())
        .max_by(|&a, &b| x[a].abs().total_cmp(&x[b].abs()))
        .unwrap_or(0);
    let window = rate as usize;
    let from = loudest
        .saturating_sub(window / 2)
        .min(x.len().saturating_sub(window + max_lag));
    let score = |lag: usize| -> f64 {
        (from..from + window)
            .map(|n| f64::from(x[n]) * f64::from(y[n + lag]))
            .sum()
    };
    let lag = (0..=max_lag)
        .max_by(|&a, &b| score(a).total_cmp(&score(b)))
        .unwrap_or(0);
    processed
        .into_iter()
        .map(|mut c| {
            c.drain(..lag);
            c.resize(original[0].len(), 0.0);
            c
        })
        .collect()
}
