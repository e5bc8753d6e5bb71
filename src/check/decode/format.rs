//! What a decoded file is: container, encoding, layout; and why one could not be read.

use std::fmt;
use std::io;

/// The container a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Container {
    /// RIFF WAVE (or RF64 for files over 4 GB).
    Wav,
    /// AIFF or AIFF-C.
    Aiff,
}

/// How samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Encoding {
    /// Linear PCM integers of `bits` bits (8 to 32).
    Int {
        /// Bits per sample.
        bits: u16,
    },
    /// IEEE floating point, 32 or 64 bits.
    Float {
        /// Bits per sample.
        bits: u16,
    },
}

impl Encoding {
    /// Bits per sample in the file.
    pub fn bits(self) -> u16 {
        match self {
            Self::Int { bits } | Self::Float { bits } => bits,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int { bits } => write!(f, "{bits}-bit integer PCM"),
            Self::Float { bits } => write!(f, "{bits}-bit float"),
        }
    }
}

/// What a file's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AudioFormat {
    /// Container.
    pub container: Container,
    /// Sample encoding.
    pub encoding: Encoding,
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
    /// Frames the file holds (the header's count, cut to what the file really contains).
    pub frames: u64,
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum DecodeError {
    /// The operating system refused or failed the read.
    Io(io::Error),
    /// The bytes are not a WAV or AIFF file, or the header contradicts itself.
    Malformed(String),
    /// A valid file in an encoding we do not read (and a deliverable should not use).
    Unsupported(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read the file: {e}"),
            Self::Malformed(why) => write!(f, "damaged or not audio: {why}"),
            Self::Unsupported(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<io::Error> for DecodeError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Self::Malformed("the header ends early".into())
        } else {
            Self::Io(e)
        }
    }
}

pub(super) fn malformed<T>(why: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError::Malformed(why.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ByteOrder {
    Little,
    Big,
}
