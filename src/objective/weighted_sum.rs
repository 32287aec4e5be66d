//! Weighted-sum scalarisation.

use serde::{Deserialize, Serialize};

use super::reward::{check_count, check_weights, signed_weights};
use super::{Direction, ObjectiveError, Reward};

/// `R = sum_i w_i * s_i * v_i` with `s_i = +1` for maximised and `-1` for minimised
/// objectives, so every weight rewards improvement. Weights are finite, >= 0 and not all
/// zero; choose them with the objectives' units in mind.
///
/// ```
/// use tnd_nas::objective::{Direction, ObjectiveError, Reward, WeightedSum};
/// let r = WeightedSum::new(vec![1.0, 10.0])?;
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// assert_eq!(r.reward(&[90.0, 0.5], &dirs, 0)?, 85.0);
/// assert!(r.check(&[Direction::Maximise]).is_err());
/// assert!(WeightedSum::new(vec![1.0, -1.0]).is_err());
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedSum {
    weights: Vec<f64>,
}

impl WeightedSum {
    /// One weight per objective.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for empty, negative, non-finite or all-zero weights.
    pub fn new(weights: Vec<f64>) -> Result<Self, ObjectiveError> {
        check_weights("WeightedSum weights", &weights)?;
        Ok(Self { weights })
    }

    /// The weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

impl Reward for WeightedSum {
    fn describe(&self) -> String {
        format!("{self:?}")
    }

    fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
        check_count("WeightedSum weights", directions.len(), self.weights.len())
    }

    fn reward(
        &self,
        values: &[f64],
        directions: &[Direction],
        _stage: usize,
    ) -> Result<f64, ObjectiveError> {
        Ok(signed_weights(&self.weights, values, directions)?
            .map(|(ws, v)| ws * v)
            .sum())
    }
}
