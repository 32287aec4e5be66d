//! Configuration of a search scored by the objectives alone.

use serde::{Deserialize, Serialize};

use crate::policy::UpdaterConfig;
use crate::schedule::ShrinkScheduleConfig;
use crate::strategy::StrategyConfig;

/// The settings of [`super::SearchBuilder::build_table`]: a strategy, a budget of
/// distinct scored architectures split over the schedule's stages in proportion to each
/// stage's epochs after warm-up, and a seed. A table lookup is exact, so a repeated architecture is
/// rewarded with its first score and costs nothing (see
/// [`crate::scoring::Evaluator::exact`]); every strategy is measured the same way.
///
/// TND scores batches of M samples, updates alpha after each batch and shrinks between
/// stages. The default updater is [`UpdaterConfig::new`] (rank advantages, step size
/// tied to the stage's planned updates); the default schedule is one stage over the
/// whole space ([`ShrinkScheduleConfig::one_stage`]).
///
/// ```
/// use tnd_nas::search::TableSearchConfig;
/// use tnd_nas::strategy::StrategyConfig;
/// let cfg = TableSearchConfig::new(1000).with_strategy(StrategyConfig::Random).with_seed(3);
/// assert_eq!(cfg.updater.stage_spread, Some(8.0));
/// assert!(cfg.schedule.is_none()); // one stage over the space searched
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSearchConfig {
    /// The strategy (default TND).
    pub strategy: StrategyConfig,
    /// Distinct architectures to score (a repeat is rewarded with its first score and
    /// costs nothing).
    pub budget: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The REINFORCE updater (TND), whose `samples` is also random search's batch.
    pub updater: UpdaterConfig,
    /// The stages; `None` (default): [`ShrinkScheduleConfig::one_stage`] over the space
    /// searched.
    pub schedule: Option<ShrinkScheduleConfig>,
}

impl TableSearchConfig {
    /// A TND search scoring `budget` distinct architectures, seed 0, the default
    /// updater, one stage.
    pub fn new(budget: usize) -> Self {
        Self {
            strategy: StrategyConfig::Tnd,
            budget,
            seed: 0,
            updater: UpdaterConfig::new(),
            schedule: None,
        }
    }

    /// The schedule over `space`: the one set, or one stage.
    pub fn schedule_for(&self, space: &dyn crate::SearchSpace) -> ShrinkScheduleConfig {
        self.schedule
            .clone()
            .unwrap_or_else(|| ShrinkScheduleConfig::one_stage(space))
    }

    crate::setters! {
        /// Sets the strategy.
        with_strategy => strategy: StrategyConfig;
        /// Sets the seed.
        with_seed => seed: u64;
        /// Sets the updater.
        with_updater => updater: UpdaterConfig;
    }

    /// Sets the schedule.
    pub fn with_schedule(mut self, schedule: ShrinkScheduleConfig) -> Self {
        self.schedule = Some(schedule);
        self
    }
}
