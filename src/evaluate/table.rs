//! Scoring by the objectives alone: benchmark tables, analytic counts.

use super::{Advance, Clock, Evaluator, Progress, SampleBudget, StageStart};
use crate::schedule::ShrinkScheduleConfig;
use crate::search::{SearchError, SearchObserver};
use crate::{Architecture, OpKind};

/// An evaluator that measures nothing itself: every value comes from the objectives,
/// e.g. [`crate::objective::Tabular`] lookups in a NAS-Bench table, parameter and MAC
/// counts. A search on it takes milliseconds, which makes it the place to compare
/// strategies over many seeds. Paced by a [`SampleBudget`].
///
/// ```
/// use tnd_nas::evaluate::{Evaluator, TableEvaluator};
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// let e = TableEvaluator::new(300, &ShrinkScheduleConfig::nb201());
/// assert_eq!(e.budget().total(), 300);
/// assert_eq!(e.name(), "table");
/// ```
#[derive(Debug, Clone)]
pub struct TableEvaluator {
    budget: SampleBudget,
}

impl TableEvaluator {
    /// `budget` scored samples over `schedule`'s stages.
    pub fn new(budget: usize, schedule: &ShrinkScheduleConfig) -> Self {
        Self {
            budget: SampleBudget::new(budget, schedule),
        }
    }

    /// The budget and its position.
    pub fn budget(&self) -> &SampleBudget {
        &self.budget
    }
}

impl Evaluator for TableEvaluator {
    fn name(&self) -> &str {
        "table"
    }

    fn begin_stage(
        &mut self,
        start: &StageStart<'_>,
        _observers: &mut [&mut dyn SearchObserver],
    ) -> Result<usize, SearchError> {
        self.budget.begin_stage(start.stage);
        Ok(0)
    }

    fn advance(&mut self, cx: &mut Advance<'_, '_>) -> Result<Progress, SearchError> {
        Ok(self.budget.next(cx.batch_size))
    }

    fn evaluate(
        &mut self,
        batch: &[Architecture],
        _active: &[Vec<OpKind>],
    ) -> Result<Vec<Option<f64>>, SearchError> {
        Ok(vec![None; batch.len()])
    }

    fn clock(&self) -> Clock {
        self.budget.clock()
    }

    fn save(&self) -> Result<serde_json::Value, SearchError> {
        self.budget.save()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), SearchError> {
        self.budget.restore(state)
    }
}
