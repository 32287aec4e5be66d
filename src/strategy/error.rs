//! Errors of the search strategies.

use thiserror::Error;

use crate::policy::PolicyError;
use crate::schedule::ScheduleError;

/// What can go wrong in a strategy.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum StrategyError {
    /// A strategy setting out of range, named.
    #[error("invalid strategy setting: `{field}` {reason}")]
    InvalidConfig {
        /// The setting.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `tell` got another number of rewards than the batch it was asked for, or
    /// architectures it did not propose.
    #[error("tell does not fit the batch: {0}")]
    Tell(String),
    /// A saved state that does not belong to this strategy.
    #[error("strategy state of `{strategy}` cannot be restored: {reason}")]
    State {
        /// The strategy's name.
        strategy: String,
        /// Why not.
        reason: String,
    },
    /// The REINFORCE updater rejected its config or an update.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The schedule does not fit the space.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}

impl StrategyError {
    pub(crate) fn config(field: &str, reason: impl Into<String>) -> Self {
        StrategyError::InvalidConfig {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn state(strategy: &str, reason: impl std::fmt::Display) -> Self {
        StrategyError::State {
            strategy: strategy.to_string(),
            reason: reason.to_string(),
        }
    }
}
