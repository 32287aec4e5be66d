//! Rewards from short text specs, for command lines and config files.

use super::{
    Chebyshev, Direction, HardConstraint, MnasReward, ObjectiveError, ParetoPreferences, Reward,
    WeightedSum,
};

fn invalid(reason: String) -> ObjectiveError {
    ObjectiveError::InvalidConfig {
        what: "reward spec".into(),
        reason,
    }
}

fn numbers(text: &str, sep: char, what: &str) -> Result<Vec<f64>, ObjectiveError> {
    text.split(sep)
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .map_err(|_| invalid(format!("{what}: `{x}` is not a number")))
        })
        .collect()
}

/// Builds a reward from a spec:
///
/// - `mnas:target=T1/T2/T3,exponent=W1/W2/W3`: `acc * (cost / T_s)^W_s` per stage (the
///   last value repeats);
/// - `hard:limit=L1/L2/L3`: accuracy while the cost is within the stage's limit, else 0;
/// - `sum:W1,W2,...`: weighted sum (weights apply to values oriented so that larger is
///   better);
/// - `chebyshev:W1,W2,...`: weighted Chebyshev distance to `ideal`;
/// - `front` or `front:K`: `K` (default 7) Chebyshev preferences over quantile-normalised
///   objectives ([`super::ParetoPreferences`]): TND learns one policy per preference and
///   the search returns a front.
///
/// `mnas` and `hard` take the first maximised objective as the accuracy and the first
/// minimised one as the cost.
///
/// ```
/// use tnd_nas::objective::{reward_from_spec, Direction};
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// let r = reward_from_spec("mnas:target=2/1,exponent=-1", &dirs, &[100.0, 0.0])?;
/// assert_eq!(r.reward(&[80.0, 4.0], &dirs, 0)?, 40.0);
/// assert_eq!(r.reward(&[80.0, 4.0], &dirs, 1)?, 20.0);
/// assert!(reward_from_spec("mnas:target=2", &dirs, &[]).is_err());
/// assert!(reward_from_spec("best", &dirs, &[]).is_err());
/// // Every spec the docs show works; repeated keys and nonsense limits do not.
/// for spec in ["mnas:target=4.4/3.2/2.5,exponent=-0.3", "hard:limit=3", "sum:1,10",
///              "chebyshev:1,1", "front", "front:5"] {
///     assert!(reward_from_spec(spec, &dirs, &[100.0, 0.0]).is_ok(), "{spec}");
/// }
/// assert!(reward_from_spec("mnas:target=4.4,target=1,exponent=-1", &dirs, &[]).is_err());
/// assert!(reward_from_spec("hard:limit=-1", &dirs, &[]).is_err());
/// assert!(reward_from_spec("sum:1,-10", &dirs, &[]).is_err()); // weights are >= 0
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
///
/// # Errors
/// [`ObjectiveError::InvalidConfig`] naming what is wrong with the spec, or the
/// reward's own validation error.
pub fn reward_from_spec(
    spec: &str,
    directions: &[Direction],
    ideal: &[f64],
) -> Result<Box<dyn Reward>, ObjectiveError> {
    let (kind, args) = spec.split_once(':').unwrap_or((spec, ""));
    let spec = Spec {
        kind,
        args,
        directions,
    };
    let reward: Box<dyn Reward> = match kind {
        "mnas" => Box::new(spec.mnas()?),
        "hard" => Box::new(spec.hard()?),
        "sum" => Box::new(WeightedSum::new(spec.weights()?)?),
        "front" => Box::new(spec.front()?),
        "chebyshev" => Box::new(Chebyshev::new(spec.weights()?, ideal.to_vec())?),
        other => {
            return Err(invalid(format!(
                "unknown reward `{other}` (expected mnas, hard, sum, chebyshev or front)"
            )));
        }
    };
    reward.check(directions)?;
    Ok(reward)
}

/// A spec split at its first `:`: the reward's kind and its settings, for objectives
/// with these directions.
struct Spec<'a> {
    kind: &'a str,
    args: &'a str,
    directions: &'a [Direction],
}

