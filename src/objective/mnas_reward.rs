//! MnasNet-style soft penalty.

use serde::{Deserialize, Serialize};

use super::reward::{check_score_cost, per_stage, score_and_cost};
use super::{Direction, ObjectiveError, Reward};

/// The MnasNet soft penalty the paper uses: `R = acc * (cost / target_s) ^ w_s`, with a
/// target and an exponent `w_s <= 0` per stage (the last one applies to later stages).
///
/// `acc` is the objective at index `accuracy` (maximised), `cost` the one at index
/// `cost` (minimised); by default 0 and 1. With `w = 0` the reward is the accuracy.
///
/// ```
/// use tnd_nas::objective::{Direction, MnasReward, ObjectiveError, Reward};
/// // The authors' CIFAR-100 setting: targets 4.4, 3.2, 2.5 M parameters.
/// let r = MnasReward::new(vec![4.4, 3.2, 2.5], vec![-0.95, -1.0, -1.0])?;
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// r.check(&dirs)?;
/// assert!((r.reward(&[80.0, 3.2], &dirs, 1)? - 80.0).abs() < 1e-12);
/// assert!((r.reward(&[80.0, 6.4], &dirs, 1)? - 40.0).abs() < 1e-12);
/// assert!(MnasReward::new(vec![4.4], vec![0.5]).is_err()); // a bonus, not a penalty
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MnasReward {
    accuracy: usize,
    cost: usize,
    targets: Vec<f64>,
    exponents: Vec<f64>,
}

impl MnasReward {
    /// Per-stage targets (> 0, in the cost objective's unit) and exponents (<= 0). The
    /// lists may have different lengths; each one's last value applies to later stages.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for an empty list, a target that is not a
    /// positive finite number, or an exponent that is not a finite number <= 0.
    pub fn new(targets: Vec<f64>, exponents: Vec<f64>) -> Result<Self, ObjectiveError> {
        let bad = |reason: String| ObjectiveError::InvalidConfig {
            what: "MnasReward".into(),
            reason,
        };
        if targets.is_empty() || exponents.is_empty() {
            return Err(bad("needs at least one target and one exponent".into()));
        }
        if let Some((s, t)) = targets
            .iter()
            .enumerate()
            .find(|(_, t)| !(t.is_finite() && **t > 0.0))
        {
            return Err(bad(format!(
                "target of stage {s} is {t}; targets must be positive and finite"
            )));
        }
        if let Some((s, w)) = exponents
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w <= 0.0))
        {
            return Err(bad(format!(
                "exponent of stage {s} is {w}; exponents must be finite and <= 0"
            )));
        }
        Ok(Self {
            accuracy: 0,
            cost: 1,
            targets,
            exponents,
        })
    }

    /// Which objectives are the accuracy and the cost (default 0 and 1).
    pub fn with_objectives(mut self, accuracy: usize, cost: usize) -> Self {
        self.accuracy = accuracy;
        self.cost = cost;
        self
    }

    /// The target of a stage.
    pub fn target(&self, stage: usize) -> f64 {
        per_stage(&self.targets, stage)
    }

    /// The exponent of a stage.
    pub fn exponent(&self, stage: usize) -> f64 {
        per_stage(&self.exponents, stage)
    }
}

impl Reward for MnasReward {
    fn describe(&self) -> String {
        format!("{self:?}")
    }

    fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
        if self.accuracy == self.cost {
            return Err(ObjectiveError::InvalidConfig {
                what: "MnasReward".into(),
                reason: "accuracy and cost must be different objectives".into(),
            });
        }
        check_score_cost("MnasReward", directions, self.accuracy, self.cost)
    }

    fn reward(
        &self,
        values: &[f64],
        directions: &[Direction],
        stage: usize,
    ) -> Result<f64, ObjectiveError> {
        let (acc, cost) =
            score_and_cost("MnasReward", values, directions, [self.accuracy, self.cost])?;
        let w = self.exponent(stage);
        if w == 0.0 {
            return Ok(acc);
        }
        if cost <= 0.0 {
            return Err(ObjectiveError::NonPositiveCost {
                reward: "MnasReward".into(),
                value: cost,
            });
        }
        Ok(acc * (cost / self.target(stage)).powf(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRS: [Direction; 2] = [Direction::Maximise, Direction::Minimise];

    #[test]
    fn zero_exponent_is_accuracy() {
        let r = MnasReward::new(vec![1.0], vec![0.0]).unwrap();
        for cost in [0.0, 0.3, 1.0, 77.0] {
            assert_eq!(r.reward(&[63.5, cost], &DIRS, 5).unwrap(), 63.5);
        }
    }

    #[test]
    fn per_stage_values_and_last_repeats() {
        let r = MnasReward::new(vec![4.0, 2.0], vec![-1.0]).unwrap();
        assert_eq!(r.reward(&[10.0, 8.0], &DIRS, 0).unwrap(), 5.0);
        assert_eq!(r.reward(&[10.0, 8.0], &DIRS, 1).unwrap(), 2.5);
        assert_eq!(r.reward(&[10.0, 8.0], &DIRS, 9).unwrap(), 2.5);
        assert!(matches!(
            r.reward(&[10.0, 0.0], &DIRS, 0),
            Err(ObjectiveError::NonPositiveCost { .. })
        ));
    }

    #[test]
    fn validation() {
        assert!(MnasReward::new(vec![], vec![-1.0]).is_err());
        assert!(MnasReward::new(vec![0.0], vec![-1.0]).is_err());
        assert!(MnasReward::new(vec![1.0], vec![f64::NAN]).is_err());
        let r = MnasReward::new(vec![1.0], vec![-1.0]).unwrap();
        assert!(matches!(
            r.check(&[Direction::Minimise, Direction::Minimise]),
            Err(ObjectiveError::WrongDirection { index: 0, .. })
        ));
        assert!(r.check(&[Direction::Maximise]).is_err());
        assert!(r.clone().with_objectives(1, 1).check(&DIRS).is_err());
        assert!(
            r.with_objectives(1, 0)
                .check(&[Direction::Minimise, Direction::Maximise])
                .is_ok()
        );
    }
}
