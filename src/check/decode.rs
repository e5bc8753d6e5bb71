//! WAV (RIFF, RF64, WAVE_FORMAT_EXTENSIBLE) and AIFF/AIFF-C decoding, streamed in blocks.
//!
//! Our own parser: the checker must say exactly what a file holds (integer or float, how many
//! bits, which container) and survive any header a broken exporter writes. Every size in a
//! header is checked against the file before it is trusted.

mod format;
mod header;

use std::io::{Read, Seek, SeekFrom};

use format::{malformed, ByteOrder};
pub use format::{AudioFormat, Container, DecodeError, Encoding};
use header::{read_aiff_header, read_wav_header};

/// A decoder positioned at the start of the sample data.
pub struct AudioReader<R> {
    source: R,
    format: AudioFormat,
    order: ByteOrder,
    /// Frames the header promised; more than `format.frames` when the file was cut short.
    declared_frames: u64,
    /// Byte offset of the first frame.
    data_start: u64,
    frames_left: u64,
    /// Raw bytes of one block.
    raw: Vec<u8>,
    /// OR of every integer sample read, shifted to the top of an i32: its trailing zeros tell
    /// how many low bits were never used.
    used_bits: u32,
}

impl<R: Read + Seek> AudioReader<R> {
    /// Reads the header of a WAV or AIFF stream and stops at the first sample.
    pub fn new(mut source: R) -> Result<Self, DecodeError> {
        let file_len = source.seek(SeekFrom::End(0))?;
        source.seek(SeekFrom::Start(0))?;
        let mut magic = [0u8; 12];
        source.read_exact(&mut magic)?;
        let header = match (&magic[0..4], &magic[8..12]) {
            (b"RIFF" | b"RF64", b"WAVE") => read_wav_header(&mut source, &magic[0..4], file_len)?,
            (b"FORM", b"AIFF") => read_aiff_header(&mut source, false, file_len)?,
            (b"FORM", b"AIFC") => read_aiff_header(&mut source, true, file_len)?,
            _ => return malformed("no RIFF/WAVE or FORM/AIFF header"),
        };
        source.seek(SeekFrom::Start(header.data_start))?;
        let frame_bytes =
            header.format.channels as u64 * (header.format.encoding.bits() as u64 / 8);
        let available = file_len.saturating_sub(header.data_start) / frame_bytes;
        let frames = header.declared_frames.min(available);
        Ok(Self {
            source,
            format: AudioFormat {
                frames,
                ..header.format
            },
            order: header.order,
            declared_frames: header.declared_frames,
            data_start: header.data_start,
            frames_left: frames,
            raw: Vec::new(),
            used_bits: 0,
        })
    }
}

impl<R: Read + Seek> AudioReader<R> {
    /// Moves to frame `frame` (clamped to the end) so the next read starts there.
    pub fn seek_to_frame(&mut self, frame: u64) -> Result<(), DecodeError> {
        let frame = frame.min(self.format.frames);
        let frame_bytes =
            u64::from(self.format.channels) * u64::from(self.format.encoding.bits() / 8);
        self.source
            .seek(SeekFrom::Start(self.data_start + frame * frame_bytes))?;
        self.frames_left = self.format.frames - frame;
        Ok(())
    }
}

impl<R: Read> AudioReader<R> {
    /// The format read from the header.
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// Frames the header announced but the file does not hold (0 for a whole file).
    pub fn missing_frames(&self) -> u64 {
        self.declared_frames - self.format.frames
    }

    /// For integer files, how many of the container's bits carry signal so far: 16 for 16-bit
    /// audio padded into a 24-bit file. `None` for float files or before any non-zero sample.
    pub fn used_bits(&self) -> Option<u16> {
        match self.format.encoding {
            Encoding::Int { bits } if self.used_bits != 0 => {
                // Samples sit at the top of 32 bits: the container's own low bits don't count.
                let unused = self.used_bits.trailing_zeros() as u16 - (32 - bits);
                Some(bits - unused)
            }
            _ => None,
        }
    }

