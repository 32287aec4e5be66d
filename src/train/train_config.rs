//! The settings of supernet weight training during a search.

use serde::{Deserialize, Serialize};

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

/// How `w` is trained: SGD with a per-stage cosine learning rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Batch size (64).
    pub batch_size: usize,
    /// Initial learning rate of every stage (0.04).
    pub lr: f64,
    /// Final learning rate of the cosine decay (0).
    pub lr_min: f64,
    /// SGD momentum (0.9).
    pub momentum: f64,
    /// Weight decay (3e-4).
    pub weight_decay: f64,
    /// Global gradient-norm clip (5); `None` disables it.
    pub grad_clip: Option<f64>,
    /// Weighted (default) or single-path training.
    pub mode: TrainMode,
    /// An alpha update every `alpha_every` weight steps after the warm-up (4).
    pub alpha_every: usize,
    /// Validation batches each sample is scored on (1).
    pub score_batches: usize,
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
            lr: 0.04,
            lr_min: 0.0,
            momentum: 0.9,
            weight_decay: 3e-4,
            grad_clip: Some(5.0),
            mode: TrainMode::Weighted,
            alpha_every: 4,
            score_batches: 1,
            augment: AugmentConfig::default(),
            max_steps_per_epoch: None,
            workers: 1,
        }
    }
}
