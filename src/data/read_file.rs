//! Reading whole data files, with errors that say what to download.

use std::path::{Path, PathBuf};

use super::DataError;

/// Checks that `dir` is an existing directory.
pub(crate) fn require_dir(dir: &Path, hint: &str) -> Result<(), DataError> {
    if dir.is_dir() {
        Ok(())
    } else if dir.exists() {
        Err(DataError::NotAFolder {
            path: dir.to_path_buf(),
        })
    } else {
        Err(DataError::NotFound {
            path: dir.to_path_buf(),
            hint: hint.to_owned(),
        })
    }
}

/// Reads all of `path`; a missing file becomes [`DataError::NotFound`] with `hint`.
pub(crate) fn read_file(path: &Path, hint: &str) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::from_io(path, e, hint))
}

/// The first of `candidates` (file names in `dir`) that exists, else the first one.
pub(crate) fn first_existing(dir: &Path, candidates: &[&str]) -> PathBuf {
    candidates
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join(candidates.first().copied().unwrap_or_default()))
}
