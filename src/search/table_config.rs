//! Configuration of a search scored by the objectives alone.

use serde::{Deserialize, Serialize};

use crate::policy::UpdaterConfig;
use crate::schedule::ShrinkScheduleConfig;
use crate::strategy::StrategyConfig;

/// The settings of [`super::Search::table`]: a strategy, a budget of scored samples
/// (repeats included) split over the schedule's stages in proportion to each stage's
/// epochs after warm-up, and a seed.
///
/// TND scores batches of M samples (the last batch of a stage may be smaller), updates
/// alpha after each batch and shrinks between stages. The default updater is the
/// paper's except for the learning rate, 0.1 instead of 1e-2: a table budget of a few
/// thousand samples allows tens of updates per stage where a supernet search makes
/// hundreds.
///
/// ```
/// use tnd_nas::search::TableSearchConfig;
/// use tnd_nas::strategy::StrategyConfig;
/// let cfg = TableSearchConfig::new(1000).with_strategy(StrategyConfig::Random).with_seed(3);
/// assert_eq!(cfg.updater.lr, 0.1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSearchConfig {
    /// The strategy (default TND).
    pub strategy: StrategyConfig,
    /// Samples to score, repeats included.
    pub budget: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The REINFORCE updater (TND), whose `samples` is also random search's batch.
    pub updater: UpdaterConfig,
    /// The stages (default [`ShrinkScheduleConfig::nb201`]).
    pub schedule: ShrinkScheduleConfig,
}

impl TableSearchConfig {
    /// A TND search scoring `budget` samples, seed 0, learning rate 0.1, the NB201 schedule.
    pub fn new(budget: usize) -> Self {
        Self {
            strategy: StrategyConfig::Tnd,
            budget,
            seed: 0,
            updater: UpdaterConfig::new().with_lr(0.1),
            schedule: ShrinkScheduleConfig::nb201(),
        }
    }

    /// Sets the strategy.
    pub fn with_strategy(mut self, strategy: StrategyConfig) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the updater.
    pub fn with_updater(mut self, updater: UpdaterConfig) -> Self {
        self.updater = updater;
        self
    }

    /// Sets the schedule.
    pub fn with_schedule(mut self, schedule: ShrinkScheduleConfig) -> Self {
        self.schedule = schedule;
        self
    }
}
