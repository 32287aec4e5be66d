//! Configuration and analytic counts of the DARTS evaluation network.

use serde::{Deserialize, Serialize};

use super::is_reduction;
use crate::OpKind;
use crate::network::NetworkError;
use crate::ops::{
    BatchNorm2dConfig, ConvSpec, OpConfig, factorized_reduce_macs, factorized_reduce_specs,
};
use crate::space::{CellGenotype, Genotype, GenotypeEdge, SpaceError};

/// Configuration of an [`super::EvalNetwork`] (DARTS `NetworkCIFAR` semantics).
///
/// The analytic counts need no tensors and agree with the built module:
///
/// ```
/// use tnd_nas::spaces::darts::EvalNetworkConfig;
/// use tnd_nas::Genotype;
/// let darts_v2: Genotype = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])".parse()?;
/// let cfg = EvalNetworkConfig::new(36, 20, 10);
/// assert_eq!(cfg.param_count(&darts_v2), 3_349_342);
/// assert_eq!(cfg.clone().with_auxiliary(true).param_count(&darts_v2), 3_825_768);
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalNetworkConfig {
    /// Initial channels `C`.
    pub channels: usize,
    /// Number of cells.
    pub layers: usize,
    /// Number of classes.
    pub classes: usize,
    /// Image channels.
    #[serde(default = "eval_network_config_in_channels")]
    pub in_channels: usize,
    /// Auxiliary head at 2/3 depth.
    #[serde(default = "eval_network_config_auxiliary")]
    pub auxiliary: bool,
    /// Stem multiplier.
    #[serde(default = "eval_network_config_stem_multiplier")]
    pub stem_multiplier: usize,
}

impl EvalNetworkConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(channels: usize, layers: usize, classes: usize) -> Self {
        Self {
            channels,
            layers,
            classes,
            in_channels: eval_network_config_in_channels(),
            auxiliary: eval_network_config_auxiliary(),
            stem_multiplier: eval_network_config_stem_multiplier(),
        }
    }

    crate::setters! {
        /// Sets [`in_channels`](Self::in_channels) (default 3).
        with_in_channels => in_channels: usize;
        /// Sets [`auxiliary`](Self::auxiliary) (default false).
        with_auxiliary => auxiliary: bool;
        /// Sets [`stem_multiplier`](Self::stem_multiplier) (default 3).
        with_stem_multiplier => stem_multiplier: usize;
    }
}

fn eval_network_config_in_channels() -> usize {
    3
}

fn eval_network_config_auxiliary() -> bool {
    false
}

fn eval_network_config_stem_multiplier() -> usize {
    3
}

/// The channel plan of one cell.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CellPlan {
    pub c_pp: usize,
    pub c_p: usize,
    pub c: usize,
    pub reduction: bool,
    pub reduction_prev: bool,
}

pub(crate) const AUX_HIDDEN: usize = 128;
pub(crate) const AUX_FEATURES: usize = 768;

impl EvalNetworkConfig {
    /// Checks the configuration and the genotype.
    ///
    /// # Errors
    /// [`NetworkError::InvalidConfig`] or [`NetworkError::Genotype`] naming the problem.
    pub fn validate(&self, genotype: &Genotype) -> Result<(), NetworkError> {
        if self.channels == 0 || self.layers == 0 || self.classes == 0 || self.in_channels == 0 {
            return Err(NetworkError::InvalidConfig(format!(
                "channels ({}), layers ({}), classes ({}) and in_channels ({}) must be positive",
                self.channels, self.layers, self.classes, self.in_channels
            )));
        }
        validate_cell("normal", &genotype.normal)?;
        validate_cell("reduce", &genotype.reduce)?;
        Ok(())
    }

    /// The channel plan of every cell, and the index of the cell the auxiliary head follows.
    pub(crate) fn plan(&self, genotype: &Genotype) -> (Vec<CellPlan>, usize, usize) {
        let c_stem = self.stem_multiplier * self.channels;
        let (mut c_pp, mut c_p, mut c) = (c_stem, c_stem, self.channels);
        let mut reduction_prev = false;
        let mut plans = Vec::new();
        let mut c_aux = c_p;
        for i in 0..self.layers {
            let reduction = is_reduction(i, self.layers);
            if reduction {
                c *= 2;
            }
            plans.push(CellPlan {
                c_pp,
                c_p,
                c,
                reduction,
                reduction_prev,
            });
            let cell = if reduction {
                &genotype.reduce
            } else {
                &genotype.normal
            };
            reduction_prev = reduction;
            (c_pp, c_p) = (c_p, cell.concat.len() * c);
            if i == 2 * self.layers / 3 {
                c_aux = c_p;
            }
        }
        (plans, c_aux, c_p)
    }

