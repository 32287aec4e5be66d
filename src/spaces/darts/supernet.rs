//! The DARTS supernet: stem, search cells (two inputs each, reductions at 1/3 and 2/3
//! of the depth), classifier.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::DartsSpace;
use crate::OpKind;
use crate::ops::{BatchNorm2d, BatchNorm2dConfig, ConvSpec, FactorizedReduce, ReluConvBn};
use crate::space::SearchSpace;
use crate::supernet::{
    MixedOp, MixedOpConfig, Path, SuperNetError, SupernetForward, check_path, check_shape,
    global_pool,
};

/// Configuration of a [`DartsSuperNet`]: a DARTS-space supernet, reductions at 1/3 and
/// 2/3 of the depth.
///
/// ```
/// use tnd_nas::spaces::darts::DartsSpaceConfig;
/// use tnd_nas::spaces::darts::DartsSuperNetConfig;
/// use tnd_nas::ops::trainable_params;
/// use burn::backend::NdArray;
///
/// let space = DartsSpaceConfig::darts().init()?;
/// let net = DartsSuperNetConfig::full(&space, 16, 8, 10).init::<NdArray>(&Default::default())?;
/// assert_eq!(trainable_params(&net), 1_930_618);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DartsSuperNetConfig {
    /// Intermediate nodes per cell.
    pub nodes: usize,
    /// Initial channels `C`.
    pub channels: usize,
    /// Number of cells.
    pub cells: usize,
    /// Number of classes.
    pub classes: usize,
    /// The active ops of every edge of the space, in space edge order (normal-cell edges,
    /// then reduction-cell edges).
    pub active: Vec<Vec<OpKind>>,
    /// Image channels (3 for CIFAR, 1 for Fashion-MNIST).
    #[serde(default = "darts_super_net_config_in_channels")]
    pub in_channels: usize,
    /// DARTS stem multiplier (the stem outputs `stem_multiplier * C` channels).
    #[serde(default = "darts_super_net_config_stem_multiplier")]
    pub stem_multiplier: usize,
    /// Dropout on `skip_connect` outputs (P-DARTS); 0 disables it.
    #[serde(default = "darts_super_net_config_skip_dropout")]
    pub skip_dropout: f64,
}

impl DartsSuperNetConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(
        nodes: usize,
        channels: usize,
        cells: usize,
        classes: usize,
        active: Vec<Vec<OpKind>>,
    ) -> Self {
        Self {
            nodes,
            channels,
            cells,
            classes,
            active,
            in_channels: darts_super_net_config_in_channels(),
            stem_multiplier: darts_super_net_config_stem_multiplier(),
            skip_dropout: darts_super_net_config_skip_dropout(),
        }
    }

    crate::setters! {
        /// Sets [`in_channels`](Self::in_channels) (default 3).
        with_in_channels => in_channels: usize;
        /// Sets [`stem_multiplier`](Self::stem_multiplier) (default 3).
        with_stem_multiplier => stem_multiplier: usize;
        /// Sets [`skip_dropout`](Self::skip_dropout) (default 0.0).
        with_skip_dropout => skip_dropout: f64;
    }
}

fn darts_super_net_config_in_channels() -> usize {
    3
}

fn darts_super_net_config_stem_multiplier() -> usize {
    3
}

fn darts_super_net_config_skip_dropout() -> f64 {
    0.0
}

impl DartsSuperNetConfig {
    /// A supernet over all candidate ops of `space`.
    pub fn full(space: &DartsSpace, channels: usize, cells: usize, classes: usize) -> Self {
        Self::new(
            space.nodes(),
            channels,
            cells,
            classes,
            space.all_candidates(),
        )
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`SuperNetError::InvalidConfig`] naming the offending value.
    pub fn validate(&self) -> Result<(), SuperNetError> {
        let n = self.nodes;
        check_shape(
            &[
                ("nodes", n),
                ("channels", self.channels),
                ("cells", self.cells),
                ("classes", self.classes),
                ("in_channels", self.in_channels),
                ("stem_multiplier", self.stem_multiplier),
            ],
            &self.active,
            2 * (n * (n + 3) / 2),
            self.skip_dropout,
        )
    }

