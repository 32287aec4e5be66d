//! Local search, White et al. 2021 ("Local search is state of the art for neural
//! architecture search benchmarks").

use std::collections::{HashMap, VecDeque};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::evolution::Member;
use super::strategy_trait::check_tell_in;
use super::{Strategy, StrategyError, restore_state, save_state, uniform_architecture};
use crate::policy::UpdateStats;
use crate::{Architecture, OpKind};

/// Settings of [`LocalSearch`]: how many random architectures start each climb.
///
/// ```
/// use tnd_nas::strategy::LocalSearchConfig;
/// let cfg = LocalSearchConfig::new().with_init(20);
/// assert!(cfg.validate().is_ok());
/// assert!(LocalSearchConfig::new().with_init(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalSearchConfig {
    /// Random architectures scored at the start and at every restart (10, as in White
    /// et al.); the climb starts from the best of them.
    pub init: usize,
    /// Architectures proposed per ask (1).
    pub batch_size: usize,
}

impl Default for LocalSearchConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalSearchConfig {
    /// Ten random starts, one architecture per ask.
    pub fn new() -> Self {
        Self {
            init: 10,
            batch_size: 1,
        }
    }

    crate::setters! {
        /// Sets the random architectures per (re)start.
        with_init => init: usize;
        /// Sets the batch size.
        with_batch_size => batch_size: usize;
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`StrategyError::InvalidConfig`] for a zero `init` or batch size.
    pub fn validate(&self) -> Result<(), StrategyError> {
        for (field, v) in [("ls.init", self.init), ("ls.batch_size", self.batch_size)] {
            if v == 0 {
                return Err(StrategyError::config(field, "must be at least 1"));
            }
        }
        Ok(())
    }

    /// Local search over `candidates` (the ops of every edge), seeded.
    ///
    /// # Errors
    /// As [`LocalSearchConfig::validate`].
    pub fn init(
        &self,
        candidates: Vec<Vec<OpKind>>,
        seed: u64,
    ) -> Result<LocalSearch, StrategyError> {
        self.validate()?;
        Ok(LocalSearch {
            config: self.clone(),
            candidates,
            memo: Vec::new(),
            index: HashMap::new(),
            current: None,
            round: Vec::new(),
            queue: VecDeque::new(),
            climbs: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }
}

/// Local search (White et al. 2021) in ask/tell form: score `init` random architectures
/// and start from the best; score every one-edge neighbour of the current architecture
/// (in random order) and move to the best one if it beats the current; at a local
/// optimum (no neighbour better) start again from the best of `init` new random
/// architectures. The executor returns the best-rewarded sample.
///
/// An architecture is scored once: one whose reward the search already knows is not
/// proposed again, its known reward takes part in the decision. Where a batch of more
/// than one is asked and the round (the starts or the neighbourhood) runs out before
/// its rewards are told, the rest of the batch is uniform random architectures, which
/// the next decision does not consider (the executor still returns them if they are
/// the best).
///
/// ```
/// use tnd_nas::strategy::{LocalSearchConfig, Strategy};
/// use tnd_nas::OpKind;
/// let ops = vec![vec![OpKind::None, OpKind::SkipConnect, OpKind::AvgPool3x3]; 4];
/// let mut ls = LocalSearchConfig::new().with_init(3).init(ops, 7)?;
/// // Reward: the number of average pools; the climb reaches all four.
/// let mut best = 0.0_f64;
/// for _ in 0..40 {
///     let batch = ls.ask(1);
///     let reward = batch[0].ops().iter().filter(|o| **o == OpKind::AvgPool3x3).count() as f64;
///     best = best.max(reward);
///     ls.tell(&batch, &[reward])?;
/// }
/// assert_eq!(best, 4.0);
/// # Ok::<(), tnd_nas::strategy::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalSearch {
    config: LocalSearchConfig,
    candidates: Vec<Vec<OpKind>>,
    /// Every architecture told, with its latest reward, in the order first told.
    memo: Vec<Member>,
    /// Position of each architecture in `memo` (rebuilt after a restore).
    #[serde(skip)]
    index: HashMap<Architecture, usize>,
    /// The architecture the climb stands on; `None` while the starts are scored.
    current: Option<Member>,
    /// The architectures of the current round (starts or neighbours) whose rewards
    /// decide the next move.
    round: Vec<Architecture>,
    /// Architectures of the round not asked yet.
    queue: VecDeque<Architecture>,
    /// Climbs begun so far (1 after the first start).
    climbs: u64,
    rng: ChaCha8Rng,
}

impl LocalSearch {
    /// The settings.
    pub fn config(&self) -> &LocalSearchConfig {
        &self.config
    }

