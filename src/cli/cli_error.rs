//! Why a command failed, and its exit status.

use std::path::PathBuf;

use thiserror::Error;

use crate::data::DataError;
use crate::network::NetworkError;
use crate::objective::ObjectiveError;
use crate::plot::PlotError;
use crate::search::SearchError;
use crate::space::SpaceError;
use crate::strategy::StrategyError;
use crate::train::RetrainError;

/// What stops a `tnd-nas` command. [`CliError::Usage`] exits with status 2, every other
/// kind with status 1.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum CliError {
    /// A bad command line: a missing, unknown, conflicting or out-of-range option.
    #[error("{0}")]
    Usage(String),
    /// A configuration file that cannot be read or does not fit the command.
    #[error("config file {}: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Input that was read but is not usable (e.g. a genotype that does not parse).
    #[error("{0}")]
    Input(String),
    /// A file or directory that could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The search.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// The data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A space or genotype.
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// An evaluation network or its export.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// Retraining a network, or its weight files.
    #[error(transparent)]
    Retrain(#[from] RetrainError),
    /// An objective, table or reward.
    #[error(transparent)]
    Objective(#[from] ObjectiveError),
    /// A strategy.
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    /// A plot.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// A zero-cost proxy.
    #[error(transparent)]
    Proxy(#[from] crate::proxy::ProxyError),
}

impl CliError {
    /// The process exit status: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            _ => 1,
        }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A usage error.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }
}
