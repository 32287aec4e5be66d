//! What to try next: the [`Strategy`] trait (ask/tell) and the built-in strategies,
//! TND-NAS ([`Tnd`]), uniform random sampling ([`Random`]), regularised evolution
//! ([`RegularizedEvolution`]) and local search ([`LocalSearch`]).
//!
//! A strategy never owns the loop: the executor ([`crate::search::Search`]) asks it for
//! a batch, has an [`crate::scoring::Evaluator`] score the batch, tells it the rewards,
//! and ends its stages.

mod error;
mod evolution;
mod local_search;
mod random;
mod strategy_config;
mod strategy_trait;
mod tnd;

pub use error::StrategyError;
pub use evolution::{Member, RegularizedEvolution, RegularizedEvolutionConfig};
pub use local_search::{LocalSearch, LocalSearchConfig};
pub use random::Random;
pub use strategy_config::StrategyConfig;
pub use strategy_trait::Strategy;
pub use tnd::Tnd;

use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Architecture, OpKind};

/// A strategy's state as JSON, for [`Strategy::save`].
fn save_state<T: Serialize>(name: &str, strategy: &T) -> Result<serde_json::Value, StrategyError> {
    serde_json::to_value(strategy).map_err(|e| StrategyError::state(name, e))
}

/// A strategy from its JSON state, for [`Strategy::restore`].
fn restore_state<T: DeserializeOwned>(
    name: &str,
    state: serde_json::Value,
) -> Result<T, StrategyError> {
    serde_json::from_value(state).map_err(|e| StrategyError::state(name, e))
}

/// One op drawn uniformly on every edge.
fn uniform_architecture<R: Rng + ?Sized>(candidates: &[Vec<OpKind>], rng: &mut R) -> Architecture {
    Architecture::new(
        candidates
            .iter()
            .map(|ops| ops[rng.random_range(0..ops.len())])
            .collect(),
    )
}

/// Helpers shared by the strategies' unit tests.
#[cfg(test)]
mod test_support {
    use crate::{Architecture, OpKind};

    /// Five edges of three ops each.
    pub(crate) fn ops() -> Vec<Vec<OpKind>> {
        vec![vec![OpKind::None, OpKind::SkipConnect, OpKind::AvgPool3x3]; 5]
    }

    /// How many edges two architectures differ on.
    pub(crate) fn differing_edges(a: &Architecture, b: &Architecture) -> usize {
        a.ops().iter().zip(b.ops()).filter(|(x, y)| x != y).count()
    }
}
