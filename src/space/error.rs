//! Errors of the search-space layer.

use thiserror::Error;

/// What can go wrong with spaces, architectures and genotypes.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpaceError {
    /// An op name that no [`crate::OpKind`] carries, or a bad user-op name.
    #[error(transparent)]
    Op(#[from] crate::ops::OpError),
    /// Genotype or architecture text that could not be parsed.
    #[error("cannot parse {notation} at byte {position}: {message}")]
    Parse {
        /// Which notation was being read (`DARTS genotype`, `TND genotype`, `NAS-Bench-201 string`).
        notation: &'static str,
        /// Byte offset into the text where the problem was found.
        position: usize,
        /// What was wrong there.
        message: String,
    },
    /// An edge input that refers to a node that does not exist (yet).
    #[error(
        "{cell} cell, node {node}: input {input} is out of range (valid inputs are 0..{limit})"
    )]
    NodeOutOfRange {
        /// `normal`, `reduce` or `cell`.
        cell: String,
        /// Intermediate node index (0-based among intermediate nodes).
        node: usize,
        /// The offending input index.
        input: usize,
        /// One past the largest valid input.
        limit: usize,
    },
    /// An architecture with the wrong number of decisions.
    #[error("architecture has {found} ops but the space has {expected} edges")]
    WrongLength {
        /// Edges in the space.
        expected: usize,
        /// Ops in the architecture.
        found: usize,
    },
    /// An op that the edge does not allow.
    #[error("edge {edge} ({cell} cell, {from} -> {to}) does not allow `{op}`; allowed: {allowed}")]
    OpNotAllowed {
        /// Decision index.
        edge: usize,
        /// Cell type of the edge.
        cell: String,
        /// Source node.
        from: usize,
        /// Target node.
        to: usize,
        /// The op that was given.
        op: String,
        /// The ops the edge allows, comma separated.
        allowed: String,
    },
    /// An invalid space or genotype configuration.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}
