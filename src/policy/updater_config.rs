//! Configuration of the REINFORCE updater.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{PolicyError, ReinforceUpdater};
use crate::OpKind;

/// Every constant of the REINFORCE update of `alpha`, with the paper's defaults.
///
/// ```
/// use tnd_nas::policy::UpdaterConfig;
/// use tnd_nas::OpKind;
/// let cfg = UpdaterConfig::new().with_samples(16).with_lr(0.05);
/// let updater = cfg.init(vec![vec![OpKind::None, OpKind::SkipConnect]; 3], 42)?;
/// assert_eq!(updater.config().samples, 16);
/// assert!(UpdaterConfig::new().with_baseline_decay(1.5).validate().is_err());
/// # Ok::<(), tnd_nas::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdaterConfig {
    /// Architectures sampled per update, M (default 10).
    pub samples: usize,
    /// Baseline step beta: `b <- b + beta * (mean R - b)` (default 0.95).
    pub baseline_decay: f64,
    /// Adam learning rate (default 1e-2).
    pub lr: f64,
    /// Adam beta1 (default 0.5).
    pub beta1: f64,
    /// Adam beta2 (default 0.999).
    pub beta2: f64,
    /// Adam epsilon (default 1e-8).
    pub eps: f64,
    /// L2 weight decay added to the gradient, PyTorch-Adam style (default 1e-3).
    pub weight_decay: f64,
    /// Global gradient-norm clip over all of alpha; `None` disables (default 5).
    pub grad_clip: Option<f64>,
    /// Weight of the entropy bonus added to the objective (default 0).
    pub entropy_weight: f64,
    /// Scale of the initial logits, `init_scale * N(0, 1)` (default 1e-3).
    pub init_scale: f64,
}

impl Default for UpdaterConfig {
    fn default() -> Self {
        Self {
            samples: 10,
            baseline_decay: 0.95,
            lr: 1e-2,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-3,
            grad_clip: Some(5.0),
            entropy_weight: 0.0,
            init_scale: 1e-3,
        }
    }
}

impl UpdaterConfig {
    /// The paper's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets M, the samples per update.
    pub fn with_samples(mut self, samples: usize) -> Self {
        self.samples = samples;
        self
    }

    /// Sets the baseline step beta.
    pub fn with_baseline_decay(mut self, beta: f64) -> Self {
        self.baseline_decay = beta;
        self
    }

    /// Sets the Adam learning rate.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets Adam's betas.
    pub fn with_betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// Sets Adam's epsilon.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the weight decay.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets (or disables, with `None`) the gradient-norm clip.
    pub fn with_grad_clip(mut self, clip: Option<f64>) -> Self {
        self.grad_clip = clip;
        self
    }

    /// Sets the entropy-bonus weight.
    pub fn with_entropy_weight(mut self, weight: f64) -> Self {
        self.entropy_weight = weight;
        self
    }

    /// Sets the scale of the initial logits.
    pub fn with_init_scale(mut self, scale: f64) -> Self {
        self.init_scale = scale;
        self
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`PolicyError::InvalidConfig`] naming the first bad setting: `samples` 0; `lr`,
    /// `eps` or `grad_clip` not positive and finite; `baseline_decay` outside (0, 1];
    /// a beta outside [0, 1); `weight_decay`, `entropy_weight` or `init_scale` negative or
    /// not finite.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |setting: &'static str, value: f64, reason: &'static str| {
            Err(PolicyError::InvalidConfig {
                setting,
                value: value.to_string(),
                reason,
            })
        };
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        if self.samples == 0 {
            return bad("samples", 0.0, "at least one sample per update");
        }
        if !(self.baseline_decay > 0.0 && self.baseline_decay <= 1.0) {
            return bad("baseline_decay", self.baseline_decay, "must lie in (0, 1]");
        }
        if !positive(self.lr) {
            return bad("lr", self.lr, "must be positive and finite");
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return bad("beta1", self.beta1, "must lie in [0, 1)");
        }
        if !(0.0..1.0).contains(&self.beta2) {
            return bad("beta2", self.beta2, "must lie in [0, 1)");
        }
        if !positive(self.eps) {
            return bad("eps", self.eps, "must be positive and finite");
        }
        if !non_negative(self.weight_decay) {
            return bad("weight_decay", self.weight_decay, "must be >= 0 and finite");
        }
        if let Some(clip) = self.grad_clip
            && !positive(clip)
        {
            return bad("grad_clip", clip, "must be positive and finite (or None)");
        }
        if !non_negative(self.entropy_weight) {
            return bad(
                "entropy_weight",
                self.entropy_weight,
                "must be >= 0 and finite",
            );
        }
        if !non_negative(self.init_scale) {
            return bad("init_scale", self.init_scale, "must be >= 0 and finite");
        }
        Ok(())
    }

    /// Validates and builds an updater over `active[e]` on every edge `e`, with
    /// `alpha = init_scale * N(0, 1)` drawn from a ChaCha8 RNG seeded with `seed` (the
    /// same RNG then draws every sample).
    ///
    /// # Errors
    /// As [`UpdaterConfig::validate`] and [`super::CategoricalPolicy::new`].
    pub fn init(
        &self,
        active: Vec<Vec<OpKind>>,
        seed: u64,
    ) -> Result<ReinforceUpdater, PolicyError> {
        self.init_with_rng(active, ChaCha8Rng::seed_from_u64(seed))
    }

    /// As [`UpdaterConfig::init`], with a given RNG.
    ///
    /// # Errors
    /// As [`UpdaterConfig::init`].
    pub fn init_with_rng(
        &self,
        active: Vec<Vec<OpKind>>,
        rng: ChaCha8Rng,
    ) -> Result<ReinforceUpdater, PolicyError> {
        self.validate()?;
        ReinforceUpdater::new(self.clone(), active, rng)
    }
}
