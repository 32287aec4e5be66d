//! What every evaluation network offers: analytic parameter and MAC counts
//! ([`EvalNetworkSpec`]), building ([`BuildNetwork`]), classifying ([`ImageClassifier`]),
//! and the state_dict machinery of export in a reference code's names. The built-in
//! networks live with their spaces in [`crate::spaces`].

mod error;
pub(crate) mod export;
mod network_spec;

pub use error::NetworkError;
pub use export::{ExportSummary, GENOTYPE_KEY, NETWORK_KEY};
pub use network_spec::{BuildNetwork, EvalNetworkSpec, ImageClassifier};
