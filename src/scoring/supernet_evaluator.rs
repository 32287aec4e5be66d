//! Scoring by a weight-sharing supernet that trains between asks.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::supernet_weights::{read_weights, write_weights};
use super::{
    Advance, Clock, DataShape, EpochRecord, Evaluator, Progress, ScoringError, StageReport,
    StageStart, StageTraining, StepRecord, SupernetSpace, TrainableSupernet, active_indices,
};
use crate::data::{
    AugmentConfig, BatchLoader, BatchLoaderConfig, EpochBatches, ImageDataset, Normalization,
};
use crate::ops::{seeded_module, trainable_params, with_batch_statistics};
use crate::policy::sample_from;
use crate::schedule::StageConfig;
use crate::seeding::seeded;
use crate::supernet::{Path as NetPath, SupernetForward};
use crate::train::{
    PathSampling, ScoreBn, ScoreMetric, Sgd, TrainConfig, TrainMode, hits_value, loss_and_hits,
    sgd_step, true_class_probability,
};
use crate::{Architecture, OpKind};

/// What identifies the training data a search runs on (checked on resume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Dataset name.
    pub name: String,
    /// Number of images.
    pub images: usize,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// Number of classes.
    pub classes: usize,
    /// CRC-32 of every pixel and then every label: other images or other labels of the
    /// same size and name are another dataset.
    pub crc32: u32,
}

/// What a [`SupernetEvaluator`] trains with: the weight-training settings, the split of
/// the data, the seed, the logging period and the stages (see
/// [`crate::search::SearchConfig::supernet_settings`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SupernetSettings {
    /// Weight training.
    pub train: TrainConfig,
    /// Fraction of the data that trains `w` (the rest scores samples).
    pub train_fraction: f64,
    /// Seed of the split, the loaders, the paths and the weights.
    pub seed: u64,
    /// A step record every `log_every` steps.
    pub log_every: usize,
    /// The stages (epochs, warm-up, depth, width).
    pub stages: Vec<StageConfig>,
}

impl SupernetSettings {
    /// The learning rate of `epoch` of a stage of `epochs` epochs (cosine annealing).
    pub fn lr(&self, epoch: usize, epochs: usize) -> f64 {
        self.train.sgd.lr_at(epoch, epochs)
    }
}

/// The serialisable position of a [`SupernetEvaluator`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupernetPosition {
    /// The training data.
    pub data: DataFingerprint,
    /// Completed epochs of the current stage.
    pub epoch: usize,
    /// Completed steps of the current epoch.
    pub step_in_epoch: usize,
    /// Steps since the search began.
    pub global_step: u64,
    /// Steps of the current stage after its warm-up (a batch is due every
    /// `alpha_every` of them).
    pub search_steps: u64,
    /// Validation batches consumed so far.
    pub valid_cursor: u64,
    /// RNG of single-path sampling.
    pub path_rng: ChaCha8Rng,
    /// Training-loss sum, accuracy sum and batch count of the current epoch.
    pub epoch_loss: (f64, f64, usize),
}

/// The TND-NAS supernet as an evaluator: each stage builds a supernet over the
/// strategy's active ops at the stage's depth and width; between asks it trains the
/// weights `w` by SGD (weighted by the strategy's probabilities, or one sampled path a
/// step), with a warm-up of weight-only epochs; each asked architecture is scored
/// one-hot on the next validation batches (accuracy in percent).
///
/// Built by [`crate::search::SearchBuilder::build`] for any [`SupernetSpace`] `S`; the settings
/// are the [`SupernetSettings`].
pub struct SupernetEvaluator<B: AutodiffBackend, S: SupernetSpace>
where
    S::Supernet<B>: TrainableSupernet<B>,
{
    space: S,
    config: SupernetSettings,
    train: BatchLoader,
    valid: BatchLoader,
    data: DataShape,
    device: B::Device,
    pos: SupernetPosition,
    stage: usize,
    stage_cfg: Option<StageConfig>,
    model: Option<S::Supernet<B>>,
    optim: Option<Sgd<S::Supernet<B>, B>>,
    pending_weights: Option<PathBuf>,
    batches: Option<(EpochBatches, usize, Instant)>,
    /// A logged step returned before its search step was counted: counted on the next
    /// advance (dropped by an interrupt, as the checkpoint taken there does not hold it).
    pending_search_step: bool,
}