    /// The architecture the climb stands on, with its reward (`None` while a start is
    /// being scored).
    pub fn current(&self) -> Option<&Member> {
        self.current.as_ref()
    }

    /// Climbs begun so far: 1 for the first, one more after each local optimum.
    pub fn climbs(&self) -> u64 {
        self.climbs
    }

    /// The known reward of `arch`.
    fn known(&mut self, arch: &Architecture) -> Option<f64> {
        self.position(arch).map(|i| self.memo[i].reward)
    }

    /// Where `arch` stands in `memo`.
    fn position(&mut self, arch: &Architecture) -> Option<usize> {
        if self.index.len() != self.memo.len() {
            self.index = self
                .memo
                .iter()
                .enumerate()
                .map(|(i, m)| (m.arch.clone(), i))
                .collect();
        }
        self.index.get(arch).copied()
    }

    /// Every one-edge change of `arch`, shuffled.
    fn neighbours(&mut self, arch: &Architecture) -> Vec<Architecture> {
        let mut out = Vec::new();
        for (e, ops) in self.candidates.iter().enumerate() {
            for &op in ops {
                if arch.op(e) != Some(op) {
                    let mut child = arch.ops().to_vec();
                    child[e] = op;
                    out.push(Architecture::new(child));
                }
            }
        }
        out.shuffle(&mut self.rng);
        out
    }

    /// The best of the round by known reward (the first of equals).
    fn round_best(&mut self) -> Option<Member> {
        let round = std::mem::take(&mut self.round);
        let mut best: Option<Member> = None;
        for arch in round {
            if let Some(reward) = self.known(&arch)
                && best.as_ref().is_none_or(|b| reward > b.reward)
            {
                best = Some(Member { arch, reward });
            }
        }
        best
    }

    /// Opens a round: the architectures to decide on, queueing the unknown ones.
    fn open_round(&mut self, round: Vec<Architecture>) {
        self.queue = VecDeque::new();
        for arch in &round {
            if self.known(arch).is_none() && !self.queue.contains(arch) {
                self.queue.push_back(arch.clone());
            }
        }
        self.round = round;
    }

    /// Starts a climb: `init` random architectures.
    fn restart(&mut self) {
        self.climbs += 1;
        self.current = None;
        let starts = (0..self.config.init)
            .map(|_| uniform_architecture(&self.candidates, &mut self.rng))
            .collect();
        self.open_round(starts);
    }

    /// Decides on the finished round (every reward of it known): climb, or restart
    /// at a local optimum.
    fn decide(&mut self) {
        let best = self.round_best();
        match (self.current.take(), best) {
            // The starts are scored: climb from the best.
            (None, Some(best)) => self.climb_from(best),
            // A better neighbour: move there.
            (Some(cur), Some(best)) if best.reward > cur.reward => self.climb_from(best),
            // A local optimum (or a round without rewards): start again.
            _ => self.restart(),
        }
    }

    fn climb_from(&mut self, member: Member) {
        let neighbours = self.neighbours(&member.arch);
        self.current = Some(member);
        self.open_round(neighbours);
    }
}

impl Strategy for LocalSearch {
    fn name(&self) -> &str {
        "ls"
    }

