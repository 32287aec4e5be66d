//! What can go wrong while plotting.

use std::path::PathBuf;

use thiserror::Error;

/// Why a plot could not be written.
///
/// ```
/// use std::path::Path;
/// use tnd_nas::plot::{Format, PlotError};
///
/// let err = Format::from_path(Path::new("front.jpg")).unwrap_err();
/// assert!(matches!(err, PlotError::UnknownFormat { .. }));
/// assert!(err.to_string().contains("front.jpg"));
/// ```
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum PlotError {
    /// A file or directory that could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `result.json` or `search.jsonl` that does not parse.
    #[error("{}, line {line}: {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line (1-based) the parser stopped at.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An output path whose extension names no format this module writes.
    #[error("{}: cannot tell the image format from the extension (use .svg or .png)", path.display())]
    UnknownFormat {
        /// The output path.
        path: PathBuf,
    },
    /// The drawing library failed.
    #[error("{}: drawing failed: {reason}", path.display())]
    Draw {
        /// The output file.
        path: PathBuf,
        /// The library's message.
        reason: String,
    },
    /// The bundled font could not be loaded.
    #[error("the bundled DejaVu Sans font could not be registered")]
    Font,
    /// The data holds nothing this plot can show (e.g. fewer than two objectives for a
    /// front, no stages for an alpha heatmap); [`crate::plot::write_plots`] skips the
    /// plot and says why.
    #[error("{plot}: nothing to plot: {reason}")]
    NothingToPlot {
        /// The plot (`front`, `alpha`, `curves`).
        plot: &'static str,
        /// Why there is nothing to show.
        reason: String,
    },
}

impl PlotError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PlotError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn nothing(plot: &'static str, reason: impl Into<String>) -> Self {
        PlotError::NothingToPlot {
            plot,
            reason: reason.into(),
        }
    }
}
