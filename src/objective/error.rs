//! Errors of objectives, rewards and the Pareto archive.

use std::path::PathBuf;

use thiserror::Error;

use crate::space::SpaceError;

/// What can go wrong when scoring an architecture, combining scores into a reward, or
/// archiving them.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum ObjectiveError {
    /// The objective needs the supernet's accuracy for the sample and none was given
    /// (a table search has no supernet).
    #[error(
        "objective `{objective}` needs the supernet's validation accuracy of the sample, but none was given \
         (a table search has no supernet: use a table column such as `table:COLUMN:max` instead)"
    )]
    NoSupernetAccuracy {
        /// Name of the objective.
        objective: String,
    },
    /// The objective needs an evaluation-network description in the context.
    #[error(
        "objective `{objective}` needs an evaluation-network config in the objective context (`with_network`)"
    )]
    NoNetwork {
        /// Name of the objective.
        objective: String,
    },
    /// The architecture does not fit the space.
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// A file could not be read.
    #[error("cannot read `{}`: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Malformed CSV, or a CSV value that is not what the column needs.
    #[error("{file}, line {line}, column {column}: {message}")]
    Csv {
        /// The file (or the source name given for in-memory text).
        file: String,
        /// 1-based line number.
        line: usize,
        /// The column: its header name where known, else `field N` (1-based).
        column: String,
        /// What was wrong.
        message: String,
    },
    /// Malformed JSON.
    #[error("{file}: {message}")]
    Json {
        /// The file (or source name).
        file: String,
        /// What was wrong, with serde_json's line and column.
        message: String,
    },
    /// A column that the table does not have.
    #[error("{file}: no column `{column}` (columns: {available})")]
    UnknownColumn {
        /// The file (or source name).
        file: String,
        /// The requested column.
        column: String,
        /// The columns present, comma separated.
        available: String,
    },
    /// An architecture that the benchmark table does not list.
    #[error("{file}: architecture `{arch}` is not in the table")]
    MissingArchitecture {
        /// The file (or source name).
        file: String,
        /// The architecture's text (the space's `describe`).
        arch: String,
    },
    /// Ops of the architecture that the lookup table has no cost for.
    #[error("lookup table `{table}` has no cost for: {missing}")]
    UnknownOps {
        /// The table's name.
        table: String,
        /// Each missing op with its edge and cell type, comma separated.
        missing: String,
    },
    /// Measuring latency failed (building or running the network).
    #[error("latency probe failed: {0}")]
    Probe(String),
    /// Measuring an objective failed (a network that could not be built or scored).
    #[error("objective `{objective}`: {reason}")]
    Failed {
        /// Name of the objective.
        objective: String,
        /// What went wrong.
        reason: String,
    },
    /// An objective produced a value that is not a finite number.
    #[error("objective `{objective}` produced the non-finite value {value}")]
    NonFinite {
        /// Name of the objective.
        objective: String,
        /// The value.
        value: f64,
    },
    /// A reward or objective configured with bad values; names the setting.
    #[error("invalid {what}: {reason}")]
    InvalidConfig {
        /// The setting (`MnasReward targets`, `Latency runs`, ...).
        what: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A list whose length does not match the number of objectives.
    #[error("{what}: expected {expected} values (one per objective), found {found}")]
    CountMismatch {
        /// What the list is (`objective values`, `weights`, `reference point`).
        what: String,
        /// The number of objectives.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A reward that needs an objective of the other direction at some index.
    #[error("{reward}: objective {index} must be {expected}d")]
    WrongDirection {
        /// The reward.
        reward: String,
        /// Index of the objective.
        index: usize,
        /// The direction it needs (`maximise` / `minimise`).
        expected: String,
    },
    /// A cost of zero or less where the reward divides by it or raises it to a power.
    #[error("{reward}: cost must be positive, got {value}")]
    NonPositiveCost {
        /// The reward.
        reward: String,
        /// The cost.
        value: f64,
    },
}
