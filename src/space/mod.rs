//! Search spaces, architectures, genotypes and op sets.

mod architecture;
mod darts;
mod dot;
mod error;
mod genotype;
mod genotype_text;
mod nb201;
mod op_set;
mod search_space;

pub use architecture::Architecture;
pub use darts::{DartsSpace, DartsSpaceConfig};
pub use error::SpaceError;
pub use genotype::{CellGenotype, Genotype, GenotypeEdge, Nb201Genotype};
pub use nb201::Nb201Space;
pub use op_set::OpSet;
pub use search_space::{Edge, SearchSpace};
