//! Several Chebyshev preferences over quantile-normalised objectives: a front from one
//! search.

use serde::{Deserialize, Serialize};

use super::reward::RewardContext;
use super::{Direction, ObjectiveError, Reward};

/// `K` weighted Chebyshev scalarisations spread over the front, for a search that
/// returns a Pareto front rather than one point of it: TND learns one policy per
/// preference (sharing the budget and, in supernet mode, the supernet), and every sample
/// of every preference goes into the one archive whose front the search reports.
///
/// Each objective is measured as a shortfall in *quantiles of the samples scored so far*:
/// the fraction of archived samples strictly better than this one in that objective (0
/// for the best value seen, near 1 for the worst). That makes the objectives comparable
/// with no units, ideal point or ranges to give, and insensitive to outliers: a few
/// collapsed architectures at 10% accuracy do not squeeze the differences among good
/// ones, and a cost spanning orders of magnitude is spread evenly. Preference `k`'s
/// reward is the augmented Chebyshev `-max_i w_ki * q_i - 0.05 * sum_i q_i`, with the
/// weight vectors on a lattice of the simplex, corners included: for two objectives
/// `w_k = (k / (K - 1), 1 - k / (K - 1))`; for `m` objectives every
/// `(a_1, ..., a_m) / (K - 1)` with whole `a_i >= 0` summing to `K - 1` (so `K` steps per
/// objective, and `C(K + m - 2, m - 1)` preferences). The small sum term breaks ties:
/// no preference settles on a weakly dominated point, and a corner (one objective alone)
/// takes the best of that objective's equals on the others.
///
/// The reward needs the archive, so it only makes sense inside a search
/// ([`Reward::reward_in`]); [`Reward::reward`] on its own is an error. The search's
/// `best` sample is the best under the middle preference
/// ([`ParetoPreferences::balanced`]; equal weights when there is one).
///
/// On the command line: `front` (`K` = [`ParetoPreferences::DEFAULT_STEPS`]) or `front:K`.
///
/// ```
/// use tnd_nas::objective::{Direction, ParetoPreferences, Reward, RewardContext};
/// let front = ParetoPreferences::new(5, 2)?;
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// front.check(&dirs)?;
/// assert_eq!(front.preferences(), 5);
/// // Four samples so far: accuracies 80, 90, 92, 94; costs 1, 2, 3, 4.
/// let sorted = vec![vec![80.0, 90.0, 92.0, 94.0], vec![1.0, 2.0, 3.0, 4.0]];
/// let accurate = [94.0, 4.0]; // best accuracy, worst cost
/// let cheap = [80.0, 1.0]; // worst accuracy, best cost
/// let at = |k| RewardContext::new(0, k, &sorted);
/// // Preference 0 weighs only the cost (accuracy breaks ties), preference 4 the accuracy.
/// assert!(front.reward_in(&cheap, &dirs, &at(0))? > front.reward_in(&accurate, &dirs, &at(0))?);
/// assert!(front.reward_in(&accurate, &dirs, &at(4))? > front.reward_in(&cheap, &dirs, &at(4))?);
/// assert!(front.reward(&cheap, &dirs, 0).is_err()); // needs the archive
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoPreferences {
    steps: usize,
    /// The weight vectors, in preference order (one weight per objective).
    weights: Vec<Vec<f64>>,
}

impl ParetoPreferences {
    /// `K` when none is given (`front`): chosen on NAS-Bench-201 accuracy and parameters
    /// at budget 500 over seeds 100-219 (mean front gap 0.235, 0.195, 0.170, 0.178,
    /// 0.175, 0.215 for K = 4 to 9 at seeds 100-119), not on the seeds the tests report.
    pub const DEFAULT_STEPS: usize = 7;

    /// `steps` (`K`) preferences per objective over `objectives` objectives.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for fewer than 2 or more than 64 steps, or fewer
    /// than 2 objectives.
    pub fn new(steps: usize, objectives: usize) -> Result<Self, ObjectiveError> {
        let bad = |reason: String| ObjectiveError::InvalidConfig {
            what: "front preferences".into(),
            reason,
        };
        if !(2..=64).contains(&steps) {
            return Err(bad(format!(
                "K = {steps}; give 2 to 64 preferences per objective"
            )));
        }
        if objectives < 2 {
            return Err(bad(format!(
                "a front needs at least two objectives, not {objectives}"
            )));
        }
        let total = steps - 1;
        let mut weights = Vec::new();
        let mut parts = vec![0usize; objectives];
        // Preference 0 weighs the first objective least (for accuracy then cost: the
        // cheapest end of the front first).
        compositions(total, 0, &mut parts, &mut |a| {
            weights.push(a.iter().map(|&x| x as f64 / total as f64).collect());
        });
        Ok(Self { steps, weights })
    }

    /// `K`, the preferences per objective.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The weight vectors, in preference order.
    pub fn weights(&self) -> &[Vec<f64>] {
        &self.weights
    }

    /// The index of the balanced preference among `count`.
    pub fn balanced(count: usize) -> usize {
        count / 2
    }
}

/// Calls `f` with every way of writing `left` as an ordered sum of `parts.len() - at`
/// whole numbers (in lexicographic order of the first part).
fn compositions(left: usize, at: usize, parts: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
    if at + 1 == parts.len() {
        parts[at] = left;
        f(parts);
        return;
    }
    for x in 0..=left {
        parts[at] = x;
        compositions(left - x, at + 1, parts, f);
    }
}

