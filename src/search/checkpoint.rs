//! Atomic checkpoints: a directory written under a temporary name, then renamed.

use std::fs;
use std::path::{Path, PathBuf};

use super::{SearchError, SearchState};

const STATE: &str = "state.json";
/// The manifest: every other file of the checkpoint with its length and CRC-32.
const MANIFEST: &str = "files.json";

/// One entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct FileEntry {
    name: String,
    bytes: u64,
    crc32: u32,
}

fn file_entry(path: &Path) -> Result<FileEntry, SearchError> {
    let bytes = fs::read(path).map_err(|e| SearchError::io(path, e))?;
    Ok(FileEntry {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        bytes: bytes.len() as u64,
        crc32: crc32fast::hash(&bytes),
    })
}

/// The manifest of the files in `dir` (every regular file but the manifest itself, the
/// state included), sorted by name.
fn manifest(dir: &Path) -> Result<Vec<FileEntry>, SearchError> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| SearchError::io(dir, e))? {
        let path = entry.map_err(|e| SearchError::io(dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && name != MANIFEST {
            entries.push(file_entry(&path)?);
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Checks that the files of the checkpoint in `dir` are the ones it wrote: each
/// listed file present with its length and checksum, `state.json` among them. A file
/// copied in from another checkpoint (an earlier stage's `model.bin`, say), an edited
/// state or a damaged file is named.
pub(crate) fn verify_files(dir: &Path) -> Result<(), SearchError> {
    let path = dir.join(MANIFEST);
    let text = fs::read(&path).map_err(|e| SearchError::io(&path, e))?;
    let listed: Vec<FileEntry> = serde_json::from_slice(&text)
        .map_err(|e| ck_err(&path, format!("unreadable manifest: {e}")))?;
    if !listed.iter().any(|e| e.name == STATE) {
        return Err(ck_err(
            &path,
            "lists no state.json, so the state cannot be checked (a checkpoint of an older \
             tnd-nas, or an edited one)",
        ));
    }
    for entry in listed {
        let file = dir.join(&entry.name);
        if !file.is_file() {
            return Err(ck_err(&file, "missing: the checkpoint wrote it"));
        }
        let found = file_entry(&file)?;
        if found != entry {
            return Err(ck_err(
                &file,
                format!(
                    "not the file this checkpoint wrote ({} bytes, CRC-32 {:08x}; it wrote {} \
                     bytes, CRC-32 {:08x}): copied from another checkpoint, or damaged",
                    found.bytes, found.crc32, entry.bytes, entry.crc32
                ),
            ));
        }
    }
    Ok(())
}

fn ck_err(path: &Path, reason: impl std::fmt::Display) -> SearchError {
    SearchError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes a checkpoint into `dir` atomically and durably: the state and whatever
/// `files` writes go to `dir.tmp` first and are flushed to the disk (every file, then
/// the folder), the previous checkpoint is moved aside, the new one renamed into place,
/// the parent folder flushed (so the renames survive a power loss), the old removed. A
/// crash or a power loss leaves either the old or the new checkpoint (see [`locate`]).
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
    let listed = serde_json::to_vec_pretty(&manifest(&tmp)?).map_err(|e| ck_err(&tmp, e))?;
    fs::write(tmp.join(MANIFEST), listed).map_err(|e| SearchError::io(tmp.join(MANIFEST), e))?;
    sync_folder(&tmp, true)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| SearchError::io(&old, e))?;
        }
        fs::rename(dir, &old).map_err(|e| SearchError::io(dir, e))?;
    }
    fs::rename(&tmp, dir).map_err(|e| SearchError::io(&tmp, e))?;
    sync_folder(&parent, false)?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| SearchError::io(&old, e))?;
    }
    Ok(())
}

/// Flushes `folder` (its entries: names, renames) to the disk, and with `files` every
/// file in it first (their contents).
fn sync_folder(folder: &Path, files: bool) -> Result<(), SearchError> {
    if files {
        for entry in fs::read_dir(folder).map_err(|e| SearchError::io(folder, e))? {
            let path = entry.map_err(|e| SearchError::io(folder, e))?.path();
            if path.is_file() {
                fs::File::open(&path)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| SearchError::io(&path, e))?;
            }
        }
    }
    fs::File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| SearchError::io(folder, e))
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
