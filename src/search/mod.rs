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

pub use config::{SearchConfig, TrainConfig, TrainMode};
pub use error::SearchError;
pub use event::{AlphaRecord, Control, SearchEvent, StageSummary, StepRecord};
pub use executor::Search;
pub use observer::{JsonlLog, ProgressBar, SearchObserver};
pub use result::{SampleRecord, SearchResult, peak_memory_bytes};
pub use space::{CellSpace, FinalArchitecture};
pub use state::{DataFingerprint, SearchState};
