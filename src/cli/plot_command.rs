//! `tnd-nas plot`: the plots of a search's output folder.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::CliError;
use super::config_file::ConfigFlags;

/// Options of `tnd-nas plot`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(
    after_help = "Reads RUN_DIR/result.json and RUN_DIR/search.jsonl; writes front, \
    alpha and curves as .svg and .png into RUN_DIR (replacing earlier plots)."
)]
pub struct PlotArgs {
    /// A search's output folder
    #[arg(value_name = "RUN_DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_dir: Option<PathBuf>,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

impl PlotArgs {
    /// The options as given.
    ///
    /// # Errors
    /// [`CliError::Usage`] without a run folder.
    pub fn effective(&self) -> Result<Self, CliError> {
        if self.run_dir.is_none() {
            return Err(CliError::usage("RUN_DIR is required"));
        }
        Ok(self.clone())
    }

    /// Draws the plots and lists them on stdout.
    ///
    /// # Errors
    /// [`CliError::Plot`] naming the file that could not be read or drawn.
    pub fn run(&self) -> Result<(), CliError> {
        let args = self.effective()?;
        let Some(dir) = &args.run_dir else {
            return Err(CliError::usage("RUN_DIR is required"));
        };
        print!("{}", crate::plot::write_plots(dir)?);
        Ok(())
    }
}
