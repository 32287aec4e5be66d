//! Configuration and driver of a tabular search.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{StageSummary, Strategy, TabularError, TabularResult};
use crate::objective::{
    Direction, Objective, ObjectiveContext, ParetoArchive, Reward, ScoredSample, evaluate_all,
};
use crate::policy::UpdaterConfig;
use crate::schedule::ShrinkScheduleConfig;
use crate::{Architecture, OpKind};

/// A search without a supernet: the TND-NAS updater, schedule and reward driven by
/// objectives that are table lookups (or any cheap [`Objective`]), or random search with
/// the same budget.
///
/// The budget counts scored samples, repeats included. TND splits it over the
/// schedule's stages in proportion to each stage's epochs after warm-up, scores batches
/// of M samples (the last batch of a stage may be smaller), updates alpha after each
/// batch, and shrinks between stages; the final architecture is what the schedule
/// leaves (the most likely surviving op where an edge keeps several).
///
/// The default updater is the paper's except for the learning rate, 0.1 instead of
/// 1e-2: a tabular budget of a few thousand samples allows tens of updates per stage
/// where a supernet search makes hundreds.
///
/// ```
/// use tnd_nas::objective::{LookupTable, Objective, ObjectiveContext, WeightedSum};
/// use tnd_nas::space::Nb201Space;
/// use tnd_nas::tabular::{Strategy, TabularSearchConfig};
/// use tnd_nas::OpKind;
///
/// // A toy "accuracy": 3x3 convs are worth most (a lookup table, maximised).
/// let acc = LookupTable::new("acc")
///     .with_direction(tnd_nas::objective::Direction::Maximise)
///     .with_cost(OpKind::None, 0.0).with_cost(OpKind::SkipConnect, 1.0)
///     .with_cost(OpKind::AvgPool3x3, 1.0).with_cost(OpKind::NorConv1x1, 2.0)
///     .with_cost(OpKind::NorConv3x3, 3.0);
/// let mut objectives: Vec<Box<dyn Objective>> = vec![Box::new(acc)];
/// let space = Nb201Space::new();
/// let result = TabularSearchConfig::new(600)
///     .with_seed(1)
///     .run(&ObjectiveContext::new(&space), &mut objectives, &WeightedSum::new(vec![1.0])?)?;
/// assert_eq!(result.samples, 600);
/// assert_eq!(result.final_architecture.ops(), [OpKind::NorConv3x3; 6]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TabularSearchConfig {
    /// TND or random search (default TND).
    pub strategy: Strategy,
    /// Samples to score, repeats included.
    pub budget: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The REINFORCE updater.
    pub updater: UpdaterConfig,
    /// The shrinking schedule (default [`ShrinkScheduleConfig::nb201`]).
    pub schedule: ShrinkScheduleConfig,
}

impl TabularSearchConfig {
    /// A TND search scoring `budget` samples, seed 0, learning rate 0.1, the NB201 schedule.
    pub fn new(budget: usize) -> Self {
        Self {
            strategy: Strategy::Tnd,
            budget,
            seed: 0,
            updater: UpdaterConfig::new().with_lr(0.1),
            schedule: ShrinkScheduleConfig::nb201(),
        }
    }

