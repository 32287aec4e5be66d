//! SGD with momentum and weight decay as PyTorch defines it.

use burn::module::AutodiffModule;
use burn::optim::SgdConfig;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

/// The optimiser [`SgdSetup::init`] builds for module `M`.
pub type Sgd<M, B> = OptimizerAdaptor<burn::optim::Sgd<<B as AutodiffBackend>::InnerBackend>, M, B>;

/// SGD with momentum and L2 weight decay, with PyTorch's semantics: dampening 0 (burn's
/// `MomentumConfig` defaults to 0.1), no Nesterov; momentum or weight decay of 0 turns
/// that part off. The learning rate is given at every step.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::nn::{Linear, LinearConfig};
/// use tnd_nas::train::SgdSetup;
/// let setup = SgdSetup::new(0.9, 3e-4);
/// assert_eq!(setup.momentum_config().map(|m| m.dampening), Some(0.0));
/// let _optim = setup.init::<Autodiff<NdArray>, Linear<Autodiff<NdArray>>>();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SgdSetup {
    /// Momentum (0 for none).
    pub momentum: f64,
    /// L2 weight decay (0 for none).
    pub weight_decay: f64,
}

impl SgdSetup {
    /// SGD with `momentum` and `weight_decay`.
    pub fn new(momentum: f64, weight_decay: f64) -> Self {
        Self {
            momentum,
            weight_decay,
        }
    }

    /// burn's momentum settings, `None` without momentum.
    pub fn momentum_config(&self) -> Option<MomentumConfig> {
        (self.momentum > 0.0).then(|| {
            MomentumConfig::new()
                .with_momentum(self.momentum)
                .with_dampening(0.0)
        })
    }

    /// burn's SGD settings.
    pub fn config(&self) -> SgdConfig {
        SgdConfig::new()
            .with_momentum(self.momentum_config())
            .with_weight_decay(
                (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32)),
            )
    }

    /// The optimiser for module `M` on backend `B`.
    pub fn init<B: AutodiffBackend, M: AutodiffModule<B>>(&self) -> Sgd<M, B> {
        self.config().init::<B, M>()
    }
}
