//! The search loop: one executor for every strategy and evaluator.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;

use super::result::FinalOutcome;
use super::state::STATE_VERSION;
use super::{
    AlphaRecord, SearchConfig, SearchError, SearchEvent, SearchObserver, SearchResult, SearchState,
    StageSummary, TableSearchConfig, checkpoint,
};
use crate::data::ImageDataset;
use crate::objective::{
    Direction, EvalNetworkSpec, Objective, ObjectiveContext, ParetoArchive, ParetoPreferences,
    Reward, RewardContext, ScoredSample, evaluate_all,
};
use crate::observe::emit;
use crate::policy::{UpdateStats, entropy_of};
use crate::schedule::{ShrinkScheduleConfig, StageConfig};
use crate::scoring::{
    Advance, Clock, Evaluator, Progress, ScoringError, StageReport, StageStart, SupernetSpace,
    TableEvaluator, TrainableSupernet,
};
use crate::strategy::Strategy;
use crate::{Architecture, SearchSpace};

/// A search: one executor for every [`Strategy`] (what to try next) and every
/// [`Evaluator`] (how a batch is scored). It owns the loop over stages and batches,
/// the objectives and the reward, the archive of every scored sample, the observers
/// and the checkpoints; the strategy and the evaluator only do one step at a time.
///
/// [`Search::builder`] takes the space, then the objectives and the reward, then builds
/// - with [`SearchBuilder::build`]: the TND-NAS supernet search on image data (any
///   built-in strategy via [`SearchConfig::strategy`]);
/// - with [`SearchBuilder::build_table`]: a search scored by the objectives alone, e.g.
///   NAS-Bench-201 table lookups, in milliseconds.
///
/// [`Search::from_parts`] takes any strategy with any evaluator of your own.
///
/// [`SearchBuilder::build`]: super::SearchBuilder::build
/// [`SearchBuilder::build_table`]: super::SearchBuilder::build_table
///
/// Each stage the evaluator opens the stage over the strategy's active ops, advances
/// (a supernet trains its weights) until a batch is due, scores the strategy's batch;
/// the objectives and the reward turn the scores into rewards for the strategy. At the
/// end of a stage the strategy may shrink its space. The final architecture is the
/// strategy's recommendation (TND: what the shrinking left) or the best-rewarded sample.
///
/// # Reproducibility
/// A search with the same seed, data and configuration repeats exactly, also across a
/// checkpoint and resume. Burn's CPU backends keep one random state per process, which
/// the supernet evaluator seeds at every stage and epoch: run concurrent searches (or
/// trainings) in separate processes if they must be reproducible.
///
/// ```no_run
/// use burn::backend::{Autodiff, Flex};
/// use tnd_nas::data::FashionMnistSample;
/// use tnd_nas::objective::{MnasReward, ParamCount, ValidationAccuracy};
/// use tnd_nas::search::{ProgressBar, Search, SearchConfig};
/// use tnd_nas::spaces::darts::DartsSpaceConfig;
///
/// let (train, _holdout) = FashionMnistSample::search_and_holdout()?;
/// let mut search = Search::builder(DartsSpaceConfig::tnd().init()?)
///     .objective(ValidationAccuracy::new())
///     .objective(ParamCount::new().in_millions())
///     .reward(MnasReward::new(vec![0.5], vec![-0.3])?)
///     .build::<Autodiff<Flex>>(SearchConfig::quick(), train, Default::default())?;
/// let result = search.run(&mut [&mut ProgressBar::new()])?;
/// println!("{}", result.final_architecture.text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Search {
    space: Arc<dyn SearchSpace>,
    network: Option<Arc<dyn EvalNetworkSpec>>,
    objectives: Vec<Box<dyn Objective>>,
    reward: Box<dyn Reward>,
    stages: Vec<StageConfig>,
    checkpoint_every: usize,
    strategy: Box<dyn Strategy>,
    evaluator: Box<dyn Evaluator>,
    state: SearchState,
    checkpoint_dir: Option<PathBuf>,
    /// Archive index of every architecture scored so far (exact evaluators only; rebuilt
    /// from the archive when it falls behind, e.g. after a resume).
    scored: HashMap<Architecture, usize>,
    /// Every archived value of each objective, sorted ascending (rebuilt on resume).
    sorted: Vec<Vec<f64>>,
}

/// A saved state that does not fit this search, named with its `state.json`.
fn state_error(found: &Path, reason: String) -> SearchError {
    SearchError::Checkpoint {
        path: found.join("state.json"),
        reason,
    }
}