/// The weight of the plain sum of shortfalls added to the Chebyshev term (Steuer and
/// Choo's augmented Chebyshev): it breaks ties, so that no preference settles on a weakly
/// dominated point, and gives the preferences at the simplex's corners (one objective
/// alone) the best trade-off among that objective's equals.
const AUGMENTATION: f64 = 0.05;

/// The fraction of `sorted` strictly better than `v` in direction `d`.
fn quantile_shortfall(sorted: &[f64], v: f64, d: Direction) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let better = match d {
        Direction::Maximise => sorted.len() - sorted.partition_point(|x| *x <= v),
        Direction::Minimise => sorted.partition_point(|x| *x < v),
    };
    better as f64 / sorted.len() as f64
}

impl Reward for ParetoPreferences {
    fn describe(&self) -> String {
        format!("{self:?}")
    }

    fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
        let objectives = self.weights.first().map_or(0, Vec::len);
        super::reward::check_count("front objectives", objectives, directions.len())
    }

    fn reward(&self, _: &[f64], _: &[Direction], _: usize) -> Result<f64, ObjectiveError> {
        Err(ObjectiveError::InvalidConfig {
            what: "front preferences".into(),
            reason: "the reward ranks a sample among the samples scored so far; call \
                     `reward_in` with the archive (a search does)"
                .into(),
        })
    }

    fn preferences(&self) -> usize {
        self.weights.len()
    }

    fn reward_in(
        &self,
        values: &[f64],
        directions: &[Direction],
        ctx: &RewardContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        super::reward::check_count("objective values", directions.len(), values.len())?;
        super::reward::check_count(
            "archived objectives",
            directions.len(),
            ctx.sorted_values.len(),
        )?;
        let w = self
            .weights
            .get(ctx.preference)
            .ok_or_else(|| ObjectiveError::InvalidConfig {
                what: "front preferences".into(),
                reason: format!(
                    "preference {} asked of {} preferences",
                    ctx.preference,
                    self.weights.len()
                ),
            })?;
        let worst = values
            .iter()
            .zip(directions)
            .zip(ctx.sorted_values)
            .zip(w)
            .map(|(((v, d), sorted), w)| {
                let q = quantile_shortfall(sorted, *v, *d);
                (w * q, q)
            })
            .fold((0.0, 0.0), |(worst, sum), (wq, q)| {
                (f64::max(worst, wq), sum + q)
            });
        Ok(-worst.0 - AUGMENTATION * worst.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_objective_weights_match_the_formula() {
        let w = ParetoPreferences::new(5, 2).unwrap().weights().to_vec();
        assert_eq!(w.len(), 5);
        for (k, wk) in w.iter().enumerate() {
            assert!((wk[0] - k as f64 / 4.0).abs() < 1e-12);
            assert!((wk[0] + wk[1] - 1.0).abs() < 1e-12);
        }
        assert_eq!(ParetoPreferences::balanced(w.len()), 2); // (0.5, 0.5)
    }

    #[test]
    fn three_objectives_cover_the_simplex_with_its_corners() {
        let w = ParetoPreferences::new(3, 3).unwrap().weights().to_vec();
        assert_eq!(w.len(), 6); // C(3 + 3 - 2, 2)
        for wk in &w {
            assert!((wk.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(wk.iter().all(|x| *x >= 0.0));
        }
        for corner in [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] {
            assert!(w.iter().any(|wk| wk[..] == corner[..]));
        }
    }

    #[test]
    fn a_corner_breaks_ties_by_the_other_objectives() {
        let f = ParetoPreferences::new(3, 2).unwrap();
        let dirs = [Direction::Maximise, Direction::Minimise];
        f.check(&dirs).unwrap();
        let sorted = vec![vec![80.0, 90.0, 94.0], vec![1.0, 1.0, 2.0]];
        // Preference 0 is cost alone: of two samples at the lowest cost, the more
        // accurate one is better.
        let ctx = RewardContext::new(0, 0, &sorted);
        let a = f.reward_in(&[90.0, 1.0], &dirs, &ctx).unwrap();
        let b = f.reward_in(&[80.0, 1.0], &dirs, &ctx).unwrap();
        assert!(a > b);
        assert!((a - -(0.05 * (1.0 / 3.0))).abs() < 1e-12);
    }

    #[test]
    fn quantiles_count_strictly_better_samples() {
        let s = [1.0, 2.0, 2.0, 3.0];
        assert_eq!(quantile_shortfall(&s, 3.0, Direction::Maximise), 0.0);
        assert_eq!(quantile_shortfall(&s, 2.0, Direction::Maximise), 0.25);
        assert_eq!(quantile_shortfall(&s, 1.0, Direction::Minimise), 0.0);
        assert_eq!(quantile_shortfall(&s, 3.0, Direction::Minimise), 0.75);
        assert_eq!(quantile_shortfall(&[], 3.0, Direction::Minimise), 0.0);
    }

    #[test]
    fn bad_settings_are_errors() {
        assert!(ParetoPreferences::new(1, 2).is_err());
        assert!(ParetoPreferences::new(65, 2).is_err());
        assert!(ParetoPreferences::new(4, 1).is_err());
        let f = ParetoPreferences::new(4, 2).unwrap();
        assert!(f.check(&[Direction::Maximise]).is_err());
        f.check(&[Direction::Maximise, Direction::Minimise])
            .unwrap();
        let sorted = vec![vec![1.0], vec![1.0]];
        let dirs = [Direction::Maximise, Direction::Minimise];
        let ctx = RewardContext::new(0, 4, &sorted);
        assert!(f.reward_in(&[1.0, 1.0], &dirs, &ctx).is_err());
    }
}
