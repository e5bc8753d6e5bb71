//! File names: the mastering engineer sorts forty files from five songs by name alone.

use super::finding::{Check, Finding};
use std::path::Path;

/// Words that mark the reference mix.
const REFERENCE_WORDS: [&str; 5] = ["mix", "reference", "ref", "master", "stereo"];
/// Names a DAW or a hurried user gives, that say nothing about the content.
const GENERIC: [&str; 12] = [
    "stem", "export", "bounce", "audio", "untitled", "track", "final", "new", "output", "render",
    "mixdown", "file",
];

/// The parts of a `Song_Group` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StemName {
    /// Everything before the last underscore.
    pub song: String,
    /// Everything after it.
    pub group: String,
}

/// Splits a file stem (name without extension) as `Song_Group`.
pub fn parse(stem: &str) -> Option<StemName> {
    let (song, group) = stem.rsplit_once('_')?;
    let valid = |s: &str| !s.trim().is_empty() && s.chars().any(char::is_alphabetic);
    (valid(song) && valid(group)).then(|| StemName {
        song: song.to_string(),
        group: group.to_string(),
    })
}

/// The words of a name, lower case, split at anything that is not a letter.
fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// True when the name marks the reference mix ("Song_Mix", "Song Reference", "stereo master").
pub fn is_reference(stem: &str) -> bool {
    let group = parse(stem).map_or(stem.to_string(), |n| n.group);
    let found = words(&group).any(|w| REFERENCE_WORDS.contains(&w.as_str()));
    found
}

/// True when the name says nothing about what is in the file: only generic words and numbers
/// ("stem1", "export_final", "Audio 1", "untitled", "Bounce 3").
pub fn is_generic(stem: &str) -> bool {
    let mut any = false;
    for word in words(stem) {
        any = true;
        if !GENERIC.contains(&word.as_str()) {
            return false;
        }
    }
    any || stem.chars().all(|c| !c.is_alphabetic())
}

/// A warning when a file's name says nothing or does not follow Song_Group.
pub fn name_findings(path: &Path, is_reference: bool) -> Option<Finding> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let name = path.file_name()?.to_string_lossy().into_owned();
    if is_generic(&stem) {
        return Some(Finding::warn(
            Check::Name,
            format!("\"{name}\" says nothing about what it holds: name it Song_Group (e.g. Midnight_Drums.wav)."),
        ));
    }
    if parse(&stem).is_none() && !is_reference {
        return Some(Finding::warn(
            Check::Name,
            format!("\"{name}\" does not follow Song_Group (e.g. Midnight_Drums.wav): the mastering engineer sorts stems of several songs by name."),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn song_and_group() {
        assert_eq!(
            parse("Midnight Drive_Drums"),
            Some(StemName {
                song: "Midnight Drive".into(),
                group: "Drums".into()
            })
        );
        assert_eq!(parse("my_song_Lead Vox").unwrap().group, "Lead Vox");
        assert_eq!(parse("Drums"), None);
        assert_eq!(parse("_Drums"), None);
        assert_eq!(parse("Song_01"), None);
    }

    #[test]
    fn generic_names() {
        for name in [
            "stem1",
            "export_final",
            "Audio 1",
            "untitled",
            "bounce",
            "Bounce 3",
            "01",
        ] {
            assert!(is_generic(name), "{name}");
        }
        for name in ["Song_Drums", "kick", "Midnight_Bass"] {
            assert!(!is_generic(name), "{name}");
        }
    }

    #[test]
    fn reference_names() {
        for name in [
            "Song_Mix",
            "Song_Reference",
            "Song_Stereo Master",
            "mix",
            "Song_Ref",
        ] {
            assert!(is_reference(name), "{name}");
        }
        // "Remix" in the song's title is not the reference.
        for name in ["Remix_Drums", "Song_Drums", "Mixolydian_Bass"] {
            assert!(!is_reference(name), "{name}");
        }
    }
}