impl DataFingerprint {
    /// The fingerprint of `data`: name, size, shape, classes and a CRC-32 of pixels and
    /// labels.
    fn of(data: &ImageDataset) -> Self {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(data.pixels());
        for label in data.labels() {
            hasher.update(&label.to_le_bytes());
        }
        DataFingerprint {
            name: data.name().to_string(),
            images: data.len(),
            shape: [data.channels(), data.height(), data.width()],
            classes: data.num_classes(),
            crc32: hasher.finalize(),
        }
    }
}

/// The weight-training and scoring loaders over the two halves of `data`, both
/// normalised with the training half's statistics (or the configured ones).
fn loaders(
    config: &SupernetSettings,
    data: ImageDataset,
) -> Result<(BatchLoader, BatchLoader), ScoringError> {
    let (w_half, a_half) = data.split(config.train_fraction, config.seed ^ 0x5eed_5917)?;
    let normalization = match &config.train.augment.normalization {
        Some(n) => n.clone(),
        None => Normalization::from_dataset(&w_half)?,
    };
    let train = BatchLoaderConfig::new(config.train.batch_size)
        .with_seed(config.seed)
        .with_workers(config.train.workers)
        .with_drop_last(true)
        .with_augment(
            config
                .train
                .augment
                .clone()
                .with_normalization(Some(normalization.clone())),
        )
        .init(Arc::new(w_half))?;
    let valid = BatchLoaderConfig::new(config.train.batch_size)
        .with_seed(config.seed.wrapping_add(1))
        .with_drop_last(true)
        .with_augment(AugmentConfig::none().with_normalization(Some(normalization)))
        .init(Arc::new(a_half))?;
    Ok((train, valid))
}

impl<B: AutodiffBackend, S: SupernetSpace> std::fmt::Debug for SupernetEvaluator<B, S>
where
    S::Supernet<B>: TrainableSupernet<B>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupernetEvaluator")
            .field("space", &self.space)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<B: AutodiffBackend, S: SupernetSpace> SupernetEvaluator<B, S>