    /// Reads up to `max_frames` frames into one buffer per channel (resized to the frames
    /// read), as f32 in -1..1 for integers. Returns the frames read; 0 at the end.
    pub fn read_planar(
        &mut self,
        channels: &mut [Vec<f32>],
        max_frames: usize,
    ) -> Result<usize, DecodeError> {
        let n_channels = usize::from(self.format.channels);
        assert_eq!(channels.len(), n_channels, "one buffer per channel");
        let frames = (max_frames as u64).min(self.frames_left) as usize;
        let sample_bytes = usize::from(self.format.encoding.bits() / 8);
        self.raw.resize(frames * n_channels * sample_bytes, 0);
        self.source.read_exact(&mut self.raw)?;
        self.frames_left -= frames as u64;
        for buffer in channels.iter_mut() {
            buffer.resize(frames, 0.0);
        }
        let (raw, order) = (&self.raw, self.order);
        // One monomorphised loop per sample layout: this is the checker's hottest code.
        let used = match (self.format.encoding, order) {
            (Encoding::Int { bits: 8 }, _) => {
                deinterleave::<1>(raw, channels, |b| int_sample(&b, 8, order))
            }
            (Encoding::Int { bits: 16 }, ByteOrder::Little) => {
                deinterleave::<2>(raw, channels, |b| {
                    top(i32::from_le_bytes([0, 0, b[0], b[1]]))
                })
            }
            (Encoding::Int { bits: 24 }, ByteOrder::Little) => {
                deinterleave::<3>(raw, channels, |b| {
                    top(i32::from_le_bytes([0, b[0], b[1], b[2]]))
                })
            }
            (Encoding::Int { bits: 16 }, ByteOrder::Big) => deinterleave::<2>(raw, channels, |b| {
                top(i32::from_be_bytes([b[0], b[1], 0, 0]))
            }),
            (Encoding::Int { bits: 24 }, ByteOrder::Big) => deinterleave::<3>(raw, channels, |b| {
                top(i32::from_be_bytes([b[0], b[1], b[2], 0]))
            }),
            (Encoding::Int { .. }, _) => {
                deinterleave::<4>(raw, channels, |b| int_sample(&b, 32, order))
            }
            (Encoding::Float { bits: 32 }, _) => {
                deinterleave::<4>(raw, channels, |b| (f32::from_bits(word(&b, order)), 0))
            }
            (Encoding::Float { .. }, _) => deinterleave::<8>(raw, channels, |b| {
                (f64::from_bits(dword(&b, order)) as f32, 0)
            }),
        };
        self.used_bits |= used;
        Ok(frames)
    }
}

/// Splits interleaved frames of `B`-byte samples into the channel buffers (already sized);
/// `convert` returns the sample and its raw top-aligned bits. Returns the OR of those bits.
fn deinterleave<const B: usize>(
    raw: &[u8],
    channels: &mut [Vec<f32>],
    convert: impl Fn([u8; B]) -> (f32, u32),
) -> u32 {
    let stride = B * channels.len();
    let mut used = 0u32;
    for (c, buffer) in channels.iter_mut().enumerate() {
        for (out, frame) in buffer.iter_mut().zip(raw.chunks_exact(stride)) {
            let mut bytes = [0u8; B];
            bytes.copy_from_slice(&frame[c * B..c * B + B]);
            let (value, bits) = convert(bytes);
            *out = value;
            used |= bits;
        }
    }
    used
}

/// A top-aligned integer sample as f32 in -1..1, with its bits.
fn top(value: i32) -> (f32, u32) {
    (value as f32 * (1.0 / 2_147_483_648.0), value as u32)
}

fn int_sample(sample: &[u8], bits: u16, order: ByteOrder) -> (f32, u32) {
    top(int_at_top(sample, bits, order))
}

/// An integer sample moved to the top of an i32 (so every width scales alike). 8-bit WAV is
/// unsigned; 8-bit AIFF is signed.
fn int_at_top(sample: &[u8], bits: u16, order: ByteOrder) -> i32 {
    let mut bytes = [0u8; 4];
    let n = sample.len();
    match order {
        ByteOrder::Little => bytes[4 - n..].copy_from_slice(sample),
        ByteOrder::Big => {
            for (i, b) in sample.iter().rev().enumerate() {
                bytes[4 - n + i] = *b;
            }
        }
    }
    let value = i32::from_le_bytes(bytes);
    if bits == 8 && order == ByteOrder::Little {
        value ^ i32::MIN
    } else {
        value
    }
}

fn word(b: &[u8], order: ByteOrder) -> u32 {
    let b = [b[0], b[1], b[2], b[3]];
    match order {
        ByteOrder::Little => u32::from_le_bytes(b),
        ByteOrder::Big => u32::from_be_bytes(b),
    }
}

