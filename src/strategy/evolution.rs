//! Regularised (aging) evolution, Real et al. 2019.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::strategy_trait::check_tell_in;
use super::{Strategy, StrategyError, restore_state, save_state, uniform_architecture};
use crate::policy::UpdateStats;
use crate::{Architecture, OpKind};

/// Settings of [`RegularizedEvolution`]: population `P` and tournament `S`. The defaults,
/// P = 10 and S = 3, are NAS-Bench-201's REA baseline.
///
/// ```
/// use tnd_nas::strategy::RegularizedEvolutionConfig;
/// let cfg = RegularizedEvolutionConfig::new().with_population(20).with_tournament(5);
/// assert!(cfg.validate().is_ok());
/// assert!(RegularizedEvolutionConfig::new().with_tournament(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegularizedEvolutionConfig {
    /// Population size P (10): the P most recent children, oldest dropped first.
    pub population: usize,
    /// Tournament size S (3): members drawn (with replacement) to pick each parent.
    pub tournament: usize,
    /// Architectures proposed per ask (1).
    pub batch_size: usize,
}

impl Default for RegularizedEvolutionConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl RegularizedEvolutionConfig {
    /// P = 10, S = 3, one architecture per ask.
    pub fn new() -> Self {
        Self {
            population: 10,
            tournament: 3,
            batch_size: 1,
        }
    }

    crate::setters! {
        /// Sets P.
        with_population => population: usize;
        /// Sets S.
        with_tournament => tournament: usize;
        /// Sets the batch size.
        with_batch_size => batch_size: usize;
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`StrategyError::InvalidConfig`] for a zero P, S or batch size.
    pub fn validate(&self) -> Result<(), StrategyError> {
        for (field, v) in [
            ("rea.population", self.population),
            ("rea.tournament", self.tournament),
            ("rea.batch_size", self.batch_size),
        ] {
            if v == 0 {
                return Err(StrategyError::config(field, "must be at least 1"));
            }
        }
        Ok(())
    }

    /// Regularised evolution over `candidates` (the ops of every edge), seeded.
    ///
    /// # Errors
    /// As [`RegularizedEvolutionConfig::validate`].
    pub fn init(
        &self,
        candidates: Vec<Vec<OpKind>>,
        seed: u64,
    ) -> Result<RegularizedEvolution, StrategyError> {
        self.validate()?;
        Ok(RegularizedEvolution {
            config: self.clone(),
            candidates,
            population: VecDeque::new(),
            asked: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }
}

/// One member of the population: an architecture and its reward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The architecture.
    pub arch: Architecture,
    /// Its reward (the fitness).
    pub reward: f64,
}

/// Regularised evolution (Real et al. 2019, "aging evolution"): the first P asks are
/// uniform random; every later child is a one-edge mutation of the best of S members
/// drawn from the population, and each told child pushes out the oldest member once the
/// population holds P. The executor returns the best-rewarded sample.
///
/// A mutation changes the op of one edge (drawn among the edges with more than one
/// candidate) to another of its candidates, as NAS-Bench-201's REA does.
///
/// ```
/// use tnd_nas::strategy::{RegularizedEvolutionConfig, Strategy};
/// use tnd_nas::OpKind;
/// let ops = vec![vec![OpKind::None, OpKind::SkipConnect, OpKind::AvgPool3x3]; 4];
/// let mut rea = RegularizedEvolutionConfig::new().with_population(3).init(ops, 7)?;
/// for _ in 0..10 {
///     let batch = rea.ask(1);
///     let reward = batch[0].ops().iter().filter(|o| **o == OpKind::SkipConnect).count() as f64;
///     rea.tell(&batch, &[reward])?;
/// }
/// assert_eq!(rea.population().len(), 3);
/// # Ok::<(), tnd_nas::strategy::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegularizedEvolution {
    config: RegularizedEvolutionConfig,
    candidates: Vec<Vec<OpKind>>,
    population: VecDeque<Member>,
    asked: u64,
    rng: ChaCha8Rng,
}

impl RegularizedEvolution {
    /// The population, oldest first.
    pub fn population(&self) -> &VecDeque<Member> {
        &self.population
    }

    /// The settings.
    pub fn config(&self) -> &RegularizedEvolutionConfig {
        &self.config
    }

    /// The best of S members drawn with replacement (the first drawn wins ties).
    fn tournament(&mut self) -> Option<Architecture> {
        let mut best: Option<&Member> = None;
        for _ in 0..self.config.tournament {
            let m = &self.population[self.rng.random_range(0..self.population.len())];
            if best.is_none_or(|b| m.reward > b.reward) {
                best = Some(m);
            }
        }
        best.map(|m| m.arch.clone())
    }

    /// `parent` with one edge changed to another of its candidates.
    fn mutate(&mut self, parent: Architecture) -> Architecture {
        let mutable: Vec<usize> = (0..self.candidates.len())
            .filter(|&e| self.candidates[e].len() > 1)
            .collect();
        if mutable.is_empty() {
            return parent;
        }
        let edge = mutable[self.rng.random_range(0..mutable.len())];
        let ops = &self.candidates[edge];
        let current = parent.op(edge);
        let others: Vec<OpKind> = ops
            .iter()
            .copied()
            .filter(|o| Some(*o) != current)
            .collect();
        let mut child = parent.ops().to_vec();
        child[edge] = others[self.rng.random_range(0..others.len())];
        Architecture::new(child)
    }
}

