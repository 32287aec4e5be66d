//! The DARTS cell space: [`DartsSpace`], its supernet ([`DartsSuperNet`]), its evaluation
//! network (DARTS' `NetworkCIFAR`, [`EvalNetwork`]), the export in DARTS' names, and
//! how a search trains and scores it. Its genotypes, in DARTS and TND notation, are the
//! crate's common [`crate::Genotype`].

mod export;
mod network;
mod network_config;
mod scoring;
mod space;
mod supernet;

pub use export::{
    check_darts_exportable, export_darts_safetensors, import_darts_safetensors,
    load_darts_safetensors,
};
pub use network::{AuxiliaryHead, DartsNetworkSpec, EvalCell, EvalNetwork};
pub use network_config::EvalNetworkConfig;
pub use space::{DartsSpace, DartsSpaceConfig};
pub(crate) use supernet::is_reduction;
pub use supernet::{DartsSearchCell, DartsSuperNet, DartsSuperNetConfig, Preprocess};
