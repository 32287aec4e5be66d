//! Reading `search.jsonl` back into events.

use std::fs;
use std::path::Path;

use super::PlotError;
use crate::search::SearchEvent;

/// The `kind`s [`SearchEvent`] writes; lines of other kinds (written by a newer
/// version) are skipped.
const KINDS: [&str; 7] = [
    "stage_start",
    "step",
    "alpha",
    "epoch_end",
    "stage_end",
    "checkpoint",
    "finished",
];

/// The events of a `search.jsonl` log (written by [`crate::search::JsonlLog`]).
///
/// A last line that is not JSON (a search killed while writing it) is skipped; so are
/// blank lines and events of kinds this version does not know.
///
/// ```
/// use tnd_nas::plot::read_log;
/// use tnd_nas::search::SearchEvent;
///
/// let path = std::env::temp_dir().join(format!("read-log-doc-{}.jsonl", std::process::id()));
/// std::fs::write(&path, "{\"kind\":\"checkpoint\",\"path\":\"ck\"}\n{\"kind\":\"fini")?;
/// let events = read_log(&path)?;
/// assert_eq!(events, vec![SearchEvent::Checkpoint { path: "ck".into(), sequence: 0 }]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`PlotError::Io`] if the file cannot be read; [`PlotError::Parse`] naming the file
/// and line for any other line that is not a valid event.
pub fn read_log(path: &Path) -> Result<Vec<SearchEvent>, PlotError> {
    let text = fs::read_to_string(path).map_err(|e| PlotError::io(path, e))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let parse_err = |line: usize, reason: String| PlotError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut events = Vec::with_capacity(lines.len());
    for (k, &(line, l)) in lines.iter().enumerate() {
        let value: serde_json::Value = match serde_json::from_str(l) {
            Ok(v) => v,
            Err(_) if k + 1 == lines.len() => break, // truncated by a crash
            Err(e) => return Err(parse_err(line, e.to_string())),
        };
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .map(str::to_owned);
        match kind {
            Some(kind) if KINDS.contains(&kind.as_str()) => {
                let event = serde_json::from_value(value)
                    .map_err(|e| parse_err(line, format!("`{kind}` event: {e}")))?;
                events.push(event);
            }
            Some(_) => {}
            None => return Err(parse_err(line, "no `kind` field".into())),
        }
    }
    Ok(events)
}