impl Spec<'_> {
    /// The first maximised (accuracy) and the first minimised (cost) objective.
    fn acc_cost(&self) -> Result<(usize, usize), ObjectiveError> {
        let kind = self.kind;
        let first = |d: Direction| self.directions.iter().position(|x| *x == d);
        Ok((
            first(Direction::Maximise).ok_or_else(|| {
                invalid(format!("`{kind}` needs a maximised objective (accuracy)"))
            })?,
            first(Direction::Minimise)
                .ok_or_else(|| invalid(format!("`{kind}` needs a minimised objective (cost)")))?,
        ))
    }

    /// The `key=value` settings, each one of `keys` and given once.
    fn keyed(&self, keys: &[&str]) -> Result<Vec<(String, String)>, ObjectiveError> {
        let kind = self.kind;
        let mut pairs = Vec::new();
        for kv in self.args.split(',').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| invalid(format!("`{kind}` takes key=value pairs, got `{kv}`")))?;
            if !keys.contains(&k) {
                return Err(invalid(format!(
                    "`{kind}` has no setting `{k}` (settings: {})",
                    keys.join(", ")
                )));
            }
            if pairs.iter().any(|(key, _)| key == k) {
                return Err(invalid(format!("`{kind}` has `{k}=` twice")));
            }
            pairs.push((k.to_string(), v.to_string()));
        }
        Ok(pairs)
    }

    /// The value of setting `k` among `pairs`.
    fn get(&self, pairs: &[(String, String)], k: &str) -> Result<String, ObjectiveError> {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| invalid(format!("`{}` needs `{k}=`", self.kind)))
    }

    /// `sum` and `chebyshev`: one weight per objective, checked here so that the
    /// message names the weights (not the ideal point, whose length is the objectives').
    fn weights(&self) -> Result<Vec<f64>, ObjectiveError> {
        let weights = numbers(self.args, ',', "weights")?;
        if weights.len() != self.directions.len() {
            return Err(ObjectiveError::CountMismatch {
                what: format!("`{}` weights", self.kind),
                expected: self.directions.len(),
                found: weights.len(),
            });
        }
        Ok(weights)
    }

    /// `mnas:target=T1/T2/T3,exponent=W1/W2/W3`.
    fn mnas(&self) -> Result<MnasReward, ObjectiveError> {
        let kv = self.keyed(&["target", "exponent"])?;
        let (acc, cost) = self.acc_cost()?;
        Ok(MnasReward::new(
            numbers(&self.get(&kv, "target")?, '/', "target")?,
            numbers(&self.get(&kv, "exponent")?, '/', "exponent")?,
        )?
        .with_objectives(acc, cost))
    }

    /// `hard:limit=L1/L2/L3`.
    fn hard(&self) -> Result<HardConstraint, ObjectiveError> {
        let kv = self.keyed(&["limit"])?;
        let (acc, cost) = self.acc_cost()?;
        let limits = numbers(&self.get(&kv, "limit")?, '/', "limit")?;
        // The costs a spec can name (parameters, MACs, latency, energy) are
        // positive: a limit at or below zero would reject every architecture.
        if let Some(l) = limits.iter().find(|l| **l <= 0.0) {
            return Err(invalid(format!(
                "`hard` limit {l} is not above zero: every architecture would break it"
            )));
        }
        Ok(HardConstraint::new(limits)?.with_objectives(acc, cost))
    }

    /// `front` or `front:K`.
    fn front(&self) -> Result<ParetoPreferences, ObjectiveError> {
        let args = self.args;
        let k = if args.is_empty() {
            ParetoPreferences::DEFAULT_STEPS
        } else {
            args.trim().parse::<usize>().map_err(|_| {
                invalid(format!(
                    "`front` takes the number of preferences per objective, got `{args}`"
                ))
            })?
        };
        ParetoPreferences::new(k, self.directions.len())
    }
}