    fn active(&self) -> Vec<Vec<OpKind>> {
        self.candidates.clone()
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    fn ask(&mut self, n: usize) -> Vec<Architecture> {
        let mut batch = Vec::with_capacity(n);
        // Rounds whose architectures are all known decide at once; a space scored
        // through has nothing new to propose, so the loop is bounded.
        let mut decisions = 0;
        while batch.len() < n {
            if let Some(arch) = self.queue.pop_front() {
                batch.push(arch);
            } else if batch.is_empty() && decisions < 64 {
                if self.climbs == 0 {
                    self.restart();
                } else {
                    self.decide();
                }
                decisions += 1;
            } else {
                // The round's rewards are not told yet (or nothing new is left).
                batch.push(uniform_architecture(&self.candidates, &mut self.rng));
            }
        }
        batch
    }

    fn tell(
        &mut self,
        batch: &[Architecture],
        rewards: &[f64],
    ) -> Result<Option<UpdateStats>, StrategyError> {
        check_tell_in(batch, rewards, self.candidates.len())?;
        for (arch, &reward) in batch.iter().zip(rewards) {
            match self.position(arch) {
                Some(i) => self.memo[i].reward = reward,
                None => {
                    self.index.insert(arch.clone(), self.memo.len());
                    self.memo.push(Member {
                        arch: arch.clone(),
                        reward,
                    });
                }
            }
        }
        Ok(None)
    }

    fn save(&self) -> Result<serde_json::Value, StrategyError> {
        save_state("ls", self)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), StrategyError> {
        *self = restore_state("ls", state)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::{differing_edges, ops};

    /// Pools count 1, skips 0.1; a trap: all-skip scores 1.0 above its neighbours.
    fn trap(a: &Architecture) -> f64 {
        let count = |op| a.ops().iter().filter(|o| **o == op).count() as f64;
        let skips = count(OpKind::SkipConnect);
        count(OpKind::AvgPool3x3) + 0.1 * skips + if skips == 5.0 { 10.0 } else { 0.0 }
    }

    #[test]
    fn it_starts_from_the_best_start_and_scores_the_whole_neighbourhood() {
        let mut ls = LocalSearchConfig::new()
            .with_init(4)
            .init(ops(), 3)
            .unwrap();
        let starts = ls.ask(4);
        let rewards: Vec<f64> = (0..4).map(|i| i as f64).collect();
        ls.tell(&starts, &rewards).unwrap();
        // Ten neighbours (five edges, two other ops each), one at a time.
        let mut seen = Vec::new();
        for _ in 0..10 {
            let b = ls.ask(1);
            assert_eq!(
                differing_edges(&b[0], &starts[3]),
                1,
                "a neighbour of the best start"
            );
            assert!(!seen.contains(&b[0]));
            seen.push(b[0].clone());
            ls.tell(&b, &[0.0]).unwrap();
        }
        assert_eq!(ls.current().unwrap().arch, starts[3]);
        // A local optimum: the next ask is a new start.
        ls.ask(1);
        assert!(ls.current().is_none());
        assert_eq!(ls.climbs(), 2);
    }

    #[test]
    fn it_moves_to_the_best_improving_neighbour_and_restarts_at_an_optimum() {
        let mut ls = LocalSearchConfig::new()
            .with_init(2)
            .init(ops(), 11)
            .unwrap();
        let mut best = f64::NEG_INFINITY;
        let mut moves = 0;
        let mut last: Option<Member> = None;
        for _ in 0..120 {
            let climbs = ls.climbs();
            let b = ls.ask(1);
            let r = trap(&b[0]);
            best = best.max(r);
            ls.tell(&b, &[r]).unwrap();
            let cur = ls.current().cloned();
            // A change within one climb (a restart's ask may also start a new climb).
            if let (Some(prev), Some(now)) = (&last, &cur)
                && prev.arch != now.arch
                && ls.climbs() == climbs
            {
                // A move goes one edge, uphill, to the best neighbour.
                assert_eq!(differing_edges(&prev.arch, &now.arch), 1);
                assert!(now.reward > prev.reward);
                let neighbours = ls.clone().neighbours(&prev.arch);
                let top = neighbours
                    .iter()
                    .map(trap)
                    .fold(f64::NEG_INFINITY, f64::max);
                assert_eq!(now.reward, top, "the best neighbour, not the first better");
                moves += 1;
            }
            last = cur;
        }
        assert!(moves >= 3);
        // Hill climbing reaches the all-pool optimum (5.0) at least.
        assert!(best >= 5.0, "{best}");
        assert!(ls.climbs() >= 2, "restarted after the optimum");
    }

    #[test]
    fn known_architectures_are_not_proposed_again() {
        // A space of 3 x 3 = 9 architectures: 9 distinct asks cover it.
        let small = vec![vec![OpKind::None, OpKind::SkipConnect, OpKind::AvgPool3x3]; 2];
        let mut ls = LocalSearchConfig::new()
            .with_init(3)
            .init(small, 1)
            .unwrap();
        let mut told: Vec<Architecture> = Vec::new();
        for _ in 0..30 {
            let b = ls.ask(1);
            // Only once all nine are known may an ask repeat one.
            assert!(
                !told.contains(&b[0]) || told.len() == 9,
                "{:?} proposed again with {} of 9 known",
                b[0],
                told.len()
            );
            let r = b[0]
                .ops()
                .iter()
                .filter(|o| **o == OpKind::AvgPool3x3)
                .count() as f64;
            ls.tell(&b, &[r]).unwrap();
            if !told.contains(&b[0]) {
                told.push(b[0].clone());
            }
        }
        // A space scored through still answers every ask.
        for _ in 0..20 {
            let b = ls.ask(2);
            assert_eq!(b.len(), 2);
            ls.tell(&b, &[0.0, 0.0]).unwrap();
        }
    }

    #[test]
    fn a_batch_larger_than_the_round_is_filled() {
        let mut ls = LocalSearchConfig::new()
            .with_init(3)
            .init(ops(), 2)
            .unwrap();
        let b = ls.ask(5);
        assert_eq!(b.len(), 5);
        ls.tell(&b, &[1.0, 2.0, 3.0, 0.0, 0.0]).unwrap();
        // The climb starts from the best of the three starts, not from a filler.
        let n = ls.ask(1);
        assert_eq!(differing_edges(&n[0], &b[2]), 1);
    }

    #[test]
    fn state_round_trips_and_continues_identically() {
        let mut a = LocalSearchConfig::new().init(ops(), 5).unwrap();
        for _ in 0..23 {
            let b = a.ask(1);
            a.tell(&b, &[trap(&b[0])]).unwrap();
        }
        let mut b = LocalSearchConfig::new().init(ops(), 0).unwrap();
        b.restore(a.save().unwrap()).unwrap();
        for _ in 0..30 {
            let (x, y) = (a.ask(1), b.ask(1));
            assert_eq!(x, y);
            a.tell(&x, &[trap(&x[0])]).unwrap();
            b.tell(&y, &[trap(&y[0])]).unwrap();
        }
        assert!(matches!(
            b.restore(serde_json::json!({"nope": 1})),
            Err(StrategyError::State { .. })
        ));
    }

    #[test]
    fn tell_must_fit_the_batch() {
        let mut ls = LocalSearchConfig::new().init(ops(), 5).unwrap();
        let b = ls.ask(2);
        assert!(ls.tell(&b, &[1.0]).is_err());
        assert!(ls.tell(&b, &[1.0, f64::NAN]).is_err());
        assert!(ls.tell(&[Architecture::new(vec![])], &[1.0]).is_err());
    }
}
