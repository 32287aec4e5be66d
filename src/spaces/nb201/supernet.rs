//! The NAS-Bench-201 supernet: three stages of search cells joined by residual blocks.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::{NB201_EDGES, Nb201Space, nb201_live_edges};
use crate::OpKind;
use crate::ops::{BatchNorm2d, BatchNorm2dConfig, ConvSpec, ReluConvBn};
use crate::space::SearchSpace;
use crate::supernet::{
    MixedOp, MixedOpConfig, Path, SuperNetError, SupernetForward, check_path, check_shape,
    global_pool,
};

/// Configuration of an [`Nb201SuperNet`]: three stages of `cells` search cells joined by
/// residual blocks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Nb201SuperNetConfig {
    /// Channels of the first stage.
    pub channels: usize,
    /// Cells per stage.
    pub cells: usize,
    /// Number of classes.
    pub classes: usize,
    /// The active ops of the six edges.
    pub active: Vec<Vec<OpKind>>,
    /// Image channels.
    #[serde(default = "nb201_super_net_config_in_channels")]
    pub in_channels: usize,
    /// Dropout on `skip_connect` outputs; 0 disables it.
    #[serde(default = "nb201_super_net_config_skip_dropout")]
    pub skip_dropout: f64,
}

impl Nb201SuperNetConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(channels: usize, cells: usize, classes: usize, active: Vec<Vec<OpKind>>) -> Self {
        Self {
            channels,
            cells,
            classes,
            active,
            in_channels: nb201_super_net_config_in_channels(),
            skip_dropout: nb201_super_net_config_skip_dropout(),
        }
    }

    crate::setters! {
        /// Sets [`in_channels`](Self::in_channels) (default 3).
        with_in_channels => in_channels: usize;
        /// Sets [`skip_dropout`](Self::skip_dropout) (default 0.0).
        with_skip_dropout => skip_dropout: f64;
    }
}

fn nb201_super_net_config_in_channels() -> usize {
    3
}

fn nb201_super_net_config_skip_dropout() -> f64 {
    0.0
}

impl Nb201SuperNetConfig {
    /// A supernet over all candidate ops of `space`.
    pub fn full(space: &Nb201Space, channels: usize, cells: usize, classes: usize) -> Self {
        Self::new(channels, cells, classes, space.all_candidates())
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`SuperNetError::InvalidConfig`] naming the offending value.
    pub fn validate(&self) -> Result<(), SuperNetError> {
        check_shape(
            &[
                ("channels", self.channels),
                ("cells", self.cells),
                ("classes", self.classes),
                ("in_channels", self.in_channels),
            ],
            &self.active,
            6,
            self.skip_dropout,
        )
    }

    /// Builds the supernet.
    ///
    /// # Errors
    /// Whatever [`Nb201SuperNetConfig::validate`] reports.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Nb201SuperNet<B>, SuperNetError> {
        self.validate()?;
        Ok(self.init_nb201(device))
    }
}

impl Nb201SuperNetConfig {
    fn init_nb201<B: Backend>(&self, device: &B::Device) -> Nb201SuperNet<B> {
        let c = self.channels;
        let mut blocks = Vec::new();
        let mut c_cur = c;
        for stage in 0..3 {
            if stage > 0 {
                blocks.push(Nb201Block::Residual(ResidualBlock::new(
                    c_cur,
                    2 * c_cur,
                    device,
                )));
                c_cur *= 2;
            }
            for _ in 0..self.cells {
                blocks.push(Nb201Block::Cell(Nb201SearchCell::new(
                    c_cur,
                    &self.active,
                    self.skip_dropout,
                    device,
                )));
            }
        }
        Nb201SuperNet {
            stem: ConvSpec::square(self.in_channels, c, 3, 1, 1).init(device),
            stem_bn: BatchNorm2dConfig::new(c).init(device),
            blocks,
            last_bn: BatchNorm2dConfig::new(c_cur).init(device),
            classifier: LinearConfig::new(c_cur, self.classes).init(device),
        }
    }
}

