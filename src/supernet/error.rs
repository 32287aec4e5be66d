//! Errors of the supernet layer.

use thiserror::Error;

/// What can go wrong building or running a supernet.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SuperNetError {
    /// A configuration that cannot be built.
    #[error("invalid supernet configuration: {0}")]
    InvalidConfig(String),
    /// A path (weights or op choices) that does not match the supernet's edges.
    #[error("path does not match the supernet: {0}")]
    PathMismatch(String),
}
