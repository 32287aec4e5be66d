//! Configuration of a search.

use std::sync::Arc;

use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use super::SearchError;
use crate::data::{AugmentConfig, ImageDataset};
use crate::network::EvalNetworkSpec;
use crate::policy::UpdaterConfig;
use crate::schedule::{ShrinkScheduleConfig, StageConfig};
use crate::scoring::{
    Evaluator, ParamsPrior, SupernetEvaluator, SupernetSpace, TrainableSupernet, with_score_prior,
};
use crate::strategy::StrategyConfig;
use crate::train::{PathSampling, ScoreBn, SgdSettings, TrainConfig, TrainMode};

/// A supernet search's evaluator and the space's evaluation network
/// ([`SearchConfig::supernet_evaluator`]).
pub(crate) type ScoredBy = (Box<dyn Evaluator>, Arc<dyn EvalNetworkSpec>);

/// Everything a search needs besides the space, the objectives and the data.
///
/// [`SearchConfig::paper`] follows `spec/tnd-nas.md`; [`SearchConfig::quick`] is a
/// minutes-long search on CPU.
///
/// ```
/// use tnd_nas::search::{SearchConfig, TrainMode};
/// let config = SearchConfig::quick().with_seed(7).with_mode(TrainMode::SinglePath);
/// assert!(config.validate().is_ok());
/// let bad = SearchConfig::paper().with_batch_size(0);
/// assert!(bad.validate().unwrap_err().to_string().contains("train.batch_size"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// The progressive-shrinking stages.
    pub schedule: ShrinkScheduleConfig,
    /// What to try next: TND (default), random search or regularised evolution.
    #[serde(default)]
    pub strategy: StrategyConfig,
    /// The REINFORCE updater of alpha (TND); its `samples` is also random search's batch.
    pub updater: UpdaterConfig,
    /// Training of the supernet weights.
    pub train: TrainConfig,
    /// Fraction of the training set that trains `w`; the rest scores samples (0.5).
    pub train_fraction: f64,
    /// Seed of everything random (data order, splits, weights, samples).
    pub seed: u64,
    /// Checkpoint after every this many epochs (1); 0 disables checkpoints.
    pub checkpoint_every: usize,
    /// One step record every this many steps (1).
    pub log_every: usize,
    /// Joins each supernet score with the architecture's parameter count
    /// ([`crate::scoring::WithParamsPrior`]): `None` in [`SearchConfig::paper`], the
    /// default of [`SearchConfig::quick`] and [`SearchConfig::cpu`], whose supernets rank
    /// Fashion-MNIST cells below the parameter count alone (docs/fidelity.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_prior: Option<ParamsPrior>,
}

impl SearchConfig {
    /// The paper's settings: 3 stages of 5/11/17 cells, 16 epochs (8 warm-up), the TND
    /// drop counts, M = 10 samples every 4 steps, SGD lr 0.04, the paper's REINFORCE
    /// ([`UpdaterConfig::paper`]).
    pub fn paper() -> Self {
        Self {
            schedule: ShrinkScheduleConfig::paper_tnd(),
            strategy: StrategyConfig::Tnd,
            updater: UpdaterConfig::paper(),
            train: TrainConfig::default(),
            train_fraction: 0.5,
            seed: 0,
            checkpoint_every: 1,
            log_every: 1,
            score_prior: None,
        }
    }

    /// The paper's settings with the DARTS op set's drop counts (8 -> 5 -> 3 -> 1).
    pub fn paper_darts() -> Self {
        Self {
            schedule: ShrinkScheduleConfig::paper_darts(),
            ..Self::paper()
        }
    }

    /// A small search that runs in minutes on a CPU: the paper's three stages and drop
    /// counts on 2/3/4 cells of 8 channels, 2 epochs each (1 warm-up), 12 steps per
    /// epoch of batch 32, M = 4 samples every 2 steps, the default updater
    /// ([`UpdaterConfig::new`]: rank advantages, the step tied to the stage's 6 updates).
    /// The supernet is scored as [`SearchConfig::cpu`]'s is (uniform training paths,
    /// one fixed scoring set of 4 batches, BN statistics of the scored path, scores
    /// joined with the parameter count), at a size that demonstrates the pipeline: its
    /// supernet is too short to rank cells (on the Fashion-MNIST ground truth, tau 0.05
    /// alone and 0.30 with the parameter count, against the count's own 0.47).
    pub fn quick() -> Self {
        let stages = ShrinkScheduleConfig::paper_tnd()
            .stages
            .into_iter()
            .zip([2, 3, 4])
            .map(|(s, cells)| {
                StageConfig { cells, ..s }
                    .with_epochs(2, 1)
                    .with_channels(8)
            })
            .collect();
        Self {
            schedule: ShrinkScheduleConfig::new(stages),
            updater: UpdaterConfig::new().with_samples(4),
            score_prior: Some(ParamsPrior::new()),
            train: TrainConfig {
                batch_size: 32,
                sgd: SgdSettings::default().with_lr(0.05),
                alpha_every: 2,
                max_steps_per_epoch: Some(12),
                sampling: PathSampling::Uniform,
                score_bn: ScoreBn::Batch,
                score_fixed: true,
                score_batches: 4,
                ..TrainConfig::default()
            },
            ..Self::paper()
        }
    }

