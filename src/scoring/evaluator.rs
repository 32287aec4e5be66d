//! The interface between the executor and whatever scores architectures.

use std::path::Path;

use super::{EpochRecord, ScoringError, StageReport, StepRecord};
use crate::schedule::StageConfig;
use crate::{Architecture, OpKind};

/// The stage the executor opens.
#[derive(Debug, Clone, Copy)]
pub struct StageStart<'a> {
    /// 0-based stage index.
    pub stage: usize,
    /// Number of stages.
    pub stages: usize,
    /// The stage's settings (depth, width, epochs).
    pub config: &'a StageConfig,
    /// The strategy's candidate ops on every edge in this stage.
    pub active: &'a [Vec<OpKind>],
}

/// What the executor hands [`Evaluator::advance`].
pub struct Advance<'a> {
    /// 0-based stage index.
    pub stage: usize,
    /// The strategy's distribution over the active ops, where it has one (a supernet
    /// trains with it; `None` means uniform).
    pub probabilities: Option<&'a [Vec<f64>]>,
    /// The strategy's candidate ops on every edge.
    pub active: &'a [Vec<OpKind>],
    /// How many architectures the strategy would like scored at a time.
    pub batch_size: usize,
}

/// Where [`Evaluator::advance`] stopped. The evaluator reports nothing itself: it
/// returns its records and the executor sends them to the observers (who may stop the
/// search there).
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Ready to score a batch of this many architectures.
    Ask(usize),
    /// A logged weight-training step (every `log_every` steps). If an observer asks to
    /// stop there, the executor calls [`Evaluator::interrupt`] and checkpoints.
    Step(StepRecord),
    /// A natural checkpoint point: the end of an epoch of a supernet, the end of a
    /// stage's budget for the others. `epoch` counts the stage's completed epochs;
    /// `last` closes the stage; `record` is the epoch's training summary, where weights
    /// were trained.
    EpochEnd {
        /// Completed epochs of the stage.
        epoch: usize,
        /// Whether the stage is done.
        last: bool,
        /// The epoch's training summary (`None` where nothing trains).
        record: Option<EpochRecord>,
    },
}

/// Where an evaluator stands, for records and errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// Completed epochs of the current stage.
    pub epoch: usize,
    /// Steps (supernet weight steps, or scored batches) since the search began.
    pub global_step: u64,
}

/// How architectures are scored, in batches: the executor opens a stage, lets the
/// evaluator [`advance`](Evaluator::advance) (a supernet trains its weights there)
/// until a batch is due, has it [`evaluate`](Evaluator::evaluate) the strategy's batch,
/// and closes the stage. An evaluator returns one measured value per architecture
/// (`Some(accuracy)` in percent, or `None` where the objectives measure everything
/// themselves); the objectives see it as [`crate::ObjectiveContext::accuracy`].
///
/// Its position serialises ([`Evaluator::save`] / [`Evaluator::restore`]); large state
/// (weights) goes into the checkpoint directory through [`Evaluator::write_files`].
///
/// ```
/// use tnd_nas::scoring::{
///     Advance, Clock, ScoringError, Evaluator, Progress, SampleBudget, StageReport, StageStart,
/// };
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// use tnd_nas::{Architecture, OpKind};
///
/// /// "Accuracy" = 10 x the number of skip connections, 100 samples in all.
/// #[derive(Debug)]
/// struct CountSkips(SampleBudget);
///
/// impl Evaluator for CountSkips {
///     fn name(&self) -> &str { "count-skips" }
///     fn begin_stage(&mut self, s: &StageStart<'_>) -> Result<StageReport, ScoringError> {
///         self.0.begin_stage(s.stage);
///         Ok(StageReport::default())
///     }
///     fn advance(&mut self, cx: &Advance<'_>) -> Result<Progress, ScoringError> {
///         Ok(self.0.next(cx.batch_size))
///     }
///     fn evaluate(&mut self, batch: &[Architecture], _: &[Vec<OpKind>])
///         -> Result<Vec<Option<f64>>, ScoringError> {
///         Ok(batch.iter().map(|a| {
///             Some(10.0 * a.ops().iter().filter(|o| **o == OpKind::SkipConnect).count() as f64)
///         }).collect())
///     }
///     fn clock(&self) -> Clock { self.0.clock() }
///     fn save(&self) -> Result<serde_json::Value, ScoringError> { self.0.save() }
///     fn restore(&mut self, v: serde_json::Value) -> Result<(), ScoringError> { self.0.restore(v) }
/// }
///
/// let mut e = CountSkips(SampleBudget::new(100, &ShrinkScheduleConfig::nb201()));
/// assert_eq!(e.evaluate(&[Architecture::new(vec![OpKind::SkipConnect; 6])], &[])?, [Some(60.0)]);
/// # Ok::<(), ScoringError>(())
/// ```
pub trait Evaluator {
    /// A short name (`supernet`, `table`, ...).
    fn name(&self) -> &str;

