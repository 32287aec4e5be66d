//! The search loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, Optimizer, Sgd, SgdConfig};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Int, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::checkpoint;
use super::result::FinalOutcome;
use super::state::{DataFingerprint, STATE_VERSION};
use super::{
    AlphaRecord, CellSpace, Control, SearchConfig, SearchError, SearchEvent, SearchObserver,
    SearchResult, SearchState, StageSummary, StepRecord, TrainMode,
};
use crate::Architecture;
use crate::data::{AugmentConfig, BatchLoader, BatchLoaderConfig, ImageDataset, Normalization};
use crate::objective::{
    Direction, EvalNetworkSpec, Objective, ObjectiveContext, ParetoArchive, Reward, ScoredSample,
    evaluate_all,
};
use crate::ops::{clip_grad_norm, materialize, trainable_params};
use crate::supernet::{Path as NetPath, SuperNet};

type Optim<B> = OptimizerAdaptor<Sgd<<B as AutodiffBackend>::InnerBackend>, SuperNet<B>, B>;

/// A TND-NAS search: an executor that owns the loop over stages, epochs and steps,
/// the observers and the checkpoints; the updater does one alpha step at a time.
///
/// Each stage builds a supernet over the surviving ops at the stage's depth; its
/// warm-up epochs train `w` only, then every `alpha_every` weight steps the updater
/// samples M architectures, scores each on a validation batch with the supernet in
/// single-path mode, turns the objectives into rewards and moves alpha. At the end of
/// the stage the least likely ops are dropped. After the last stage every edge holds
/// one op: the final architecture.
///
/// # Reproducibility
/// A search with the same seed, data and configuration repeats exactly, also across a
/// checkpoint and resume. Burn's CPU backends keep one random state per process, which
/// the search seeds at every stage and epoch: run concurrent searches (or trainings) in
/// separate processes if they must be reproducible.
///
/// ```no_run
/// use burn::backend::{Autodiff, Flex};
/// use tnd_nas::data::FashionMnistSample;
/// use tnd_nas::objective::{MnasReward, ParamCount, ValidationAccuracy};
/// use tnd_nas::search::{ProgressBar, Search, SearchConfig};
/// use tnd_nas::space::DartsSpaceConfig;
///
/// let (train, _holdout) = FashionMnistSample::search_and_holdout()?;
/// let space = DartsSpaceConfig::tnd().init()?;
/// let objectives: Vec<Box<dyn tnd_nas::objective::Objective>> =
///     vec![Box::new(ValidationAccuracy::new()), Box::new(ParamCount::new().in_millions())];
/// let reward = MnasReward::new(vec![0.5], vec![-0.3])?;
/// let mut search = Search::<Autodiff<Flex>>::new(
///     SearchConfig::quick(), space.into(), objectives, Box::new(reward), train, Default::default())?;
/// let result = search.run(&mut [&mut ProgressBar::new()])?;
/// println!("{}", result.final_architecture.text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Search<B: AutodiffBackend> {
    space: CellSpace,
    network: EvalNetworkSpec,
    objectives: Vec<Box<dyn Objective>>,
    reward: Box<dyn Reward>,
    train: BatchLoader,
    valid: BatchLoader,
    classes: usize,
    in_channels: usize,
    device: B::Device,
    state: SearchState,
    model: Option<SuperNet<B>>,
    optim: Option<Optim<B>>,
    checkpoint_dir: Option<PathBuf>,
    pending_weights: Option<PathBuf>,
}

