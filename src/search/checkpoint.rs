//! Atomic checkpoints: a directory written under a temporary name, then renamed.

use std::fs;
use std::path::{Path, PathBuf};

use super::{SearchError, SearchState};

const STATE: &str = "state.json";

fn ck_err(path: &Path, reason: impl std::fmt::Display) -> SearchError {
    SearchError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes a checkpoint into `dir` atomically: the state and whatever `files` writes go
/// to `dir.tmp` first, the previous checkpoint is moved aside, the new one renamed into
/// place, the old removed. A crash leaves either the old or the new checkpoint (see
/// [`locate`]).
pub(crate) fn write(
    dir: &Path,
    state: &SearchState,
    files: impl FnOnce(&Path) -> Result<(), SearchError>,
) -> Result<(), SearchError> {
    let tmp = dir.with_extension("tmp");
    let old = dir.with_extension("old");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| SearchError::io(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| SearchError::io(&tmp, e))?;
    let json = serde_json::to_vec_pretty(state).map_err(|e| ck_err(&tmp, e))?;
    fs::write(tmp.join(STATE), json).map_err(|e| SearchError::io(tmp.join(STATE), e))?;
    files(&tmp)?;
    if dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| SearchError::io(&old, e))?;
        }
        fs::rename(dir, &old).map_err(|e| SearchError::io(dir, e))?;
    }
    fs::rename(&tmp, dir).map_err(|e| SearchError::io(&tmp, e))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| SearchError::io(&old, e))?;
    }
    Ok(())
}

/// The directory holding the newest complete checkpoint: `dir`, or `dir.old` if a
/// crash interrupted the rename.
pub(crate) fn locate(dir: &Path) -> Result<PathBuf, SearchError> {
    for candidate in [dir.to_path_buf(), dir.with_extension("old")] {
        if candidate.join(STATE).is_file() {
            return Ok(candidate);
        }
    }
    Err(ck_err(dir, "no checkpoint here (state.json is missing)"))
}

/// Reads the state of the checkpoint in `dir`.
pub(crate) fn read_state(dir: &Path) -> Result<SearchState, SearchError> {
    let path = dir.join(STATE);
    let text = fs::read(&path).map_err(|e| SearchError::io(&path, e))?;
    serde_json::from_slice(&text).map_err(|e| ck_err(&path, format!("unreadable state: {e}")))
}
