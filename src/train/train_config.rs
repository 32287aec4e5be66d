//! The settings of supernet weight training during a search.

use serde::{Deserialize, Serialize};

use super::SgdSettings;
use crate::data::AugmentConfig;

/// How the supernet weights `w` are trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum TrainMode {
    /// Every edge outputs the `softmax(alpha)`-weighted sum of its active ops (paper default).
    Weighted,
    /// Each step trains one architecture sampled from `softmax(alpha)` (memory-cheap).
    SinglePath,
}

/// Which distribution the supernet's training paths (single-path) or weights
/// (weighted) come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum PathSampling {
    /// The strategy's current probabilities (`softmax(alpha)` for TND): training follows
    /// the policy's favourites (paper default).
    #[default]
    Policy,
    /// Uniform over the active ops of every edge, whatever the policy favours ("fair"
    /// sampling, as single-path one-shot NAS trains its supernet).
    Uniform,
}

/// Which statistics the supernet's batch normalisations use when a sampled
/// architecture is scored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ScoreBn {
    /// The running statistics of the BNs that keep them (stem, residual blocks, last
    /// BN), accumulated over every path trained; the cells' BNs use the batch's.
    #[default]
    Running,
    /// Every BN uses the statistics of the scoring batch along the scored path
    /// (per-path recalibration).
    Batch,
}

/// What a sampled architecture's supernet score measures on the scoring batches (both
/// in percent, so rewards and objectives read them alike).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ScoreMetric {
    /// Top-1 accuracy: the share of images whose highest logit is the label.
    #[default]
    Accuracy,
    /// The mean softmax probability of the true class ("soft accuracy"): the expected
    /// accuracy of sampling the prediction from the softmax. Each image contributes a
    /// number in [0, 1] instead of 0 or 1, so on the same images the score varies less
    /// from one set of images to another, and two close architectures are told apart on
    /// fewer images.
    Probability,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// How `w` is trained: SGD with a per-stage cosine learning rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Batch size (64).
    pub batch_size: usize,
    /// SGD of every stage: lr 0.04 annealed by a cosine to 0 within each stage,
    /// momentum 0.9, weight decay 3e-4, clip 5.
    #[serde(flatten)]
    pub sgd: SgdSettings,
    /// Weighted (default) or single-path training.
    pub mode: TrainMode,
    /// An alpha update every `alpha_every` weight steps after the warm-up (4).
    pub alpha_every: usize,
    /// Validation batches each sample is scored on (1). Every sample of one ask is
    /// scored on the same batches.
    pub score_batches: usize,
    /// Whether every ask is scored on the same `score_batches` validation batches
    /// (a fixed scoring set) instead of the next ones (false).
    #[serde(default, skip_serializing_if = "is_default")]
    pub score_fixed: bool,
    /// BN statistics when scoring ([`ScoreBn::Running`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub score_bn: ScoreBn,
    /// What a score measures ([`ScoreMetric::Accuracy`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub score_metric: ScoreMetric,
    /// Where training paths come from ([`PathSampling::Policy`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub sampling: PathSampling,
    /// Augmentation of the weight-training half (crop + flip; no cutout during search).
    pub augment: AugmentConfig,
    /// Caps the steps of every epoch (for quick runs); `None` uses the whole half.
    pub max_steps_per_epoch: Option<usize>,
    /// Batch-preparation worker threads (1).
    pub workers: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            batch_size: 64,
            sgd: SgdSettings::default().with_lr(0.04),
            mode: TrainMode::Weighted,
            alpha_every: 4,
            score_batches: 1,
            score_fixed: false,
            score_bn: ScoreBn::Running,
            score_metric: ScoreMetric::Accuracy,
            sampling: PathSampling::Policy,
            augment: AugmentConfig::default(),
            max_steps_per_epoch: None,
            workers: 1,
        }
    }
}
