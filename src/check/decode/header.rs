//! The WAV and AIFF headers: every size checked against the file before it is trusted.

use std::io::{self, Read, Seek, SeekFrom};

use super::format::{malformed, AudioFormat, ByteOrder, Container, DecodeError, Encoding};

/// Channels beyond this are treated as a corrupt header, not a surround stem.
const MAX_CHANNELS: u16 = 64;
/// Sample rates outside this range are treated as a corrupt header.
const RATE_RANGE: (u32, u32) = (1_000, 1_536_000);

pub(super) struct Header {
    pub format: AudioFormat,
    pub order: ByteOrder,
    pub data_start: u64,
    pub declared_frames: u64,
}

fn read_array<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn read_u16_le(r: &mut impl Read) -> io::Result<u16> {
    read_array(r).map(u16::from_le_bytes)
}

fn read_u32_le(r: &mut impl Read) -> io::Result<u32> {
    read_array(r).map(u32::from_le_bytes)
}

fn read_u64_le(r: &mut impl Read) -> io::Result<u64> {
    read_array(r).map(u64::from_le_bytes)
}

fn read_u16_be(r: &mut impl Read) -> io::Result<u16> {
    read_array(r).map(u16::from_be_bytes)
}

fn read_u32_be(r: &mut impl Read) -> io::Result<u32> {
    read_array(r).map(u32::from_be_bytes)
}

fn read_id(r: &mut impl Read) -> io::Result<[u8; 4]> {
    read_array(r)
}

fn check_layout(channels: u16, sample_rate: u32) -> Result<(), DecodeError> {
    if channels == 0 || channels > MAX_CHANNELS {
        return malformed(format!("{channels} channels in the header"));
    }
    if !(RATE_RANGE.0..=RATE_RANGE.1).contains(&sample_rate) {
        return malformed(format!("a sample rate of {sample_rate} Hz in the header"));
    }
    Ok(())
}

pub(super) fn read_wav_header(
    r: &mut (impl Read + Seek),
    riff: &[u8],
    file_len: u64,
) -> Result<Header, DecodeError> {
    let mut format: Option<(Encoding, u32, u16)> = None;
    let mut data: Option<(u64, u64)> = None; // (start, bytes)
    let mut rf64_data_size: Option<u64> = None;
    let mut position = 12u64;
    while position + 8 <= file_len {
        let id = read_id(r)?;
        let size = u64::from(read_u32_le(r)?);
        let body = position + 8;
        match &id {
            b"ds64" if riff == b"RF64" => {
                let _riff_size = read_u64_le(r)?;
                rf64_data_size = Some(read_u64_le(r)?);
                r.seek(SeekFrom::Start(body))?;
            }
            b"fmt " => {
                if size < 16 {
                    return malformed("a fmt chunk shorter than 16 bytes");
                }
                let tag = read_u16_le(r)?;
                let channels = read_u16_le(r)?;
                let rate = read_u32_le(r)?;
                let _byte_rate = read_u32_le(r)?;
                let block_align = read_u16_le(r)?;
                let bits = read_u16_le(r)?;
                let tag = if tag == 0xFFFE {
                    if size < 40 {
                        return malformed("an extensible fmt chunk shorter than 40 bytes");
                    }
                    let mut ext = [0u8; 8];
                    r.read_exact(&mut ext)?; // cbSize, valid bits, channel mask
                    read_u16_le(r)? // first two bytes of the sub-format GUID
                } else {
                    tag
                };
                let encoding = match (tag, bits) {
                    (1, 8 | 16 | 24 | 32) => Encoding::Int { bits },
                    (3, 32 | 64) => Encoding::Float { bits },
                    (1 | 3, _) => {
                        return Err(DecodeError::Unsupported(format!(
                            "{bits}-bit samples: export 24-bit or 32-bit float WAV"
                        )))
                    }
                    (0x55, _) => {
                        return Err(DecodeError::Unsupported(
                            "MP3 inside a WAV file is lossy: export PCM WAV from the session"
                                .into(),
                        ))
                    }
                    (tag, _) => {
                        return Err(DecodeError::Unsupported(format!(
                            "WAV with compression format 0x{tag:04X}: export uncompressed PCM WAV"
                        )))
                    }
                };
                check_layout(channels, rate)?;
                if u32::from(block_align) != u32::from(channels) * u32::from(bits / 8) {
                    return malformed(format!(
                        "block size {block_align} does not fit {channels} channels of {bits} bits"
                    ));
                }
                format = Some((encoding, rate, channels));
            }
            b"data" => {
                let bytes = match rf64_data_size {
                    Some(big) if size == 0xFFFF_FFFF => big,
                    _ => size,
                };
                data = Some((body, bytes));
                if format.is_some() {
                    break;
                }
            }
            _ => {}
        }
        position = body.saturating_add(size).saturating_add(size & 1);
        r.seek(SeekFrom::Start(position.min(file_len)))?;
    }
    let Some((encoding, sample_rate, channels)) = format else {
        return malformed("no fmt chunk");
    };
    let Some((data_start, data_bytes)) = data else {
        return malformed("no data chunk");
    };
    let frame_bytes = u64::from(channels) * u64::from(encoding.bits() / 8);
    Ok(Header {
        format: AudioFormat {
            container: Container::Wav,
            encoding,
            sample_rate,
            channels,
            frames: 0,
        },
        order: ByteOrder::Little,
        data_start,
        declared_frames: data_bytes / frame_bytes,
    })
}

