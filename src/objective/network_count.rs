//! Counts of the evaluation network, minimised: trainable parameters ([`ParamCount`])
//! and multiply-accumulates ([`Macs`]), one objective type told apart by what it counts.

use super::{Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::Architecture;
use crate::network::EvalNetworkSpec;
use crate::space::SpaceError;

/// What a [`NetworkCount`] counts on an architecture's evaluation network.
pub trait Counted: Clone + std::fmt::Debug + PartialEq + Send {
    /// The count.
    ///
    /// # Errors
    /// The network's [`SpaceError`] for an architecture it cannot build.
    fn count(&self, network: &dyn EvalNetworkSpec, arch: &Architecture) -> Result<u64, SpaceError>;
}

/// Trainable parameters ([`ParamCount`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameters;

impl Counted for Parameters {
    fn count(&self, network: &dyn EvalNetworkSpec, arch: &Architecture) -> Result<u64, SpaceError> {
        network.param_count(arch)
    }
}

/// Multiply-accumulates of one forward pass of one `input x input` image ([`Macs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiplyAccumulates {
    /// The image side.
    pub input: usize,
}

impl Counted for MultiplyAccumulates {
    fn count(&self, network: &dyn EvalNetworkSpec, arch: &Architecture) -> Result<u64, SpaceError> {
        network.macs(arch, self.input)
    }
}

/// A count of the architecture's evaluation network (counted analytically from
/// [`ObjectiveContext::network`]), minimised; reported as a count, or in millions with
/// [`in_millions`](Self::in_millions). Used as [`ParamCount`] and [`Macs`].
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkCount<C: Counted> {
    name: String,
    counted: C,
    scale: f64,
}

/// Trainable parameters of the architecture's evaluation network, minimised (in
/// millions with [`in_millions`](NetworkCount::in_millions), the unit the paper's
/// targets use).
///
/// ```
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::objective::{Objective, ObjectiveContext, ParamCount};
/// use tnd_nas::spaces::nb201::Nb201Space;
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
pub type ParamCount = NetworkCount<Parameters>;

/// Multiply-accumulates of one forward pass of one `input x input` image through the
/// architecture's evaluation network, minimised (in millions with
/// [`in_millions`](NetworkCount::in_millions)).
///
/// ```
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::objective::{Macs, Objective, ObjectiveContext};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
/// let space = Nb201Space::new();
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
/// let ctx = ObjectiveContext::new(&space).with_network(&spec);
/// let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// let mut macs = Macs::new(32);
/// assert!(macs.evaluate(&arch, &ctx)? > Macs::new(16).evaluate(&arch, &ctx)?);
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
pub type Macs = NetworkCount<MultiplyAccumulates>;

impl Default for ParamCount {
    fn default() -> Self {
        Self::new()
    }
}

impl ParamCount {
    /// The raw count, named `params`.
    pub fn new() -> Self {
        NetworkCount::counting("params", Parameters)
    }
}

impl Macs {
    /// MACs at image side `input` (e.g. 32 for CIFAR), named `macs`.
    pub fn new(input: usize) -> Self {
        NetworkCount::counting("macs", MultiplyAccumulates { input })
    }
}

impl<C: Counted> NetworkCount<C> {
    /// Counts `counted`, named `name`, as a raw count.
    pub fn counting(name: impl Into<String>, counted: C) -> Self {
        Self {
            name: name.into(),
            counted,
            scale: 1.0,
        }
    }

    /// Reports millions instead.
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

impl<C: Counted> Objective for NetworkCount<C> {
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
        Ok(self.counted.count(network, arch)? as f64 * self.scale)
    }
}
