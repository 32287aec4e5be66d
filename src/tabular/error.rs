//! Errors of tabular search.

use thiserror::Error;

use crate::objective::ObjectiveError;
use crate::policy::PolicyError;
use crate::schedule::ScheduleError;

/// What can go wrong in a tabular search.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum TabularError {
    /// A search setting out of range.
    #[error("invalid tabular search: {0}")]
    InvalidConfig(String),
    /// An objective or reward failed (a missing table row, a reward that does not fit).
    #[error(transparent)]
    Objective(#[from] ObjectiveError),
    /// The updater rejected its config or an update.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The schedule does not fit the space.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}
