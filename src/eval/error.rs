//! Errors of the evaluation-network layer.

use thiserror::Error;

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
}
