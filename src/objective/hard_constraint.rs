//! A hard cost constraint.

use serde::{Deserialize, Serialize};

use super::reward::{check_score_cost, per_stage, score_and_cost};
use super::{Direction, ObjectiveError, Reward};

/// A hard constraint: `R = score` when `cost <= limit_s`, otherwise a fixed `penalty`
/// (default 0). `score` is the objective at index `score` (maximised, default 0) and
/// `cost` the one at index `cost` (minimised, default 1); one limit per stage, the last
/// repeating.
///
/// ```
/// use tnd_nas::objective::{Direction, HardConstraint, ObjectiveError, Reward};
/// let r = HardConstraint::new(vec![1.0])?.with_penalty(-10.0)?;
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// assert_eq!(r.reward(&[70.0, 0.9], &dirs, 0)?, 70.0);
/// assert_eq!(r.reward(&[90.0, 1.1], &dirs, 0)?, -10.0);
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardConstraint {
    score: usize,
    cost: usize,
    limits: Vec<f64>,
    penalty: f64,
}

impl HardConstraint {
    /// Per-stage limits on the cost.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for no limits or a limit that is not finite.
    pub fn new(limits: Vec<f64>) -> Result<Self, ObjectiveError> {
        if limits.is_empty() || limits.iter().any(|l| !l.is_finite()) {
            return Err(ObjectiveError::InvalidConfig {
                what: "HardConstraint limits".into(),
                reason: format!("need at least one finite limit, got {limits:?}"),
            });
        }
        Ok(Self {
            score: 0,
            cost: 1,
            limits,
            penalty: 0.0,
        })
    }

    /// The reward of a sample that breaks the limit.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for a non-finite penalty.
    pub fn with_penalty(mut self, penalty: f64) -> Result<Self, ObjectiveError> {
        if !penalty.is_finite() {
            return Err(ObjectiveError::InvalidConfig {
                what: "HardConstraint penalty".into(),
                reason: format!("{penalty} is not finite"),
            });
        }
        self.penalty = penalty;
        Ok(self)
    }

    /// Which objectives are the score and the cost (default 0 and 1).
    pub fn with_objectives(mut self, score: usize, cost: usize) -> Self {
        self.score = score;
        self.cost = cost;
        self
    }
}

impl Reward for HardConstraint {
    fn describe(&self) -> String {
        format!("{self:?}")
    }

    fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
        check_score_cost("HardConstraint", directions, self.score, self.cost)
    }

    fn reward(
        &self,
        values: &[f64],
        directions: &[Direction],
        stage: usize,
    ) -> Result<f64, ObjectiveError> {
        let (score, cost) = score_and_cost(
            "HardConstraint",
            values,
            directions,
            [self.score, self.cost],
        )?;
        Ok(if cost <= per_stage(&self.limits, stage) {
            score
        } else {
            self.penalty
        })
    }
}
