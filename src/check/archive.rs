//! Reading a ZIP of stems in place: its entries are listed and read straight out of the
//! archive, never unpacked to disk. A stored entry is a window onto the archive file; a
//! deflated one is inflated as it is read (seeking back starts the inflation over), so memory
//! stays small whatever the archive holds.
//!
//! An entry is named by a path inside the archive's: `Song_stems.zip/Stems/Bass.wav`. Archives
//! are not trusted: entries whose data overlap (the trick of non-recursive zip bombs), larger
//! than a WAV can be, encrypted, compressed other than stored or deflated, or that inflate to
//! less than they declare all get a clear error.

use flate2::read::DeflateDecoder;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A RIFF WAV or AIFF file holds at most 4 GiB; an entry that says it is larger is refused
/// before a byte of it is read.
pub const LARGEST_ENTRY: u64 = 1 << 32;
/// More entries than any delivery has, so a hostile directory cannot cost minutes.
const MOST_ENTRIES: usize = 10_000;

/// The first bytes of a ZIP file (a local header; an empty archive starts with its end record).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// An archive that cannot be read, with why.
fn damaged(archive: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: not a readable ZIP archive ({why})", archive.display()),
    )
}

/// Clutter that archivers add and no one delivers: macOS resource forks and Finder files.
fn is_clutter(name: &str) -> bool {
    name.split('/').any(|part| {
        part == "__MACOSX" || part.starts_with("._") || part == ".DS_Store" || part == "Thumbs.db"
    })
}

/// The files in `archive` as paths inside it (`archive/inner/name.wav`), in the archive's
/// order, clutter and folders left out.
pub fn entries(archive: &Path) -> io::Result<Vec<PathBuf>> {
    let mut zip = zip::ZipArchive::new(File::open(archive)?).map_err(|e| damaged(archive, e))?;
    if zip.len() > MOST_ENTRIES {
        return Err(damaged(archive, format!("{} entries", zip.len())));
    }
    let mut spans = Vec::new();
    let mut paths = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| damaged(archive, e))?;
        let name = entry.name().map_err(|e| damaged(archive, e))?.into_owned();
        if entry.is_dir() || is_clutter(&name) {
            continue;
        }
        let inner = inner_path(&name).ok_or_else(|| {
            damaged(
                archive,
                format!("the entry name \"{name}\" leaves the archive"),
            )
        })?;
        let start = entry.data_start().unwrap_or(entry.header_start());
        spans.push((start, start + entry.compressed_size(), name));
        paths.push(archive.join(inner));
    }
    spans.sort();
    for pair in spans.windows(2) {
        if pair[1].0 < pair[0].1 {
            let why = format!("\"{}\" and \"{}\" share their data", pair[0].2, pair[1].2);
            return Err(damaged(archive, why));
        }
    }
    Ok(paths)
}

/// An entry's name as a relative path, or `None` when it would climb out (`..`, a root, a
/// drive).
fn inner_path(name: &str) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    for part in name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
    {
        if part == ".." || part.contains(':') {
            return None;
        }
        path.push(part);
    }
    (!name.starts_with(['/', '\\']) && path.components().next().is_some()).then_some(path)
}

/// Where `path` lies inside a ZIP archive: (the archive, the entry's name), or `None` when no
/// ancestor of it is a file.
pub fn split(path: &Path) -> Option<(&Path, String)> {
    let archive = path.ancestors().skip(1).find(|a| a.is_file())?;
    let inner = path.strip_prefix(archive).ok()?;
    let parts: Vec<String> = inner
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some((archive, parts.join("/")))
}

/// Opens the entry `name` of `archive` for reading and seeking.
pub fn open_entry(archive: &Path, name: &str) -> io::Result<EntryReader> {
    let mut zip = zip::ZipArchive::new(File::open(archive)?).map_err(|e| damaged(archive, e))?;
    let wanted = inner_path(name);
    let index = (0..zip.len())
        .find(|&i| {
            let entry = zip.by_index_raw(i);
            entry.is_ok_and(|e| {
                e.name()
                    .is_ok_and(|n| wanted.is_some() && inner_path(&n) == wanted)
            })
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no entry \"{name}\"", archive.display()),
            )
        })?;
    let entry = zip.by_index_raw(index).map_err(|e| damaged(archive, e))?;
    if entry.encrypted() {
        return Err(damaged(archive, format!("\"{name}\" is encrypted")));
    }
    let size = entry.size();
    if size > LARGEST_ENTRY {
        let why = format!("\"{name}\" claims {size} bytes, more than a WAV file can hold");
        return Err(damaged(archive, why));
    }
    let start = entry
        .data_start()
        .ok_or_else(|| damaged(archive, "no data"))?;
    let window = Window::new(File::open(archive)?, start, entry.compressed_size());
    match entry.compression() {
        zip::CompressionMethod::Stored if entry.compressed_size() != size => {
            let stored = entry.compressed_size();
            let why = format!("\"{name}\" declares {size} bytes but stores {stored}");
            Err(damaged(archive, why))
        }
        zip::CompressionMethod::Stored => Ok(EntryReader::Stored(window)),
        zip::CompressionMethod::Deflated => Ok(EntryReader::Deflated(Box::new(Inflating::new(
            window,
            size,
            format!("{}: \"{name}\"", archive.display()),
        )))),
        other => Err(damaged(
            archive,
            format!(
                "\"{name}\" is compressed with {other}; only stored and deflated entries are read"
            ),
        )),
    }
}

