//! Errors of retraining an evaluation network.

use thiserror::Error;

use crate::network::NetworkError;

/// What can go wrong retraining a network from scratch.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RetrainError {
    /// A [`RetrainConfig`](super::RetrainConfig) value is out of range; found before
    /// any work starts.
    #[error("invalid retrain configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The field at fault.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The datasets cannot be used (empty, mismatched shapes or classes, a loader
    /// that cannot be built).
    #[error("retrain data: {0}")]
    Data(String),
    /// The training loss became NaN or infinite.
    #[error(
        "the training loss is {loss} at epoch {epoch}, step {step}; \
         lower the learning rate or enable gradient clipping"
    )]
    NonFiniteLoss {
        /// 0-based epoch.
        epoch: usize,
        /// 0-based step within the epoch.
        step: usize,
        /// The loss value.
        loss: f64,
    },
    /// Saving or loading model weights failed.
    #[error("model weights `{path}`: {reason}")]
    Record {
        /// The weight file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The network cannot be built (a bad genotype or network configuration).
    #[error(transparent)]
    Network(#[from] NetworkError),
}

impl RetrainError {
    /// Shorthand for [`RetrainError::InvalidConfig`].
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }
}