    /// Makes the stage ready (a supernet builds its network over `start.active`) without
    /// reporting anything; called before a checkpoint taken between stages. Idempotent.
    ///
    /// # Errors
    /// Whatever prevents the stage from starting.
    fn prepare_stage(&mut self, start: &StageStart<'_>) -> Result<(), ScoringError> {
        let _ = start;
        Ok(())
    }

    /// Opens the stage (calling [`Evaluator::prepare_stage`] where needed); returns what
    /// the executor reports of it (the supernet's trainable parameters, its training
    /// plan).
    ///
    /// # Errors
    /// Whatever prevents the stage from starting.
    fn begin_stage(&mut self, start: &StageStart<'_>) -> Result<StageReport, ScoringError>;

    /// How many batches of `batch_size` the open stage will score, where the evaluator
    /// knows in advance (a supernet: search steps / `alpha_every`; a sample budget: the
    /// stage's share / `batch_size`). Default: unknown.
    fn planned_batches(&self, batch_size: usize) -> Option<u64> {
        let _ = batch_size;
        None
    }

    /// Whether scoring the same architecture twice gives the same value (a benchmark
    /// table, a deterministic function). The executor then scores every architecture
    /// once: a repeat is rewarded with its first score, is not scored again, and does not
    /// count against the budget ([`Evaluator::refund`]). Default: `false`.
    fn exact(&self) -> bool {
        false
    }

    /// Gives back `n` architectures of the batch just asked for that were not scored
    /// (repeats under [`Evaluator::exact`]). Default: nothing to give back.
    fn refund(&mut self, n: usize) {
        let _ = n;
    }

    /// Moves on until a batch is due or an epoch ends (a supernet trains there).
    ///
    /// # Errors
    /// [`ScoringError::NonFiniteLoss`] (the executor then checkpoints the last good
    /// state), data and model errors.
    fn advance(&mut self, cx: &Advance<'_>) -> Result<Progress, ScoringError>;

    /// The search stops between two returns of [`Evaluator::advance`] (an observer asked
    /// to): drop whatever the saved position does not hold (an epoch's open batch
    /// iterator), so that advancing again continues exactly as a resumed search would.
    /// Default: nothing to drop.
    fn interrupt(&mut self) {}

    /// Scores a batch; `active` is the stage's space (a supernet maps each
    /// architecture onto its paths).
    ///
    /// # Errors
    /// An architecture the evaluator cannot score.
    fn evaluate(
        &mut self,
        batch: &[Architecture],
        active: &[Vec<OpKind>],
    ) -> Result<Vec<Option<f64>>, ScoringError>;

    /// The final architecture's measured value, before the last stage closes (a
    /// supernet scores it on fixed validation batches). Default: none.
    ///
    /// # Errors
    /// As [`Evaluator::evaluate`].
    fn final_score(
        &mut self,
        arch: &Architecture,
        active: &[Vec<OpKind>],
    ) -> Result<Option<f64>, ScoringError> {
        let _ = (arch, active);
        Ok(None)
    }

    /// Closes the stage (a supernet is dropped).
    ///
    /// # Errors
    /// Whatever fails while closing.
    fn end_stage(&mut self) -> Result<(), ScoringError> {
        Ok(())
    }

    /// Where the evaluator stands.
    fn clock(&self) -> Clock;

    /// Whether a checkpoint can be taken now (a supernet needs its network built).
    fn checkpointable(&self) -> bool {
        true
    }

    /// The serialisable position.
    ///
    /// # Errors
    /// A state that cannot be serialised.
    fn save(&self) -> Result<serde_json::Value, ScoringError>;

    /// Replaces the position with one from [`Evaluator::save`].
    ///
    /// # Errors
    /// [`ScoringError::Checkpoint`] for a state from another evaluator or dataset.
    fn restore(&mut self, state: serde_json::Value) -> Result<(), ScoringError>;

    /// Writes large state (weights, optimiser) into the checkpoint directory being
    /// written. Default: nothing.
    ///
    /// # Errors
    /// I/O errors, named with the file.
    fn write_files(&self, dir: &Path) -> Result<(), ScoringError> {
        let _ = dir;
        Ok(())
    }

    /// Takes note of the checkpoint directory a search resumes from (a supernet loads
    /// its weights from it when the stage is rebuilt). Default: nothing.
    ///
    /// # Errors
    /// A directory the evaluator cannot use.
    fn read_files(&mut self, dir: &Path) -> Result<(), ScoringError> {
        let _ = dir;
        Ok(())
    }
}
