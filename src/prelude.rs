//! The names most searches use, in one import: `use tnd_nas::prelude::*;`.
//!
//! ```
//! use tnd_nas::prelude::*;
//! let (data, _holdout) = FashionMnistSample::search_and_holdout()?;
//! let search = Search::builder(DartsSpaceConfig::tnd().init()?)
//!     .objective(ValidationAccuracy::new())
//!     .objective(ParamCount::new().in_millions())
//!     .reward(MnasReward::new(vec![1.0], vec![-0.3])?)
//!     .build::<Autodiff<Flex>>(SearchConfig::quick(), data, Default::default())?;
//! assert_eq!(search.space().edges().len(), 28);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::data::{FashionMnistSample, ImageDataset, Normalization};
pub use crate::network::EvalNetworkSpec;
pub use crate::objective::{
    Chebyshev, Direction, Latency, LatencyConfig, LookupTable, Macs, MnasReward, Objective,
    ParamCount, Reward, ValidationAccuracy, WeightedSum,
};
pub use crate::schedule::{ShrinkScheduleConfig, StageConfig};
pub use crate::scoring::{DataShape, Evaluator, SupernetSpace};
pub use crate::search::{
    JsonlLog, ProgressBar, Search, SearchConfig, SearchObserver, SearchResult, TableSearchConfig,
};
pub use crate::spaces::darts::{DartsSpace, DartsSpaceConfig};
pub use crate::spaces::mbconv::MbConvSpace;
pub use crate::spaces::nb201::Nb201Space;
pub use crate::strategy::{Strategy, StrategyConfig};
pub use crate::train::{RetrainConfig, retrain};
pub use crate::{Architecture, Genotype, OpKind, SearchSpace};
pub use burn::backend::Autodiff;
#[cfg(feature = "cuda")]
pub use burn::backend::Cuda;
#[cfg(feature = "flex")]
pub use burn::backend::Flex;
#[cfg(feature = "ndarray")]
pub use burn::backend::NdArray;
