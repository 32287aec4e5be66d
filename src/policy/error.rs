//! Errors of the policy and its updater.

use thiserror::Error;

/// What can go wrong with the categorical policy and the REINFORCE updater.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PolicyError {
    /// A configuration value out of range; names the setting.
    #[error("invalid updater setting `{setting}` = {value}: {reason}")]
    InvalidConfig {
        /// The setting (`lr`, `baseline_decay`, ...).
        setting: &'static str,
        /// Its value, as text.
        value: String,
        /// The allowed range.
        reason: &'static str,
    },
    /// Active-op lists that cannot form a policy.
    #[error("invalid active ops: {0}")]
    InvalidOps(String),
    /// Alpha that does not match the active ops.
    #[error("edge {edge}: {found} logits for {expected} active ops")]
    AlphaShape {
        /// The edge.
        edge: usize,
        /// Active ops on it.
        expected: usize,
        /// Logits given.
        found: usize,
    },
    /// An architecture with the wrong number of edges.
    #[error("architecture has {found} ops but the policy has {expected} edges")]
    WrongLength {
        /// Edges of the policy.
        expected: usize,
        /// Ops of the architecture.
        found: usize,
    },
    /// An architecture using an op that is not active on an edge.
    #[error("edge {edge}: op `{op}` is not active (active: {active})")]
    InactiveOp {
        /// The edge.
        edge: usize,
        /// The op.
        op: String,
        /// The active ops, comma separated.
        active: String,
    },
    /// Samples and rewards that do not pair up.
    #[error("{samples} samples but {rewards} rewards")]
    RewardCount {
        /// Number of samples.
        samples: usize,
        /// Number of rewards.
        rewards: usize,
    },
    /// An update with no samples.
    #[error("an update needs at least one sample")]
    NoSamples,
    /// A reward that is not a finite number.
    #[error("reward {index} is {value}; rewards must be finite")]
    NonFiniteReward {
        /// Index of the sample.
        index: usize,
        /// The reward.
        value: f64,
    },
    /// An update that left a logit infinite or NaN (a learning rate far too large).
    #[error(
        "the update left alpha non-finite on edge {edge} (learning rate {lr}): lower `lr` or `stage_spread`"
    )]
    NonFiniteAlpha {
        /// The edge.
        edge: usize,
        /// The learning rate of the update.
        lr: f64,
    },
}