impl Strategy for RegularizedEvolution {
    fn name(&self) -> &str {
        "rea"
    }

    fn active(&self) -> Vec<Vec<OpKind>> {
        self.candidates.clone()
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    fn ask(&mut self, n: usize) -> Vec<Architecture> {
        (0..n)
            .map(|_| {
                let initial = self.asked < self.config.population as u64;
                self.asked += 1;
                match (initial, self.population.is_empty()) {
                    (false, false) => {
                        let parent = self.tournament();
                        match parent {
                            Some(p) => self.mutate(p),
                            None => uniform_architecture(&self.candidates, &mut self.rng),
                        }
                    }
                    _ => uniform_architecture(&self.candidates, &mut self.rng),
                }
            })
            .collect()
    }

    fn tell(
        &mut self,
        batch: &[Architecture],
        rewards: &[f64],
    ) -> Result<Option<UpdateStats>, StrategyError> {
        check_tell_in(batch, rewards, self.candidates.len())?;
        for (arch, &reward) in batch.iter().zip(rewards) {
            self.population.push_back(Member {
                arch: arch.clone(),
                reward,
            });
            while self.population.len() > self.config.population {
                self.population.pop_front();
            }
        }
        Ok(None)
    }

    fn save(&self) -> Result<serde_json::Value, StrategyError> {
        save_state("rea", self)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), StrategyError> {
        *self = restore_state("rea", state)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::{differing_edges, ops};

    #[test]
    fn children_are_one_edge_mutants_of_the_tournament_winner() {
        // S much larger than P: the tournament almost surely sees the best member.
        let mut rea = RegularizedEvolutionConfig::new()
            .with_population(4)
            .with_tournament(64)
            .init(ops(), 3)
            .unwrap();
        let reward = |a: &Architecture| {
            a.ops().iter().filter(|o| **o == OpKind::AvgPool3x3).count() as f64
                + 0.1
                    * a.ops()
                        .iter()
                        .filter(|o| **o == OpKind::SkipConnect)
                        .count() as f64
        };
        for i in 0..40 {
            let before: Vec<Member> = rea.population().iter().cloned().collect();
            let batch = rea.ask(1);
            if i >= 4 {
                let best = before
                    .iter()
                    .map(|m| m.reward)
                    .fold(f64::NEG_INFINITY, f64::max);
                assert!(
                    before
                        .iter()
                        .filter(|m| m.reward == best)
                        .any(|m| differing_edges(&m.arch, &batch[0]) == 1),
                    "ask {i}: not a one-edge mutant of a best member"
                );
            }
            rea.tell(&batch, &[reward(&batch[0])]).unwrap();
            assert!(rea.population().len() <= 4);
            // Aging: the newest member is the child just told.
            assert_eq!(rea.population().back().unwrap().arch, batch[0]);
        }
        // Hill climbing by one-edge mutations reaches the all-avg-pool optimum.
        let best = rea
            .population()
            .iter()
            .map(|m| m.reward)
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(best, 5.0);
    }

    #[test]
    fn the_oldest_member_leaves_first_and_the_first_p_asks_are_random() {
        let mut rea = RegularizedEvolutionConfig::new()
            .with_population(3)
            .with_tournament(1)
            .init(ops(), 9)
            .unwrap();
        let first = rea.ask(3);
        rea.tell(&first, &[3.0, 2.0, 1.0]).unwrap();
        let order: Vec<f64> = rea.population().iter().map(|m| m.reward).collect();
        assert_eq!(order, [3.0, 2.0, 1.0]);
        let child = rea.ask(1);
        assert!(
            first.iter().any(|p| differing_edges(p, &child[0]) == 1),
            "a child after the first P asks mutates a member"
        );
        rea.tell(&child, &[0.5]).unwrap();
        let order: Vec<f64> = rea.population().iter().map(|m| m.reward).collect();
        assert_eq!(order, [2.0, 1.0, 0.5], "the oldest (3.0) left, best or not");
    }

    #[test]
    fn state_round_trips_and_continues_identically() {
        let mut a = RegularizedEvolutionConfig::new().init(ops(), 5).unwrap();
        for _ in 0..12 {
            let b = a.ask(1);
            a.tell(&b, &[b[0].ops().len() as f64]).unwrap();
        }
        let mut b = RegularizedEvolutionConfig::new().init(ops(), 0).unwrap();
        b.restore(a.save().unwrap()).unwrap();
        assert_eq!(a.ask(5), b.ask(5));
        assert!(matches!(
            b.restore(serde_json::json!({"nope": 1})),
            Err(StrategyError::State { .. })
        ));
    }

    #[test]
    fn tell_must_fit_the_batch() {
        let mut rea = RegularizedEvolutionConfig::new().init(ops(), 5).unwrap();
        let b = rea.ask(2);
        assert!(rea.tell(&b, &[1.0]).is_err());
        assert!(rea.tell(&b, &[1.0, f64::NAN]).is_err());
        assert!(rea.tell(&[Architecture::new(vec![])], &[1.0]).is_err());
    }
}
