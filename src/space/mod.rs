//! What every search space shares: the [`SearchSpace`] trait, architectures, the cell
//! genotypes of DARTS-style spaces and their text, op sets. The built-in spaces are in
//! [`crate::spaces`].

mod architecture;
mod dot;
mod error;
mod final_architecture;
mod genotype;
mod genotype_text;
mod op_set;
mod search_space;

pub use architecture::Architecture;
pub(crate) use dot::quote as dot_quote;
pub use error::SpaceError;
pub use final_architecture::FinalArchitecture;
pub use genotype::{CellGenotype, Genotype, GenotypeEdge};
pub(crate) use genotype_text::describe_text;
pub use op_set::OpSet;
pub use search_space::{Edge, SearchSpace};