    /// A search on a full training set on two CPU cores: the settings measured best
    /// against the Fashion-MNIST ground truth (docs/fidelity.md). On its 254 cells the
    /// supernet alone ranks cells at Kendall tau 0.41 and 0.50 (two seeds) against the
    /// parameter count's 0.47, and at 0.24 and 0.27 against 0.33 within the better half;
    /// no configuration of the study beats the parameter count there on its own. Its
    /// scores joined with the parameter count (`score_prior`, [`ParamsPrior::new`], as
    /// the search ranks its samples) rank them at 0.55 and 0.59, and at 0.38 and 0.40
    /// within the better half: above the parameter count on both seeds.
    /// The paper's three stages and drop counts on 1/2/3 cells of 8 channels, 40 epochs
    /// each (20 warm-up) over the whole weight-training half in
    /// batches of 256 at lr 0.1 (cosine), flips but no crops; single-path training on
    /// uniform ("fair") paths whatever the policy favours; every sample scored on the
    /// same 16 validation batches (4,096 images) with the BN statistics of its own path
    /// (`ScoreBn::Batch`); M = 4 samples every 32 steps, and the default updater with a
    /// stage spread of 24 instead of 8 (the scores are noisy, so alpha drifts at a
    /// fraction of the spread); each score joined with the parameter count's rank
    /// ([`crate::scoring::WithParamsPrior`]).
    ///
    /// Why each setting, measured (the supernet's Kendall tau against the ground truth):
    /// scoring on one batch of 32 images and running BN statistics left no information
    /// (tau near 0); a short supernet is far from trained (41% training accuracy where
    /// the stand-alone networks reach 85-88%); on uniform paths, 20 epochs reach 80%
    /// training accuracy, the 4,096-image scoring set took tau from 0.26 (1,024 images)
    /// to 0.48, and 40 epochs to 0.57 on those 41 cells (0.41 on all 254).
    ///
    /// ```
    /// use tnd_nas::scoring::ParamsPrior;
    /// use tnd_nas::search::{PathSampling, ScoreBn, SearchConfig, TrainMode};
    /// let cpu = SearchConfig::cpu();
    /// assert_eq!(cpu.train.mode, TrainMode::SinglePath);
    /// assert_eq!(cpu.train.sampling, PathSampling::Uniform);
    /// assert_eq!(cpu.train.score_bn, ScoreBn::Batch);
    /// assert!(cpu.train.score_fixed);
    /// assert_eq!(cpu.train.score_batches * cpu.train.batch_size, 4096);
    /// assert_eq!(cpu.schedule.stages[0].epochs, 40);
    /// assert_eq!(cpu.updater.stage_spread, Some(24.0));
    /// assert_eq!(cpu.score_prior, Some(ParamsPrior::new()));
    /// assert!(cpu.validate().is_ok());
    /// ```
    pub fn cpu() -> Self {
        let quick = Self::quick();
        let stages = quick
            .schedule
            .stages
            .iter()
            .zip([1, 2, 3])
            .map(|(s, cells)| StageConfig { cells, ..s.clone() }.with_epochs(40, 20))
            .collect();
        Self {
            schedule: ShrinkScheduleConfig::new(stages),
            train: TrainConfig {
                batch_size: 256,
                sgd: SgdSettings::default().with_lr(0.1),
                mode: TrainMode::SinglePath,
                sampling: PathSampling::Uniform,
                score_bn: ScoreBn::Batch,
                score_fixed: true,
                score_batches: 16,
                alpha_every: 32,
                max_steps_per_epoch: None,
                augment: AugmentConfig::default().with_crop_padding(0),
                ..quick.train
            },
            updater: quick.updater.clone().with_stage_spread(Some(24.0)),
            ..quick
        }
    }

    crate::setters! {
        /// Sets the seed.
        with_seed => seed: u64;
        /// Sets the training mode.
        with_mode => train.mode: TrainMode;
        /// Sets the batch size.
        with_batch_size => train.batch_size: usize;
        /// Sets the schedule.
        with_schedule => schedule: ShrinkScheduleConfig;
        /// Sets the strategy.
        with_strategy => strategy: StrategyConfig;
        /// Sets the updater.
        with_updater => updater: UpdaterConfig;
        /// Sets the score prior (`None`: the supernet's scores as they are).
        with_score_prior => score_prior: Option<ParamsPrior>;
        /// Caps the steps per epoch.
        with_max_steps_per_epoch => train.max_steps_per_epoch: Option<usize>;
        /// Sets how often checkpoints are written (in epochs; 0 = never).
        with_checkpoint_every => checkpoint_every: usize;
    }

