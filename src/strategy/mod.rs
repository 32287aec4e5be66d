//! What to try next: the [`Strategy`] trait (ask/tell) and the built-in strategies,
//! TND-NAS ([`Tnd`]), uniform random sampling ([`Random`]) and regularised evolution
//! ([`RegularizedEvolution`]).
//!
//! A strategy never owns the loop: the executor ([`crate::search::Search`]) asks it for
//! a batch, has an [`crate::evaluate::Evaluator`] score the batch, tells it the rewards,
//! and ends its stages.

mod error;
mod evolution;
mod random;
mod strategy_config;
mod strategy_trait;
mod tnd;

pub use error::StrategyError;
pub use evolution::{RegularizedEvolution, RegularizedEvolutionConfig};
pub use random::Random;
pub use strategy_config::StrategyConfig;
pub use strategy_trait::Strategy;
pub use tnd::Tnd;

use rand::Rng;

use crate::{Architecture, OpKind};

/// One op drawn uniformly on every edge.
fn uniform_architecture<R: Rng + ?Sized>(candidates: &[Vec<OpKind>], rng: &mut R) -> Architecture {
    Architecture::new(
        candidates
            .iter()
            .map(|ops| ops[rng.random_range(0..ops.len())])
            .collect(),
    )
}