/// A batch told to the strategy, for its [`AlphaRecord`].
struct Told<'a> {
    stage: usize,
    clock: Clock,
    rewards: &'a [f64],
    measured: &'a [Option<f64>],
    repeats: usize,
    started: Instant,
}

/// The index of the first sample of every architecture.
fn index_samples(samples: &[ScoredSample]) -> HashMap<Architecture, usize> {
    let mut index = HashMap::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        index.entry(s.arch.clone()).or_insert(i);
    }
    index
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("space", &self.space)
            .field("strategy", &self.strategy)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A configuration as the JSON a checkpoint is checked against on resume.
fn identity<T: serde::Serialize>(
    field: &str,
    config: &T,
) -> Result<serde_json::Value, SearchError> {
    serde_json::to_value(config).map_err(|e| SearchError::config(field, e.to_string()))
}

/// The archive of a search over `objectives`, after checking the reward fits them.
fn archive_for(
    objectives: &[Box<dyn Objective>],
    reward: &dyn Reward,
) -> Result<ParetoArchive, SearchError> {
    if objectives.is_empty() {
        return Err(SearchError::config(
            "objectives",
            "needs at least one objective",
        ));
    }
    let names: Vec<String> = objectives.iter().map(|o| o.name().to_string()).collect();
    if let Some(name) = names
        .iter()
        .enumerate()
        .find_map(|(i, n)| names[..i].contains(n).then_some(n))
    {
        return Err(SearchError::config(
            "objectives",
            format!("`{name}` is given twice: a reward would count it twice"),
        ));
    }
    let directions: Vec<Direction> = objectives.iter().map(|o| o.direction()).collect();
    reward.check(&directions)?;
    Ok(ParetoArchive::new(names, directions)?)
}

impl Search {
    /// The TND-NAS supernet search, as [`SearchBuilder::build`] (its public path)
    /// describes it.
    ///
    /// # Errors
    /// As [`SearchBuilder::build`], less the missing reward.
    ///
    /// [`SearchBuilder::build`]: super::SearchBuilder::build
    pub(crate) fn new<B, S>(
        config: SearchConfig,
        space: S,
        objectives: Vec<Box<dyn Objective>>,
        reward: Box<dyn Reward>,
        data: ImageDataset,
        device: B::Device,
    ) -> Result<Self, SearchError>
    where
        B: AutodiffBackend,
        S: SupernetSpace,
        S::Supernet<B>: TrainableSupernet<B>,
    {
        config.validate()?;
        let schedule = config.schedule.init(&space)?;
        if config.strategy.shrinks() && !schedule.plan().ends_with_single_ops() {
            return Err(SearchError::config(
                "schedule.stages",
                format!(
                    "must leave exactly one op per edge after the last stage, but leaves {}",
                    schedule.plan()
                ),
            ));
        }
        let archive = archive_for(&objectives, reward.as_ref())?;
        let strategy =
            config
                .strategy
                .init(&space, &config.updater, &config.schedule, config.seed)?;
        let (evaluator, network) = config.supernet_evaluator::<B, S>(&space, data, device)?;
        let identity = identity("config", &config)?;
        Ok(Self::assemble(
            Arc::new(space),
            config.schedule.stages.clone(),
            config.checkpoint_every,
            strategy,
            evaluator,
            objectives,
            reward,
            archive,
            identity,
        )
        .with_network(network))
    }

    /// A search scored by the objectives alone, as [`SearchBuilder::build_table`] (its
    /// public path) describes it.
    ///
    /// # Errors
    /// As [`SearchBuilder::build_table`], less the missing reward.
    ///
    /// [`SearchBuilder::build_table`]: super::SearchBuilder::build_table
    pub(crate) fn table(
        config: TableSearchConfig,
        space: impl SearchSpace + 'static,
        objectives: Vec<Box<dyn Objective>>,
        reward: Box<dyn Reward>,
    ) -> Result<Self, SearchError> {
        let space: Arc<dyn SearchSpace> = Arc::new(space);
        if config.budget == 0 {
            return Err(SearchError::config("budget", "must be at least one sample"));
        }
        if let Some(size) = space.num_architectures()
            && config.budget as u128 > size
        {
            return Err(SearchError::config(
                "budget",
                format!(
                    "{} distinct architectures asked for, but the space holds only {size}",
                    config.budget
                ),
            ));
        }
        config.updater.validate()?;
        let schedule = config.schedule_for(space.as_ref());
        let strategy =
            config
                .strategy
                .init(space.as_ref(), &config.updater, &schedule, config.seed)?;
        let evaluator = TableEvaluator::table(config.budget, &schedule);
        let identity = identity("config", &config)?;
        Self::from_parts_with(
            space,
            &schedule,
            strategy,
            Box::new(evaluator),
            objectives,
            reward,
            identity,
        )
    }

