//! The search loop (an executor with observers and checkpoints), its configuration,
//! state, events and result.

mod builder;
mod checkpoint;
mod config;
mod error;
mod executor;
mod result;
mod state;
mod table_config;

pub use crate::observe::{
    AlphaRecord, Control, JsonlLog, ProgressBar, SearchEvent, SearchObserver, StageSummary,
    StepRecord,
};
pub use crate::train::{PathSampling, ScoreBn, ScoreMetric, TrainConfig, TrainMode};
pub use builder::SearchBuilder;
pub use config::SearchConfig;
pub use error::SearchError;
pub use executor::Search;
pub use result::{FrontHypervolume, SampleRecord, SearchResult, peak_memory_bytes};
pub use state::SearchState;
pub use table_config::TableSearchConfig;
