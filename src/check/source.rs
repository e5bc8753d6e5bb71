//! Where a file's bytes come from: the disk, or an entry of a ZIP archive named by a path
//! inside the archive's (`Song_stems.zip/Bass.wav`).

use super::archive::{self, EntryReader};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// An open file or archive entry.
#[derive(Debug)]
pub enum Source {
    /// A file on disk.
    File(File),
    /// An entry of a ZIP archive, read in place.
    Entry(EntryReader),
}

/// Opens `path`: a file, or else an entry of the archive that its nearest existing ancestor
/// is.
pub fn open(path: &Path) -> io::Result<Source> {
    match File::open(path) {
        Ok(file) if !path.is_dir() => Ok(Source::File(file)),
        Ok(_) => Err(io::Error::other(format!("{} is a folder", path.display()))),
        Err(error) => match archive::split(path) {
            Some((zip, name)) => Ok(Source::Entry(archive::open_entry(zip, &name)?)),
            None => Err(error),
        },
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::File(file) => file.read(buf),
            Self::Entry(entry) => entry.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Self::File(file) => file.seek(to),
            Self::Entry(entry) => entry.seek(to),
        }
    }
}
