//! The `Reward` trait: objectives combined into the scalar the policy maximises.

use super::{Direction, ObjectiveError};

/// Turns one sample's objective values into the scalar reward the updater maximises.
///
/// `values` and `directions` are in the order of the search's objectives; `stage` is
/// the index of the current shrinking stage (rewards may use per-stage settings).
/// [`Reward::check`] is called once before a search starts, so that a reward that does
/// not fit the objectives is rejected before any work.
///
/// ```
/// use tnd_nas::objective::{Direction, ObjectiveError, Reward};
///
/// /// Accuracy minus a fixed price per million parameters.
/// struct Priced { per_million: f64 }
///
/// impl Reward for Priced {
///     fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
///         if directions != [Direction::Maximise, Direction::Minimise] {
///             return Err(ObjectiveError::InvalidConfig {
///                 what: "Priced".into(),
///                 reason: "needs (accuracy: max, params in millions: min)".into(),
///             });
///         }
///         Ok(())
///     }
///     fn reward(&self, values: &[f64], _: &[Direction], _stage: usize) -> Result<f64, ObjectiveError> {
///         Ok(values[0] - self.per_million * values[1])
///     }
/// }
///
/// let r = Priced { per_million: 2.0 };
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// r.check(&dirs)?;
/// assert_eq!(r.reward(&[90.0, 1.5], &dirs, 0)?, 87.0);
/// assert!(r.check(&[Direction::Maximise]).is_err());
/// # Ok::<(), ObjectiveError>(())
/// ```
pub trait Reward {
    /// Checks, before a search, that the reward fits objectives with these directions.
    ///
    /// # Errors
    /// [`ObjectiveError::CountMismatch`], [`ObjectiveError::WrongDirection`] and the like.
    fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
        let _ = directions;
        Ok(())
    }

    /// The reward of one sample.
    ///
    /// # Errors
    /// Values that the reward cannot combine (a non-positive cost under a power law, a
    /// wrong count).
    fn reward(
        &self,
        values: &[f64],
        directions: &[Direction],
        stage: usize,
    ) -> Result<f64, ObjectiveError>;

    /// What the reward is, with its settings, in one line: a checkpoint and
    /// `result.json` record it, and a resumed search with another reward is refused
    /// (two rewards must not be mixed in one search). The default is the type's name;
    /// a reward with settings should include them (the built-in rewards give their
    /// `Debug` form).
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }

    /// How many preferences (scalarisations of the same objectives) the reward offers;
    /// a strategy with one policy per preference (TND) learns each of them, so that one
    /// search covers the Pareto front instead of one point of it. Default: 1.
    fn preferences(&self) -> usize {
        1
    }

    /// The reward of one sample under preference `ctx.preference`, where the reward may
    /// also look at every sample scored so far (`ctx.sorted_values`). The search calls
    /// this; the default ignores the context and calls [`Reward::reward`].
    ///
    /// # Errors
    /// As [`Reward::reward`].
    fn reward_in(
        &self,
        values: &[f64],
        directions: &[Direction],
        ctx: &RewardContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        self.reward(values, directions, ctx.stage)
    }
}

/// What a reward may use besides one sample's values ([`Reward::reward_in`]).
#[derive(Debug, Clone, Copy)]
pub struct RewardContext<'a> {
    /// The current shrinking stage.
    pub stage: usize,
    /// The preference asked for, below [`Reward::preferences`].
    pub preference: usize,
    /// Every archived sample's value of each objective, one list per objective, each
    /// sorted ascending (the sample being rewarded included).
    pub sorted_values: &'a [Vec<f64>],
}

impl<'a> RewardContext<'a> {
    /// A context for `stage` and `preference` over the archive's sorted values.
    pub fn new(stage: usize, preference: usize, sorted_values: &'a [Vec<f64>]) -> Self {
        Self {
            stage,
            preference,
            sorted_values,
        }
    }
}

impl<T: Reward + ?Sized> Reward for Box<T> {
    fn check(&self, directions: &[Direction]) -> Result<(), ObjectiveError> {
        (**self).check(directions)
    }

    fn reward(
        &self,
        values: &[f64],
        directions: &[Direction],
        stage: usize,
    ) -> Result<f64, ObjectiveError> {
        (**self).reward(values, directions, stage)
    }

