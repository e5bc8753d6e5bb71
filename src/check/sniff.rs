//! What a file is, from its first bytes (names lie: an MP3 renamed to .wav is still an MP3).

/// The kinds of file found in an export folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// RIFF WAVE or RF64.
    Wav,
    /// AIFF or AIFF-C.
    Aiff,
    /// A lossy or compressed audio format that is not a deliverable.
    OtherAudio(&'static str),
    /// Anything else.
    NotAudio,
}

/// Identifies a file from its first 12 (or more) bytes and, for formats without a signature
/// (MP3 without ID3, raw AAC), the extension.
pub fn sniff(head: &[u8], extension: &str) -> FileKind {
    let at = |range: std::ops::Range<usize>| head.get(range).unwrap_or(&[]);
    match (at(0..4), at(8..12)) {
        (b"RIFF" | b"RF64", b"WAVE") => return FileKind::Wav,
        (b"FORM", b"AIFF" | b"AIFC") => return FileKind::Aiff,
        (b"fLaC", _) => return FileKind::OtherAudio("FLAC"),
        (b"OggS", _) => return FileKind::OtherAudio("Ogg (Vorbis or Opus)"),
        (b"caff", _) => return FileKind::OtherAudio("Core Audio (CAF)"),
        (b"wvpk", _) => return FileKind::OtherAudio("WavPack"),
        (b"MAC ", _) => return FileKind::OtherAudio("Monkey's Audio"),
        _ => {}
    }
    if at(4..8) == b"ftyp" {
        return FileKind::OtherAudio("MPEG-4 audio (AAC or ALAC)");
    }
    if at(0..3) == b"ID3" {
        return FileKind::OtherAudio("MP3");
    }
    if let [0xFF, second, ..] = head {
        match second & 0xF6 {
            0xF0 => return FileKind::OtherAudio("AAC"),
            _ if second & 0xE0 == 0xE0 => return FileKind::OtherAudio("MP3"),
            _ => {}
        }
    }
    match extension.to_ascii_lowercase().as_str() {
        "mp3" => FileKind::OtherAudio("MP3"),
        "aac" | "m4a" => FileKind::OtherAudio("AAC"),
        "ogg" | "opus" => FileKind::OtherAudio("Ogg (Vorbis or Opus)"),
        "flac" => FileKind::OtherAudio("FLAC"),
        "wma" => FileKind::OtherAudio("WMA"),
        _ => FileKind::NotAudio,
    }
}

/// True for formats that lose audio in encoding (as opposed to lossless but not deliverable).
pub fn is_lossy(name: &str) -> bool {
    matches!(name, "MP3" | "AAC" | "Ogg (Vorbis or Opus)" | "WMA")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_beat_extensions() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ", "mp3"), FileKind::Wav);
        assert_eq!(sniff(b"FORM\0\0\0\0AIFC", "wav"), FileKind::Aiff);
        assert_eq!(
            sniff(b"ID3\x04\0\0\0\0\0\0\0\0", "wav"),
            FileKind::OtherAudio("MP3")
        );
        assert_eq!(
            sniff(&[0xFF, 0xFB, 0x90, 0x00], "wav"),
            FileKind::OtherAudio("MP3")
        );
        assert_eq!(
            sniff(&[0xFF, 0xF1, 0x50, 0x80], "wav"),
            FileKind::OtherAudio("AAC")
        );
        assert_eq!(
            sniff(b"fLaC\0\0\0\x22", "wav"),
            FileKind::OtherAudio("FLAC")
        );
        assert_eq!(
            sniff(b"OggS\0\x02", "wav"),
            FileKind::OtherAudio("Ogg (Vorbis or Opus)")
        );
        assert_eq!(
            sniff(b"\0\0\0\x20ftypM4A ", "wav"),
            FileKind::OtherAudio("MPEG-4 audio (AAC or ALAC)")
        );
        assert_eq!(sniff(b"hello", "txt"), FileKind::NotAudio);
        assert_eq!(sniff(b"hello", "wav"), FileKind::NotAudio);
        assert_eq!(sniff(b"", "mp3"), FileKind::OtherAudio("MP3"));
    }
}