/// One entry's bytes, read in place.
#[derive(Debug)]
pub enum EntryReader {
    /// Stored: the archive's own bytes.
    Stored(Window),
    /// Deflated: inflated on the way.
    Deflated(Box<Inflating>),
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Stored(window) => window.read(buf),
            Self::Deflated(inflating) => inflating.read(buf),
        }
    }
}

impl Seek for EntryReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Self::Stored(window) => window.seek(to),
            Self::Deflated(inflating) => inflating.seek(to),
        }
    }
}

/// The new position after `to`, for a stream of `len` bytes now at `at`.
fn seek_target(to: SeekFrom, at: u64, len: u64) -> io::Result<u64> {
    let target = match to {
        SeekFrom::Start(n) => Some(n),
        SeekFrom::End(d) => len.checked_add_signed(d),
        SeekFrom::Current(d) => at.checked_add_signed(d),
    };
    target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))
}

/// A byte range of a file, read as a file of its own.
#[derive(Debug)]
pub struct Window {
    file: File,
    start: u64,
    len: u64,
    at: u64,
    /// Whether the file's own position is `start + at`.
    placed: bool,
}

impl Window {
    fn new(file: File, start: u64, len: u64) -> Self {
        Self {
            file,
            start,
            len,
            at: 0,
            placed: false,
        }
    }

    /// The same range from its start.
    fn reopened(&self) -> io::Result<Self> {
        Ok(Self::new(self.file.try_clone()?, self.start, self.len))
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.at);
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        if !self.placed {
            self.file.seek(SeekFrom::Start(self.start + self.at))?;
            self.placed = true;
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the archive ends inside an entry",
            ));
        }
        self.at += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = seek_target(to, self.at, self.len)?;
        if target != self.at {
            self.at = target;
            self.placed = false;
        }
        Ok(target)
    }
}

/// A deflated entry, inflated as it is read. Seeking only moves a mark: the inflation catches
/// up (or starts over, for a mark behind it) at the next read.
#[derive(Debug)]
pub struct Inflating {
    decoder: DeflateDecoder<Window>,
    /// Bytes the entry declares.
    size: u64,
    /// Bytes inflated so far.
    inflated: u64,
    /// Where the next read starts.
    at: u64,
    /// For errors: the archive and the entry.
    what: String,
}

impl Inflating {
    fn new(window: Window, size: u64, what: String) -> Self {
        Self {
            decoder: DeflateDecoder::new(window),
            size,
            inflated: 0,
            at: 0,
            what,
        }
    }

    fn truncated(&self) -> io::Error {
        // Not `UnexpectedEof`: the decoder would read that as a short header.
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} inflates to {} bytes but declares {}: the archive is damaged",
                self.what, self.inflated, self.size
            ),
        )
    }

    /// Inflates into `buf`, at most up to the declared size; a stream that ends before it is
    /// damaged.
    fn inflate(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.size - self.inflated;
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.decoder.read(&mut buf[..want])?;
        if n == 0 {
            return Err(self.truncated());
        }
        self.inflated += n as u64;
        Ok(n)
    }
}

impl Read for Inflating {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.size {
            return Ok(0);
        }
        if self.at < self.inflated {
            let fresh = self.decoder.get_ref().reopened()?;
            self.decoder.reset(fresh);
            self.inflated = 0;
        }
        let mut skip = [0u8; 1 << 13];
        while self.inflated < self.at {
            let step = (self.at - self.inflated).min(skip.len() as u64) as usize;
            self.inflate(&mut skip[..step])?;
        }
        let n = self.inflate(buf)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl Seek for Inflating {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.at = seek_target(to, self.at, self.size)?;
        Ok(self.at)
    }
}
