//! The final architecture of a search, in the notations a user needs.

use serde::{Deserialize, Serialize};

use super::{Architecture, Genotype};

/// The final architecture in the notations a user needs (see
/// [`crate::SearchSpace::finalize`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalArchitecture {
    /// One op per edge.
    pub architecture: Architecture,
    /// The text to hand to `train_genotype`/`inspect`: the end-to-end TND genotype
    /// (DARTS space), the NAS-Bench-201 string, the MBConv block list, or
    /// [`crate::SearchSpace::describe`] of a space of your own.
    pub text: String,
    /// DARTS notation, when every node of the end-to-end genotype has exactly two inputs.
    pub darts_text: Option<String>,
    /// The genotype as JSON (DARTS space).
    pub genotype: Option<Genotype>,
}
