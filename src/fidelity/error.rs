//! Errors of the fidelity module.

use thiserror::Error;

/// What can go wrong reading or extending a ground truth, or scoring it.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum FidelityError {
    /// The ground-truth file cannot be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// A row of the ground truth is malformed.
    #[error("{path}, line {line}: {reason}")]
    Row {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Scores and truths cannot be compared.
    #[error("{0}")]
    Mismatch(String),
    /// A protocol value out of range, or a file written with another protocol.
    #[error("protocol `{field}`: {reason}")]
    Protocol {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}
