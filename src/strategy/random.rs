//! Uniform random sampling: the first baseline of every NAS comparison.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::strategy_trait::check_tell_in;
use super::{Strategy, StrategyError, restore_state, save_state, uniform_architecture};
use crate::policy::UpdateStats;
use crate::{Architecture, OpKind};

/// Draws every architecture uniformly (one op per edge, independently) from the whole
/// space; the executor returns the best-rewarded sample.
///
/// ```
/// use tnd_nas::strategy::{Random, Strategy};
/// use tnd_nas::OpKind;
/// let mut s = Random::new(vec![vec![OpKind::None, OpKind::SkipConnect]; 3], 1, 4);
/// let batch = s.ask(8);
/// assert_eq!(batch.len(), 8);
/// assert!(batch.iter().all(|a| a.len() == 3));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Random {
    candidates: Vec<Vec<OpKind>>,
    batch_size: usize,
    rng: ChaCha8Rng,
}

impl Random {
    /// Random search over `candidates` (the ops of every edge), seeded, proposing
    /// `batch_size` at a time.
    pub fn new(candidates: Vec<Vec<OpKind>>, seed: u64, batch_size: usize) -> Self {
        Self {
            candidates,
            batch_size: batch_size.max(1),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Strategy for Random {
    fn name(&self) -> &str {
        "random"
    }

    fn active(&self) -> Vec<Vec<OpKind>> {
        self.candidates.clone()
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn ask(&mut self, n: usize) -> Vec<Architecture> {
        (0..n)
            .map(|_| uniform_architecture(&self.candidates, &mut self.rng))
            .collect()
    }

    fn tell(
        &mut self,
        batch: &[Architecture],
        rewards: &[f64],
    ) -> Result<Option<UpdateStats>, StrategyError> {
        check_tell_in(batch, rewards, self.candidates.len())?;
        Ok(None)
    }

    fn save(&self) -> Result<serde_json::Value, StrategyError> {
        save_state("random", self)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), StrategyError> {
        *self = restore_state("random", state)?;
        Ok(())
    }
}
