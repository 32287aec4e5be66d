//! What can stop an evaluator.

use std::path::PathBuf;

use thiserror::Error;

use crate::data::DataError;
use crate::objective::ObjectiveError;
use crate::space::SpaceError;
use crate::supernet::SuperNetError;

/// An error of an [`Evaluator`](super::Evaluator): its settings, its data, its network,
/// a non-finite training loss, or a saved position it cannot take back. The executor
/// turns each into the [`SearchError`](crate::search::SearchError) of the same name
/// (a non-finite loss after checkpointing the last good state).
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum ScoringError {
    /// A setting or an architecture the evaluator cannot work with, named with the
    /// reason.
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
    /// An objective measured by the evaluator (a [`FnEvaluator`](super::FnEvaluator)'s
    /// function).
    #[error(transparent)]
    Objective(#[from] ObjectiveError),
    /// The training loss became NaN or infinite.
    #[error("non-finite training loss {value} at stage {stage}, epoch {epoch}, step {step}")]
    NonFiniteLoss {
        /// Stage index.
        stage: usize,
        /// Epoch within the stage.
        epoch: usize,
        /// Step within the epoch.
        step: usize,
        /// The loss value.
        value: f64,
    },
    /// A saved position or checkpoint file that cannot be read or does not belong to
    /// this evaluator.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The checkpoint directory or file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl ScoringError {
    /// An [`ScoringError::InvalidConfig`] naming `field`.
    pub fn config(field: &str, reason: impl Into<String>) -> Self {
        ScoringError::InvalidConfig {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    /// An [`ScoringError::Checkpoint`] naming `path`.
    pub fn checkpoint(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        ScoringError::Checkpoint {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}
