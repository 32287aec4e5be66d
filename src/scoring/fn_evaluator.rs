//! An evaluator from a function: train-from-scratch, a remote measurement, a simulator,
//! or no measurement at all (benchmark tables).

use super::{
    Advance, Clock, Evaluator, Progress, SampleBudget, ScoringError, StageReport, StageStart,
};
use crate::objective::ObjectiveError;
use crate::schedule::ShrinkScheduleConfig;
use crate::{Architecture, OpKind};

/// What [`TableEvaluator`]'s function is: no measurement.
pub type NoMeasurement = fn(&Architecture) -> Result<Option<f64>, ObjectiveError>;

/// An evaluator that measures nothing itself: every value comes from the objectives,
/// e.g. [`crate::objective::Tabular`] lookups in a NAS-Bench table, parameter and MAC
/// counts. A search on it takes milliseconds, which makes it the place to compare
/// strategies over many seeds. Paced by a [`SampleBudget`].
///
/// ```
/// use tnd_nas::scoring::{Evaluator, TableEvaluator};
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// let e = TableEvaluator::table(300, &ShrinkScheduleConfig::nb201());
/// assert_eq!(e.budget().total(), 300);
/// assert_eq!(e.name(), "table");
/// ```
pub type TableEvaluator = FnEvaluator<NoMeasurement>;

/// Scores every architecture with a function of your own, e.g. training it from
/// scratch for a few epochs in a small space; `Some(value)` reaches the objectives as
/// the sample's accuracy ([`crate::objective::ValidationAccuracy`] reads it), `None`
/// leaves every value to the objectives. Paced by a [`SampleBudget`].
///
/// ```
/// use tnd_nas::scoring::{Evaluator, FnEvaluator};
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// use tnd_nas::{Architecture, OpKind};
/// let mut e = FnEvaluator::new(50, &ShrinkScheduleConfig::nb201(), |a: &Architecture| {
///     Ok(Some(a.ops().iter().filter(|o| **o == OpKind::NorConv3x3).count() as f64))
/// });
/// let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// assert_eq!(e.evaluate(&[arch], &[])?, [Some(6.0)]);
/// # Ok::<(), tnd_nas::scoring::ScoringError>(())
/// ```
pub struct FnEvaluator<F> {
    name: &'static str,
    budget: SampleBudget,
    exact: bool,
    score: F,
}

impl<F> std::fmt::Debug for FnEvaluator<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnEvaluator")
            .field("name", &self.name)
            .field("budget", &self.budget)
            .field("exact", &self.exact)
            .finish_non_exhaustive()
    }
}

impl<F> FnEvaluator<F>
where
    F: FnMut(&Architecture) -> Result<Option<f64>, ObjectiveError>,
{
    /// `budget` samples over `schedule`'s stages, each scored by `score`.
    pub fn new(budget: usize, schedule: &ShrinkScheduleConfig, score: F) -> Self {
        Self {
            name: "fn",
            budget: SampleBudget::new(budget, schedule),
            exact: false,
            score,
        }
    }

    crate::setters! {
        /// Declares the function deterministic (see [`Evaluator::exact`]): every
        /// architecture is then scored once and repeats cost no budget. Off by default (a
        /// training run is noisy).
        with_exact => exact: bool;
    }

    /// The budget and its position.
    pub fn budget(&self) -> &SampleBudget {
        &self.budget
    }
}

impl TableEvaluator {
    /// `budget` distinct architectures over `schedule`'s stages, measured by the
    /// objectives alone; exact (repeats are not scored again and cost nothing).
    pub fn table(budget: usize, schedule: &ShrinkScheduleConfig) -> Self {
        Self {
            name: "table",
            budget: SampleBudget::new(budget, schedule),
            exact: true,
            score: |_| Ok(None),
        }
    }
}

impl<F> Evaluator for FnEvaluator<F>
where
    F: FnMut(&Architecture) -> Result<Option<f64>, ObjectiveError>,
{
    fn name(&self) -> &str {
        self.name
    }

    fn begin_stage(&mut self, start: &StageStart<'_>) -> Result<StageReport, ScoringError> {
        self.budget.begin_stage(start.stage);
        Ok(StageReport::default())
    }

    fn planned_batches(&self, batch_size: usize) -> Option<u64> {
        Some(self.budget.planned(batch_size))
    }

    fn exact(&self) -> bool {
        self.exact
    }

    fn refund(&mut self, n: usize) {
        self.budget.refund(n);
    }

    fn advance(&mut self, cx: &Advance<'_>) -> Result<Progress, ScoringError> {
        Ok(self.budget.next(cx.batch_size))
    }

    fn evaluate(
        &mut self,
        batch: &[Architecture],
        _active: &[Vec<OpKind>],
    ) -> Result<Vec<Option<f64>>, ScoringError> {
        batch
            .iter()
            .map(|a| (self.score)(a).map_err(ScoringError::from))
            .collect()
    }

    fn clock(&self) -> Clock {
        self.budget.clock()
    }

    fn save(&self) -> Result<serde_json::Value, ScoringError> {
        self.budget.save()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), ScoringError> {
        self.budget.restore(state)
    }
}
