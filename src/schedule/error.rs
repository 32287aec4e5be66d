//! Errors of the shrinking schedule.

use thiserror::Error;

/// What can go wrong with a progressive-shrinking schedule.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScheduleError {
    /// A schedule with no stages.
    #[error("a shrink schedule needs at least one stage")]
    NoStages,
    /// A stage setting out of range.
    #[error("stage {stage}: {reason}")]
    InvalidStage {
        /// 0-based stage index.
        stage: usize,
        /// What is wrong.
        reason: String,
    },
    /// Drop counts given for a different number of cell types than the space has.
    #[error(
        "stage {stage}: drop counts for {found} cell types, but the space has {expected} ({names})"
    )]
    CellTypeCount {
        /// 0-based stage index.
        stage: usize,
        /// Cell types of the space.
        expected: usize,
        /// Drop counts given.
        found: usize,
        /// The space's cell-type names, comma separated.
        names: String,
    },
    /// Dropping more ops than an edge would have left (every edge keeps at least one).
    #[error(
        "stage {stage}, {cell_type} cell: cannot drop {drops} of {ops_before} ops per edge \
         (every edge must keep at least one op)"
    )]
    DropsDontFit {
        /// 0-based stage index.
        stage: usize,
        /// Name of the cell type.
        cell_type: String,
        /// Ops per edge before the stage's drop.
        ops_before: usize,
        /// Ops the stage drops per edge.
        drops: usize,
    },
    /// A space with an edge that has no candidate ops.
    #[error("edge {edge} of the space has no candidate ops")]
    EmptyEdge {
        /// The edge.
        edge: usize,
    },
    /// A space whose edge names a cell type it does not list.
    #[error("edge {edge} is in cell type {cell}, but the space lists only {cell_types} cell types")]
    UnknownCellType {
        /// The edge.
        edge: usize,
        /// Its cell-type index.
        cell: usize,
        /// The number of cell types the space lists.
        cell_types: usize,
    },
    /// Probabilities that do not match the active ops.
    #[error("edge {edge}: {found} probabilities for {expected} active ops")]
    ProbabilityShape {
        /// The edge (or the edge count, for a list of the wrong length).
        edge: usize,
        /// Active ops on the edge.
        expected: usize,
        /// Probabilities given.
        found: usize,
    },
    /// Shrinking after the last stage.
    #[error("the schedule is finished: all {stages} stages are done")]
    Finished {
        /// Number of stages.
        stages: usize,
    },
}
