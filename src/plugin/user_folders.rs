//! Where the user's documents and per-user program data live. On Windows the shell's known
//! folders say (Documents may be moved or synced elsewhere, and `%USERPROFILE%\Documents` then
//! is not it); elsewhere the XDG variables and the home folder.

use std::path::PathBuf;

/// The user's documents folder, if the system names one.
pub fn documents() -> Option<PathBuf> {
    #[cfg(windows)]
    {
        known_folder::path(&known_folder::DOCUMENTS)
    }
    #[cfg(not(windows))]
    {
        std::env::var_os("XDG_DOCUMENTS_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Documents")))
    }
}

/// The per-user folder for a program's local data (Windows: `%LOCALAPPDATA%`, from the
/// shell), if the system names one. Elsewhere `None`: the runtime folder is used there.
pub fn local_app_data() -> Option<PathBuf> {
    #[cfg(windows)]
    {
        known_folder::path(&known_folder::LOCAL_APP_DATA)
    }
    #[cfg(not(windows))]
    {
        None
    }
}

#[cfg(windows)]
mod known_folder {
    use std::ffi::{c_void, OsString};
    use std::os::windows::ffi::OsStringExt;
    use std::path::PathBuf;

    /// A Windows GUID, as `KNOWNFOLDERID` lays it out.
    #[repr(C)]
    pub struct Guid(u32, u16, u16, [u8; 8]);

    /// FOLDERID_Documents, {FDD39AD0-238F-46AF-ADB4-6C85480369C7}.
    pub const DOCUMENTS: Guid = Guid(
        0xFDD3_9AD0,
        0x238F,
        0x46AF,
        [0xAD, 0xB4, 0x6C, 0x85, 0x48, 0x03, 0x69, 0xC7],
    );
    /// FOLDERID_LocalAppData, {F1B32785-6FBA-4FCF-9D55-7B8E7F157091}.
    pub const LOCAL_APP_DATA: Guid = Guid(
        0xF1B3_2785,
        0x6FBA,
        0x4FCF,
        [0x9D, 0x55, 0x7B, 0x8E, 0x7F, 0x15, 0x70, 0x91],
    );

    #[link(name = "shell32")]
    extern "system" {
        fn SHGetKnownFolderPath(
            id: *const Guid,
            flags: u32,
            token: *mut c_void,
            path: *mut *mut u16,
        ) -> i32;
    }

    #[link(name = "ole32")]
    extern "system" {
        fn CoTaskMemFree(memory: *mut c_void);
    }

    /// The folder's path, or `None` when the shell does not know it.
    pub fn path(id: &Guid) -> Option<PathBuf> {
        let mut wide: *mut u16 = std::ptr::null_mut();
        // SAFETY: `id` points to a GUID; the shell allocates the string it writes to `wide`,
        // which is freed below whatever the result (CoTaskMemFree accepts null).
        let result = unsafe { SHGetKnownFolderPath(id, 0, std::ptr::null_mut(), &mut wide) };
        let path = (result >= 0 && !wide.is_null()).then(|| {
            // SAFETY: on success `wide` is a NUL-terminated UTF-16 string.
            let len = (0..).take_while(|&i| unsafe { *wide.add(i) } != 0).count();
            let units = unsafe { std::slice::from_raw_parts(wide, len) };
            PathBuf::from(OsString::from_wide(units))
        });
        // SAFETY: `wide` came from the shell's allocator, or is null.
        unsafe { CoTaskMemFree(wide.cast()) };
        path
    }
}

#[cfg(test)]
mod tests {
    #[cfg(windows)]
    use super::*;

    #[cfg(windows)]
    #[test]
    fn windows_names_the_known_folders() {
        let documents = documents().expect("the shell knows Documents");
        let local = local_app_data().expect("the shell knows LocalAppData");
        assert!(
            documents.is_absolute() && documents.is_dir(),
            "{documents:?}"
        );
        assert!(local.is_absolute() && local.is_dir(), "{local:?}");
        assert_ne!(documents, local);
    }
}
