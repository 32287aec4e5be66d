//! A reward from a closure.

use super::{Direction, ObjectiveError, Reward};

/// A reward computed by a user closure `f(values, stage) -> f64`; a non-finite result is
/// an error.
///
/// ```
/// use tnd_nas::objective::{Direction, FnReward, ObjectiveError, Reward};
/// let r = FnReward::new(|v: &[f64], stage: usize| v[0] - stage as f64 * v[1]);
/// assert_eq!(r.reward(&[10.0, 2.0], &[Direction::Maximise, Direction::Minimise], 2)?, 6.0);
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FnReward<F> {
    f: F,
}

impl<F: Fn(&[f64], usize) -> f64> FnReward<F> {
    /// Wraps the closure.
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<F: Fn(&[f64], usize) -> f64> Reward for FnReward<F> {
    fn reward(
        &self,
        values: &[f64],
        _directions: &[Direction],
        stage: usize,
    ) -> Result<f64, ObjectiveError> {
        let r = (self.f)(values, stage);
        if r.is_finite() {
            Ok(r)
        } else {
            Err(ObjectiveError::NonFinite {
                objective: "reward closure".into(),
                value: r,
            })
        }
    }
}
