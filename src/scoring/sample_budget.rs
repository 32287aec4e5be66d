//! Pacing by a budget of scored samples, for evaluators without a training loop.

use serde::{Deserialize, Serialize};

use super::{Clock, Progress, ScoringError};
use crate::schedule::ShrinkScheduleConfig;

/// A budget of scored samples, split over the stages of a schedule in proportion to
/// each stage's epochs after warm-up; batches of the strategy's size, the last batch of
/// a stage possibly smaller. The pacing of [`super::TableEvaluator`] and
/// [`super::FnEvaluator`], and of any evaluator of your own that has no training loop.
///
/// Samples given back with [`SampleBudget::refund`] (repeats that an exact evaluator
/// does not score again) can be asked for anew; a stage also ends after
/// [`SampleBudget::MAX_BATCHES_PER_PLANNED`] times its planned batches, so a strategy
/// that proposes only repeats cannot loop forever.
///
/// ```
/// use tnd_nas::scoring::{Progress, SampleBudget};
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// let mut budget = SampleBudget::new(25, &ShrinkScheduleConfig::nb201());
/// assert_eq!(budget.parts(), [8, 8, 9]);
/// budget.begin_stage(0);
/// assert_eq!(budget.next(5), Progress::Ask(5));
/// assert_eq!(budget.next(5), Progress::Ask(3));
/// assert!(matches!(budget.next(5), Progress::EpochEnd { last: true, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleBudget {
    parts: Vec<usize>,
    stage: Option<usize>,
    left: usize,
    batches: u64,
    pending: bool,
    /// Batches asked for in the current stage.
    #[serde(default)]
    stage_batches: u64,
}

impl SampleBudget {
    /// `budget` samples split over `schedule`'s stages.
    pub fn new(budget: usize, schedule: &ShrinkScheduleConfig) -> Self {
        let weights: Vec<u128> = schedule
            .stages
            .iter()
            .map(|s| s.search_epochs() as u128)
            .collect();
        Self::with_parts(split(budget, &weights))
    }

    /// A budget given stage by stage.
    pub fn with_parts(parts: Vec<usize>) -> Self {
        Self {
            parts,
            stage: None,
            left: 0,
            batches: 0,
            pending: false,
            stage_batches: 0,
        }
    }

    /// A stage ends after this many times its planned batches, even with samples left.
    pub const MAX_BATCHES_PER_PLANNED: u64 = 10;

    /// The samples of every stage.
    pub fn parts(&self) -> &[usize] {
        &self.parts
    }

    /// The whole budget.
    pub fn total(&self) -> usize {
        self.parts.iter().sum()
    }

    /// Starts `stage` (a no-op when it is already running, e.g. after a resume).
    pub fn begin_stage(&mut self, stage: usize) {
        if self.stage != Some(stage) {
            self.stage = Some(stage);
            self.left = self.stage_part();
            self.stage_batches = 0;
        }
    }

    /// The current stage's share of the budget (0 before the first stage).
    fn stage_part(&self) -> usize {
        self.stage
            .and_then(|s| self.parts.get(s))
            .copied()
            .unwrap_or(0)
    }

    /// The batches of at most `batch_size` the current stage is planned to take.
    pub fn planned(&self, batch_size: usize) -> u64 {
        self.stage_part().div_ceil(batch_size.max(1)) as u64
    }

    /// Gives back `n` samples of the batch just asked for that were not scored.
    pub fn refund(&mut self, n: usize) {
        self.left = (self.left + n).min(self.stage_part());
    }

    /// The next batch of at most `batch_size`, or the end of the stage.
    pub fn next(&mut self, batch_size: usize) -> Progress {
        if std::mem::take(&mut self.pending) {
            self.batches += 1;
        }
        let cap = Self::MAX_BATCHES_PER_PLANNED.saturating_mul(self.planned(batch_size));
        if self.left == 0 || self.stage_batches >= cap {
            return Progress::EpochEnd {
                epoch: 1,
                last: true,
                record: None,
            };
        }
        let n = self.left.min(batch_size.max(1));
        self.left -= n;
        self.pending = true;
        self.stage_batches += 1;
        Progress::Ask(n)
    }

    /// Batches completed so far (the batch being scored is not counted yet).
    pub fn clock(&self) -> Clock {
        Clock {
            epoch: 0,
            global_step: self.batches,
        }
    }

