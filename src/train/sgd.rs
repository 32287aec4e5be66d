//! SGD with momentum and weight decay as PyTorch defines it: the one settings type of
//! every training loop.

use burn::module::AutodiffModule;
use burn::optim::SgdConfig;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

/// The optimiser [`SgdSettings::init`] builds for module `M`.
pub type Sgd<M, B> = OptimizerAdaptor<burn::optim::Sgd<<B as AutodiffBackend>::InnerBackend>, M, B>;

/// SGD as both the supernet's training ([`TrainConfig::sgd`](super::TrainConfig::sgd))
/// and retraining ([`RetrainConfig::sgd`](super::RetrainConfig::sgd)) use it: momentum
/// and L2 weight decay with PyTorch's semantics (dampening 0, where burn's
/// `MomentumConfig` defaults to 0.1; no Nesterov; momentum or weight decay of 0 turns
/// that part off), a learning rate annealed by a cosine from `lr` to `lr_min`, and an
/// optional clip of the global gradient norm. The defaults are DARTS' retraining: lr
/// 0.025 to 0, momentum 0.9, weight decay 3e-4, clip 5.
///
/// In a configuration file its fields sit beside the other training fields (`lr = 0.1`
/// in `[search.train]` or `[retrain]`); a missing one takes its default.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::nn::{Linear, LinearConfig};
/// use tnd_nas::train::SgdSettings;
/// let sgd = SgdSettings::default().with_lr(0.1).with_weight_decay(5e-4);
/// assert_eq!(sgd.momentum_config().map(|m| m.dampening), Some(0.0));
/// assert_eq!(sgd.lr_at(0, 10), 0.1);
/// assert!((sgd.lr_at(5, 10) - 0.05).abs() < 1e-12);
/// assert!(sgd.with_momentum(1.0).validate().is_err());
/// let _optim = sgd.init::<Autodiff<NdArray>, Linear<Autodiff<NdArray>>>();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SgdSettings {
    /// Initial learning rate (0.025).
    pub lr: f64,
    /// Final learning rate of the cosine decay (0).
    pub lr_min: f64,
    /// Momentum (0.9; 0 for none).
    pub momentum: f64,
    /// L2 weight decay (3e-4; 0 for none).
    pub weight_decay: f64,
    /// Global gradient-norm clip (5); `None` disables it.
    pub grad_clip: Option<f64>,
}

impl Default for SgdSettings {
    fn default() -> Self {
        Self {
            lr: 0.025,
            lr_min: 0.0,
            momentum: 0.9,
            weight_decay: 3e-4,
            grad_clip: Some(5.0),
        }
    }
}

impl SgdSettings {
    crate::setters! {
        /// Sets [`lr`](Self::lr).
        with_lr => lr: f64;
        /// Sets [`lr_min`](Self::lr_min).
        with_lr_min => lr_min: f64;
        /// Sets [`momentum`](Self::momentum).
        with_momentum => momentum: f64;
        /// Sets [`weight_decay`](Self::weight_decay).
        with_weight_decay => weight_decay: f64;
        /// Sets [`grad_clip`](Self::grad_clip).
        with_grad_clip => grad_clip: Option<f64>;
    }

    /// Checks every value.
    ///
    /// # Errors
    /// The first field out of range and why, for the caller's error type.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.lr) {
            return Err((
                "lr",
                format!("must be positive and finite (got {})", self.lr),
            ));
        }
        if !(self.lr_min.is_finite() && (0.0..=self.lr).contains(&self.lr_min)) {
            return Err(("lr_min", format!("must be in 0..=lr (got {})", self.lr_min)));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err((
                "momentum",
                format!("must be in 0..1 (got {})", self.momentum),
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err((
                "weight_decay",
                format!("must be finite and >= 0 (got {})", self.weight_decay),
            ));
        }
        if let Some(clip) = self.grad_clip
            && !positive(clip)
        {
            return Err((
                "grad_clip",
                format!("must be positive and finite (or None) (got {clip})"),
            ));
        }
        Ok(())
    }

    /// The learning rate of 0-based epoch `epoch` of `epochs`: the cosine from `lr` to
    /// `lr_min` ([`cosine_lr`](super::cosine_lr)).
    pub fn lr_at(&self, epoch: usize, epochs: usize) -> f64 {
        super::cosine_lr(self.lr, self.lr_min, epoch, epochs)
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
