//! Every plot of a run directory.

use std::path::{Path, PathBuf};
use std::{fmt, fs};

use super::{Format, PlotError, alpha, curves, front, read_log};
use crate::search::SearchResult;

/// What [`write_plots`] wrote and what it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlotSummary {
    /// The files written.
    pub written: Vec<PathBuf>,
    /// The plots not written, each with the reason.
    pub skipped: Vec<SkippedPlot>,
}

/// A plot [`write_plots`] did not write, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedPlot {
    /// The file it would have written.
    pub path: PathBuf,
    /// Why not (e.g. `front: nothing to plot: 1 objective(s), a front needs two`).
    pub reason: String,
}

impl fmt::Display for PlotSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.written {
            writeln!(f, "wrote {}", p.display())?;
        }
        for s in &self.skipped {
            writeln!(f, "skipped {}: {}", s.path.display(), s.reason)?;
        }
        Ok(())
    }
}

/// The search result stored in `path` (a `result.json` written by
/// [`SearchResult::write_to`]).
///
/// # Errors
/// [`PlotError::Io`] if it cannot be read, [`PlotError::Parse`] naming the file and
/// line if it is not a search result.
pub fn read_result(path: &Path) -> Result<SearchResult, PlotError> {
    let bytes = fs::read(path).map_err(|e| PlotError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| PlotError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        reason: e.to_string(),
    })
}

/// Writes every plot of the run in `run_dir`: reads `result.json` and, if present,
/// `search.jsonl` (a truncated last line is skipped), and writes `front.svg`,
/// `front.png`, `alpha.svg`, `alpha.png`, `curves.svg` and `curves.png` beside them,
/// each through a temporary file and a rename.
///
/// A plot with nothing to show (a single objective, no stages, no log) is skipped and
/// listed with its reason in [`PlotSummary::skipped`]; it does not fail the call.
///
/// ```no_run
/// let summary = tnd_nas::plot::write_plots(std::path::Path::new("quickstart-out"))?;
/// print!("{summary}");
/// # Ok::<(), tnd_nas::plot::PlotError>(())
/// ```
///
/// # Errors
/// [`PlotError::Io`] or [`PlotError::Parse`] if `result.json` (or an existing
/// `search.jsonl`) cannot be read or parsed; any other [`PlotError`] of a plot.
pub fn write_plots(run_dir: &Path) -> Result<PlotSummary, PlotError> {
    let result = read_result(&run_dir.join("result.json"))?;
    let mut summary = plot_result(&result, run_dir)?;
    let log = run_dir.join("search.jsonl");
    let outputs = [Format::Svg, Format::Png].map(|f| run_dir.join(format!("curves.{f}")));
    if log.is_file() {
        let events = read_log(&log)?;
        for path in outputs {
            summary.record(path.clone(), curves(&events, &path))?;
        }
    } else {
        for path in outputs {
            summary.skipped.push(SkippedPlot {
                path,
                reason: format!("curves: no {}", log.display()),
            });
        }
    }
    Ok(summary)
}

/// Writes the plots of a result into `dir`: `front.svg`/`front.png` (the first two
/// objectives of every sample, the front highlighted; [`crate::plot::front`]) and
/// `alpha.svg`/`alpha.png` (the policy's probabilities at each stage's end;
/// [`crate::plot::alpha`]). A plot with nothing to show (one objective; no stages for
/// random search and evolution) is skipped and listed in [`PlotSummary::skipped`].
/// [`write_plots`] adds the curves of a run directory's `search.jsonl`.
///
/// # Errors
/// Any [`PlotError`] of a plot that has something to show.
pub fn plot_result(result: &SearchResult, dir: &Path) -> Result<PlotSummary, PlotError> {
    let mut summary = PlotSummary::default();
    type Plot = fn(&SearchResult, &Path) -> Result<(), PlotError>;
    for (name, plot) in [("front", front as Plot), ("alpha", alpha as Plot)] {
        for format in [Format::Svg, Format::Png] {
            let path = dir.join(format!("{name}.{format}"));
            summary.record(path.clone(), plot(result, &path))?;
        }
    }
    Ok(summary)
}

impl PlotSummary {
    /// Notes a plot's outcome: written, skipped with nothing to plot, or an error.
    fn record(&mut self, path: PathBuf, outcome: Result<(), PlotError>) -> Result<(), PlotError> {
        match outcome {
            Ok(()) => self.written.push(path),
            Err(e @ PlotError::NothingToPlot { .. }) => self.skipped.push(SkippedPlot {
                path,
                reason: e.to_string(),
            }),
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
