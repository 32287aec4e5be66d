//! The search loop (an executor with observers and checkpoints), its configuration,
//! state, events and result.

mod checkpoint;
mod config;
mod error;
mod event;
mod executor;
mod observer;
mod result;
mod space;
mod state;
mod svg;
mod table_config;

pub(crate) use checkpoint::{read_weights, write_weights};
pub use config::{SearchConfig, TrainConfig, TrainMode};
pub use error::SearchError;
pub use event::{AlphaRecord, Control, SearchEvent, StageSummary, StepRecord};
pub use executor::Search;
pub(crate) use executor::emit;
pub use observer::{JsonlLog, ProgressBar, SearchObserver};
pub use result::{SampleRecord, SearchResult, peak_memory_bytes};
pub use space::{AnySpace, CellSpace, FinalArchitecture};
pub use state::SearchState;
pub use table_config::TableSearchConfig;