    /// Trainable parameters of the network built from `genotype` (auxiliary head included
    /// when enabled; BN running statistics excluded), computed without building tensors.
    pub fn param_count(&self, genotype: &Genotype) -> u64 {
        let c_stem = self.stem_multiplier * self.channels;
        let mut total =
            ConvSpec::square(self.in_channels, c_stem, 3, 1, 1).params() + 2 * c_stem as u64;
        let (plans, c_aux, c_last) = self.plan(genotype);
        for p in &plans {
            let cell = if p.reduction {
                &genotype.reduce
            } else {
                &genotype.normal
            };
            total += preprocess_params(p);
            for_each_op(cell, p, |op, _| total += op.param_count());
        }
        if self.auxiliary {
            total += (c_aux * AUX_HIDDEN
                + 2 * AUX_HIDDEN
                + AUX_HIDDEN * AUX_FEATURES * 4
                + 2 * AUX_FEATURES) as u64
                + (AUX_FEATURES * self.classes + self.classes) as u64;
        }
        total + (c_last * self.classes + self.classes) as u64
    }

    /// Multiply-accumulates of one inference forward pass (one image of side `input`):
    /// convolutions and the classifier; BN, ReLU, pooling, additions and the auxiliary
    /// head (training only) are not counted.
    pub fn macs(&self, genotype: &Genotype, input: usize) -> u64 {
        let c_stem = self.stem_multiplier * self.channels;
        let (mut total, mut h, _) =
            ConvSpec::square(self.in_channels, c_stem, 3, 1, 1).macs(input, input);
        let (plans, _, c_last) = self.plan(genotype);
        let mut h_pp = h;
        for p in &plans {
            let cell = if p.reduction {
                &genotype.reduce
            } else {
                &genotype.normal
            };
            total += if p.reduction_prev {
                factorized_reduce_macs(p.c_pp, p.c, h_pp, h_pp)
            } else {
                ConvSpec::square(p.c_pp, p.c, 1, 1, 0).macs(h_pp, h_pp).0
            };
            total += ConvSpec::square(p.c_p, p.c, 1, 1, 0).macs(h, h).0;
            for_each_op(cell, p, |op, from| {
                let side = if p.reduction && from >= 2 {
                    h.div_ceil(2)
                } else {
                    h
                };
                total += op.macs(side, side);
            });
            h_pp = h;
            if p.reduction {
                h = h.div_ceil(2);
            }
        }
        total + (c_last * self.classes) as u64
    }
}

fn preprocess_params(p: &CellPlan) -> u64 {
    let bn = BatchNorm2dConfig::new(p.c).param_count();
    let pre0 = if p.reduction_prev {
        factorized_reduce_specs(p.c_pp, p.c)
            .iter()
            .map(ConvSpec::params)
            .sum::<u64>()
    } else {
        ConvSpec::square(p.c_pp, p.c, 1, 1, 0).params()
    };
    pre0 + bn + ConvSpec::square(p.c_p, p.c, 1, 1, 0).params() + bn
}

/// The op config of one genotype edge: stride 2 on edges from the inputs of a
/// reduction cell; affine BN; no BN after pools.
pub(crate) fn edge_op(p: &CellPlan, edge: &GenotypeEdge) -> OpConfig {
    let stride = if p.reduction && edge.from < 2 { 2 } else { 1 };
    OpConfig::new(edge.op, p.c).with_stride(stride)
}

/// Calls `f` with the config and source node of every op of the cell.
pub(crate) fn for_each_op(cell: &CellGenotype, p: &CellPlan, mut f: impl FnMut(OpConfig, usize)) {
    for edge in cell.nodes.iter().flatten() {
        f(edge_op(p, edge), edge.from);
    }
}

fn validate_cell(name: &str, cell: &CellGenotype) -> Result<(), SpaceError> {
    if cell.nodes.is_empty() {
        return Err(SpaceError::InvalidConfig(format!(
            "the {name} cell has no intermediate node"
        )));
    }
    for (i, node) in cell.nodes.iter().enumerate() {
        for edge in node {
            if edge.from >= i + 2 {
                return Err(SpaceError::NodeOutOfRange {
                    cell: name.to_string(),
                    node: i,
                    input: edge.from,
                    limit: i + 2,
                });
            }
            if matches!(edge.op, OpKind::NorConv1x1 | OpKind::NorConv3x3) {
                return Err(SpaceError::InvalidConfig(format!(
                    "{name} cell, node {i}: `{}` is a NAS-Bench-201 op",
                    edge.op
                )));
            }
        }
    }
    if cell.concat.is_empty() {
        return Err(SpaceError::InvalidConfig(format!(
            "the {name} cell concatenates no node"
        )));
    }
    if let Some(&bad) = cell
        .concat
        .iter()
        .find(|&&n| n < 2 || n >= cell.nodes.len() + 2)
    {
        return Err(SpaceError::InvalidConfig(format!(
            "the {name} cell concatenates node {bad}, valid nodes are 2..{}",
            cell.nodes.len() + 2
        )));
    }
    Ok(())
}