/// An 80-bit IEEE 754 extended float (AIFF's sample rate) as f64.
fn extended_to_f64(b: [u8; 10]) -> f64 {
    let sign = if b[0] & 0x80 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from(u16::from_be_bytes([b[0] & 0x7F, b[1]]));
    let mantissa = u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]);
    if exponent == 0 && mantissa == 0 {
        return 0.0;
    }
    sign * mantissa as f64 * 2f64.powi(exponent - 16383 - 63)
}

pub(super) fn read_aiff_header(
    r: &mut (impl Read + Seek),
    compressed: bool,
    file_len: u64,
) -> Result<Header, DecodeError> {
    let mut common: Option<(Encoding, ByteOrder, u32, u16, u64)> = None;
    let mut data_start: Option<u64> = None;
    let mut position = 12u64;
    while position + 8 <= file_len {
        let id = read_id(r)?;
        let size = u64::from(read_u32_be(r)?);
        let body = position + 8;
        match &id {
            b"COMM" => {
                let channels = read_u16_be(r)?;
                let frames = u64::from(read_u32_be(r)?);
                let bits = read_u16_be(r)?;
                let mut rate = [0u8; 10];
                r.read_exact(&mut rate)?;
                let rate = extended_to_f64(rate);
                let kind = if compressed { read_id(r)? } else { *b"NONE" };
                let (encoding, order) = match (&kind, bits) {
                    (b"NONE" | b"twos", 8 | 16 | 24 | 32) => {
                        (Encoding::Int { bits }, ByteOrder::Big)
                    }
                    (b"sowt", 16 | 24 | 32) => (Encoding::Int { bits }, ByteOrder::Little),
                    (b"fl32" | b"FL32", _) => (Encoding::Float { bits: 32 }, ByteOrder::Big),
                    (b"fl64" | b"FL64", _) => (Encoding::Float { bits: 64 }, ByteOrder::Big),
                    (b"NONE" | b"twos" | b"sowt", _) => {
                        return Err(DecodeError::Unsupported(format!(
                            "{bits}-bit samples: export 24-bit AIFF or WAV"
                        )))
                    }
                    (other, _) => {
                        return Err(DecodeError::Unsupported(format!(
                            "AIFF-C compressed as '{}': export uncompressed AIFF or WAV",
                            String::from_utf8_lossy(other)
                        )))
                    }
                };
                if !(rate.is_finite() && rate >= 1.0 && rate.fract() == 0.0 && rate < 1e7) {
                    return malformed(format!("a sample rate of {rate} Hz in the header"));
                }
                check_layout(channels, rate as u32)?;
                common = Some((encoding, order, rate as u32, channels, frames));
            }
            b"SSND" => {
                let offset = u64::from(read_u32_be(r)?);
                data_start = Some(body + 8 + offset);
            }
            _ => {}
        }
        position = body.saturating_add(size).saturating_add(size & 1);
        r.seek(SeekFrom::Start(position.min(file_len)))?;
    }
    let Some((encoding, order, sample_rate, channels, frames)) = common else {
        return malformed("no COMM chunk");
    };
    // An empty AIFF may omit the sound chunk.
    let data_start = match data_start {
        Some(start) => start,
        None if frames == 0 => file_len,
        None => return malformed("no SSND chunk"),
    };
    Ok(Header {
        format: AudioFormat {
            container: Container::Aiff,
            encoding,
            sample_rate,
            channels,
            frames: 0,
        },
        order,
        data_start,
        declared_frames: frames,
    })
}

#[cfg(test)]
mod tests {
    use super::extended_to_f64;

    #[test]
    fn aiff_rate_from_80_bit_float() {
        // 44100 Hz and 48000 Hz as written by every AIFF writer.
        assert_eq!(
            extended_to_f64([0x40, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0]),
            44_100.0
        );
        assert_eq!(
            extended_to_f64([0x40, 0x0E, 0xBB, 0x80, 0, 0, 0, 0, 0, 0]),
            48_000.0
        );
    }
}