where
    S::Supernet<B>: TrainableSupernet<B>,
{
    /// Splits `data` into the half that trains `w` and the half that scores samples,
    /// and prepares both loaders. Nothing is trained yet.
    ///
    /// # Errors
    /// A data split or batch size that does not fit the data, named.
    pub fn new(
        config: &SupernetSettings,
        space: S,
        data: ImageDataset,
        device: B::Device,
    ) -> Result<Self, ScoringError> {
        let fingerprint = DataFingerprint::of(&data);
        let shape = DataShape {
            classes: data.num_classes(),
            channels: data.channels(),
            height: data.height(),
            width: data.width(),
        };
        let (train, valid) = loaders(config, data)?;
        if train.batches_per_epoch() == 0 || valid.batches_per_epoch() == 0 {
            return Err(ScoringError::config(
                "train.batch_size",
                format!(
                    "{} is larger than either half of the {} training images",
                    config.train.batch_size, fingerprint.images
                ),
            ));
        }
        Ok(Self {
            space,
            config: config.clone(),
            train,
            valid,
            data: shape,
            device,
            pos: SupernetPosition {
                data: fingerprint,
                epoch: 0,
                step_in_epoch: 0,
                global_step: 0,
                search_steps: 0,
                valid_cursor: 0,
                path_rng: ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(2)),
                epoch_loss: (0.0, 0.0, 0),
            },
            stage: 0,
            stage_cfg: None,
            model: None,
            optim: None,
            pending_weights: None,
            batches: None,
            pending_search_step: false,
        })
    }

    /// The shape of the data.
    pub fn data_shape(&self) -> DataShape {
        self.data
    }

    /// The position.
    pub fn position(&self) -> &SupernetPosition {
        &self.pos
    }

    /// The supernet of the current stage, if built.
    pub fn supernet(&self) -> Option<&S::Supernet<B>> {
        self.model.as_ref()
    }

    fn global_epoch(&self) -> u64 {
        let before: usize = self.config.stages[..self.stage]
            .iter()
            .map(|st| st.epochs)
            .sum();
        (before + self.pos.epoch) as u64
    }

    fn steps_per_epoch(&self) -> usize {
        let n = self.train.batches_per_epoch();
        self.config
            .train
            .max_steps_per_epoch
            .map_or(n, |m| m.min(n))
    }

    fn build_stage(
        &mut self,
        stage: &StageConfig,
        active: &[Vec<OpKind>],
    ) -> Result<(), ScoringError> {
        let seed = self.config.seed.wrapping_add(1000 * self.stage as u64);
        let model = seeded_module::<B, _, _>(&self.device, seed, || {
            self.space
                .supernet::<B>(stage, active, &self.data, &self.device)
        })?;
        let t = &self.config.train;
        let optim = t.sgd.init::<B, S::Supernet<B>>();
        let (model, optim) = match self.pending_weights.take() {
            Some(dir) => read_weights(&dir, model, optim, &self.device)?,
            None => (model, optim),
        };
        self.model = Some(model);
        self.optim = Some(optim);
        Ok(())
    }

    fn path_for_step(
        &mut self,
        probabilities: Option<&[Vec<f64>]>,
        active: &[Vec<OpKind>],
    ) -> NetPath {
        let uniform;
        let probabilities =
            probabilities.filter(|_| self.config.train.sampling == PathSampling::Policy);
        let probs = match probabilities {
            Some(p) => p,
            None => {
                uniform = active
                    .iter()
                    .map(|ops| vec![1.0 / ops.len().max(1) as f64; ops.len()])
                    .collect::<Vec<_>>();
                &uniform
            }
        };
        match self.config.train.mode {
            TrainMode::Weighted => NetPath::Weighted(
                probs
                    .iter()
                    .map(|p| p.iter().map(|&x| x as f32).collect())
                    .collect(),
            ),
            TrainMode::SinglePath => {
                NetPath::SinglePath(sample_from(probs, &mut self.pos.path_rng))
            }
        }
    }

    /// One weight step; returns (loss, accuracy %) or the non-finite loss.
    fn train_step(
        &mut self,
        images: Tensor<B, 4>,
        labels: Tensor<B, 1, Int>,
        lr: f64,
        path: NetPath,
    ) -> Result<Result<(f64, f64), f64>, ScoringError> {
        let (Some(model), Some(optim)) = (self.model.take(), self.optim.as_mut()) else {
            return Err(no_supernet());
        };
        let n = labels.dims()[0];
        let logits = match model.forward_path(images, &path) {
            Ok(l) => l,
            Err(e) => {
                self.model = Some(model);
                return Err(e.into());
            }
        };
        let loss = CrossEntropyLossConfig::new()
            .init(&self.device)
            .forward(logits.clone(), labels.clone());
        let read = loss_and_hits(loss.clone().inner(), logits.inner(), labels.inner());
        let (loss_value, correct) = match read {
            Ok(v) => v,
            Err(reason) => {
                self.model = Some(model);
                return Err(ScoringError::config("supernet", reason));
            }
        };
        if !loss_value.is_finite() {
            self.model = Some(model);
            return Ok(Err(loss_value));
        }
        let (model, _) = sgd_step(model, optim, loss, lr, self.config.train.sgd.grad_clip);
        self.model = Some(model);
        Ok(Ok((loss_value, 100.0 * correct / n as f64)))
    }

    /// Accuracy (percent) of every path over the given validation batches.
    fn accuracy(
        &self,
        paths: &[NetPath],
        batches: &[(u64, usize)],
    ) -> Result<Vec<f64>, ScoringError> {
        let Some(model) = &self.model else {
            return Err(no_supernet());
        };
        // Inference copy: the supernet's cell BNs normalise with batch statistics anyway.
        let model = model.valid();
        let mut tensors = Vec::with_capacity(batches.len());
        for &(epoch, index) in batches {
            tensors.push(
                self.valid
                    .batch(epoch, index)?
                    .into_tensors::<B::InnerBackend>(&self.device),
            );
        }
        let score = || -> Result<Vec<f64>, ScoringError> {
            let mut accs = Vec::with_capacity(paths.len());
            for path in paths {
                let (mut correct, mut total) = (0.0, 0.0);
                for (x, y) in &tensors {
                    let logits = model.forward_path(x.clone(), path)?;
                    correct += match self.config.train.score_metric {
                        ScoreMetric::Accuracy => hits_value(logits, y.clone()),
                        ScoreMetric::Probability => true_class_probability(logits, y.clone()),
                    };
                    total += y.dims()[0] as f64;
                }
                accs.push(100.0 * correct / total.max(1.0));
            }
            Ok(accs)
        };
        match self.config.train.score_bn {
            ScoreBn::Running => score(),
            ScoreBn::Batch => with_batch_statistics(score),
        }
    }

    /// Starts (or continues) the current epoch's training batches.
    fn open_epoch(&mut self, steps_per_epoch: usize) -> Result<(), ScoringError> {
        let global_epoch = self.global_epoch();
        // The seed of the epoch's random draws (skip dropout), set under the lock so that
        // it cannot land in another thread's seeded section; the draws themselves follow
        // outside it (see `crate::seeding`).
        let seed = self.config.seed ^ (global_epoch << 20 | self.pos.step_in_epoch as u64);
        seeded::<B, _>(&self.device, seed, || ());
        let batches = self
            .train
            .epoch_from(global_epoch, self.pos.step_in_epoch)?;
        let left = steps_per_epoch.saturating_sub(self.pos.step_in_epoch);
        self.batches = Some((batches, left, Instant::now()));
        Ok(())
    }

    /// Counts a search step (one after the warm-up); an ask of `batch_size` when one is
    /// due.
    fn count_search_step(&mut self, batch_size: usize) -> Option<Progress> {
        self.pos.search_steps += 1;
        self.pos
            .search_steps
            .is_multiple_of(self.config.train.alpha_every as u64)
            .then_some(Progress::Ask(batch_size))
    }

    /// The end of an epoch: its record, and whether the stage is done.
    fn end_epoch(&mut self, started: Instant, epochs: usize) -> Progress {
        let (l, a, k) = self.pos.epoch_loss;
        let k = k.max(1) as f64;
        let epoch = self.pos.epoch;
        self.pos.epoch += 1;
        self.pos.step_in_epoch = 0;
        self.pos.epoch_loss = (0.0, 0.0, 0);
        let record = EpochRecord {
            stage: self.stage,
            epoch,
            loss: l / k,
            train_acc: a / k,
            seconds: started.elapsed().as_secs_f64(),
        };
        Progress::EpochEnd {
            epoch: self.pos.epoch,
            last: self.pos.epoch == epochs,
            record: Some(record),
        }
    }
}