impl<B: AutodiffBackend> std::fmt::Debug for Search<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("space", &self.space)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<B: AutodiffBackend> Search<B> {
    /// Prepares a search: validates the configuration, the schedule against the space,
    /// the reward against the objectives, and splits `data` into the half that trains
    /// `w` and the half that scores samples. Nothing is trained or written yet.
    ///
    /// # Errors
    /// Any invalid setting, named, before any work.
    pub fn new(
        config: SearchConfig,
        space: CellSpace,
        objectives: Vec<Box<dyn Objective>>,
        reward: Box<dyn Reward>,
        data: ImageDataset,
        device: B::Device,
    ) -> Result<Self, SearchError> {
        config.validate()?;
        let schedule = config.schedule.init(space.as_space())?;
        if !schedule.plan().ends_with_single_ops() {
            return Err(SearchError::config(
                "schedule.stages",
                format!(
                    "must leave exactly one op per edge after the last stage, but leaves {}",
                    schedule.plan()
                ),
            ));
        }
        if objectives.is_empty() {
            return Err(SearchError::config(
                "objectives",
                "needs at least one objective",
            ));
        }
        let names: Vec<String> = objectives.iter().map(|o| o.name().to_string()).collect();
        let directions: Vec<Direction> = objectives.iter().map(|o| o.direction()).collect();
        reward.check(&directions)?;
        let archive = ParetoArchive::new(names.clone(), directions)?;
        let updater = config
            .updater
            .init(schedule.active().to_vec(), config.seed)?;
        let fingerprint = DataFingerprint {
            name: data.name().to_string(),
            images: data.len(),
            shape: [data.channels(), data.height(), data.width()],
            classes: data.num_classes(),
        };
        let (classes, in_channels) = (data.num_classes(), data.channels());
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
        if train.batches_per_epoch() == 0 || valid.batches_per_epoch() == 0 {
            return Err(SearchError::config(
                "train.batch_size",
                format!(
                    "{} is larger than either half of the {} training images",
                    config.train.batch_size, fingerprint.images
                ),
            ));
        }
        let network = space.default_network(classes, in_channels);
        let state = SearchState {
            version: STATE_VERSION,
            space_id: space.as_space().id(),
            data: fingerprint,
            objectives: names,
            schedule,
            updater,
            archive,
            epoch: 0,
            step_in_epoch: 0,
            global_step: 0,
            search_steps: 0,
            valid_cursor: 0,
            path_rng: ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(2)),
            stages: Vec::new(),
            elapsed_seconds: 0.0,
            epoch_loss: (0.0, 0.0, 0),
            config,
        };
        Ok(Self {
            space,
            network,
            objectives,
            reward,
            train,
            valid,
            classes,
            in_channels,
            device,
            state,
            model: None,
            optim: None,
            checkpoint_dir: None,
            pending_weights: None,
        })
    }

    /// Sets the evaluation network the objectives measure (default: DARTS C=36, 20 cells;
    /// NAS-Bench-201 C=16, 5 cells).
    pub fn with_network(mut self, network: EvalNetworkSpec) -> Self {
        self.network = network;
        self
    }

    /// Writes checkpoints into `dir` (every `checkpoint_every` epochs, and before
    /// returning a non-finite-loss error).
    pub fn with_checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    /// Continues from the checkpoint in `dir` (written by a search with the same space,
    /// objectives, data and configuration). Checkpoints then go on into `dir`.
    ///
    /// # Errors
    /// [`SearchError::Checkpoint`] when the checkpoint is missing, unreadable, or from
    /// another space, configuration, objective list or dataset.
    pub fn resume_from(mut self, dir: impl AsRef<Path>) -> Result<Self, SearchError> {
        let dir = dir.as_ref();
        let found = checkpoint::locate(dir)?;
        let saved = checkpoint::read_state(&found)?;
        let mismatch = |what: &str, theirs: String, ours: String| SearchError::Checkpoint {
            path: found.clone(),
            reason: format!(
                "it belongs to another {what}: checkpoint has {theirs}, this search has {ours}"
            ),
        };
        if saved.version != STATE_VERSION {
            return Err(mismatch(
                "format version",
                saved.version.to_string(),
                STATE_VERSION.to_string(),
            ));
        }
        if saved.space_id != self.state.space_id {
            return Err(mismatch(
                "space",
                saved.space_id,
                self.state.space_id.clone(),
            ));
        }
        if saved.objectives != self.state.objectives {
            return Err(mismatch(
                "objective list",
                saved.objectives.join(","),
                self.state.objectives.join(","),
            ));
        }
        if saved.data != self.state.data {
            return Err(mismatch(
                "dataset",
                format!("{:?}", saved.data),
                format!("{:?}", self.state.data),
            ));
        }
        if saved.config != self.state.config {
            let theirs = serde_json::to_string(&saved.config).unwrap_or_default();
            let ours = serde_json::to_string(&self.state.config).unwrap_or_default();
            return Err(mismatch("configuration", theirs, ours));
        }
        self.state = saved;
        self.pending_weights = Some(found);
        self.checkpoint_dir = Some(dir.to_path_buf());
        Ok(self)
    }

    /// The current state (position, alpha, archive).
    pub fn state(&self) -> &SearchState {
        &self.state
    }

    /// The space.
    pub fn space(&self) -> &CellSpace {
        &self.space
    }

    /// The supernet of the current stage, if built.
    pub fn supernet(&self) -> Option<&SuperNet<B>> {
        self.model.as_ref()
    }

    fn emit(observers: &mut [&mut dyn SearchObserver], event: &SearchEvent) -> bool {
        let mut stop = false;
        for o in observers.iter_mut() {
            stop |= o.observe(event) == Control::Stop;
        }
        stop
    }

    fn global_epoch(&self) -> u64 {
        let s = &self.state;
        let before: usize = s.config.schedule.stages[..s.schedule.stage()]
            .iter()
            .map(|st| st.epochs)
            .sum();
        (before + s.epoch) as u64
    }

    fn steps_per_epoch(&self) -> usize {
        let n = self.train.batches_per_epoch();
        self.state
            .config
            .train
            .max_steps_per_epoch
            .map_or(n, |m| m.min(n))
    }

    fn build_stage(&mut self) -> Result<(), SearchError> {
        let stage_index = self.state.schedule.stage();
        let stage = self.state.config.schedule.stages[stage_index].clone();
        let cfg = self.space.supernet_config(
            &stage,
            self.state.schedule.active().to_vec(),
            self.classes,
            self.in_channels,
        );
        B::seed(
            &self.device,
            self.state
                .config
                .seed
                .wrapping_add(1000 * stage_index as u64),
        );
        let model = cfg.init::<B>(&self.device)?;
        materialize(&model);
        let t = &self.state.config.train;
        let mut sgd = SgdConfig::new();
        if t.momentum > 0.0 {
            sgd = sgd.with_momentum(Some(MomentumConfig::new().with_momentum(t.momentum)));
        }
        if t.weight_decay > 0.0 {
            sgd = sgd.with_weight_decay(Some(WeightDecayConfig::new(t.weight_decay as f32)));
        }
        let optim = sgd.init::<B, SuperNet<B>>();
        let (model, optim) = match self.pending_weights.take() {
            Some(dir) => checkpoint::read_weights(&dir, model, optim, &self.device)?,
            None => (model, optim),
        };
        self.model = Some(model);
        self.optim = Some(optim);
        Ok(())
    }

    fn save_checkpoint(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
        started: Instant,
    ) -> Result<Option<PathBuf>, SearchError> {
        let (Some(dir), Some(model), Some(optim)) =
            (&self.checkpoint_dir, &self.model, &self.optim)
        else {
            return Ok(None);
        };
        let mut state = self.state.clone();
        state.elapsed_seconds += started.elapsed().as_secs_f64();
        checkpoint::write(dir, &state, model, optim)?;
        Self::emit(
            observers,
            &SearchEvent::Checkpoint {
                path: dir.display().to_string(),
            },
        );
        Ok(Some(dir.clone()))
    }

    fn path_for_step(&mut self) -> NetPath {
        let policy = self.state.updater.policy();
        match self.state.config.train.mode {
            TrainMode::Weighted => NetPath::Weighted(
                policy
                    .probabilities()
                    .into_iter()
                    .map(|p| p.into_iter().map(|x| x as f32).collect())
                    .collect(),
            ),
            TrainMode::SinglePath => {
                NetPath::SinglePath(policy.sample_indices(&mut self.state.path_rng))
            }
        }
    }

    /// One weight step; returns (loss, accuracy %) or the non-finite loss.
    fn train_step(
        &mut self,
        images: Tensor<B, 4>,
        labels: Tensor<B, 1, Int>,
        lr: f64,
    ) -> Result<Result<(f64, f64), f64>, SearchError> {
        let path = self.path_for_step();
        let (Some(model), Some(optim)) = (self.model.take(), self.optim.as_mut()) else {
            return Err(SearchError::config(
                "supernet",
                "no supernet is built (internal order error)",
            ));
        };
        let n = labels.dims()[0];
        let logits = match model.forward(images, &path) {
            Ok(l) => l,
            Err(e) => {
                self.model = Some(model);
                return Err(e.into());
            }
        };
        let loss = CrossEntropyLossConfig::new()
            .init(&self.device)
            .forward(logits.clone(), labels.clone());
        let loss_value = loss.clone().into_scalar().elem::<f64>();
        if !loss_value.is_finite() {
            self.model = Some(model);
            return Ok(Err(loss_value));
        }
        let correct = logits
            .argmax(1)
            .flatten::<1>(0, 1)
            .equal(labels)
            .int()
            .sum()
            .into_scalar()
            .elem::<f64>();
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        if let Some(clip) = self.state.config.train.grad_clip {
            clip_grad_norm(&model, &mut grads, clip);
        }
        self.model = Some(optim.step(lr, model, grads));
        Ok(Ok((loss_value, 100.0 * correct / n as f64)))
    }

    /// Scores `samples` on the next validation batches with the supernet in single-path
    /// mode, without autodiff; accuracy in percent.
    fn score(&mut self, samples: &[Architecture]) -> Result<Vec<f64>, SearchError> {
        let per_epoch = self.valid.batches_per_epoch() as u64;
        let mut batches = Vec::new();
        for _ in 0..self.state.config.train.score_batches {
            let c = self.state.valid_cursor;
            self.state.valid_cursor += 1;
            batches.push((c / per_epoch, (c % per_epoch) as usize));
        }
        let policy = self.state.updater.policy();
        let paths = samples
            .iter()
            .map(|arch| policy.indices_of(arch).map(NetPath::SinglePath))
            .collect::<Result<Vec<_>, _>>()?;
        self.accuracy(&paths, &batches)
    }

    /// Accuracy (percent) of every path over the given validation batches.
    fn accuracy(
        &self,
        paths: &[NetPath],
        batches: &[(u64, usize)],
    ) -> Result<Vec<f64>, SearchError> {
        let Some(model) = &self.model else {
            return Err(SearchError::config(
                "supernet",
                "no supernet is built (internal order error)",
            ));
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
        let mut accs = Vec::with_capacity(paths.len());
        for path in paths {
            let (mut correct, mut total) = (0.0, 0.0);
            for (x, y) in &tensors {
                let logits = model.forward(x.clone(), path)?;
                correct += logits
                    .argmax(1)
                    .flatten::<1>(0, 1)
                    .equal(y.clone())
                    .int()
                    .sum()
                    .into_scalar()
                    .elem::<f64>();
                total += y.dims()[0] as f64;
            }
            accs.push(100.0 * correct / total.max(1.0));
        }
        Ok(accs)
    }

    fn alpha_update(&mut self, stage: usize) -> Result<AlphaRecord, SearchError> {
        let started = Instant::now();
        let samples = self.state.updater.sample();
        let accs = self.score(&samples)?;
        let mut rewards = Vec::with_capacity(samples.len());
        let directions = self.state.archive.directions().to_vec();
        for (arch, &acc) in samples.iter().zip(&accs) {
            let ctx = ObjectiveContext::new(self.space.as_space())
                .with_network(&self.network)
                .with_accuracy(Some(acc));
            let values = evaluate_all(&mut self.objectives, arch, &ctx)?;
            rewards.push(self.reward.reward(&values, &directions, stage)?);
            self.state.archive.push(ScoredSample {
                arch: arch.clone(),
                values,
                stage,
                step: self.state.global_step,
            })?;
        }
        let stats = self.state.updater.update(&samples, &rewards)?;
        Ok(AlphaRecord {
            stage,
            epoch: self.state.epoch,
            global_step: self.state.global_step,
            update: stats.step,
            reward_mean: stats.reward_mean,
            reward_max: stats.reward_max,
            baseline: stats.baseline,
            entropy: stats.entropy,
            grad_norm: stats.grad_norm,
            sample_acc_mean: accs.iter().sum::<f64>() / accs.len().max(1) as f64,
            update_ms: started.elapsed().as_secs_f64() * 1e3,
            probabilities: self.state.updater.probabilities(),
        })
    }

    /// Runs the search to the end (or until an observer stops it) and returns the result.
    ///
    /// # Errors
    /// [`SearchError::NonFiniteLoss`] (after checkpointing the last good state),
    /// [`SearchError::Stopped`], data, objective and I/O errors.
    pub fn run(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
    ) -> Result<SearchResult, SearchError> {
        let started = Instant::now();
        let mut final_acc = None;
        while !self.state.schedule.is_finished() {
            let stage = self.state.schedule.stage();
            let stage_cfg = self.state.config.schedule.stages[stage].clone();
            let stage_started = Instant::now();
            if self.model.is_none() {
                self.build_stage()?;
            }
            let supernet_params = self.model.as_ref().map_or(0, trainable_params);
            let steps_per_epoch = self.steps_per_epoch();
            Self::emit(
                observers,
                &SearchEvent::StageStart {
                    stage,
                    stages: self.state.config.schedule.stages.len(),
                    cells: stage_cfg.cells,
                    channels: stage_cfg.channels,
                    supernet_params,
                    epochs: stage_cfg.epochs,
                    steps_per_epoch,
                    from_epoch: self.state.epoch,
                },
            );
            while self.state.epoch < stage_cfg.epochs {
                let epoch = self.state.epoch;
                let epoch_started = Instant::now();
                let lr = self.state.config.lr(epoch, stage_cfg.epochs);
                let searching = epoch >= stage_cfg.warmup_epochs;
                let global_epoch = self.global_epoch();
                B::seed(
                    &self.device,
                    self.state.config.seed ^ (global_epoch << 20 | self.state.step_in_epoch as u64),
                );
                let batches = self
                    .train
                    .epoch_from(global_epoch, self.state.step_in_epoch)?;
                let mut last = Instant::now();
                for batch in batches.take(steps_per_epoch.saturating_sub(self.state.step_in_epoch))
                {
                    let n = batch.len();
                    let (x, y) = batch.into_tensors::<B>(&self.device);
                    let step = self.state.step_in_epoch;
                    let (loss, acc) = match self.train_step(x, y, lr)? {
                        Ok(v) => v,
                        Err(value) => {
                            let checkpoint = self.save_checkpoint(observers, started)?;
                            return Err(SearchError::NonFiniteLoss {
                                stage,
                                epoch,
                                step,
                                value,
                                checkpoint,
                            });
                        }
                    };
                    self.state.step_in_epoch += 1;
                    self.state.global_step += 1;
                    let (l, a, k) = self.state.epoch_loss;
                    self.state.epoch_loss = (l + loss, a + acc, k + 1);
                    let step_s = last.elapsed().as_secs_f64();
                    last = Instant::now();
                    if self
                        .state
                        .global_step
                        .is_multiple_of(self.state.config.log_every as u64)
                    {
                        let stop = Self::emit(
                            observers,
                            &SearchEvent::Step(StepRecord {
                                stage,
                                epoch,
                                step,
                                global_step: self.state.global_step,
                                loss,
                                train_acc: acc,
                                lr,
                                step_ms: step_s * 1e3,
                                images_per_sec: n as f64 / step_s.max(1e-9),
                            }),
                        );
                        if stop {
                            return self.stop(observers, started, stage);
                        }
                    }
                    if searching {
                        self.state.search_steps += 1;
                        if self
                            .state
                            .search_steps
                            .is_multiple_of(self.state.config.train.alpha_every as u64)
                        {
                            let record = self.alpha_update(stage)?;
                            if Self::emit(observers, &SearchEvent::Alpha(record)) {
                                return self.stop(observers, started, stage);
                            }
                            // Step times exclude the update (it has its own `update_ms`).
                            last = Instant::now();
                        }
                    }
                }
                let (l, a, k) = self.state.epoch_loss;
                let k = k.max(1) as f64;
                self.state.epoch += 1;
                self.state.step_in_epoch = 0;
                self.state.epoch_loss = (0.0, 0.0, 0);
                let mut stop = Self::emit(
                    observers,
                    &SearchEvent::EpochEnd {
                        stage,
                        epoch,
                        loss: l / k,
                        train_acc: a / k,
                        seconds: epoch_started.elapsed().as_secs_f64(),
                    },
                );
                let every = self.state.config.checkpoint_every;
                let last_epoch = self.state.epoch == stage_cfg.epochs;
                if every > 0 && self.state.epoch.is_multiple_of(every) && !last_epoch {
                    self.save_checkpoint(observers, started)?;
                }
                if stop && !last_epoch {
                    return self.stop(observers, started, stage);
                }
                if last_epoch {
                    // The final architecture's supernet score, before the supernet goes.
                    let probabilities = self.state.updater.probabilities();
                    let active = self.state.schedule.active().to_vec();
                    let dropped = self.state.schedule.shrink(&probabilities)?;
                    if self.state.schedule.is_finished() {
                        if let Some(arch) = self.state.schedule.final_architecture() {
                            let indices: Vec<usize> = arch
                                .ops()
                                .iter()
                                .zip(&active)
                                .map(|(op, ops)| ops.iter().position(|o| o == op).unwrap_or(0))
                                .collect();
                            final_acc = Some(self.score_indices(&indices)?);
                        }
                    } else {
                        self.state.updater.begin_stage(
                            self.state.schedule.active().to_vec(),
                            self.state.schedule.carries_alpha(),
                        )?;
                    }
                    let summary = StageSummary {
                        stage,
                        cells: stage_cfg.cells,
                        channels: stage_cfg.channels,
                        supernet_params,
                        active,
                        probabilities,
                        dropped,
                        seconds: stage_started.elapsed().as_secs_f64(),
                    };
                    self.state.stages.push(summary.clone());
                    self.state.epoch = 0;
                    self.state.search_steps = 0;
                    stop |= Self::emit(observers, &SearchEvent::StageEnd(summary));
                    if every > 0 && !self.state.schedule.is_finished() {
                        // Checkpoint the start of the next stage (fresh supernet).
                        self.model = None;
                        self.optim = None;
                        self.build_stage()?;
                        self.save_checkpoint(observers, started)?;
                    } else {
                        self.model = None;
                        self.optim = None;
                    }
                    if stop && !self.state.schedule.is_finished() {
                        return self.stop(observers, started, stage + 1);
                    }
                    break;
                }
            }
        }
        self.finish(observers, started, final_acc)
    }

    /// The final architecture's supernet accuracy on (up to) 8 fixed validation batches.
    fn score_indices(&mut self, indices: &[usize]) -> Result<f64, SearchError> {
        let batches: Vec<(u64, usize)> = (0..self.valid.batches_per_epoch().min(8))
            .map(|k| (0, k))
            .collect();
        let accs = self.accuracy(&[NetPath::SinglePath(indices.to_vec())], &batches)?;
        Ok(accs.first().copied().unwrap_or(0.0))
    }

    fn stop(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
        started: Instant,
        stage: usize,
    ) -> Result<SearchResult, SearchError> {
        let checkpoint = if self.state.config.checkpoint_every > 0 {
            self.save_checkpoint(observers, started)?
        } else {
            None
        };
        Err(SearchError::Stopped {
            stage,
            epoch: self.state.epoch,
            checkpoint,
        })
    }

    fn finish(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
        started: Instant,
        final_acc: Option<f64>,
    ) -> Result<SearchResult, SearchError> {
        let Some(arch) = self.state.schedule.final_architecture() else {
            return Err(SearchError::config(
                "schedule",
                "the schedule ended without one op per edge",
            ));
        };
        let ctx = ObjectiveContext::new(self.space.as_space())
            .with_network(&self.network)
            .with_accuracy(final_acc);
        let final_values: Vec<Option<f64>> = self
            .objectives
            .iter_mut()
            .map(|o| o.evaluate(&arch, &ctx).ok())
            .collect();
        let params = self.network.param_count(&arch).ok();
        let seconds = self.state.elapsed_seconds + started.elapsed().as_secs_f64();
        let final_architecture = self.space.finalize(arch);
        Self::emit(
            observers,
            &SearchEvent::Finished {
                architecture: final_architecture.text.clone(),
                seconds,
            },
        );
        Ok(SearchResult::new(
            FinalOutcome {
                architecture: final_architecture,
                values: final_values,
                supernet_accuracy: final_acc,
                params,
                wall_seconds: seconds,
            },
            &self.state,
            &self.space,
        ))
    }
}