    /// The position, for a checkpoint.
    ///
    /// # Errors
    /// None in practice; serialisation errors are reported as checkpoint errors.
    pub fn save(&self) -> Result<serde_json::Value, ScoringError> {
        serde_json::to_value(self).map_err(|e| ScoringError::Checkpoint {
            path: "state.json".into(),
            reason: e.to_string(),
        })
    }

    /// Restores a position from [`SampleBudget::save`].
    ///
    /// # Errors
    /// [`ScoringError::Checkpoint`] for another kind of state or another budget.
    pub fn restore(&mut self, state: serde_json::Value) -> Result<(), ScoringError> {
        let saved: SampleBudget =
            serde_json::from_value(state).map_err(|e| ScoringError::Checkpoint {
                path: "state.json".into(),
                reason: format!("not a sample-budget state: {e}"),
            })?;
        if saved.parts != self.parts {
            return Err(ScoringError::Checkpoint {
                path: "state.json".into(),
                reason: format!(
                    "it belongs to another budget: checkpoint has {:?}, this search has {:?}",
                    saved.parts, self.parts
                ),
            });
        }
        *self = saved;
        Ok(())
    }
}

/// `budget` split in proportion to `weights`, rounded so that the parts add up.
fn split(budget: usize, weights: &[u128]) -> Vec<usize> {
    let total: u128 = weights.iter().sum::<u128>().max(1);
    let budget = budget as u128;
    let mut cumulative = 0u128;
    let mut given = 0u128;
    weights
        .iter()
        .map(|w| {
            cumulative += w;
            let upto = budget * cumulative / total;
            let part = upto - given;
            given = upto;
            usize::try_from(part).unwrap_or(usize::MAX)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::StageConfig;

    #[test]
    fn budgets_split_by_search_epochs_and_add_up() {
        assert_eq!(
            SampleBudget::new(1000, &ShrinkScheduleConfig::nb201()).parts(),
            [333, 333, 334]
        );
        let schedule = ShrinkScheduleConfig::new(vec![
            StageConfig::new(1, vec![1]).with_epochs(10, 8),
            StageConfig::new(1, vec![1]).with_epochs(10, 4),
        ]);
        let b = SampleBudget::new(7, &schedule);
        assert_eq!(b.parts(), [1, 6]);
        assert_eq!(b.total(), 7);
    }

    #[test]
    fn batches_count_after_they_are_scored_and_resume_mid_stage() {
        let mut b = SampleBudget::with_parts(vec![5, 5]);
        b.begin_stage(0);
        assert_eq!(b.next(2), Progress::Ask(2));
        assert_eq!(b.clock().global_step, 0);
        assert_eq!(b.next(2), Progress::Ask(2));
        assert_eq!(b.clock().global_step, 1);
        let mut copy = SampleBudget::with_parts(vec![5, 5]);
        copy.restore(b.save().unwrap()).unwrap();
        copy.begin_stage(0);
        assert_eq!(copy.next(2), Progress::Ask(1));
        assert!(matches!(
            copy.next(2),
            Progress::EpochEnd { last: true, .. }
        ));
        copy.begin_stage(1);
        assert_eq!(copy.next(9), Progress::Ask(5));
        assert!(
            SampleBudget::with_parts(vec![1])
                .restore(b.save().unwrap())
                .is_err()
        );
    }

    #[test]
    fn refunds_are_asked_again_and_a_stage_of_repeats_ends() {
        let mut b = SampleBudget::with_parts(vec![4]);
        b.begin_stage(0);
        assert_eq!(b.planned(2), 2);
        assert_eq!(b.next(2), Progress::Ask(2));
        b.refund(1); // one of the two was a repeat
        assert_eq!(b.next(2), Progress::Ask(2));
        assert_eq!(b.next(2), Progress::Ask(1));
        assert!(matches!(b.next(2), Progress::EpochEnd { last: true, .. }));
        // Only repeats: the stage still ends, after 10 x its 2 planned batches.
        let mut b = SampleBudget::with_parts(vec![4]);
        b.begin_stage(0);
        let mut asks = 0;
        while let Progress::Ask(n) = b.next(2) {
            b.refund(n);
            asks += 1;
        }
        assert_eq!(asks, 20);
        // A refund never gives more than the stage had.
        let mut b = SampleBudget::with_parts(vec![3]);
        b.begin_stage(0);
        b.refund(5);
        assert_eq!(b.next(10), Progress::Ask(3));
    }
}
