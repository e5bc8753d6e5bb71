//! Writing WAV and AIFF files with exactly known content, and stems that add up to a mix.

use super::signals::Rng;
use std::path::Path;

/// How samples are stored.
#[derive(Debug, Clone, Copy)]
pub enum Store {
    /// Integers of this many bits (16, 24, 32), rounded and clamped.
    Int(u16),
    /// 32-bit float.
    Float32,
}

fn quantize(x: f32, bits: u16) -> i64 {
    let full = (1i64 << (bits - 1)) as f64;
    (f64::from(x) * full).round().clamp(-full, full - 1.0) as i64
}

/// Writes planar `channels` as a WAV file.
pub fn write_wav(path: &Path, rate: u32, channels: &[Vec<f32>], store: Store) {
    let (tag, bits) = match store {
        Store::Int(bits) => (1u16, bits),
        Store::Float32 => (3, 32),
    };
    let n = channels.len() as u16;
    let frames = channels[0].len();
    let bytes = usize::from(bits / 8);
    let data_len = (frames * usize::from(n) * bytes) as u32;
    let mut f = Vec::with_capacity(44 + data_len as usize);
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(36 + data_len).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&n.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(n * bits / 8)).to_le_bytes());
    f.extend_from_slice(&(n * bits / 8).to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f.extend_from_slice(b"data");
    f.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        for channel in channels {
            match store {
                Store::Int(bits) => {
                    f.extend_from_slice(&quantize(channel[i], bits).to_le_bytes()[..bytes]);
                }
                Store::Float32 => f.extend_from_slice(&channel[i].to_le_bytes()),
            }
        }
    }
    std::fs::write(path, f).expect("test file written");
}

/// Writes `set` as `<song>_<stem>.wav` and its exact sum as `<song>_Mix.wav`.
pub fn write_song(dir: &Path, song: &str, rate: u32, set: &[(&str, Vec<Vec<f32>>)], store: Store) {
    for (name, audio) in set {
        write_wav(&dir.join(format!("{song}_{name}.wav")), rate, audio, store);
    }
    write_wav(&dir.join(format!("{song}_Mix.wav")), rate, &mix(set), store);
}

/// Writes planar `channels` as a big-endian integer AIFF file.
pub fn write_aiff(path: &Path, rate: u32, channels: &[Vec<f32>], bits: u16) {
    let n = channels.len() as u16;
    let frames = channels[0].len();
    let bytes = usize::from(bits / 8);
    let data_len = (frames * usize::from(n) * bytes) as u32;
    let mut f = Vec::new();
    f.extend_from_slice(b"FORM");
    f.extend_from_slice(&(4 + 26 + 16 + data_len).to_be_bytes());
    f.extend_from_slice(b"AIFFCOMM");
    f.extend_from_slice(&18u32.to_be_bytes());
    f.extend_from_slice(&n.to_be_bytes());
    f.extend_from_slice(&(frames as u32).to_be_bytes());
    f.extend_from_slice(&bits.to_be_bytes());
    // The rate as an 80-bit extended float.
    let exponent = 63 - u64::from(rate).leading_zeros() as u16;
    f.extend_from_slice(&(16383 + exponent).to_be_bytes());
    f.extend_from_slice(&(u64::from(rate) << (63 - exponent)).to_be_bytes());
    f.extend_from_slice(b"SSND");
    f.extend_from_slice(&(8 + data_len).to_be_bytes());
    f.extend_from_slice(&[0; 8]);
    for i in 0..frames {
        for channel in channels {
            let q = quantize(channel[i], bits).to_be_bytes();
            f.extend_from_slice(&q[8 - bytes..]);
        }
    }
    std::fs::write(path, f).expect("test file written");
}

/// Three stereo stems (drums, bass, vocals) of `seconds` at `rate`, each ending in a second of
/// silence, peaking at about -12 dBFS so that their sum peaks near -7 dBFS.
pub fn stems(rate: u32, seconds: f64, seed: u64) -> Vec<(&'static str, Vec<Vec<f32>>)> {
    let rate_f = f64::from(rate);
    let len = (seconds * rate_f) as usize;
    let sounding = len - rate as usize; // last second silent
    let mut rng = Rng::new(seed);
    let mut drums = vec![0.0f32; len];
    let beat = rate as usize / 2;
    for start in (0..sounding.saturating_sub(beat)).step_by(beat) {
        let accent = if (start / beat).is_multiple_of(4) {
            1.0
        } else {
            0.6
        };
        for n in 0..beat / 2 {
            let decay = (-(n as f64) / (0.03 * rate_f)).exp();
            let noise = rng.unit() * 2.0 - 1.0;
            let thump = (2.0 * std::f64::consts::PI * 60.0 * n as f64 / rate_f).sin();
            drums[start + n] += (0.25 * accent * decay * (0.5 * noise + 0.5 * thump)) as f32;
        }
    }
    let envelope = |n: usize| {
        // Fade in over 20 ms and out over the last 300 ms of the sounding part.
        let fade_in = (n as f64 / (0.02 * rate_f)).min(1.0);
        let left = sounding.saturating_sub(n) as f64;
        let fade_out = (left / (0.3 * rate_f)).min(1.0);
        fade_in * fade_out
    };
    // A bass line: a plucked note on every beat, the pitch following a two-bar pattern.
    let pattern = [55.0, 55.0, 65.41, 73.42, 55.0, 49.0, 61.74, 65.41];
    let mut phase = 0.0f64;
    let bass: Vec<f32> = (0..len)
        .map(|n| {
            let note = pattern[(n / beat) % pattern.len()];
            phase += 2.0 * std::f64::consts::PI * note / rate_f;
            let pluck = (-((n % beat) as f64) / (0.25 * rate_f)).exp();
            (0.2 * pluck * envelope(n) * phase.sin()) as f32
        })
        .collect();
    let mut sung = 0.0f64;
    let vocals: Vec<f32> = (0..len)
        .map(|n| {
            let t = n as f64 / rate_f;
            // The singer comes in after half a second.
            let phrase = if t < 0.5 {
                0.0
            } else if (t % 2.0) < 1.4 {
                1.0
            } else {
                0.1
            };
            // A 1 % vibrato at 5 Hz, accumulated as phase (sin(2π·f0(t)·t) would sweep ever
            // wider as t grows, to 16 kHz after four minutes).
            let f0 = 220.0 * (1.0 + 0.01 * (2.0 * std::f64::consts::PI * 5.0 * t).sin());
            sung += 2.0 * std::f64::consts::PI * f0 / rate_f;
            let voice: f64 = (1..6).map(|h| (sung * h as f64).sin() / h as f64).sum();
            (0.1 * phrase * envelope(n) * voice) as f32
        })
        .collect();
    let stereo = |x: &[f32], pan: f32| {
        vec![
            x.iter().map(|s| s * (1.0 - pan)).collect(),
            x.iter().map(|s| s * (1.0 + pan)).collect(),
        ]
    };
    vec![
        ("Drums", stereo(&drums, 0.0)),
        ("Bass", stereo(&bass, -0.1)),
        ("Vocals", stereo(&vocals, 0.2)),
    ]
}

/// The sum of stereo stems.
pub fn mix(stems: &[(&str, Vec<Vec<f32>>)]) -> Vec<Vec<f32>> {
    let mut out = vec![vec![0.0f32; stems[0].1[0].len()]; 2];
    for (_, stem) in stems {
        for (o, s) in out.iter_mut().zip(stem) {
            for (a, b) in o.iter_mut().zip(s) {
                *a += b;
            }
        }
    }
    out
}
