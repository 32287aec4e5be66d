//! The architecture policy (a categorical distribution per edge, `alpha` as logits) and
//! the REINFORCE updater that moves it.

mod adam;
mod categorical;
mod error;
pub(crate) mod exact_float;
mod reinforce;
mod update_stats;
mod updater_config;

pub use adam::AdamState;
pub(crate) use categorical::sample_from;
pub use categorical::{CategoricalPolicy, entropy_of};
pub use error::PolicyError;
pub use reinforce::ReinforceUpdater;
pub use update_stats::UpdateStats;
pub use updater_config::{Advantage, UpdaterConfig};