fn dword(b: &[u8], order: ByteOrder) -> u64 {
    let b = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
    match order {
        ByteOrder::Little => u64::from_le_bytes(b),
        ByteOrder::Big => u64::from_be_bytes(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn wav(tag: u16, bits: u16, channels: u16, rate: u32, data: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(b"RIFF");
        f.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        f.extend_from_slice(b"WAVEfmt ");
        f.extend_from_slice(&16u32.to_le_bytes());
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        let align = channels * bits / 8;
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f.extend_from_slice(b"data");
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        f.extend_from_slice(data);
        f
    }

    fn read_all(bytes: Vec<u8>) -> Result<(AudioFormat, Vec<Vec<f32>>), DecodeError> {
        let mut reader = AudioReader::new(Cursor::new(bytes))?;
        let format = reader.format();
        let mut out = vec![Vec::new(); usize::from(format.channels)];
        let mut all = vec![Vec::new(); usize::from(format.channels)];
        while reader.read_planar(&mut out, 3)? > 0 {
            for (a, o) in all.iter_mut().zip(&out) {
                a.extend_from_slice(o);
            }
        }
        Ok((format, all))
    }

    #[test]
    fn integer_widths_scale_to_full_scale() {
        let (_, s) = read_all(wav(1, 16, 1, 48_000, &[0x00, 0x80, 0xFF, 0x7F])).unwrap();
        assert_eq!(s[0], vec![-1.0, 32767.0 / 32768.0]);
        let (_, s) = read_all(wav(1, 24, 1, 48_000, &[0x00, 0x00, 0x40])).unwrap();
        assert_eq!(s[0], vec![0.5]);
        let (_, s) = read_all(wav(1, 8, 1, 48_000, &[0x80, 0x00])).unwrap();
        assert_eq!(s[0], vec![0.0, -1.0]);
    }

    #[test]
    fn wave_format_extensible_reads_its_sub_format() {
        // 24-bit stereo as ffmpeg writes it: a 40-byte fmt chunk, sub-format PCM.
        let mut f = wav(0xFFFE, 24, 2, 48_000, &[0, 0, 0x40, 0, 0, 0xC0]);
        let ext: [u8; 24] = [
            22, 0, 24, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B,
            0x71,
        ];
        f.splice(36..36, ext);
        f[16] = 40; // fmt size
        let (format, s) = read_all(f).unwrap();
        assert_eq!(format.encoding, Encoding::Int { bits: 24 });
        assert_eq!(s, vec![vec![0.5], vec![-0.5]]);
    }

    #[test]
    fn stereo_float_is_split_into_channels() {
        let data: Vec<u8> = [0.25f32, -0.5, 1.5, 0.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let (format, s) = read_all(wav(3, 32, 2, 44_100, &data)).unwrap();
        assert_eq!(format.encoding, Encoding::Float { bits: 32 });
        assert_eq!(s, vec![vec![0.25, 1.5], vec![-0.5, 0.0]]);
    }

    #[test]
    fn a_cut_file_reads_what_it_holds_and_says_what_is_missing() {
        let mut bytes = wav(1, 16, 1, 48_000, &[1, 0, 2, 0, 3, 0, 4, 0]);
        bytes.truncate(bytes.len() - 3); // half of sample 3 and all of sample 4 gone
        let mut reader = AudioReader::new(Cursor::new(bytes)).unwrap();
        assert_eq!(reader.format().frames, 2);
        assert_eq!(reader.missing_frames(), 2);
        let mut out = vec![Vec::new()];
        assert_eq!(reader.read_planar(&mut out, 100).unwrap(), 2);
        assert_eq!(reader.read_planar(&mut out, 100).unwrap(), 0);
    }

    #[test]
    fn absurd_headers_are_errors_not_panics() {
        let bad = [
            wav(1, 16, 0, 48_000, &[]),
            wav(1, 16, 1000, 48_000, &[]),
            wav(1, 16, 1, 0, &[]),
            b"RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff".to_vec(),
            b"RIFF".to_vec(),
            b"hello, this is not a wav file".to_vec(),
        ];
        for bytes in bad {
            assert!(matches!(
                AudioReader::new(Cursor::new(bytes)),
                Err(DecodeError::Malformed(_))
            ));
        }
        assert!(matches!(
            AudioReader::new(Cursor::new(wav(0x55, 0, 2, 44_100, &[]))),
            Err(DecodeError::Unsupported(_))
        ));
    }

    #[test]
    fn sixteen_bit_audio_in_a_24_bit_file_uses_16_bits() {
        let data: Vec<u8> = [0x1235i32 << 8, -0x0F00 << 8]
            .iter()
            .flat_map(|x| x.to_le_bytes()[..3].to_vec())
            .collect();
        let mut reader = AudioReader::new(Cursor::new(wav(1, 24, 1, 48_000, &data))).unwrap();
        reader.read_planar(&mut [Vec::new()], 10).unwrap();
        assert_eq!(reader.used_bits(), Some(16));
    }
}
