//! Configuration of the REINFORCE updater.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{PolicyError, ReinforceUpdater};
use crate::OpKind;

/// How the rewards of a batch weigh its samples' score-function terms
/// `grad log p(a_m)` in the REINFORCE gradient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Advantage {
    /// `R_m - b`, with the moving baseline `b` (the paper).
    Baseline,
    /// `(R_m - mean) / sd` over the batch (0 when every reward is equal).
    Standardised,
    /// The centred rank of `R_m` in its batch, from -1/2 (worst) to +1/2 (best); equal
    /// rewards share their mean rank. Invariant to the reward's scale and offset, so one
    /// step size fits accuracies, penalised accuracies and Chebyshev scores alike
    /// (default).
    #[default]
    Rank,
}

impl Advantage {
    /// The advantage of every reward of a batch; `baseline` is the paper's moving
    /// baseline after this batch moved it (used by [`Advantage::Baseline`] only).
    pub fn of(self, rewards: &[f64], baseline: f64) -> Vec<f64> {
        let m = rewards.len() as f64;
        match self {
            Advantage::Baseline => rewards.iter().map(|r| r - baseline).collect(),
            Advantage::Standardised => {
                let mean = rewards.iter().sum::<f64>() / m;
                let var = rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / m;
                let sd = var.sqrt();
                rewards
                    .iter()
                    .map(|r| if sd > 0.0 { (r - mean) / sd } else { 0.0 })
                    .collect()
            }
            Advantage::Rank => {
                if rewards.len() < 2 {
                    return vec![0.0; rewards.len()];
                }
                let mut order: Vec<usize> = (0..rewards.len()).collect();
                order.sort_by(|&a, &b| rewards[a].total_cmp(&rewards[b]));
                let mut ranks = vec![0.0; rewards.len()];
                let mut i = 0;
                while i < order.len() {
                    let mut j = i;
                    while j + 1 < order.len() && rewards[order[j + 1]] == rewards[order[i]] {
                        j += 1;
                    }
                    let mean_rank = (i + j) as f64 / 2.0;
                    for &k in &order[i..=j] {
                        ranks[k] = mean_rank / (m - 1.0) - 0.5;
                    }
                    i = j + 1;
                }
                ranks
            }
        }
    }
}

/// Every constant of the REINFORCE update of `alpha`.
///
/// Two presets: [`UpdaterConfig::paper`] keeps the paper's values (moving-baseline
/// advantages, a fixed Adam learning rate of 1e-2); [`UpdaterConfig::new`] (the default)
/// differs in two settings that make the search learn within the budget it is given:
/// rank advantages ([`Advantage::Rank`]) and a step size tied to the stage's length
/// (`stage_spread` 8: the learning rate of a stage is `8 / planned updates`, so alpha can
/// move about 8 logits by the stage's end and the policy is decided when the stage
/// drops ops). Where the executor cannot tell how many updates a stage gets, `lr` is
/// used.
///
/// ```
/// use tnd_nas::policy::{Advantage, UpdaterConfig};
/// use tnd_nas::OpKind;
/// let cfg = UpdaterConfig::new().with_samples(16).with_lr(0.05);
/// let updater = cfg.init(vec![vec![OpKind::None, OpKind::SkipConnect]; 3], 42)?;
/// assert_eq!(updater.config().samples, 16);
/// assert!(UpdaterConfig::new().with_baseline_decay(1.5).validate().is_err());
/// let paper = UpdaterConfig::paper();
/// assert_eq!((paper.advantage, paper.stage_spread), (Advantage::Baseline, None));
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
    /// How rewards become advantages (default [`Advantage::Rank`]; the paper:
    /// [`Advantage::Baseline`]).
    #[serde(default = "paper_advantage")]
    pub advantage: Advantage,
    /// When set, a stage with `U` planned updates uses the learning rate
    /// `stage_spread / U` instead of `lr`: alpha moves by about `stage_spread` logits
    /// over the stage, whatever its length (default 8; the paper: `None`).
    #[serde(default)]
    pub stage_spread: Option<f64>,
}

/// What a configuration written before the setting existed meant.
fn paper_advantage() -> Advantage {
    Advantage::Baseline
}

impl Default for UpdaterConfig {
    fn default() -> Self {
        Self {
            advantage: Advantage::Rank,
            stage_spread: Some(8.0),
            ..Self::paper()
        }
    }
}

impl UpdaterConfig {
    /// The defaults: [`UpdaterConfig::paper`] with rank advantages and a stage spread
    /// of 8.
    pub fn new() -> Self {
        Self::default()
    }

    /// The paper's values: M = 10, moving baseline (beta 0.95), Adam lr 1e-2, betas
    /// (0.5, 0.999), weight decay 1e-3, clip 5, no entropy bonus, init scale 1e-3, a fixed
    /// learning rate.
    pub fn paper() -> Self {
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
            advantage: paper_advantage(),
            stage_spread: None,
        }
    }

    crate::setters! {
        /// Sets M, the samples per update.
        with_samples => samples: usize;
        /// Sets the baseline step beta.
        with_baseline_decay => baseline_decay: f64;
        /// Sets the Adam learning rate.
        with_lr => lr: f64;
    }

    /// Sets Adam's betas.
    pub fn with_betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    crate::setters! {
        /// Sets Adam's epsilon.
        with_eps => eps: f64;
        /// Sets the weight decay.
        with_weight_decay => weight_decay: f64;
        /// Sets (or disables, with `None`) the gradient-norm clip.
        with_grad_clip => grad_clip: Option<f64>;
        /// Sets the entropy-bonus weight.
        with_entropy_weight => entropy_weight: f64;
        /// Sets how rewards become advantages.
        with_advantage => advantage: Advantage;
        /// Sets (or disables, with `None`) the step size tied to the stage's length.
        with_stage_spread => stage_spread: Option<f64>;
        /// Sets the scale of the initial logits.
        with_init_scale => init_scale: f64;
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`PolicyError::InvalidConfig`] naming the first bad setting: `samples` 0; `lr`,
    /// `eps` or `grad_clip` not positive and finite; `baseline_decay` outside (0, 1];
    /// a beta outside [0, 1); `weight_decay`, `entropy_weight` or `init_scale` negative or
    /// not finite; `stage_spread` not positive and finite.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |setting: &'static str, value: f64, reason: &'static str| {
            Err(PolicyError::InvalidConfig {
                setting,
                value: format!("{value:?}"),
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
        // An Adam step moves each logit by about `lr`: at 100 one step already sets
        // probabilities apart by e^100, and far beyond, logits overflow.
        if !(positive(self.lr) && self.lr <= 100.0) {
            return bad("lr", self.lr, "must lie in (0, 100]");
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
        if let Some(spread) = self.stage_spread
            && !(positive(spread) && spread <= 1e4)
        {
            return bad("stage_spread", spread, "must lie in (0, 10000] (or None)");
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