/// One block of a NAS-Bench-201 supernet.
#[allow(clippy::large_enum_variant)] // built once per network; size does not matter
#[derive(Module, Debug)]
pub enum Nb201Block<B: Backend> {
    /// A search cell.
    Cell(Nb201SearchCell<B>),
    /// A residual reduction block.
    Residual(ResidualBlock<B>),
}

/// A NAS-Bench-201 supernet.
#[derive(Module, Debug)]
pub struct Nb201SuperNet<B: Backend> {
    /// Stem convolution.
    pub stem: Conv2d<B>,
    /// Stem BN.
    pub stem_bn: BatchNorm2d<B>,
    /// Cells and residual blocks.
    pub blocks: Vec<Nb201Block<B>>,
    /// Closing BN (followed by ReLU).
    pub last_bn: BatchNorm2d<B>,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl<B: Backend> SupernetForward<B> for Nb201SuperNet<B> {
    fn num_edges(&self) -> usize {
        6
    }

    /// Taken from the first cell.
    fn active_ops(&self) -> Vec<Vec<OpKind>> {
        self.blocks
            .iter()
            .find_map(|b| match b {
                Nb201Block::Cell(c) => Some(c.edges.iter().map(|m| m.kinds().to_vec()).collect()),
                Nb201Block::Residual(_) => None,
            })
            .unwrap_or_default()
    }

    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError> {
        check_path(path, 6)?;
        let mut x = self.stem_bn.forward(self.stem.forward(x));
        for block in &self.blocks {
            x = match block {
                Nb201Block::Cell(c) => c.forward(x, path)?,
                Nb201Block::Residual(r) => r.forward(x),
            };
        }
        let features = burn::tensor::activation::relu(self.last_bn.forward(x));
        Ok(self.classifier.forward(global_pool(features)))
    }
}

/// A NAS-Bench-201 search cell: node 0 is the input, node `j` sums a [`MixedOp`] of
/// every earlier node, the output is node 3.
///
/// # Shapes
/// - input and output `[n, C, h, w]`
#[derive(Module, Debug)]
pub struct Nb201SearchCell<B: Backend> {
    /// The 6 mixed ops, in the order `1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2`.
    pub edges: Vec<MixedOp<B>>,
}

impl<B: Backend> Nb201SearchCell<B> {
    pub(crate) fn new(
        c: usize,
        active: &[Vec<OpKind>],
        skip_dropout: f64,
        device: &B::Device,
    ) -> Self {
        Self {
            edges: active
                .iter()
                .map(|ops| {
                    MixedOpConfig::new(ops.clone(), c)
                        .with_pool_bn(false)
                        .with_skip_dropout(skip_dropout)
                        .init(device)
                })
                .collect(),
        }
    }

