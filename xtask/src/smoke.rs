//! Loads an installed CLAP bundle the way a host's scanner does and prints what it finds.

use clap_sys::entry::clap_plugin_entry;
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use std::ffi::{c_char, CStr, CString};
use std::path::Path;

/// Opens `bundle`, initialises its CLAP entry, and describes each plugin in its factory.
pub fn describe_clap(bundle: &Path) -> Result<Vec<String>, String> {
    let fail = |what: &str| format!("{}: {what}", bundle.display());
    // SAFETY: loading a plugin runs its initialisers; this is the bundle we just built.
    let library = unsafe { libloading::Library::new(bundle) }.map_err(|e| fail(&e.to_string()))?;
    // SAFETY: `clap_entry` is the CLAP ABI's exported entry struct.
    let entry: libloading::Symbol<*const clap_plugin_entry> =
        unsafe { library.get(b"clap_entry\0") }.map_err(|_| fail("no clap_entry symbol"))?;
    // SAFETY: a valid CLAP library exports a valid, static entry.
    let entry = unsafe { &**entry };
    let path = CString::new(bundle.to_string_lossy().as_bytes()).map_err(|_| fail("bad path"))?;
    let mut found = Vec::new();
    // SAFETY: the CLAP ABI: init once, query the factory, deinit after use.
    unsafe {
        let init = entry.init.ok_or_else(|| fail("entry has no init"))?;
        if !init(path.as_ptr()) {
            return Err(fail("the plugin refused to initialise"));
        }
        let factory = entry
            .get_factory
            .map(|get| get(CLAP_PLUGIN_FACTORY_ID.as_ptr()) as *const clap_plugin_factory)
            .filter(|f| !f.is_null())
            .ok_or_else(|| fail("no plugin factory"))?;
        let count = (*factory).get_plugin_count.map_or(0, |c| c(factory));
        for index in 0..count {
            let Some(descriptor) = (*factory).get_plugin_descriptor.map(|d| d(factory, index))
            else {
                continue;
            };
            if descriptor.is_null() {
                continue;
            }
            let d = &*descriptor;
            let mut features = Vec::new();
            let mut feature = d.features;
            while !feature.is_null() && !(*feature).is_null() {
                features.push(text(*feature));
                feature = feature.add(1);
            }
            found.push(format!(
                "{} {} ({}), filed under: {}",
                text(d.name),
                text(d.version),
                text(d.id),
                features.join(", ")
            ));
        }
        if let Some(deinit) = entry.deinit {
            deinit();
        }
    }
    Ok(found)
}

/// # Safety
/// `ptr` is null or a NUL-terminated string.
unsafe fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        String::new()
    } else {
        // SAFETY: see the function's contract.
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    }
}
