//! # tnd-nas
//!
//! Neural architecture search for objectives gradient descent cannot see.
#![warn(missing_docs)]

pub mod data;
pub mod eval;
pub mod objective;
pub mod ops;
pub mod policy;
pub mod schedule;
pub mod search;
pub mod space;
pub mod supernet;
pub mod tabular;

pub use objective::{Direction, Objective, ObjectiveContext, ParetoArchive, Reward};
pub use ops::OpKind;
pub use policy::{ReinforceUpdater, UpdaterConfig};
pub use schedule::{ShrinkSchedule, ShrinkScheduleConfig};
pub use space::{Architecture, Genotype, SearchSpace};
pub use tabular::{TabularResult, TabularSearchConfig};
