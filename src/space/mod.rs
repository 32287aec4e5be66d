//! Search spaces, architectures, genotypes and op sets.

mod architecture;
mod darts;
mod dot;
mod error;
mod final_architecture;
mod genotype;
mod genotype_text;
mod mbconv_space;
mod nb201_space;
mod op_set;
mod search_space;

pub use architecture::Architecture;
pub use darts::{DartsSpace, DartsSpaceConfig};
pub use error::SpaceError;
pub use final_architecture::FinalArchitecture;
pub use genotype::{CellGenotype, Genotype, GenotypeEdge, Nb201Genotype};
pub use mbconv_space::{
    BlockSlot, MBCONV_OPS, MOBILENET_V2_STAGES, MbConvPlan, MbConvSpace, MbConvSpaceConfig,
    make_divisible,
};
pub use nb201_space::{NB201_EDGES, Nb201Space, nb201_live_edges};
pub use op_set::OpSet;
pub use search_space::{Edge, SearchSpace};