    /// Sets the strategy.
    pub fn with_strategy(mut self, strategy: Strategy) -> Self {
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

    /// How the budget splits over the schedule's stages (proportional to the epochs
    /// after warm-up, rounded so that the parts add up to the budget).
    pub fn stage_budgets(&self) -> Vec<usize> {
        let weights: Vec<u128> = self
            .schedule
            .stages
            .iter()
            .map(|s| s.search_epochs() as u128)
            .collect();
        let total: u128 = weights.iter().sum::<u128>().max(1);
        let budget = self.budget as u128;
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

    /// Runs the search. `ctx` gives the space (and the evaluation network, for
    /// objectives that need it); `reward` turns the objectives' values into the scalar
    /// the updater maximises and random search ranks by.
    ///
    /// # Errors
    /// Before any sample is scored: [`TabularError::InvalidConfig`] for a zero budget or
    /// no objectives, and the reward's, updater's and schedule's validation errors.
    /// During the search: the first objective or reward error (e.g. an architecture
    /// missing from the table).
    pub fn run(
        &self,
        ctx: &ObjectiveContext<'_>,
        objectives: &mut [Box<dyn Objective>],
        reward: &dyn Reward,
    ) -> Result<TabularResult, TabularError> {
        if self.budget == 0 {
            return Err(TabularError::InvalidConfig(
                "the budget must be at least one sample".into(),
            ));
        }
        if objectives.is_empty() {
            return Err(TabularError::InvalidConfig(
                "at least one objective is needed".into(),
            ));
        }
        let directions: Vec<Direction> = objectives.iter().map(|o| o.direction()).collect();
        let names: Vec<String> = objectives.iter().map(|o| o.name().to_string()).collect();
        reward.check(&directions)?;
        self.updater.validate()?;
        let schedule = self.schedule.init(ctx.space)?;
        let archive = ParetoArchive::new(names, directions.clone())?;
        let scorer = Scorer {
            ctx,
            objectives,
            reward,
            directions,
            archive,
        };
        match self.strategy {
            Strategy::Tnd => self.run_tnd(scorer, schedule),
            Strategy::Random => self.run_random(scorer, schedule.num_stages() - 1),
        }
    }

    fn run_tnd(
        &self,
        mut scorer: Scorer<'_, '_>,
        mut schedule: crate::schedule::ShrinkSchedule,
    ) -> Result<TabularResult, TabularError> {
        let mut updater = self.updater.init(schedule.active().to_vec(), self.seed)?;
        let mut stages = Vec::with_capacity(schedule.num_stages());
        let mut history = Vec::new();
        for (stage, budget) in self.stage_budgets().into_iter().enumerate() {
            if stage > 0 {
                updater.begin_stage(schedule.active().to_vec(), schedule.carries_alpha())?;
            }
            let mut left = budget;
            while left > 0 {
                let n = left.min(self.updater.samples);
                let samples = updater.sample_n(n);
                let step = updater.updates();
                let rewards = samples
                    .iter()
                    .map(|a| scorer.score(a, stage, step).map(|(_, r)| r))
                    .collect::<Result<Vec<f64>, _>>()?;
                history.push(updater.update(&samples, &rewards)?);
                left -= n;
            }
            let probabilities = updater.probabilities();
            let active = schedule.active().to_vec();
            let dropped = schedule.shrink(&probabilities)?;
            stages.push(StageSummary {
                stage,
                samples: budget,
                active,
                probabilities,
                dropped,
            });
        }
        let final_architecture = match (schedule.final_architecture(), stages.last()) {
            (Some(arch), _) => arch,
            (None, Some(last)) => {
                most_likely_survivors(schedule.active(), &last.active, &last.probabilities)
            }
            (None, None) => updater.policy().most_likely(),
        };
        let final_stage = schedule.num_stages() - 1;
        let final_values = evaluate_all(scorer.objectives, &final_architecture, scorer.ctx)?;
        let final_reward = scorer
            .reward
            .reward(&final_values, &scorer.directions, final_stage)?;
        Ok(TabularResult {
            strategy: Strategy::Tnd,
            final_architecture,
            final_values,
            final_reward,
            samples: scorer.archive.len(),
            archive: scorer.archive,
            stages,
            history,
        })
    }

    fn run_random(
        &self,
        mut scorer: Scorer<'_, '_>,
        stage: usize,
    ) -> Result<TabularResult, TabularError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let candidates = scorer.ctx.space.all_candidates();
        let mut best: Option<(Architecture, Vec<f64>, f64)> = None;
        for i in 0..self.budget {
            let arch = Architecture::new(
                candidates
                    .iter()
                    .map(|ops| ops[rng.random_range(0..ops.len())])
                    .collect(),
            );
            let step = (i / self.updater.samples.max(1)) as u64;
            let (values, r) = scorer.score(&arch, stage, step)?;
            if best.as_ref().is_none_or(|b| r > b.2) {
                best = Some((arch, values, r));
            }
        }
        let Some((final_architecture, final_values, final_reward)) = best else {
            return Err(TabularError::InvalidConfig(
                "the budget must be at least one sample".into(),
            ));
        };
        Ok(TabularResult {
            strategy: Strategy::Random,
            final_architecture,
            final_values,
            final_reward,
            samples: scorer.archive.len(),
            archive: scorer.archive,
            stages: Vec::new(),
            history: Vec::new(),
        })
    }
}

/// Evaluates, rewards and archives samples.
struct Scorer<'c, 'o> {
    ctx: &'c ObjectiveContext<'c>,
    objectives: &'o mut [Box<dyn Objective>],
    reward: &'c dyn Reward,
    directions: Vec<Direction>,
    archive: ParetoArchive,
}

impl Scorer<'_, '_> {
    fn score(
        &mut self,
        arch: &Architecture,
        stage: usize,
        step: u64,
    ) -> Result<(Vec<f64>, f64), TabularError> {
        let values = evaluate_all(self.objectives, arch, self.ctx)?;
        let r = self.reward.reward(&values, &self.directions, stage)?;
        self.archive.push(ScoredSample {
            arch: arch.clone(),
            values: values.clone(),
            stage,
            step,
        })?;
        Ok((values, r))
    }
}

/// On every edge, the surviving op that was most likely before the last drop.
fn most_likely_survivors(
    survivors: &[Vec<OpKind>],
    active: &[Vec<OpKind>],
    probs: &[Vec<f64>],
) -> Architecture {
    Architecture::new(
        survivors
            .iter()
            .zip(active.iter().zip(probs))
            .map(|(ops, (before, p))| {
                let prob = |op: &OpKind| {
                    before
                        .iter()
                        .position(|o| o == op)
                        .map_or(f64::NEG_INFINITY, |i| p[i])
                };
                ops.iter()
                    .copied()
                    .fold(None::<OpKind>, |best, op| match best {
                        Some(b) if prob(&b) >= prob(&op) => Some(b),
                        _ => Some(op),
                    })
                    .unwrap_or(OpKind::None)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::StageConfig;

    #[test]
    fn budgets_split_by_search_epochs_and_add_up() {
        let mut cfg = TabularSearchConfig::new(1000);
        assert_eq!(cfg.stage_budgets(), vec![333, 333, 334]);
        cfg.schedule = ShrinkScheduleConfig::new(vec![
            StageConfig::new(1, vec![1]).with_epochs(10, 8),
            StageConfig::new(1, vec![1]).with_epochs(10, 4),
        ]);
        cfg.budget = 7;
        assert_eq!(cfg.stage_budgets(), vec![1, 7 - 1]);
        assert_eq!(cfg.stage_budgets().iter().sum::<usize>(), 7);
    }
}