    /// Builds the supernet.
    ///
    /// # Errors
    /// Whatever [`DartsSuperNetConfig::validate`] reports.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<DartsSuperNet<B>, SuperNetError> {
        self.validate()?;
        Ok(self.init_darts(self.nodes, device))
    }
}

impl DartsSuperNetConfig {
    fn init_darts<B: Backend>(&self, nodes: usize, device: &B::Device) -> DartsSuperNet<B> {
        let c = self.channels;
        let c_stem = self.stem_multiplier * c;
        let stem = ConvSpec::square(self.in_channels, c_stem, 3, 1, 1);
        let per_cell = self.active.len() / 2;
        let (mut c_pp, mut c_p, mut c_cur) = (c_stem, c_stem, c);
        let mut reduction_prev = false;
        let mut cells = Vec::new();
        for i in 0..self.cells {
            let reduction = is_reduction(i, self.cells);
            if reduction {
                c_cur *= 2;
            }
            let active = if reduction {
                &self.active[per_cell..]
            } else {
                &self.active[..per_cell]
            };
            cells.push(DartsSearchCell::new(
                &DartsCellSpec {
                    c_pp,
                    c_p,
                    c: c_cur,
                    reduction,
                    reduction_prev,
                    nodes,
                    active,
                    skip_dropout: self.skip_dropout,
                },
                device,
            ));
            reduction_prev = reduction;
            (c_pp, c_p) = (c_p, nodes * c_cur);
        }
        DartsSuperNet {
            stem: stem.init(device),
            stem_bn: BatchNorm2dConfig::new(c_stem).init(device),
            cells,
            classifier: LinearConfig::new(c_p, self.classes).init(device),
            edges_per_cell: per_cell,
        }
    }
}

/// DARTS places reduction cells at `cells / 3` and `2 * cells / 3`.
pub(crate) fn is_reduction(i: usize, cells: usize) -> bool {
    i == cells / 3 || i == 2 * cells / 3
}

/// A DARTS supernet.
#[derive(Module, Debug)]
pub struct DartsSuperNet<B: Backend> {
    /// Stem convolution.
    pub stem: Conv2d<B>,
    /// Stem BN (affine).
    pub stem_bn: BatchNorm2d<B>,
    /// The cells.
    pub cells: Vec<DartsSearchCell<B>>,
    /// Classifier.
    pub classifier: Linear<B>,
    edges_per_cell: usize,
}

impl<B: Backend> SupernetForward<B> for DartsSuperNet<B> {
    fn num_edges(&self) -> usize {
        2 * self.edges_per_cell
    }

    /// Taken from the first cell of each type.
    fn active_ops(&self) -> Vec<Vec<OpKind>> {
        let kinds = |reduction: bool| -> Vec<Vec<OpKind>> {
            self.cells
                .iter()
                .find(|c| c.reduction == reduction)
                .map(|c| c.edges.iter().map(|m| m.kinds().to_vec()).collect())
                .unwrap_or_default()
        };
        let mut all = kinds(false);
        all.extend(kinds(true));
        all
    }

    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError> {
        check_path(path, self.num_edges())?;
        let s = self.stem_bn.forward(self.stem.forward(x));
        let (mut s0, mut s1) = (s.clone(), s);
        for cell in &self.cells {
            let offset = if cell.reduction {
                self.edges_per_cell
            } else {
                0
            };
            let out = cell.forward(s0, s1.clone(), path, offset)?;
            (s0, s1) = (s1, out);
        }
        Ok(self.classifier.forward(global_pool(s1)))
    }
}

/// How a DARTS cell prepares its first input: a 1x1 ReLU-Conv-BN, or a FactorizedReduce
/// when the previous cell reduced the resolution.
#[allow(clippy::large_enum_variant)] // built once per network; size does not matter
#[derive(Module, Debug)]
pub enum Preprocess<B: Backend> {
    /// ReLU, Conv 1x1, BN.
    Conv(ReluConvBn<B>),
    /// FactorizedReduce (after a reduction cell).
    Reduce(FactorizedReduce<B>),
}

