//! Errors of the evaluation-network layer.

use thiserror::Error;

use super::RetrainError;
use crate::space::SpaceError;

/// What can go wrong building an evaluation network.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EvalError {
    /// A configuration value that cannot be built.
    #[error("invalid evaluation-network configuration: {0}")]
    InvalidConfig(String),
    /// A genotype that does not describe a buildable cell.
    #[error("invalid genotype: {0}")]
    Genotype(#[from] SpaceError),
    /// Retraining a network failed (configuration, data, divergence, weight files).
    #[error(transparent)]
    Retrain(#[from] RetrainError),
}
