//! The `tnd-nas` program: one command line over the library, with subcommands
//! `search`, `retrain`, `inspect`, `tabular`, `plot`, `export`, `fidelity` and `score`
//! (clap).
//!
//! Every subcommand takes `--config FILE` (TOML or JSON holding any of its options by
//! their long names with `_` for `-`; options given on the command line win) and
//! `--print-config` (prints the effective configuration as TOML and exits; a search's
//! printed configuration holds the whole [`crate::search::SearchConfig`], so
//! `--config` with it reproduces the search). Exit status: 0 on success, 2 for a usage
//! error (one line on stderr), 1 when the work fails (one `error: ...` line). Paths are
//! taken as `OsString`s: non-UTF-8 paths work.
//!
//! The examples `cifar_search`, `train_genotype`, `inspect` and `tabular_search` run the
//! same code under their own names with [`run_as`].
//!
//! ```no_run
//! // src/main.rs of the program:
//! fn main() -> std::process::ExitCode {
//!     tnd_nas::cli::main()
//! }
//! ```

mod cli_error;
mod common;
mod config_file;
mod export_command;
mod fidelity_command;
mod inspect_command;
mod plot_command;
mod program;
mod proxy_objective;
mod retrain_command;
mod score_command;
mod search_command;
mod tabular_command;

pub use cli_error::CliError;
pub use common::{DatasetName, DeviceName, OutputDir, SpaceName};
pub use export_command::ExportArgs;
pub use fidelity_command::{EvaluatorName, FidelityArgs, ScoreSet};
pub use inspect_command::{InspectArgs, InspectWhat};
pub use plot_command::PlotArgs;
pub use program::{Cli, Command, main, run_args, run_as};
pub use retrain_command::RetrainArgs;
pub use score_command::{ProxyName, ScoreArgs};
pub use search_command::{SEARCH_OUTPUTS, ScorePriorName, SearchArgs};
pub use tabular_command::TabularArgs;
