//! What one policy update did.

use serde::{Deserialize, Serialize};

/// Statistics of one REINFORCE update, for logging and observers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateStats {
    /// Updates done so far, this one included.
    pub step: u64,
    /// Samples in this update.
    pub samples: usize,
    /// Mean reward of the samples.
    pub reward_mean: f64,
    /// Largest reward of the samples.
    pub reward_max: f64,
    /// The baseline used for this update (after moving it toward the batch mean).
    pub baseline: f64,
    /// Total policy entropy after the update (nats, summed over edges).
    pub entropy: f64,
    /// Global norm of the gradient before clipping.
    pub grad_norm: f64,
    /// Whether the gradient was clipped.
    pub clipped: bool,
}
