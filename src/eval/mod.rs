//! Evaluation networks built from genotypes, with analytic parameter and MAC counts.

mod darts_config;
mod darts_network;
mod error;
mod nb201;
mod train;
mod train_error;

pub use darts_config::EvalNetworkConfig;
pub use darts_network::{AuxiliaryHead, EvalCell, EvalNetwork};
pub use error::EvalError;
pub use nb201::{Nb201Cell, Nb201EvalBlock, Nb201Network, Nb201NetworkConfig};
pub use train::{
    EpochRecord, MODEL_FILE, RetrainConfig, RetrainEvent, RetrainOutcome, RetrainReport,
    evaluate_accuracy, load_model, retrain, save_model,
};
pub use train_error::RetrainError;