    /// Checks every value that does not depend on the space or the data.
    ///
    /// # Errors
    /// [`SearchError::InvalidConfig`] naming the field, or the updater's error.
    pub fn validate(&self) -> Result<(), SearchError> {
        validate_train(&self.train)?;
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            return Err(SearchError::config(
                "train_fraction",
                format!(
                    "must lie strictly between 0 and 1, got {}",
                    self.train_fraction
                ),
            ));
        }
        if let Some(prior) = &self.score_prior {
            prior.validate()?;
        }
        if self.log_every == 0 {
            return Err(SearchError::config("log_every", "must be at least 1"));
        }
        if self.schedule.stages.is_empty() {
            return Err(SearchError::config(
                "schedule.stages",
                "needs at least one stage",
            ));
        }
        for (i, s) in self.schedule.stages.iter().enumerate() {
            if s.epochs == 0 || s.warmup_epochs > s.epochs {
                return Err(SearchError::config(
                    &format!("schedule.stages[{i}].epochs"),
                    format!(
                        "needs epochs >= 1 and warmup_epochs <= epochs, got {} and {}",
                        s.epochs, s.warmup_epochs
                    ),
                ));
            }
            if s.cells == 0 || s.channels == 0 {
                return Err(SearchError::config(
                    &format!("schedule.stages[{i}].cells"),
                    "cells and channels must be at least 1",
                ));
            }
        }
        self.updater.validate()?;
        self.strategy.validate()?;
        Ok(())
    }

    /// The learning rate of `epoch` (0-based) of a stage of `epochs` epochs: cosine
    /// annealing from `lr` to `lr_min`.
    pub fn lr(&self, epoch: usize, epochs: usize) -> f64 {
        self.train.sgd.lr_at(epoch, epochs)
    }

    /// What the supernet evaluator trains with.
    pub fn supernet_settings(&self) -> crate::scoring::SupernetSettings {
        crate::scoring::SupernetSettings {
            train: self.train.clone(),
            train_fraction: self.train_fraction,
            seed: self.seed,
            log_every: self.log_every,
            stages: self.schedule.stages.clone(),
        }
    }

    /// The evaluator a supernet search of this configuration scores with (the
    /// supernet over `space`, joined with the parameter count where
    /// [`SearchConfig::score_prior`] says so) and the space's evaluation network for
    /// the data. The search and `fidelity::supernet_scores` both build it here, so the
    /// fidelity study measures exactly what the search scores.
    ///
    /// # Errors
    /// Data that does not fit the space, an invalid prior.
    pub(crate) fn supernet_evaluator<B, S>(
        &self,
        space: &S,
        data: ImageDataset,
        device: B::Device,
    ) -> Result<ScoredBy, SearchError>
    where
        B: AutodiffBackend,
        S: SupernetSpace,
        S::Supernet<B>: TrainableSupernet<B>,
    {
        let supernet =
            SupernetEvaluator::<B, S>::new(&self.supernet_settings(), space.clone(), data, device)?;
        let network = space.network(&supernet.data_shape());
        let evaluator = with_score_prior(
            Box::new(supernet),
            self.score_prior,
            Arc::clone(&network),
            self.seed,
        )?;
        Ok((evaluator, network))
    }
}
/// Checks every training setting (sizes, learning rates, momentum, decay, clipping).
///
/// # Errors
/// [`SearchError::InvalidConfig`] naming the field (`train.lr`, ...).
fn validate_train(t: &TrainConfig) -> Result<(), SearchError> {
    if t.batch_size == 0 {
        return Err(SearchError::config(
            "train.batch_size",
            "must be at least 1",
        ));
    }
    t.sgd
        .validate()
        .map_err(|(field, reason)| SearchError::config(&format!("train.{field}"), reason))?;
    if t.alpha_every == 0 {
        return Err(SearchError::config(
            "train.alpha_every",
            "must be at least 1",
        ));
    }
    if t.score_batches == 0 {
        return Err(SearchError::config(
            "train.score_batches",
            "must be at least 1",
        ));
    }
    if t.workers == 0 {
        return Err(SearchError::config("train.workers", "must be at least 1"));
    }
    if t.max_steps_per_epoch == Some(0) {
        return Err(SearchError::config(
            "train.max_steps_per_epoch",
            "must be at least 1 when set",
        ));
    }
    Ok(())
}
