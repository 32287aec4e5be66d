//! The spaces a supernet search runs on.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::eval::{EvalNetworkConfig, Nb201NetworkConfig};
use crate::objective::EvalNetworkSpec;
use crate::schedule::StageConfig;
use crate::space::{DartsSpace, Nb201Space};
use crate::supernet::{SuperNetConfig, SuperNetKind};
use crate::{Architecture, OpKind, SearchSpace};

/// A space whose architectures a supernet can hold: the DARTS cell space or the
/// NAS-Bench-201 space. (Any [`SearchSpace`] works with the table and user evaluators.)
#[derive(Debug, Clone)]
pub enum CellSpace {
    /// DARTS cells.
    Darts(DartsSpace),
    /// NAS-Bench-201 cells.
    Nb201(Nb201Space),
}

impl From<DartsSpace> for CellSpace {
    fn from(s: DartsSpace) -> Self {
        CellSpace::Darts(s)
    }
}

impl From<Nb201Space> for CellSpace {
    fn from(s: Nb201Space) -> Self {
        CellSpace::Nb201(s)
    }
}

/// The space a search runs on: a cell space a supernet can hold ([`CellSpace`]), or any
/// other [`SearchSpace`] (for table and user evaluators).
#[derive(Debug, Clone)]
pub enum AnySpace {
    /// The DARTS or NAS-Bench-201 cell space.
    Cell(CellSpace),
    /// Any other space.
    Other(Arc<dyn SearchSpace>),
}

impl From<CellSpace> for AnySpace {
    fn from(s: CellSpace) -> Self {
        AnySpace::Cell(s)
    }
}

impl From<DartsSpace> for AnySpace {
    fn from(s: DartsSpace) -> Self {
        AnySpace::Cell(s.into())
    }
}

impl From<Nb201Space> for AnySpace {
    fn from(s: Nb201Space) -> Self {
        AnySpace::Cell(s.into())
    }
}

impl From<Arc<dyn SearchSpace>> for AnySpace {
    fn from(s: Arc<dyn SearchSpace>) -> Self {
        AnySpace::Other(s)
    }
}

impl AnySpace {
    /// The space as a trait object.
    pub fn as_space(&self) -> &dyn SearchSpace {
        match self {
            AnySpace::Cell(s) => s.as_space(),
            AnySpace::Other(s) => s.as_ref(),
        }
    }

    /// The final architecture in every notation the space has.
    pub fn finalize(&self, architecture: Architecture) -> FinalArchitecture {
        match self {
            AnySpace::Cell(s) => s.finalize(architecture),
            AnySpace::Other(s) => FinalArchitecture {
                text: s.describe(&architecture),
                darts_text: None,
                genotype: None,
                architecture,
            },
        }
    }
}

/// The final architecture in the notations a user needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalArchitecture {
    /// One op per edge.
    pub architecture: Architecture,
    /// The text to hand to `train_genotype`/`inspect`: the end-to-end TND genotype
    /// (DARTS space) or the NAS-Bench-201 string.
    pub text: String,
    /// DARTS notation, when every node of the end-to-end genotype has exactly two inputs.
    pub darts_text: Option<String>,
    /// The genotype as JSON (DARTS space).
    pub genotype: Option<crate::Genotype>,
}

impl CellSpace {
    /// The space as a trait object.
    pub fn as_space(&self) -> &dyn SearchSpace {
        match self {
            CellSpace::Darts(s) => s,
            CellSpace::Nb201(s) => s,
        }
    }

    /// The supernet of a stage over the `active` ops.
    pub fn supernet_config(
        &self,
        stage: &StageConfig,
        active: Vec<Vec<OpKind>>,
        classes: usize,
        in_channels: usize,
    ) -> SuperNetConfig {
        let kind = match self {
            CellSpace::Darts(s) => SuperNetKind::Darts { nodes: s.nodes() },
            CellSpace::Nb201(_) => SuperNetKind::Nb201,
        };
        SuperNetConfig::new(kind, stage.channels, stage.cells, classes, active)
            .with_in_channels(in_channels)
            .with_skip_dropout(stage.skip_dropout)
    }

    /// The evaluation network objectives measure by default: DARTS `NetworkCIFAR` at
    /// C = 36 with 20 cells, or the NAS-Bench-201 network at C = 16 with 5 cells per stage.
    pub fn default_network(&self, classes: usize, in_channels: usize) -> EvalNetworkSpec {
        match self {
            CellSpace::Darts(space) => EvalNetworkSpec::Darts {
                space: space.clone(),
                network: EvalNetworkConfig::new(36, 20, classes).with_in_channels(in_channels),
            },
            CellSpace::Nb201(_) => EvalNetworkSpec::Nb201 {
                network: Nb201NetworkConfig::new(16, 5, classes).with_in_channels(in_channels),
            },
        }
    }

    /// The final architecture in every notation.
    pub fn finalize(&self, architecture: Architecture) -> FinalArchitecture {
        match self {
            CellSpace::Darts(space) => {
                let genotype = space.genotype(&architecture).ok();
                FinalArchitecture {
                    text: space.describe(&architecture),
                    darts_text: genotype.as_ref().and_then(|g| g.to_darts_string().ok()),
                    genotype,
                    architecture,
                }
            }
            CellSpace::Nb201(space) => FinalArchitecture {
                text: space.describe(&architecture),
                darts_text: None,
                genotype: None,
                architecture,
            },
        }
    }
}
