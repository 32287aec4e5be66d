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
    let first = |d: Direction| directions.iter().position(|x| *x == d);
    let acc_cost = || -> Result<(usize, usize), ObjectiveError> {
        Ok((
            first(Direction::Maximise).ok_or_else(|| {
                invalid(format!("`{kind}` needs a maximised objective (accuracy)"))
            })?,
            first(Direction::Minimise)
                .ok_or_else(|| invalid(format!("`{kind}` needs a minimised objective (cost)")))?,
        ))
    };
    let keyed = |keys: &[&str]| -> Result<Vec<(String, String)>, ObjectiveError> {
        let mut pairs = Vec::new();
        for kv in args.split(',').filter(|kv| !kv.is_empty()) {
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
    };
    let get = |pairs: &[(String, String)], k: &str| -> Result<String, ObjectiveError> {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| invalid(format!("`{kind}` needs `{k}=`")))
    };
    // `sum` and `chebyshev`: one weight per objective, checked here so that the
    // message names the weights (not the ideal point, whose length is the objectives').
    let weights = || -> Result<Vec<f64>, ObjectiveError> {
        let weights = numbers(args, ',', "weights")?;
        if weights.len() != directions.len() {
            return Err(ObjectiveError::CountMismatch {
                what: format!("`{kind}` weights"),
                expected: directions.len(),
                found: weights.len(),
            });
        }
        Ok(weights)
    };
    let reward: Box<dyn Reward> = match kind {
        "mnas" => {
            let kv = keyed(&["target", "exponent"])?;
            let (acc, cost) = acc_cost()?;
            Box::new(
                MnasReward::new(
                    numbers(&get(&kv, "target")?, '/', "target")?,
                    numbers(&get(&kv, "exponent")?, '/', "exponent")?,
                )?
                .with_objectives(acc, cost),
            )
        }
        "hard" => {
            let kv = keyed(&["limit"])?;
            let (acc, cost) = acc_cost()?;
            let limits = numbers(&get(&kv, "limit")?, '/', "limit")?;
            // The costs a spec can name (parameters, MACs, latency, energy) are
            // positive: a limit at or below zero would reject every architecture.
            if let Some(l) = limits.iter().find(|l| **l <= 0.0) {
                return Err(invalid(format!(
                    "`hard` limit {l} is not above zero: every architecture would break it"
                )));
            }
            Box::new(HardConstraint::new(limits)?.with_objectives(acc, cost))
        }
        "sum" => Box::new(WeightedSum::new(weights()?)?),
        "front" => {
            let k = if args.is_empty() {
                ParetoPreferences::DEFAULT_STEPS
            } else {
                args.trim().parse::<usize>().map_err(|_| {
                    invalid(format!(
                        "`front` takes the number of preferences per objective, got `{args}`"
                    ))
                })?
            };
            Box::new(ParetoPreferences::new(k, directions.len())?)
        }
        "chebyshev" => Box::new(Chebyshev::new(weights()?, ideal.to_vec())?),
        other => {
            return Err(invalid(format!(
                "unknown reward `{other}` (expected mnas, hard, sum, chebyshev or front)"
            )));
        }
    };
    reward.check(directions)?;
    Ok(reward)
}