impl<B: Backend> Preprocess<B> {
    pub(crate) fn new(
        c_in: usize,
        c_out: usize,
        reduce: bool,
        affine: bool,
        device: &B::Device,
    ) -> Self {
        if reduce {
            Preprocess::Reduce(FactorizedReduce::new(c_in, c_out, affine, device))
        } else {
            Preprocess::Conv(ReluConvBn::new(
                &[ConvSpec::square(c_in, c_out, 1, 1, 0)],
                affine,
                device,
            ))
        }
    }

    /// Applies the preprocessing.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Preprocess::Conv(c) => c.forward(x),
            Preprocess::Reduce(r) => r.forward(x),
        }
    }
}

/// A DARTS search cell: two preprocessed inputs, `nodes` intermediate nodes, a
/// [`MixedOp`] on every edge, output the concatenation of the intermediate nodes.
///
/// # Shapes
/// - inputs `[n, c_pp, h', w']`, `[n, c_p, h, w]`; output `[n, nodes * C, h/s, w/s]`
#[derive(Module, Debug)]
pub struct DartsSearchCell<B: Backend> {
    /// Preprocessing of the input from two cells back.
    pub pre0: Preprocess<B>,
    /// Preprocessing of the input from the previous cell.
    pub pre1: ReluConvBn<B>,
    /// One mixed op per edge, in space order.
    pub edges: Vec<MixedOp<B>>,
    /// Intermediate nodes.
    pub nodes: usize,
    /// Whether this is a reduction cell.
    pub reduction: bool,
}

/// Everything needed to build a DARTS search cell.
pub(crate) struct DartsCellSpec<'a> {
    pub c_pp: usize,
    pub c_p: usize,
    pub c: usize,
    pub reduction: bool,
    pub reduction_prev: bool,
    pub nodes: usize,
    pub active: &'a [Vec<OpKind>],
    pub skip_dropout: f64,
}

impl<B: Backend> DartsSearchCell<B> {
    pub(crate) fn new(spec: &DartsCellSpec<'_>, device: &B::Device) -> Self {
        let mut edges = Vec::new();
        let mut e = 0;
        for node in 0..spec.nodes {
            for from in 0..node + 2 {
                let stride = if spec.reduction && from < 2 { 2 } else { 1 };
                edges.push(
                    MixedOpConfig::new(spec.active[e].clone(), spec.c)
                        .with_stride(stride)
                        .with_skip_dropout(spec.skip_dropout)
                        .init(device),
                );
                e += 1;
            }
        }
        Self {
            pre0: Preprocess::new(spec.c_pp, spec.c, spec.reduction_prev, false, device),
            pre1: ReluConvBn::new(
                &[ConvSpec::square(spec.c_p, spec.c, 1, 1, 0)],
                false,
                device,
            ),
            edges,
            nodes: spec.nodes,
            reduction: spec.reduction,
        }
    }

    /// Runs the cell; `path` covers this cell type's edges, `offset` is where they start.
    pub(crate) fn forward(
        &self,
        s0: Tensor<B, 4>,
        s1: Tensor<B, 4>,
        path: &Path,
        offset: usize,
    ) -> Result<Tensor<B, 4>, SuperNetError> {
        let mut states = vec![self.pre0.forward(s0), self.pre1.forward(s1)];
        let mut e = 0;
        for node in 0..self.nodes {
            let mut sum: Option<Tensor<B, 4>> = None;
            for state in states.iter().take(node + 2) {
                let choice = path.edge(offset + e).ok_or_else(|| {
                    SuperNetError::PathMismatch(format!(
                        "path has no entry for edge {}",
                        offset + e
                    ))
                })?;
                let y = self.edges[e]
                    .forward_choice(state.clone(), choice)
                    .map_err(|err| {
                        SuperNetError::PathMismatch(format!("edge {}: {err}", offset + e))
                    })?;
                sum = Some(match sum {
                    Some(s) => s.add(y),
                    None => y,
                });
                e += 1;
            }
            if let Some(s) = sum {
                states.push(s);
            }
        }
        Ok(Tensor::cat(states.split_off(2), 1))
    }
}
