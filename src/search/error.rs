//! Errors of the search loop.

use std::path::PathBuf;

use thiserror::Error;

use crate::data::DataError;
use crate::objective::ObjectiveError;
use crate::policy::PolicyError;
use crate::schedule::ScheduleError;
use crate::scoring::ScoringError;
use crate::space::SpaceError;
use crate::strategy::StrategyError;
use crate::supernet::SuperNetError;

/// What can stop a search.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum SearchError {
    /// A configuration value that cannot work, named with the reason.
    #[error("invalid search configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The offending field.
        field: String,
        /// Why it is rejected.
        reason: String,
    },
    /// The space.
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// The data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The supernet.
    #[error(transparent)]
    SuperNet(#[from] SuperNetError),
    /// The shrinking schedule.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// The alpha updater.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// An objective or the reward.
    #[error(transparent)]
    Objective(#[from] ObjectiveError),
    /// The strategy rejected its settings, a batch or a saved state.
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    /// The training loss became NaN or infinite. The last good state was checkpointed.
    #[error("non-finite training loss {value} at stage {stage}, epoch {epoch}, step {step}{}",
        checkpoint.as_ref().map(|p| format!("; last good state saved to {}", p.display())).unwrap_or_default())]
    NonFiniteLoss {
        /// Stage index.
        stage: usize,
        /// Epoch within the stage.
        epoch: usize,
        /// Step within the epoch.
        step: usize,
        /// The loss value.
        value: f64,
        /// Where the last good state was written, if checkpoints are on.
        checkpoint: Option<PathBuf>,
    },
    /// A checkpoint that cannot be read or does not belong to this search.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The checkpoint directory or file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file or directory that could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An observer asked the search to stop; the state was checkpointed if possible.
    #[error("search stopped by an observer at stage {stage}, epoch {epoch}{}",
        checkpoint.as_ref().map(|p| format!("; resume from {}", p.display())).unwrap_or_default())]
    Stopped {
        /// Stage index.
        stage: usize,
        /// Epochs completed in the stage.
        epoch: usize,
        /// The checkpoint to resume from.
        checkpoint: Option<PathBuf>,
    },
}

impl SearchError {
    pub(crate) fn config(field: &str, reason: impl Into<String>) -> Self {
        SearchError::InvalidConfig {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SearchError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<ScoringError> for SearchError {
    /// Each evaluator error as the search error of the same name (a non-finite loss
    /// without a checkpoint: the executor adds the one it writes).
    fn from(e: ScoringError) -> Self {
        match e {
            ScoringError::InvalidConfig { field, reason } => {
                SearchError::InvalidConfig { field, reason }
            }
            ScoringError::Space(e) => SearchError::Space(e),
            ScoringError::Data(e) => SearchError::Data(e),
            ScoringError::SuperNet(e) => SearchError::SuperNet(e),
            ScoringError::Objective(e) => SearchError::Objective(e),
            ScoringError::NonFiniteLoss {
                stage,
                epoch,
                step,
                value,
            } => SearchError::NonFiniteLoss {
                stage,
                epoch,
                step,
                value,
                checkpoint: None,
            },
            ScoringError::Checkpoint { path, reason } => SearchError::Checkpoint { path, reason },
        }
    }
}
