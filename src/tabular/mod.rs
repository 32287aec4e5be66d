//! Tabular search: the TND-NAS updater, schedule and rewards driven by benchmark-table
//! lookups instead of a supernet, with random search as the baseline.

mod error;
mod strategy;
mod tabular_result;
mod tabular_search_config;

pub use error::TabularError;
pub use strategy::Strategy;
pub use tabular_result::{StageSummary, TabularResult};
pub use tabular_search_config::TabularSearchConfig;