    /// A search from any strategy and any evaluator (e.g. [`crate::scoring::FnEvaluator`]
    /// training each architecture from scratch); `schedule` gives the stages.
    ///
    /// # Errors
    /// A schedule that does not fit the space, a reward that does not fit the objectives.
    pub fn from_parts(
        space: impl SearchSpace + 'static,
        schedule: &ShrinkScheduleConfig,
        strategy: Box<dyn Strategy>,
        evaluator: Box<dyn Evaluator>,
        objectives: Vec<Box<dyn Objective>>,
        reward: Box<dyn Reward>,
    ) -> Result<Self, SearchError> {
        let identity = identity("schedule", schedule)?;
        Self::from_parts_with(
            Arc::new(space),
            schedule,
            strategy,
            evaluator,
            objectives,
            reward,
            identity,
        )
    }

    fn from_parts_with(
        space: Arc<dyn SearchSpace>,
        schedule: &ShrinkScheduleConfig,
        strategy: Box<dyn Strategy>,
        evaluator: Box<dyn Evaluator>,
        objectives: Vec<Box<dyn Objective>>,
        reward: Box<dyn Reward>,
        identity: serde_json::Value,
    ) -> Result<Self, SearchError> {
        schedule.init(space.as_ref())?;
        let archive = archive_for(&objectives, reward.as_ref())?;
        Ok(Self::assemble(
            space,
            schedule.stages.clone(),
            0,
            strategy,
            evaluator,
            objectives,
            reward,
            archive,
            identity,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        space: Arc<dyn SearchSpace>,
        stages: Vec<StageConfig>,
        checkpoint_every: usize,
        strategy: Box<dyn Strategy>,
        evaluator: Box<dyn Evaluator>,
        objectives: Vec<Box<dyn Objective>>,
        reward: Box<dyn Reward>,
        archive: ParetoArchive,
        config: serde_json::Value,
    ) -> Self {
        let state = SearchState {
            version: STATE_VERSION,
            space_id: space.id(),
            strategy_name: strategy.name().to_string(),
            evaluator_name: evaluator.name().to_string(),
            config,
            objectives: archive.names().to_vec(),
            reward: reward.describe(),
            stage: 0,
            archive,
            stages: Vec::new(),
            history: Vec::new(),
            elapsed_seconds: 0.0,
            checkpoints: 0,
            strategy: serde_json::Value::Null,
            evaluator: serde_json::Value::Null,
        };
        Self {
            space,
            network: None,
            objectives,
            reward,
            stages,
            checkpoint_every,
            strategy,
            evaluator,
            state,
            checkpoint_dir: None,
            scored: HashMap::new(),
            sorted: Vec::new(),
        }
    }

    /// Sets the evaluation network the objectives measure (supernet default: DARTS
    /// C=36, 20 cells; NAS-Bench-201 C=16, 5 cells; table searches: none).
    pub fn with_network(mut self, network: Arc<dyn EvalNetworkSpec>) -> Self {
        self.network = Some(network);
        self
    }

    /// Replaces the strategy, e.g. by one of your own (before the search runs).
    pub fn with_strategy(mut self, strategy: Box<dyn Strategy>) -> Self {
        self.state.strategy_name = strategy.name().to_string();
        self.strategy = strategy;
        self
    }

    /// Writes checkpoints into `dir` (supernet searches: every `checkpoint_every`
    /// epochs, at every stage start, and before returning a non-finite-loss error).
    pub fn with_checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    crate::setters! {
        /// Sets how often (in epochs) checkpoints are written; 0 disables them.
        with_checkpoint_every => checkpoint_every: usize;
    }

    /// Continues from the checkpoint in `dir` (written by a search with the same space,
    /// strategy, objectives, data and configuration). Checkpoints then go on into `dir`.
    ///
    /// # Errors
    /// [`SearchError::Checkpoint`] when the checkpoint is missing, unreadable, or from
    /// another space, strategy, configuration (the first differing field is named),
    /// objective list, reward or dataset.
    pub fn resume_from(mut self, dir: impl AsRef<Path>) -> Result<Self, SearchError> {
        let dir = dir.as_ref();
        let found = checkpoint::locate(dir)?;
        // Every file first, the state among them: an edited or foreign file is refused
        // before any of it is read.
        checkpoint::verify_files(&found)?;
        let mut saved = checkpoint::read_state(&found)?;
        self.check_identity(&saved, &found)?;
        self.check_position(&saved, &found)?;
        self.restore_parts(&mut saved, &found)?;
        self.evaluator.read_files(&found)?;
        self.state = saved;
        self.checkpoint_dir = Some(dir.to_path_buf());
        Ok(self)
    }

    /// Refuses a checkpoint of another search: format, space, strategy, evaluator,
    /// objectives, reward or configuration.
    fn check_identity(&self, saved: &SearchState, found: &Path) -> Result<(), SearchError> {
        let mismatch = |what: &str, theirs: String, ours: String| SearchError::Checkpoint {
            path: found.to_path_buf(),
            reason: format!(
                "it belongs to another {what}: checkpoint has {theirs}, this search has {ours}"
            ),
        };
        let ours = &self.state;
        let pairs = [
            (
                "format version",
                saved.version.to_string(),
                ours.version.to_string(),
            ),
            ("space", saved.space_id.clone(), ours.space_id.clone()),
            (
                "strategy",
                saved.strategy_name.clone(),
                ours.strategy_name.clone(),
            ),
            (
                "evaluator",
                saved.evaluator_name.clone(),
                ours.evaluator_name.clone(),
            ),
            (
                "objective list",
                saved.objectives.join(","),
                ours.objectives.join(","),
            ),
            ("reward", saved.reward.clone(), ours.reward.clone()),
        ];
        if let Some((what, theirs, ours)) = pairs.into_iter().find(|(_, a, b)| a != b) {
            return Err(mismatch(what, theirs, ours));
        }
        if let Some((field, theirs, ours)) = first_difference(&saved.config, &ours.config, "") {
            return Err(mismatch(
                &format!("configuration (`{field}`)"),
                theirs,
                ours,
            ));
        }
        Ok(())
    }

    /// The saved position must make sense in this configuration's schedule: a tampered
    /// or foreign state is refused here, not looped over.
    fn check_position(&self, saved: &SearchState, found: &Path) -> Result<(), SearchError> {
        if saved.stage > self.stages.len() {
            return Err(state_error(
                found,
                format!(
                    "`stage` is {}, beyond the {} stages of this configuration",
                    saved.stage,
                    self.stages.len()
                ),
            ));
        }
        if saved.stages.len() != saved.stage {
            return Err(state_error(
                found,
                format!(
                    "`stages` lists {} finished stages but `stage` is {}",
                    saved.stages.len(),
                    saved.stage
                ),
            ));
        }
        Ok(())
    }

    /// Hands the evaluator and the strategy their saved positions (errors named with
    /// the checkpoint's `state.json`) and checks the evaluator's epoch against the
    /// stage.
    fn restore_parts(&mut self, saved: &mut SearchState, found: &Path) -> Result<(), SearchError> {
        let relabel = |e: SearchError| match e {
            SearchError::Checkpoint { reason, .. } => SearchError::Checkpoint {
                path: found.join("state.json"),
                reason,
            },
            other => other,
        };
        self.evaluator
            .restore(std::mem::take(&mut saved.evaluator))
            .map_err(SearchError::from)
            .map_err(relabel)?;
        self.strategy
            .restore(std::mem::take(&mut saved.strategy))
            .map_err(SearchError::from)
            .map_err(relabel)?;
        if let Some(stage) = self.stages.get(saved.stage) {
            let clock = self.evaluator.clock();
            if clock.epoch > stage.epochs {
                return Err(state_error(
                    found,
                    format!(
                        "the evaluator's `epoch` is {}, beyond the {} epochs of stage {}",
                        clock.epoch, stage.epochs, saved.stage
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The executor's state: stage, archive, finished stages (`strategy` and
    /// `evaluator` are filled in checkpoints only).
    pub fn state(&self) -> &SearchState {
        &self.state
    }

    /// The strategy.
    pub fn strategy(&self) -> &dyn Strategy {
        self.strategy.as_ref()
    }

    /// The space.
    pub fn space(&self) -> &dyn SearchSpace {
        self.space.as_ref()
    }

    fn save_checkpoint(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
        started: Instant,
    ) -> Result<Option<PathBuf>, SearchError> {
        let Some(dir) = self.checkpoint_dir.clone() else {
            return Ok(None);
        };
        if !self.evaluator.checkpointable() {
            return Ok(None);
        }
        self.state.checkpoints += 1;
        let mut state = self.state.clone();
        state.elapsed_seconds += started.elapsed().as_secs_f64();
        state.strategy = self.strategy.save()?;
        state.evaluator = self.evaluator.save()?;
        let evaluator = &self.evaluator;
        checkpoint::write(&dir, &state, |tmp| {
            evaluator.write_files(tmp).map_err(SearchError::from)
        })?;
        emit(
            observers,
            &SearchEvent::Checkpoint {
                path: dir.display().to_string(),
                sequence: state.checkpoints,
            },
        );
        Ok(Some(dir))
    }

    /// Has the strategy's batch of `n` scored, rewarded and told. Under an exact
    /// evaluator, an architecture scored before (or earlier in the batch) takes its first
    /// values, is not scored or archived again, and is refunded to the evaluator.
    fn ask_tell(
        &mut self,
        stage: usize,
        n: usize,
        active: &[Vec<crate::OpKind>],
    ) -> Result<AlphaRecord, SearchError> {
        let started = Instant::now();
        let batch = self.strategy.ask(n);
        let (repeat, fresh) = self.split_repeats(&batch);
        let measured = self.measure(&fresh, active)?;
        self.evaluator.refund(batch.len() - fresh.len());
        let clock = self.evaluator.clock();
        let directions = self.state.archive.directions().to_vec();
        self.sync_sorted();
        // Every fresh sample is archived before any is rewarded, so that a reward that
        // ranks samples among the archive sees the whole batch.
        let mut batch_values = Vec::with_capacity(batch.len());
        let mut fresh_values = measured.iter().copied();
        for (arch, &seen) in batch.iter().zip(&repeat) {
            let values = if seen {
                // Its first occurrence is in the archive or earlier in this loop.
                let i = self.scored.get(arch).copied().ok_or_else(|| {
                    SearchError::config("evaluator", "a repeat without an earlier score")
                })?;
                self.state.archive.samples()[i].values.clone()
            } else {
                let accuracy = fresh_values.next().flatten();
                self.archive_fresh(arch, accuracy, stage, clock.global_step)?
            };
            batch_values.push(values);
        }
        let preference = self
            .strategy
            .preference()
            .unwrap_or_else(|| ParetoPreferences::balanced(self.reward.preferences()));
        let cx = RewardContext::new(stage, preference, &self.sorted);
        let rewards = batch_values
            .iter()
            .map(|v| self.reward.reward_in(v, &directions, &cx))
            .collect::<Result<Vec<f64>, _>>()?;
        let stats = self.strategy.tell(&batch, &rewards)?;
        let told = Told {
            stage,
            clock,
            rewards: &rewards,
            measured: &measured,
            repeats: batch.len() - fresh.len(),
            started,
        };
        let record = self.alpha_record(&told, stats.as_ref());
        if let Some(s) = stats {
            self.state.history.push(s);
        }
        Ok(record)
    }

    /// Whether each architecture of `batch` repeats one scored before (or earlier in
    /// the batch), under an exact evaluator; and the fresh ones, in order.
    fn split_repeats(&mut self, batch: &[Architecture]) -> (Vec<bool>, Vec<Architecture>) {
        let exact = self.evaluator.exact();
        if exact && self.scored.len() != self.state.archive.len() {
            self.scored = index_samples(self.state.archive.samples());
        }
        let mut repeat: Vec<bool> = Vec::with_capacity(batch.len());
        let mut fresh: Vec<Architecture> = Vec::with_capacity(batch.len());
        for arch in batch {
            let seen = exact && (self.scored.contains_key(arch) || fresh.contains(arch));
            if !seen {
                fresh.push(arch.clone());
            }
            repeat.push(seen);
        }
        (repeat, fresh)
    }

    /// The evaluator's measurement of each fresh architecture.
    fn measure(
        &mut self,
        fresh: &[Architecture],
        active: &[Vec<crate::OpKind>],
    ) -> Result<Vec<Option<f64>>, SearchError> {
        let measured = self.evaluator.evaluate(fresh, active)?;
        if measured.len() != fresh.len() {
            return Err(SearchError::config(
                "evaluator",
                format!(
                    "`{}` scored {} of {} architectures",
                    self.evaluator.name(),
                    measured.len(),
                    fresh.len()
                ),
            ));
        }
        Ok(measured)
    }

    /// The objectives' values of a fresh architecture, archived (and indexed under an
    /// exact evaluator).
    fn archive_fresh(
        &mut self,
        arch: &Architecture,
        accuracy: Option<f64>,
        stage: usize,
        step: u64,
    ) -> Result<Vec<f64>, SearchError> {
        let mut ctx = ObjectiveContext::new(self.space.as_ref()).with_accuracy(accuracy);
        if let Some(network) = &self.network {
            ctx = ctx.with_network(network.as_ref());
        }
        let values = evaluate_all(&mut self.objectives, arch, &ctx)?;
        self.state.archive.push(ScoredSample {
            arch: arch.clone(),
            values: values.clone(),
            stage,
            step,
        })?;
        for (sorted, v) in self.sorted.iter_mut().zip(&values) {
            let at = sorted.partition_point(|x| x < v);
            sorted.insert(at, *v);
        }
        if self.evaluator.exact() {
            self.scored
                .insert(arch.clone(), self.state.archive.len() - 1);
        }
        Ok(values)
    }

    /// The record of a told batch.
    fn alpha_record(&self, told: &Told<'_>, stats: Option<&UpdateStats>) -> AlphaRecord {
        let rewards = told.rewards;
        let accs: Vec<f64> = told.measured.iter().flatten().copied().collect();
        let m = rewards.len().max(1) as f64;
        AlphaRecord {
            stage: told.stage,
            epoch: told.clock.epoch,
            global_step: told.clock.global_step,
            update: stats.map_or(self.state.history.len() as u64 + 1, |s| s.step),
            reward_mean: stats.map_or(rewards.iter().sum::<f64>() / m, |s| s.reward_mean),
            reward_max: rewards.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            baseline: stats.map(|s| s.baseline),
            entropy: stats.map(|s| s.entropy),
            grad_norm: stats.map(|s| s.grad_norm),
            sample_acc_mean: (!accs.is_empty())
                .then(|| accs.iter().sum::<f64>() / accs.len() as f64),
            update_ms: told.started.elapsed().as_secs_f64() * 1e3,
            repeats: told.repeats,
            probabilities: self.strategy.probabilities().unwrap_or_default(),
        }
    }

    /// Runs the search to the end (or until an observer stops it) and returns the result.
    ///
    /// # Errors
    /// [`SearchError::NonFiniteLoss`] (after checkpointing the last good state),
    /// [`SearchError::Stopped`], data, objective, strategy and I/O errors.
    pub fn run(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
    ) -> Result<SearchResult, SearchError> {
        let started = Instant::now();
        let mut outcome = None;
        self.strategy.set_preferences(self.reward.preferences())?;
        while self.state.stage < self.stages.len() {
            let stage = self.state.stage;
            let stage_started = Instant::now();
            let active = self.strategy.active();
            let config = self.stages[stage].clone();
            let start = StageStart {
                stage,
                stages: self.stages.len(),
                config: &config,
                active: &active,
            };
            let report = self.evaluator.begin_stage(&start)?;
            self.report_stage(observers, &start, &report);
            let supernet_params = report.supernet_params;
            let planned = self.evaluator.planned_batches(self.strategy.batch_size());
            self.strategy.plan_stage(planned);
            let stop = loop {
                match self.advance(stage, &active, observers, started)? {
                    Progress::Ask(n) => {
                        let record = self.ask_tell(stage, n, &active)?;
                        if emit(observers, &SearchEvent::Alpha(record)) {
                            return self.stop(observers, started, stage);
                        }
                    }
                    Progress::Step(record) => {
                        if emit(observers, &SearchEvent::Step(record)) {
                            self.evaluator.interrupt();
                            return self.stop(observers, started, stage);
                        }
                    }
                    Progress::EpochEnd {
                        epoch,
                        last,
                        record,
                    } => {
                        let stop = record.is_some_and(|r| emit(observers, &SearchEvent::from(r)));
                        let every = self.checkpoint_every;
                        if every > 0 && epoch.is_multiple_of(every) && !last {
                            self.save_checkpoint(observers, started)?;
                        }
                        if stop && !last {
                            return self.stop(observers, started, stage);
                        }
                        if last {
                            break stop;
                        }
                    }
                }
            };
            let (summary, finished) =
                self.close_stage(stage, active, supernet_params, stage_started, &mut outcome)?;
            let stop = stop | emit(observers, &SearchEvent::StageEnd(summary));
            if !finished && self.checkpoint_every > 0 && self.checkpoint_dir.is_some() {
                // Checkpoint the start of the next stage (a fresh supernet).
                let active = self.strategy.active();
                let config = self.stages[stage + 1].clone();
                let start = StageStart {
                    stage: stage + 1,
                    stages: self.stages.len(),
                    config: &config,
                    active: &active,
                };
                self.evaluator.prepare_stage(&start)?;
                self.save_checkpoint(observers, started)?;
            }
            if stop && !finished {
                return self.stop(observers, started, stage + 1);
            }
        }
        self.finish(observers, started, outcome)
    }

    /// The evaluator's next stop, checkpointing before a non-finite-loss error.
    fn advance(
        &mut self,
        stage: usize,
        active: &[Vec<crate::OpKind>],
        observers: &mut [&mut dyn SearchObserver],
        started: Instant,
    ) -> Result<Progress, SearchError> {
        let probabilities = self.strategy.probabilities();
        let cx = Advance {
            stage,
            probabilities: probabilities.as_deref(),
            active,
            batch_size: self.strategy.batch_size(),
        };
        match self.evaluator.advance(&cx) {
            Err(ScoringError::NonFiniteLoss {
                stage,
                epoch,
                step,
                value,
            }) => {
                let checkpoint = self.save_checkpoint(observers, started)?;
                Err(SearchError::NonFiniteLoss {
                    stage,
                    epoch,
                    step,
                    value,
                    checkpoint,
                })
            }
            other => Ok(other?),
        }
    }

    /// Sends the stage's start to the observers, where the evaluator trains weights.
    fn report_stage(
        &self,
        observers: &mut [&mut dyn SearchObserver],
        start: &StageStart<'_>,
        report: &StageReport,
    ) {
        let Some(training) = report.training else {
            return;
        };
        let event = SearchEvent::StageStart {
            stage: start.stage,
            stages: start.stages,
            cells: start.config.cells,
            channels: start.config.channels,
            supernet_params: report.supernet_params,
            epochs: start.config.epochs,
            steps_per_epoch: training.steps_per_epoch,
            from_epoch: training.from_epoch,
            epochs_before: self.stages[..start.stage].iter().map(|s| s.epochs).sum(),
            total_epochs: self.stages.iter().map(|s| s.epochs).sum(),
        };
        emit(observers, &event);
    }

    /// Ends the strategy's and the evaluator's stage; after the last stage, settles the
    /// final architecture and its measured score into `outcome`.
    fn close_stage(
        &mut self,
        stage: usize,
        active: Vec<Vec<crate::OpKind>>,
        supernet_params: usize,
        stage_started: Instant,
        outcome: &mut Option<(Architecture, Option<f64>)>,
    ) -> Result<(StageSummary, bool), SearchError> {
        let probabilities = self.strategy.probabilities().unwrap_or_default();
        let dropped = self.strategy.end_stage()?;
        let finished = stage + 1 == self.stages.len();
        if finished {
            let arch = self.final_architecture()?;
            let score = self.evaluator.final_score(&arch, &active)?;
            *outcome = Some((arch, score));
        }
        let cfg = &self.stages[stage];
        let summary = StageSummary {
            stage,
            cells: cfg.cells,
            channels: cfg.channels,
            supernet_params,
            samples: self
                .state
                .archive
                .samples()
                .iter()
                .filter(|s| s.stage == stage)
                .count(),
            entropy: (!probabilities.is_empty()).then(|| entropy_of(&probabilities)),
            max_entropy: active.iter().map(|ops| (ops.len() as f64).ln()).sum(),
            active,
            probabilities,
            dropped,
            seconds: stage_started.elapsed().as_secs_f64(),
        };
        self.state.stages.push(summary.clone());
        self.state.stage += 1;
        self.evaluator.end_stage()?;
        Ok((summary, finished))
    }

    /// The strategy's recommendation, or else the best-rewarded sample.
    fn final_architecture(&mut self) -> Result<Architecture, SearchError> {
        if let Some(arch) = self.strategy.final_architecture() {
            return Ok(arch);
        }
        match self.best_sample()? {
            Some((i, _)) => Ok(self.state.archive.samples()[i].arch.clone()),
            None => Err(SearchError::config(
                "budget",
                "the search ended without scoring a sample",
            )),
        }
    }

    /// Rebuilds the sorted objective values when they do not hold the whole archive
    /// (after a resume).
    fn sync_sorted(&mut self) {
        let n = self.state.archive.len();
        let objectives = self.state.archive.directions().len();
        if self.sorted.len() == objectives && self.sorted.iter().all(|s| s.len() == n) {
            return;
        }
        self.sorted = (0..objectives)
            .map(|i| {
                let mut v: Vec<f64> = self
                    .state
                    .archive
                    .samples()
                    .iter()
                    .map(|s| s.values[i])
                    .collect();
                v.sort_by(f64::total_cmp);
                v
            })
            .collect();
    }

    /// How `best` and `final` are rewarded: the last stage's settings, the balanced
    /// preference, the whole archive.
    fn final_reward_context(&self) -> RewardContext<'_> {
        RewardContext::new(
            self.stages.len().saturating_sub(1),
            ParetoPreferences::balanced(self.reward.preferences()),
            &self.sorted,
        )
    }

    /// The index and reward of the best sample, every sample rewarded with the last
    /// stage's settings and the balanced preference (the first of equals wins).
    fn best_sample(&mut self) -> Result<Option<(usize, f64)>, SearchError> {
        self.sync_sorted();
        let directions = self.state.archive.directions();
        let cx = self.final_reward_context();
        let mut best: Option<(usize, f64)> = None;
        for (i, s) in self.state.archive.samples().iter().enumerate() {
            let r = self.reward.reward_in(&s.values, directions, &cx)?;
            if best.is_none_or(|(_, b)| r > b) {
                best = Some((i, r));
            }
        }
        Ok(best)
    }

    fn stop(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
        started: Instant,
        stage: usize,
    ) -> Result<SearchResult, SearchError> {
        let checkpoint = if self.checkpoint_every > 0 {
            self.save_checkpoint(observers, started)?
        } else {
            None
        };
        Err(SearchError::Stopped {
            stage,
            epoch: self.evaluator.clock().epoch,
            checkpoint,
        })
    }

    fn finish(
        &mut self,
        observers: &mut [&mut dyn SearchObserver],
        started: Instant,
        outcome: Option<(Architecture, Option<f64>)>,
    ) -> Result<SearchResult, SearchError> {
        let (arch, final_acc) = match outcome {
            Some(o) => o,
            None => (self.final_architecture()?, None),
        };
        let mut ctx = ObjectiveContext::new(self.space.as_ref()).with_accuracy(final_acc);
        if let Some(network) = &self.network {
            ctx = ctx.with_network(network.as_ref());
        }
        let final_values: Vec<Option<f64>> = self
            .objectives
            .iter_mut()
            .map(|o| o.evaluate(&arch, &ctx).ok())
            .collect();
        self.sync_sorted();
        let final_reward = final_values
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()
            .and_then(|v| {
                self.reward
                    .reward_in(
                        &v,
                        self.state.archive.directions(),
                        &self.final_reward_context(),
                    )
                    .ok()
            });
        let params = self
            .network
            .as_ref()
            .and_then(|n| n.param_count(&arch).ok());
        let seconds = self.state.elapsed_seconds + started.elapsed().as_secs_f64();
        let best = self.best_sample()?;
        let final_architecture = self.space.finalize(arch);
        emit(
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
                reward: final_reward,
                supernet_accuracy: final_acc,
                params,
                wall_seconds: seconds,
                best,
            },
            &self.state,
            self.space.as_ref(),
        ))
    }
}

/// The first field (a dotted path) where two JSON values differ, with both values.
fn first_difference(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &str,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, &join(k)),
                (p, q) => Some((
                    join(k),
                    p.map_or("nothing".into(), |v| v.to_string()),
                    q.map_or("nothing".into(), |v| v.to_string()),
                )),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some((
            if path.is_empty() {
                "config".into()
            } else {
                path.to_string()
            },
            a.to_string(),
            b.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_names_the_nested_field() {
        let a =
            serde_json::json!({"seed": 1, "train": {"lr": 0.1, "mode": "weighted"}, "s": [1, 2]});
        let b =
            serde_json::json!({"seed": 1, "train": {"lr": 0.2, "mode": "weighted"}, "s": [1, 2]});
        assert_eq!(
            first_difference(&a, &b, ""),
            Some(("train.lr".into(), "0.1".into(), "0.2".into()))
        );
        assert_eq!(first_difference(&a, &a, ""), None);
        let c =
            serde_json::json!({"seed": 1, "train": {"lr": 0.1, "mode": "weighted"}, "s": [1, 3]});
        assert_eq!(first_difference(&a, &c, "").unwrap().0, "s[1]");
    }
}
