//! Timing forward passes of evaluation networks on a burn backend.

use std::time::{Duration, Instant};

use burn::prelude::*;

use super::{LatencyProbe, ObjectiveContext, ObjectiveError};
use crate::Architecture;
use crate::network::{BuildNetwork, ImageClassifier};

/// A [`LatencyProbe`] that builds the architecture's evaluation network (any
/// [`BuildNetwork`]: DARTS, NAS-Bench-201, MBConv, or your own) on backend `B` and
/// `device`, and times one inference forward pass of a `batch x C x input x input` batch,
/// synchronising the device after it. The last network built is kept, so repeated runs
/// of one architecture build once.
///
/// Use a backend without autodiff (inference mode).
///
/// ```
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::objective::{ForwardProbe, LatencyConfig, Objective, ObjectiveContext};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
/// type B = burn::backend::Flex;
/// let space = Nb201Space::new();
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(4, 1, 10));
/// let probe = ForwardProbe::<B, _>::new(spec, Default::default(), 2, 8)?;
/// let mut latency = LatencyConfig::new().with_warmup(1).with_runs(3).init(probe)?;
/// let ctx = ObjectiveContext::new(&space);
/// let ms = latency.evaluate(&Architecture::new(vec![OpKind::NorConv3x3; 6]), &ctx)?;
/// assert!(ms > 0.0);
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
pub struct ForwardProbe<B: Backend, N: BuildNetwork> {
    network: N,
    device: B::Device,
    batch: usize,
    input: usize,
    built: Option<(Architecture, N::Network<B>, Tensor<B, 4>)>,
}

impl<B: Backend, N: BuildNetwork> std::fmt::Debug for ForwardProbe<B, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardProbe")
            .field("network", &self.network)
            .field("device", &self.device)
            .field("batch", &self.batch)
            .field("input", &self.input)
            .field("built", &self.built.as_ref().map(|b| &b.0))
            .finish()
    }
}

impl<B: Backend, N: BuildNetwork> ForwardProbe<B, N> {
    /// Times batches of `batch` images of side `input` through `network` on `device`.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for a zero batch or input size.
    pub fn new(
        network: N,
        device: B::Device,
        batch: usize,
        input: usize,
    ) -> Result<Self, ObjectiveError> {
        if batch == 0 || input == 0 {
            return Err(ObjectiveError::InvalidConfig {
                what: "ForwardProbe".into(),
                reason: format!("batch ({batch}) and input size ({input}) must be positive"),
            });
        }
        Ok(Self {
            network,
            device,
            batch,
            input,
            built: None,
        })
    }
}

impl<B: Backend, N: BuildNetwork> LatencyProbe for ForwardProbe<B, N> {
    fn time_forward(
        &mut self,
        arch: &Architecture,
        _ctx: &ObjectiveContext<'_>,
    ) -> Result<Duration, ObjectiveError> {
        let sync =
            |device: &B::Device| B::sync(device).map_err(|e| ObjectiveError::Probe(e.to_string()));
        if self.built.as_ref().is_none_or(|(a, _, _)| a != arch) {
            self.built = None;
            let net = self
                .network
                .build::<B>(arch, &self.device)
                .map_err(|e| match e {
                    crate::network::NetworkError::Genotype(e) => ObjectiveError::Space(e),
                    e => ObjectiveError::Probe(e.to_string()),
                })?;
            let x = Tensor::<B, 4>::ones(
                [
                    self.batch,
                    self.network.in_channels(),
                    self.input,
                    self.input,
                ],
                &self.device,
            );
            self.built = Some((arch.clone(), net, x));
        }
        let Some((_, net, x)) = self.built.as_ref() else {
            return Err(ObjectiveError::Probe("network was not built".into()));
        };
        sync(&self.device)?;
        let start = Instant::now();
        let out = net.classify(x.clone());
        sync(&self.device)?;
        let elapsed = start.elapsed();
        drop(out);
        Ok(elapsed)
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use crate::objective::{LatencyConfig, Objective};
    use crate::spaces::darts::DartsSpaceConfig;
    use crate::spaces::darts::{DartsNetworkSpec, EvalNetworkConfig};
    use crate::{OpKind, SearchSpace};

    type TestBackend = burn::backend::Flex;

    #[test]
    fn times_a_darts_network_and_keeps_it() {
        let space = DartsSpaceConfig::darts().init().unwrap();
        let spec = DartsNetworkSpec::new(space.clone(), EvalNetworkConfig::new(4, 3, 10));
        let ctx = ObjectiveContext::new(&space);
        let mut probe =
            ForwardProbe::<TestBackend, _>::new(spec.clone(), Default::default(), 1, 8).unwrap();
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
        // An architecture of another space is named, not built.
        let short = Architecture::new(vec![OpKind::SkipConnect; 3]);
        assert!(matches!(
            latency.evaluate(&short, &ctx),
            Err(ObjectiveError::Space(_))
        ));
        assert!(ForwardProbe::<TestBackend, _>::new(spec, Default::default(), 0, 8).is_err());
    }
}
