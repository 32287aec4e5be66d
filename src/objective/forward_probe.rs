//! Timing forward passes of evaluation networks on a burn backend.

use std::time::{Duration, Instant};

use burn::prelude::*;

use super::{EvalNetworkSpec, LatencyProbe, ObjectiveContext, ObjectiveError};
use crate::Architecture;
use crate::eval::{EvalNetwork, Nb201Network};
use crate::space::Nb201Space;

enum Built<B: Backend> {
    Darts(Box<EvalNetwork<B>>),
    Nb201(Box<Nb201Network<B>>),
}

impl<B: Backend> Built<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            Built::Darts(n) => n.forward(x),
            Built::Nb201(n) => n.forward(x),
        }
    }
}

/// A [`LatencyProbe`] that builds the architecture's evaluation network (from
/// [`ObjectiveContext::network`]) on backend `B` and `device`, and times one inference
/// forward pass of a `batch x C x input x input` batch, synchronising the device after
/// it. The last network built is kept, so repeated runs of one architecture build once.
///
/// Use a backend without autodiff (inference mode).
///
/// ```
/// use tnd_nas::eval::Nb201NetworkConfig;
/// use tnd_nas::objective::{EvalNetworkSpec, ForwardProbe, LatencyConfig, Objective, ObjectiveContext};
/// use tnd_nas::space::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
/// type B = burn::backend::Flex;
/// let space = Nb201Space::new();
/// let spec = EvalNetworkSpec::Nb201 { network: Nb201NetworkConfig::new(4, 1, 10) };
/// let ctx = ObjectiveContext::new(&space).with_network(&spec);
/// let probe = ForwardProbe::<B>::new(Default::default(), 2, 8)?;
/// let mut latency = LatencyConfig::new().with_warmup(1).with_runs(3).init(probe)?;
/// let ms = latency.evaluate(&Architecture::new(vec![OpKind::NorConv3x3; 6]), &ctx)?;
/// assert!(ms > 0.0);
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
pub struct ForwardProbe<B: Backend> {
    device: B::Device,
    batch: usize,
    input: usize,
    built: Option<(Architecture, Built<B>, Tensor<B, 4>)>,
}

impl<B: Backend> std::fmt::Debug for ForwardProbe<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardProbe")
            .field("device", &self.device)
            .field("batch", &self.batch)
            .field("input", &self.input)
            .field("built", &self.built.as_ref().map(|b| &b.0))
            .finish()
    }
}

impl<B: Backend> ForwardProbe<B> {
    /// Times batches of `batch` images of side `input` on `device`.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for a zero batch or input size.
    pub fn new(device: B::Device, batch: usize, input: usize) -> Result<Self, ObjectiveError> {
        if batch == 0 || input == 0 {
            return Err(ObjectiveError::InvalidConfig {
                what: "ForwardProbe".into(),
                reason: format!("batch ({batch}) and input size ({input}) must be positive"),
            });
        }
        Ok(Self {
            device,
            batch,
            input,
            built: None,
        })
    }

    fn build(
        &self,
        arch: &Architecture,
        spec: &EvalNetworkSpec,
    ) -> Result<Built<B>, ObjectiveError> {
        let probe = |e: crate::eval::EvalError| ObjectiveError::Probe(e.to_string());
        Ok(match spec {
            EvalNetworkSpec::Darts { space, network } => Built::Darts(
                network
                    .init::<B>(&space.genotype(arch)?, &self.device)
                    .map(Box::new)
                    .map_err(probe)?,
            ),
            EvalNetworkSpec::Nb201 { network } => Built::Nb201(
                network
                    .init::<B>(&Nb201Space::new().genotype(arch)?, &self.device)
                    .map(Box::new)
                    .map_err(probe)?,
            ),
        })
    }
}

impl<B: Backend> LatencyProbe for ForwardProbe<B> {
    fn time_forward(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<Duration, ObjectiveError> {
        let spec = ctx.network.ok_or_else(|| ObjectiveError::NoNetwork {
            objective: "latency".into(),
        })?;
        let sync =
            |device: &B::Device| B::sync(device).map_err(|e| ObjectiveError::Probe(e.to_string()));
        if self.built.as_ref().is_none_or(|(a, _, _)| a != arch) {
            self.built = None;
            let net = self.build(arch, spec)?;
            let x = Tensor::<B, 4>::ones(
                [self.batch, spec.in_channels(), self.input, self.input],
                &self.device,
            );
            self.built = Some((arch.clone(), net, x));
        }
        let Some((_, net, x)) = self.built.as_ref() else {
            return Err(ObjectiveError::Probe("network was not built".into()));
        };
        sync(&self.device)?;
        let start = Instant::now();
        let out = net.forward(x.clone());
        sync(&self.device)?;
        let elapsed = start.elapsed();
        drop(out);
        Ok(elapsed)
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use crate::eval::EvalNetworkConfig;
    use crate::objective::{LatencyConfig, Objective};
    use crate::space::DartsSpaceConfig;
    use crate::{OpKind, SearchSpace};

    type TestBackend = burn::backend::Flex;

    #[test]
    fn times_a_darts_network_and_keeps_it() {
        let space = DartsSpaceConfig::darts().init().unwrap();
        let spec = EvalNetworkSpec::Darts {
            space: space.clone(),
            network: EvalNetworkConfig::new(4, 3, 10),
        };
        let ctx = ObjectiveContext::new(&space).with_network(&spec);
        let mut probe = ForwardProbe::<TestBackend>::new(Default::default(), 1, 8).unwrap();
        let arch = Architecture::new(vec![OpKind::SepConv3x3; space.edges().len()]);
        assert!(probe.time_forward(&arch, &ctx).unwrap() > Duration::ZERO);
        assert_eq!(probe.built.as_ref().map(|b| &b.0), Some(&arch));
        let mut latency = LatencyConfig::new()
            .with_warmup(1)
            .with_runs(2)
            .init(probe)
            .unwrap();
        let ms = latency.evaluate(&arch, &ctx).unwrap();
        assert!(ms > 0.0 && latency.cached(&arch) == Some(ms));
        // Without a network in the context the probe cannot build anything.
        let other = Architecture::new(vec![OpKind::SkipConnect; space.edges().len()]);
        assert!(matches!(
            latency.evaluate(&other, &ObjectiveContext::new(&space)),
            Err(ObjectiveError::NoNetwork { .. })
        ));
        assert!(ForwardProbe::<TestBackend>::new(Default::default(), 0, 8).is_err());
    }
}
