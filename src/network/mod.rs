//! Evaluation networks built from genotypes, with analytic parameter and MAC counts.

mod darts_config;
mod darts_network;
mod error;
mod export;
mod mbconv_network;
mod nb201_network;
mod network_spec;

pub use darts_config::EvalNetworkConfig;
pub use darts_network::{AuxiliaryHead, EvalCell, EvalNetwork};
pub use error::NetworkError;
pub use export::{
    ExportSummary, GENOTYPE_KEY, NETWORK_KEY, check_darts_exportable, check_nb201_exportable,
    export_darts_safetensors, export_nb201_safetensors, import_darts_safetensors,
    import_nb201_safetensors, load_darts_safetensors, load_nb201_safetensors,
};
pub use mbconv_network::{MbConvNetwork, MbConvNetworkConfig, MbConvNetworkSpec};
pub use nb201_network::{Nb201Cell, Nb201EvalBlock, Nb201Network, Nb201NetworkConfig};
pub use network_spec::{
    BuildNetwork, DartsNetworkSpec, EvalNetworkSpec, ImageClassifier, Nb201NetworkSpec,
};
