//! # tnd-nas
//!
//! Neural architecture search for objectives gradient descent cannot see: parameter
//! count, multiply-accumulates, latency, energy, anything you can measure. It implements
//! TND-NAS (Lyu & Wen, 2021): a DARTS-style supernet whose weights train by gradient
//! descent, while the architecture parameters `alpha` move by a policy gradient
//! (REINFORCE) on architectures sampled from `softmax(alpha)` and rewarded by any mix of
//! supernet accuracy and non-differentiable metrics; the space shrinks progressively
//! while the network deepens.
//!
//! ## The pieces
//! - [`space`]: the [`SearchSpace`] trait, the DARTS cell space and the NAS-Bench-201
//!   space, [`Architecture`]s and [`Genotype`]s in DARTS, TND and NAS-Bench-201 notation.
//! - [`ops`], [`supernet`]: candidate ops, `MixedOp`, search cells and the supernet.
//! - [`network`]: evaluation networks built from genotypes, analytic parameter and MAC
//!   counts, export in the reference code's names.
//! - [`train`]: the one training module: SGD with PyTorch semantics, the supernet's
//!   training step, and retraining a found network from scratch.
//! - [`objective`]: the [`Objective`] trait, built-in objectives, rewards, the Pareto archive.
//! - [`policy`], [`schedule`]: the REINFORCE updater and the shrinking schedule.
//! - [`strategy`]: what to try next, in ask/tell form: TND, random search, regularised
//!   evolution, local search, or a strategy of your own.
//! - [`scoring`]: how a batch is scored: the supernet, benchmark tables (objectives
//!   alone), or a function of your own.
//! - [`search`]: the one executor for every strategy and evaluator, with observers,
//!   checkpoints and results.
//! - [`data`]: CIFAR and IDX readers, a bundled Fashion-MNIST sample, augmentation, batching.
//! - [`plot`]: SVG and PNG plots of a search: the front, alpha per stage, the curves.
//!
//! ## A search in ten lines
//!
//! ```no_run
//! use tnd_nas::prelude::*; // burn's backends too: no burn line in your Cargo.toml
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let (data, _holdout) = FashionMnistSample::search_and_holdout()?;
//!     let mut search = Search::builder(DartsSpaceConfig::tnd().init()?)
//!         .objective(ValidationAccuracy::new())
//!         .objective(ParamCount::new().in_millions())
//!         .reward(MnasReward::new(vec![1.0], vec![-0.3])?) // acc * (params / 1 M)^-0.3
//!         .build::<Autodiff<Flex>>(SearchConfig::quick(), data, Default::default())?;
//!     let result = search.run(&mut [&mut ProgressBar::new()])?;
//!     println!("{}", result.final_architecture.text);
//!     Ok(())
//! }
//! ```
//!
//! ## Counting without tensors
//!
//! ```
//! use tnd_nas::spaces::darts::EvalNetworkConfig;
//! use tnd_nas::Genotype;
//! let g: Genotype = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), \
//!     ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], \
//!     normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), \
//!     ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], \
//!     reduce_concat=[2, 3, 4, 5])".parse()?;
//! let cfg = EvalNetworkConfig::new(36, 20, 10);
//! assert_eq!(cfg.param_count(&g), 3_349_342); // DARTS V2, as the DARTS code counts it
//! assert!(cfg.macs(&g, 32) > 500_000_000);
//! # Ok::<(), tnd_nas::space::SpaceError>(())
//! ```
//!
//! ## Backends and features
//! Everything is generic over burn backends. `flex` and `ndarray` (CPU) are on by
//! default; `cuda` (off by default) adds `burn::backend::Cuda` for GPUs.
#![warn(missing_docs)]

/// `with_*` setters of a serde configuration, the crate's one config style: plain
/// structs with public fields, serde for files, and these builder methods for code.
/// `with_lr => sgd.lr: f64;` sets a nested field.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident => $($field:ident).+ : $ty:ty;)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, value: $ty) -> Self {
                self.$($field).+ = value;
                self
            }
        )*
    };
}
pub(crate) use setters;

mod atomic_write;
#[cfg(feature = "cli")]
pub mod cli;
pub mod data;
pub mod fidelity;
pub mod kernels;
pub mod network;
pub mod objective;
pub mod observe;
pub mod ops;
pub mod plot;
pub mod policy;
pub mod prelude;
pub mod proxy;
pub mod schedule;
pub mod scoring;
pub mod search;
pub mod seeding;
pub mod space;
pub mod spaces;
pub mod strategy;
pub mod supernet;
pub mod train;

/// The burn this crate is built on (`=0.21.0`): use `tnd_nas::burn` in your crate, so
/// that it needs no burn dependency of its own.
pub use burn;
pub use objective::{Direction, Objective, ObjectiveContext, ParetoArchive, Reward};
pub use ops::OpKind;
pub use policy::{ReinforceUpdater, UpdaterConfig};
pub use schedule::{ShrinkSchedule, ShrinkScheduleConfig};
pub use search::{Search, SearchConfig, SearchResult, TableSearchConfig};
pub use space::{Architecture, Genotype, SearchSpace};
pub use strategy::{Strategy, StrategyConfig};