    pub(crate) fn forward(
        &self,
        x: Tensor<B, 4>,
        path: &Path,
    ) -> Result<Tensor<B, 4>, SuperNetError> {
        let mut choices = Vec::with_capacity(6);
        for e in 0..6 {
            choices.push(path.edge(e).ok_or_else(|| {
                SuperNetError::PathMismatch(format!("path has no entry for edge {e}"))
            })?);
        }
        if self.edges.len() != 6 {
            return Err(SuperNetError::PathMismatch(format!(
                "the cell has {} edges, not 6",
                self.edges.len()
            )));
        }
        let zero: [bool; 6] = std::array::from_fn(|e| self.edges[e].is_zero(choices[e]));
        nb201_cell_forward(x, &nb201_live_edges(&zero), |e, input| {
            self.edges[e]
                .forward_choice(input, choices[e])
                .map_err(|err| SuperNetError::PathMismatch(format!("edge {e}: {err}")))
        })
    }
}

/// The NAS-Bench-201 residual block between stages: ReLU-Conv3x3(stride 2)-BN,
/// ReLU-Conv3x3-BN, plus a shortcut AvgPool 2x2 (stride 2) then Conv 1x1.
///
/// # Shapes
/// - input `[n, c_in, h, w]`, output `[n, c_out, ceil(h/2), ceil(w/2)]`
#[derive(Module, Debug)]
pub struct ResidualBlock<B: Backend> {
    /// First conv (stride 2).
    pub conv_a: ReluConvBn<B>,
    /// Second conv.
    pub conv_b: ReluConvBn<B>,
    /// Shortcut pool.
    pub pool: AvgPool2d,
    /// Shortcut 1x1 conv.
    pub shortcut: Conv2d<B>,
}

/// The convolutions of a residual block: conv_a, conv_b, shortcut.
pub(crate) fn residual_specs(c_in: usize, c_out: usize) -> [ConvSpec; 3] {
    [
        ConvSpec::square(c_in, c_out, 3, 2, 1),
        ConvSpec::square(c_out, c_out, 3, 1, 1),
        ConvSpec::square(c_in, c_out, 1, 1, 0),
    ]
}

/// Trainable parameters of a residual block (two affine BNs).
pub(crate) fn residual_param_count(c_in: usize, c_out: usize) -> u64 {
    residual_specs(c_in, c_out)
        .iter()
        .map(ConvSpec::params)
        .sum::<u64>()
        + 4 * c_out as u64
}

impl<B: Backend> ResidualBlock<B> {
    pub(crate) fn new(c_in: usize, c_out: usize, device: &B::Device) -> Self {
        let [a, b, s] = residual_specs(c_in, c_out);
        Self {
            conv_a: ReluConvBn::new(&[a], true, device),
            conv_b: ReluConvBn::new(&[b], true, device),
            pool: AvgPool2dConfig::new([2, 2])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Valid)
                .with_ceil_mode(true)
                .with_count_include_pad(false)
                .init(),
            shortcut: s.init(device),
        }
    }

    /// Runs the block.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let y = self.conv_b.forward(self.conv_a.forward(x.clone()));
        y.add(crate::kernels::conv2d(&self.shortcut, self.pool.forward(x)))
    }
}

/// Runs a NAS-Bench-201 cell on `x` over its `live` edges only ([`nb201_live_edges`]),
/// `run(e, input)` applying edge `e`'s op. A node without live inputs is zeros; when no
/// live edge leaves the input, `x` still joins the output multiplied by zero, so that
/// the layers before the cell stay in the backward graph (a tensor computed but never
/// reached by a backward pass is never freed by the autodiff backend).
pub(crate) fn nb201_cell_forward<B: Backend, E>(
    x: Tensor<B, 4>,
    live: &[bool; 6],
    mut run: impl FnMut(usize, Tensor<B, 4>) -> Result<Tensor<B, 4>, E>,
) -> Result<Tensor<B, 4>, E> {
    let mut nodes: Vec<Option<Tensor<B, 4>>> = vec![Some(x.clone()), None, None, None];
    for to in 1..4 {
        let mut sum: Option<Tensor<B, 4>> = None;
        for (e, &(from, t)) in NB201_EDGES.iter().enumerate() {
            if t != to || !live[e] {
                continue;
            }
            let input = nodes[from].clone().unwrap_or_else(|| x.zeros_like());
            let y = run(e, input)?;
            sum = Some(match sum {
                Some(s) => s.add(y),
                None => y,
            });
        }
        nodes[to] = sum;
    }
    let input_used = NB201_EDGES
        .iter()
        .zip(live)
        .any(|(&(from, _), &l)| l && from == 0);
    // Built only when needed: an unused product would itself be such a tensor.
    Ok(match nodes[3].take() {
        Some(out) if input_used => out,
        Some(out) => out.add(x.mul_scalar(0.0)),
        None => x.mul_scalar(0.0),
    })
}
