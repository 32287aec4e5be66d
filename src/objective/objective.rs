//! The `Objective` trait, its direction and the context it is evaluated in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ObjectiveError;
use crate::network::EvalNetworkSpec;
use crate::{Architecture, SearchSpace};

/// Whether smaller or larger values of an objective are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better (parameters, latency, energy).
    Minimise,
    /// Larger is better (accuracy).
    Maximise,
}

impl Direction {
    /// `+1.0` for [`Direction::Maximise`], `-1.0` for [`Direction::Minimise`]: multiplying a
    /// value by it turns "better" into "larger".
    pub fn sign(self) -> f64 {
        match self {
            Direction::Minimise => -1.0,
            Direction::Maximise => 1.0,
        }
    }

    /// Whether `a` is strictly better than `b` in this direction.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimise => a < b,
            Direction::Maximise => a > b,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Minimise => "minimise",
            Direction::Maximise => "maximise",
        })
    }
}

impl FromStr for Direction {
    type Err = ObjectiveError;

    /// Accepts `min`, `minimise`, `minimize`, `max`, `maximise`, `maximize`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "min" | "minimise" | "minimize" => Ok(Direction::Minimise),
            "max" | "maximise" | "maximize" => Ok(Direction::Maximise),
            other => Err(ObjectiveError::InvalidConfig {
                what: "direction".into(),
                reason: format!("`{other}` is neither `min` nor `max`"),
            }),
        }
    }
}

/// What an objective may look at besides the architecture: the space, the evaluation
/// network the architecture stands for, and the supernet's accuracy for the sample when
/// a supernet scored it.
///
/// ```
/// use tnd_nas::objective::ObjectiveContext;
/// use tnd_nas::spaces::nb201::Nb201Space;
/// let space = Nb201Space::new();
/// let ctx = ObjectiveContext::new(&space).with_accuracy(Some(91.5));
/// assert_eq!(ctx.accuracy, Some(91.5));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ObjectiveContext<'a> {
    /// The space the architecture belongs to.
    pub space: &'a dyn SearchSpace,
    /// The evaluation network architectures are turned into, if known.
    pub network: Option<&'a dyn EvalNetworkSpec>,
    /// The supernet's validation accuracy (percent) of this sample, when a supernet scored it.
    pub accuracy: Option<f64>,
}

impl<'a> ObjectiveContext<'a> {
    /// A context with only the space.
    pub fn new(space: &'a dyn SearchSpace) -> Self {
        Self {
            space,
            network: None,
            accuracy: None,
        }
    }

    /// Sets the evaluation network.
    pub fn with_network(mut self, network: &'a dyn EvalNetworkSpec) -> Self {
        self.network = Some(network);
        self
    }

    crate::setters! {
        /// Sets (or clears) the supernet accuracy of the sample.
        with_accuracy => accuracy: Option<f64>;
    }
}

/// One quantity to optimise: a name, a direction and an evaluation of one architecture.
///
/// `evaluate` takes `&mut self` so that an objective may cache (as
/// [`crate::objective::Latency`] does). Values should be finite; searches reject others.
///
/// ```
/// use tnd_nas::objective::{Direction, Objective, ObjectiveContext, ObjectiveError};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
///
/// /// How many 3x3 convolutions a cell has.
/// struct Conv3x3Count;
///
/// impl Objective for Conv3x3Count {
///     fn name(&self) -> &str { "conv3x3" }
///     fn direction(&self) -> Direction { Direction::Minimise }
///     fn evaluate(&mut self, arch: &Architecture, ctx: &ObjectiveContext<'_>) -> Result<f64, ObjectiveError> {
///         ctx.space.validate(arch)?;
///         Ok(arch.ops().iter().filter(|op| **op == OpKind::NorConv3x3).count() as f64)
///     }
/// }
///
/// let space = Nb201Space::new();
/// let ctx = ObjectiveContext::new(&space);
/// let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// assert_eq!(Conv3x3Count.evaluate(&arch, &ctx)?, 6.0);
/// assert!(Conv3x3Count.evaluate(&Architecture::new(vec![]), &ctx).is_err());
/// # Ok::<(), ObjectiveError>(())
/// ```
pub trait Objective {
    /// A short name (used as a key in results).
    fn name(&self) -> &str;

    /// Whether smaller or larger is better.
    fn direction(&self) -> Direction;

    /// The value of `arch`.
    ///
    /// # Errors
    /// Whatever prevents the value from being known: an architecture outside the space,
    /// a missing table row, a missing supernet score, a failed measurement.
    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError>;
}

impl<T: Objective + ?Sized> Objective for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn direction(&self) -> Direction {
        (**self).direction()
    }

    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        (**self).evaluate(arch, ctx)
    }
}

/// Evaluates every objective on `arch`, checking that each value is finite.
///
/// # Errors
/// The first objective's error, or [`ObjectiveError::NonFinite`].
pub fn evaluate_all(
    objectives: &mut [Box<dyn Objective>],
    arch: &Architecture,
    ctx: &ObjectiveContext<'_>,
) -> Result<Vec<f64>, ObjectiveError> {
    objectives
        .iter_mut()
        .map(|o| {
            let value = o.evaluate(arch, ctx)?;
            if value.is_finite() {
                Ok(value)
            } else {
                Err(ObjectiveError::NonFinite {
                    objective: o.name().to_string(),
                    value,
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_parse_sign_better() {
        assert_eq!("min".parse::<Direction>().unwrap(), Direction::Minimise);
        assert_eq!(
            "maximize".parse::<Direction>().unwrap(),
            Direction::Maximise
        );
        assert!("up".parse::<Direction>().is_err());
        assert!(Direction::Minimise.better(1.0, 2.0));
        assert!(!Direction::Maximise.better(1.0, 2.0));
        assert_eq!(Direction::Minimise.sign() * 3.0, -3.0);
        assert_eq!(
            serde_json::to_string(&Direction::Maximise).unwrap(),
            "\"maximise\""
        );
    }
}
