//! Multiply-accumulates of the evaluation network.

use super::{Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::Architecture;

/// Multiply-accumulates of one forward pass of one `input x input` image through the
/// architecture's evaluation network (counted analytically from
/// [`ObjectiveContext::network`]), minimised. Reported as a count, or in millions with
/// [`Macs::in_millions`].
///
/// ```
/// use tnd_nas::eval::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::objective::{Macs, Objective, ObjectiveContext};
/// use tnd_nas::space::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
/// let space = Nb201Space::new();
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
/// let ctx = ObjectiveContext::new(&space).with_network(&spec);
/// let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// let mut macs = Macs::new(32);
/// assert!(macs.evaluate(&arch, &ctx)? > Macs::new(16).evaluate(&arch, &ctx)?);
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Macs {
    name: String,
    input: usize,
    scale: f64,
}

impl Macs {
    /// MACs at image side `input` (e.g. 32 for CIFAR), named `macs`.
    pub fn new(input: usize) -> Self {
        Self {
            name: "macs".into(),
            input,
            scale: 1.0,
        }
    }

    /// Reports millions of MACs instead.
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

impl Objective for Macs {
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
        Ok(network.macs(arch, self.input)? as f64 * self.scale)
    }
}