    fn preferences(&self) -> usize {
        (**self).preferences()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    fn reward_in(
        &self,
        values: &[f64],
        directions: &[Direction],
        ctx: &RewardContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        (**self).reward_in(values, directions, ctx)
    }
}

/// The value for `stage` of a per-stage list: the last one past the end.
pub(crate) fn per_stage(list: &[f64], stage: usize) -> f64 {
    list.get(stage).or(list.last()).copied().unwrap_or(f64::NAN)
}

/// Errors unless `found == expected`.
pub(crate) fn check_count(what: &str, expected: usize, found: usize) -> Result<(), ObjectiveError> {
    if expected == found {
        Ok(())
    } else {
        Err(ObjectiveError::CountMismatch {
            what: what.to_string(),
            expected,
            found,
        })
    }
}

/// Validates a weight vector: non-empty, finite, non-negative, not all zero.
pub(crate) fn check_weights(what: &str, weights: &[f64]) -> Result<(), ObjectiveError> {
    let bad = |reason: String| {
        Err(ObjectiveError::InvalidConfig {
            what: what.to_string(),
            reason,
        })
    };
    if weights.is_empty() {
        return bad("no weights given".into());
    }
    if let Some((i, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite() || **w < 0.0)
    {
        return bad(format!(
            "weight {i} is {w}; weights must be finite and >= 0 (a minimised objective is \
             negated before weighting: a positive weight already penalises it)"
        ));
    }
    if weights.iter().all(|w| *w == 0.0) {
        return bad("all weights are zero".into());
    }
    Ok(())
}

/// Checks that objective `index` exists and has direction `expected`.
pub(crate) fn check_direction(
    reward: &str,
    directions: &[Direction],
    index: usize,
    expected: Direction,
) -> Result<(), ObjectiveError> {
    match directions.get(index) {
        None => Err(ObjectiveError::InvalidConfig {
            what: reward.to_string(),
            reason: format!(
                "objective index {index} is out of range ({} objectives)",
                directions.len()
            ),
        }),
        Some(d) if *d != expected => Err(ObjectiveError::WrongDirection {
            reward: reward.to_string(),
            index,
            expected: expected.to_string(),
        }),
        Some(_) => Ok(()),
    }
}

/// `(w_i * s_i, v_i)` per objective (`s_i` the direction's sign, +1 maximised, -1
/// minimised), after checking that there is one value and one direction per weight: the
/// scalarisations combine these ([`WeightedSum`](super::WeightedSum) sums `w s v`,
/// [`Chebyshev`](super::Chebyshev) takes the largest `w s (z - v)`).
pub(crate) fn signed_weights<'a>(
    weights: &'a [f64],
    values: &'a [f64],
    directions: &'a [Direction],
) -> Result<impl Iterator<Item = (f64, f64)> + 'a, ObjectiveError> {
    check_count("objective values", weights.len(), values.len())?;
    check_count("objective directions", weights.len(), directions.len())?;
    Ok(weights
        .iter()
        .zip(directions)
        .map(|(w, d)| w * d.sign())
        .zip(values.iter().copied()))
}

/// Checks that objective `score` is maximised and `cost` minimised (the rewards that
/// trade one score against one cost: [`MnasReward`](super::MnasReward),
/// [`HardConstraint`](super::HardConstraint)).
pub(crate) fn check_score_cost(
    reward: &str,
    directions: &[Direction],
    score: usize,
    cost: usize,
) -> Result<(), ObjectiveError> {
    check_direction(reward, directions, score, Direction::Maximise)?;
    check_direction(reward, directions, cost, Direction::Minimise)
}

/// The values of objectives `score` and `cost`, after checking that there is one value
/// per direction.
pub(crate) fn score_and_cost(
    reward: &str,
    values: &[f64],
    directions: &[Direction],
    [score, cost]: [usize; 2],
) -> Result<(f64, f64), ObjectiveError> {
    check_count("objective values", directions.len(), values.len())?;
    match (values.get(score), values.get(cost)) {
        (Some(&s), Some(&c)) => Ok((s, c)),
        _ => Err(ObjectiveError::CountMismatch {
            what: format!("{reward} objective values"),
            expected: score.max(cost) + 1,
            found: values.len(),
        }),
    }
}
