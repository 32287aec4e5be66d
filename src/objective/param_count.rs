//! Trainable parameters of the evaluation network.

use super::{Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::Architecture;

/// Trainable parameters of the architecture's evaluation network (counted analytically
/// from [`ObjectiveContext::network`]), minimised. Reported as a count, or in millions
/// with [`ParamCount::in_millions`] (the unit the paper's targets use).
///
/// ```
/// use tnd_nas::eval::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::objective::{Objective, ObjectiveContext, ParamCount};
/// use tnd_nas::space::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
/// let space = Nb201Space::new();
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
/// let ctx = ObjectiveContext::new(&space).with_network(&spec);
/// let big = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// let small = Architecture::new(vec![OpKind::SkipConnect; 6]);
/// let mut params = ParamCount::new();
/// assert!(params.evaluate(&big, &ctx)? > params.evaluate(&small, &ctx)?);
/// assert!(params.evaluate(&big, &ObjectiveContext::new(&space)).is_err()); // no network given
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ParamCount {
    name: String,
    scale: f64,
}

impl Default for ParamCount {
    fn default() -> Self {
        Self::new()
    }
}

impl ParamCount {
    /// The raw count, named `params`.
    pub fn new() -> Self {
        Self {
            name: "params".into(),
            scale: 1.0,
        }
    }

    /// Reports millions of parameters instead.
    pub fn in_millions(mut self) -> Self {
        self.scale = 1e-6;
        self
    }

    /// Renames the objective.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

impl Objective for ParamCount {
    fn name(&self) -> &str {
        &self.name
    }

    fn direction(&self) -> Direction {
        Direction::Minimise
    }

    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        let network = ctx.network.ok_or_else(|| ObjectiveError::NoNetwork {
            objective: self.name.clone(),
        })?;
        Ok(network.param_count(arch)? as f64 * self.scale)
    }
}
