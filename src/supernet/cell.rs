//! Search cells: the DARTS cell and the NAS-Bench-201 cell, plus the NB201 residual block.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::tensor::{Tensor, backend::Backend};

use super::SuperNetError;
use super::mixed_op::{MixedOp, MixedOpConfig};
use super::path::Path;
use crate::OpKind;
use crate::ops::{ConvSpec, FactorizedReduce, ReluConvBn};
use crate::space::{NB201_EDGES, nb201_live_edges};

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