fn no_supernet() -> ScoringError {
    ScoringError::config("supernet", "no supernet is built (internal order error)")
}

impl<B: AutodiffBackend, S: SupernetSpace> Evaluator for SupernetEvaluator<B, S>
where
    S::Supernet<B>: TrainableSupernet<B>,
{
    fn name(&self) -> &str {
        "supernet"
    }

    fn prepare_stage(&mut self, start: &StageStart<'_>) -> Result<(), ScoringError> {
        self.stage = start.stage;
        self.stage_cfg = Some(start.config.clone());
        if self.model.is_none() {
            self.build_stage(start.config, start.active)?;
        }
        Ok(())
    }

    fn begin_stage(&mut self, start: &StageStart<'_>) -> Result<StageReport, ScoringError> {
        self.prepare_stage(start)?;
        Ok(StageReport {
            supernet_params: self.model.as_ref().map_or(0, trainable_params),
            training: Some(StageTraining {
                steps_per_epoch: self.steps_per_epoch(),
                from_epoch: self.pos.epoch,
            }),
        })
    }

    fn planned_batches(&self, _batch_size: usize) -> Option<u64> {
        let cfg = self.stage_cfg.as_ref()?;
        let search_steps =
            (cfg.epochs.saturating_sub(cfg.warmup_epochs) * self.steps_per_epoch()) as u64;
        Some(search_steps / self.config.train.alpha_every.max(1) as u64)
    }

    fn advance(&mut self, cx: &Advance<'_>) -> Result<Progress, ScoringError> {
        let Some(stage_cfg) = self.stage_cfg.clone() else {
            return Err(no_supernet());
        };
        if std::mem::take(&mut self.pending_search_step)
            && let Some(ask) = self.count_search_step(cx.batch_size)
        {
            return Ok(ask);
        }
        let steps_per_epoch = self.steps_per_epoch();
        let mut last = Instant::now();
        loop {
            if self.batches.is_none() {
                self.open_epoch(steps_per_epoch)?;
                last = Instant::now();
            }
            let Some((batches, left, epoch_started)) = self.batches.as_mut() else {
                return Err(no_supernet());
            };
            let epoch_started = *epoch_started;
            let next = if *left > 0 { batches.next() } else { None };
            let Some(batch) = next else {
                self.batches = None;
                return Ok(self.end_epoch(epoch_started, stage_cfg.epochs));
            };
            *left -= 1;
            let epoch = self.pos.epoch;
            let lr = self.config.lr(epoch, stage_cfg.epochs);
            let searching = epoch >= stage_cfg.warmup_epochs;
            let n = batch.len();
            let (x, y) = batch.into_tensors::<B>(&self.device);
            let step = self.pos.step_in_epoch;
            let path = self.path_for_step(cx.probabilities, cx.active);
            let (loss, acc) = match self.train_step(x, y, lr, path)? {
                Ok(v) => v,
                Err(value) => {
                    self.batches = None;
                    return Err(ScoringError::NonFiniteLoss {
                        stage: self.stage,
                        epoch,
                        step,
                        value,
                    });
                }
            };
            self.pos.step_in_epoch += 1;
            self.pos.global_step += 1;
            let (l, a, k) = self.pos.epoch_loss;
            self.pos.epoch_loss = (l + loss, a + acc, k + 1);
            let step_s = last.elapsed().as_secs_f64();
            last = Instant::now();
            if self
                .pos
                .global_step
                .is_multiple_of(self.config.log_every as u64)
            {
                let record = StepRecord {
                    stage: self.stage,
                    epoch,
                    step,
                    global_step: self.pos.global_step,
                    loss,
                    train_acc: acc,
                    lr,
                    step_ms: step_s * 1e3,
                    images_per_sec: n as f64 / step_s.max(1e-9),
                };
                self.pending_search_step = searching;
                return Ok(Progress::Step(record));
            }
            if searching && let Some(ask) = self.count_search_step(cx.batch_size) {
                return Ok(ask);
            }
        }
    }

    fn interrupt(&mut self) {
        self.batches = None;
        self.pending_search_step = false;
    }

    fn evaluate(
        &mut self,
        batch: &[Architecture],
        active: &[Vec<OpKind>],
    ) -> Result<Vec<Option<f64>>, ScoringError> {
        let per_epoch = self.valid.batches_per_epoch() as u64;
        let mut batches = Vec::new();
        for k in 0..self.config.train.score_batches as u64 {
            let c = if self.config.train.score_fixed {
                k
            } else {
                self.pos.valid_cursor += 1;
                self.pos.valid_cursor - 1
            };
            batches.push((c / per_epoch, (c % per_epoch) as usize));
        }
        let paths = batch
            .iter()
            .map(|arch| active_indices(active, arch).map(NetPath::SinglePath))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self
            .accuracy(&paths, &batches)?
            .into_iter()
            .map(Some)
            .collect())
    }

    /// The final architecture's supernet accuracy on (up to) 8 fixed validation batches.
    fn final_score(
        &mut self,
        arch: &Architecture,
        active: &[Vec<OpKind>],
    ) -> Result<Option<f64>, ScoringError> {
        let indices: Vec<usize> = arch
            .ops()
            .iter()
            .zip(active)
            .map(|(op, ops)| ops.iter().position(|o| o == op).unwrap_or(0))
            .collect();
        let batches: Vec<(u64, usize)> = (0..self.valid.batches_per_epoch().min(8))
            .map(|k| (0, k))
            .collect();
        let accs = self.accuracy(&[NetPath::SinglePath(indices)], &batches)?;
        Ok(Some(accs.first().copied().unwrap_or(0.0)))
    }

    fn end_stage(&mut self) -> Result<(), ScoringError> {
        self.pos.epoch = 0;
        self.pos.search_steps = 0;
        self.batches = None;
        self.model = None;
        self.optim = None;
        self.stage_cfg = None;
        Ok(())
    }

    fn clock(&self) -> Clock {
        Clock {
            epoch: self.pos.epoch,
            global_step: self.pos.global_step,
        }
    }

    fn checkpointable(&self) -> bool {
        self.model.is_some() && self.optim.is_some()
    }

    fn save(&self) -> Result<serde_json::Value, ScoringError> {
        serde_json::to_value(&self.pos).map_err(|e| ScoringError::Checkpoint {
            path: "state.json".into(),
            reason: e.to_string(),
        })
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), ScoringError> {
        let saved: SupernetPosition =
            serde_json::from_value(state).map_err(|e| ScoringError::Checkpoint {
                path: "state.json".into(),
                reason: format!("not a supernet state: {e}"),
            })?;
        if saved.data != self.pos.data {
            return Err(ScoringError::Checkpoint {
                path: "state.json".into(),
                reason: format!(
                    "it belongs to another dataset: checkpoint has {:?}, this search has {:?}",
                    saved.data, self.pos.data
                ),
            });
        }
        if saved.step_in_epoch > self.steps_per_epoch() {
            return Err(ScoringError::Checkpoint {
                path: "state.json".into(),
                reason: format!(
                    "`step_in_epoch` is {}, beyond the {} steps of an epoch",
                    saved.step_in_epoch,
                    self.steps_per_epoch()
                ),
            });
        }
        self.pos = saved;
        self.batches = None;
        Ok(())
    }

    fn write_files(&self, dir: &Path) -> Result<(), ScoringError> {
        match (&self.model, &self.optim) {
            (Some(model), Some(optim)) => write_weights(dir, model, optim),
            _ => Err(no_supernet()),
        }
    }

    fn read_files(&mut self, dir: &Path) -> Result<(), ScoringError> {
        self.pending_weights = Some(dir.to_path_buf());
        Ok(())
    }
}
