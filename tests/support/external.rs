//! Other people's limiters, run as Debian's command-line tools on raw 32-bit float audio.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `program args…` with `input` on stdin and returns its stdout. Panics with the tool's
/// own message when it fails or is missing (`cargo xtask test --all` names the packages).
pub fn pipe_bytes(program: &str, args: &[&str], input: Vec<u8>) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): install it (see .ci/run)"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("the tool runs");
    writer
        .join()
        .expect("writer thread")
        .expect("audio written to the tool");
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs `program args…` with `input` as mono 32-bit float little-endian on stdin and returns
/// its stdout in the same format.
pub fn pipe_f32(program: &str, args: &[&str], input: &[f32]) -> Vec<f32> {
    let bytes: Vec<u8> = input.iter().flat_map(|x| x.to_le_bytes()).collect();
    pipe_bytes(program, args, bytes)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// ffmpeg's `alimiter`: input gain `gain_db`, ceiling `ceiling` (linear), 5 ms attack, 50 ms
/// release, no automatic output levelling.
pub fn ffmpeg_alimiter(x: &[f32], sample_rate: u32, gain_db: f64, ceiling: f64) -> Vec<f32> {
    let rate = sample_rate.to_string();
    let filter = format!(
        "alimiter=level_in={:.6}:limit={ceiling:.6}:attack=5:release=50:level=false",
        10f64.powf(gain_db / 20.0)
    );
    pipe_f32(
        "ffmpeg",
        &[
            "-v", "error", "-f", "f32le", "-ar", &rate, "-ac", "1", "-i", "pipe:0", "-af", &filter,
            "-f", "f32le", "pipe:1",
        ],
        x,
    )
}

/// sox's `compand` set up as a limiter: `gain_db` of gain, then a transfer function flat above
/// `ceiling_db`, 1 ms attack, 100 ms decay, 5 ms look-ahead.
pub fn sox_compand_limiter(x: &[f32], sample_rate: u32, gain_db: f64, ceiling_db: f64) -> Vec<f32> {
    let rate = sample_rate.to_string();
    let gain = format!("{gain_db:.3}");
    let transfer = format!("-90,-90,{ceiling_db:.3},{ceiling_db:.3},0,{ceiling_db:.3}");
    pipe_f32(
        "sox",
        &[
            "-V1",
            "-t",
            "f32",
            "-r",
            &rate,
            "-c",
            "1",
            "-",
            "-t",
            "f32",
            "-",
            "gain",
            &gain,
            "compand",
            "0.001,0.1",
            &transfer,
            "0",
            "-90",
            "0.005",
        ],
        x,
    )
}

/// x42-dpl, the Digital Peak Limiter from Debian's `x42-plugins`, run offline by `lv2file`:
/// `gain_db` of input gain into a ceiling of `ceiling_db` dBFS, the plugin's default release.
pub fn x42_dpl(x: &[f32], sample_rate: u32, gain_db: f64, ceiling_db: f64) -> Vec<f32> {
    let dir = std::env::temp_dir().join(format!(
        "stem-preflight-dpl-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let (input, output) = (dir.join("in.wav"), dir.join("out.wav"));
    std::fs::write(&input, float_wav(x, sample_rate)).expect("input written");
    run_dpl(&input, &output, gain_db, ceiling_db, "mono");
    let output = output.to_str().expect("UTF-8 temporary path").to_owned();
    let limited = pipe_f32("sox", &["-V1", &output, "-t", "f32", "-"], &[]);
    std::fs::remove_dir_all(&dir).ok();
    limited
}

/// Runs x42-dpl's `layout` ("mono" or "stereo") through `lv2file` from `input` to `output`:
/// `gain_db` of input gain into a ceiling of `ceiling_db` dBFS.
pub fn run_dpl(input: &Path, output: &Path, gain_db: f64, ceiling_db: f64, layout: &str) {
    let status = Command::new("lv2file")
        .arg("-i")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(["-p", &format!("gain:{gain_db:.3}")])
        .args(["-p", &format!("threshold:{ceiling_db:.3}")])
        .args([
            "--ignore-clipping",
            &format!("http://gareus.org/oss/lv2/dpl#{layout}"),
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run lv2file ({e}): install lv2file and x42-plugins"));
    assert!(status.success(), "lv2file failed: {status}");
}

/// A mono 32-bit float WAV file.
fn float_wav(x: &[f32], sample_rate: u32) -> Vec<u8> {
    let data_len = u32::try_from(x.len() * 4).expect("under 4 GB");
    let mut wav = Vec::with_capacity(44 + x.len() * 4);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    wav.extend_from_slice(&1u16.to_le_bytes()); // one channel
    wav.extend_from_slice(&sample_rate.to_le_bytes());
    wav.extend_from_slice(&(sample_rate * 4).to_le_bytes());
    wav.extend_from_slice(&4u16.to_le_bytes());
    wav.extend_from_slice(&32u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.extend(x.iter().flat_map(|s| s.to_le_bytes()));
    wav
}

/// ffmpeg's `acompressor` as a bus compressor: `ratio`:1 above `threshold_db`, `attack_ms`,
/// 150 ms release, `makeup_db` of make-up gain.
pub fn ffmpeg_compressor(
    x: &[f32],
    sample_rate: u32,
    threshold_db: f64,
    ratio: f64,
    attack_ms: f64,
    makeup_db: f64,
) -> Vec<f32> {
    let rate = sample_rate.to_string();
    let filter = format!(
        "acompressor=threshold={:.6}:ratio={ratio}:attack={attack_ms}:release=150:makeup={:.6}",
        10f64.powf(threshold_db / 20.0),
        10f64.powf(makeup_db / 20.0)
    );
    pipe_f32(
        "ffmpeg",
        &[
            "-v", "error", "-f", "f32le", "-ar", &rate, "-ac", "1", "-i", "pipe:0", "-af", &filter,
            "-f", "f32le", "pipe:1",
        ],
        x,
    )
}
