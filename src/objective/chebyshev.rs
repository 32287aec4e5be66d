//! Chebyshev (min-max) scalarisation.

use serde::{Deserialize, Serialize};

use super::reward::{check_count, check_weights, signed_weights};
use super::{Direction, ObjectiveError, Reward};

/// Weighted Chebyshev scalarisation around an ideal point `z`:
/// `R = -max_i w_i * d_i`, where `d_i = s_i * (z_i - v_i)` is how far objective `i`
/// falls short of its ideal (`s_i = +1` maximised, `-1` minimised). Unlike a weighted
/// sum it can reach every point of a non-convex Pareto front by varying the weights.
///
/// ```
/// use tnd_nas::objective::{Chebyshev, Direction, ObjectiveError, Reward};
/// // Accuracy (ideal 100 %) and parameters in millions (ideal 0).
/// let r = Chebyshev::new(vec![1.0, 20.0], vec![100.0, 0.0])?;
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// assert_eq!(r.reward(&[90.0, 0.4], &dirs, 0)?, -10.0); // accuracy is the worse shortfall
/// assert_eq!(r.reward(&[94.0, 0.5], &dirs, 0)?, -10.0); // now the parameters are
/// assert_eq!(r.reward(&[94.0, 0.2], &dirs, 0)?, -6.0);
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chebyshev {
    weights: Vec<f64>,
    ideal: Vec<f64>,
}

impl Chebyshev {
    /// One weight and one ideal value per objective.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for empty, negative, non-finite or all-zero
    /// weights or a non-finite ideal value; [`ObjectiveError::CountMismatch`] when the
    /// lists differ in length.
    pub fn new(weights: Vec<f64>, ideal: Vec<f64>) -> Result<Self, ObjectiveError> {
        check_weights("Chebyshev weights", &weights)?;
        check_count("Chebyshev ideal point", weights.len(), ideal.len())?;
        if let Some((i, z)) = ideal.iter().enumerate().find(|(_, z)| !z.is_finite()) {
            return Err(ObjectiveError::InvalidConfig {
                what: "Chebyshev ideal point".into(),
                reason: format!("value {i} is {z}"),
            });
        }
        Ok(Self { weights, ideal })
    }

    /// The weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The ideal point.
    pub fn ideal(&self) -> &[f64] {
        &self.ideal
    }
}

impl Reward for Chebyshev {
    fn describe(&self) -> String {
        format!("{self:?}")
    }

    fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
        check_count("Chebyshev weights", directions.len(), self.weights.len())
    }

    fn reward(
        &self,
        values: &[f64],
        directions: &[Direction],
        _stage: usize,
    ) -> Result<f64, ObjectiveError> {
        let worst = signed_weights(&self.weights, values, directions)?
            .zip(&self.ideal)
            .map(|((ws, v), z)| ws * (z - v))
            .fold(f64::NEG_INFINITY, f64::max);
        Ok(-worst)
    }
}
