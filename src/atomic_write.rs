//! Output files written whole or not at all: a temporary file beside the target,
//! flushed, then renamed over it. One mechanism for results, plots, tables and exports.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name beside `path`: `.NAME.tmp` in the same folder (so the rename
/// stays on one file system).
pub(crate) fn tmp_beside(path: &Path) -> PathBuf {
    let mut name = OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to [`tmp_beside`]`(path)`, flushes it to the disk and renames it to
/// `path`; on failure the temporary file is removed and `path` is untouched.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_beside(path);
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}
