//! Plots of a search, in SVG and PNG: the objectives of every sample with the Pareto
//! front ([`front`]), the policy's probabilities at the end of every stage
//! ([`alpha`]), and the training and policy curves of the event log ([`curves`]).
//! [`write_plots`] writes all of them for a run directory;
//! [`crate::SearchResult::write_to`] writes the front and alpha plots with the result.
//!
//! Text is drawn with the DejaVu Sans font compiled into the crate, so plots look the
//! same everywhere and need no system fonts. The format follows the output path's
//! extension ([`Format`]).
//!
//! ```no_run
//! use std::path::Path;
//! use tnd_nas::plot;
//!
//! // After `quickstart` (or any search whose result was written with `write_to`):
//! let summary = plot::write_plots(Path::new("quickstart-out"))?;
//! for skipped in &summary.skipped {
//!     println!("no {}: {}", skipped.path.display(), skipped.reason);
//! }
//! // Or one plot of a result in hand:
//! let result = plot::read_result(Path::new("quickstart-out/result.json"))?;
//! plot::front(&result, Path::new("front-large.svg"))?;
//! # Ok::<(), tnd_nas::plot::PlotError>(())
//! ```

mod alpha;
mod axis;
mod curves;
mod error;
mod figure;
mod font;
mod format;
mod front;
mod log;
mod run_dir;
mod style;
#[cfg(test)]
mod tests;

pub use alpha::alpha;
pub use curves::curves;
pub use error::PlotError;
pub use format::Format;
pub use front::front;
pub use log::read_log;
pub use run_dir::{PlotSummary, SkippedPlot, plot_result, read_result, write_plots};
