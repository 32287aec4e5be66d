//! `MixedOp`: the active candidate ops of one edge.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::SuperNetError;
use super::path::EdgeChoice;
use crate::OpKind;
use crate::ops::{Op, OpConfig};

/// Configuration of a [`MixedOp`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MixedOpConfig {
    /// The ops still active on the edge, in order.
    pub ops: Vec<OpKind>,
    /// Channels in and out.
    pub channels: usize,
    /// Stride of the edge.
    #[serde(default = "mixed_op_config_stride")]
    pub stride: usize,
    /// Affine BN inside the ops (false in DARTS supernets).
    #[serde(default = "mixed_op_config_affine")]
    pub affine: bool,
    /// Non-affine BN after pools (true in DARTS supernets, false in NAS-Bench-201 ones).
    #[serde(default = "mixed_op_config_pool_bn")]
    pub pool_bn: bool,
    /// Dropout rate on `skip_connect` outputs (P-DARTS); 0 disables it.
    #[serde(default = "mixed_op_config_skip_dropout")]
    pub skip_dropout: f64,
}

impl MixedOpConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(ops: Vec<OpKind>, channels: usize) -> Self {
        Self {
            ops,
            channels,
            stride: mixed_op_config_stride(),
            affine: mixed_op_config_affine(),
            pool_bn: mixed_op_config_pool_bn(),
            skip_dropout: mixed_op_config_skip_dropout(),
        }
    }

    crate::setters! {
        /// Sets [`stride`](Self::stride) (default 1).
        with_stride => stride: usize;
        /// Sets [`affine`](Self::affine) (default false).
        with_affine => affine: bool;
        /// Sets [`pool_bn`](Self::pool_bn) (default true).
        with_pool_bn => pool_bn: bool;
        /// Sets [`skip_dropout`](Self::skip_dropout) (default 0.0).
        with_skip_dropout => skip_dropout: f64;
    }
}

fn mixed_op_config_stride() -> usize {
    1
}

fn mixed_op_config_affine() -> bool {
    false
}

fn mixed_op_config_pool_bn() -> bool {
    true
}

fn mixed_op_config_skip_dropout() -> f64 {
    0.0
}

impl MixedOpConfig {
    /// Builds the mixed op: one module per active op, nothing for dropped ones.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MixedOp<B> {
        MixedOp {
            ops: self
                .ops
                .iter()
                .map(|&k| {
                    OpConfig::new(k, self.channels)
                        .with_stride(self.stride)
                        .with_affine(self.affine)
                        .with_pool_bn(self.pool_bn)
                        .init(device)
                })
                .collect(),
            kinds: self.ops.clone(),
            stride: self.stride,
            skip_dropout: (self.skip_dropout > 0.0)
                .then(|| DropoutConfig::new(self.skip_dropout).init()),
        }
    }
}

/// Every active candidate op of one edge.
///
/// Dropped ops are simply absent: they hold no parameters and cost no compute.
///
/// # Shapes
/// - input `[n, C, h, w]`, output `[n, C, h / stride (rounded up), w / stride]`
#[derive(Module, Debug)]
pub struct MixedOp<B: Backend> {
    /// The active ops, in the order of [`MixedOp::kinds`].
    pub ops: Vec<Op<B>>,
    #[module(skip)]
    kinds: Vec<OpKind>,
    stride: usize,
    skip_dropout: Option<Dropout>,
}

impl<B: Backend> MixedOp<B> {
    /// The active ops.
    pub fn kinds(&self) -> &[OpKind] {
        &self.kinds
    }

    /// Drops every op not in `keep` (their parameters are freed).
    pub fn retain(&mut self, keep: &[OpKind]) {
        let ops = std::mem::take(&mut self.ops);
        let kinds = std::mem::take(&mut self.kinds);
        for (op, kind) in ops.into_iter().zip(kinds) {
            if keep.contains(&kind) {
                self.ops.push(op);
                self.kinds.push(kind);
            }
        }
    }

    fn run(&self, i: usize, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let y = self.ops[i].forward(x);
        match (&self.skip_dropout, self.kinds[i]) {
            (Some(d), OpKind::SkipConnect) => d.forward(y),
            _ => y,
        }
    }

    /// Weighted sum of the active ops; ops with weight exactly 0 (and `none`) are not run.
    ///
    /// # Errors
    /// [`SuperNetError::PathMismatch`] if `weights` does not have one entry per active op.
    pub fn forward_weighted(
        &self,
        x: Tensor<B, 4>,
        weights: &[f32],
    ) -> Result<Tensor<B, 4>, SuperNetError> {
        self.forward_choice(x, EdgeChoice::Weighted(weights))
    }

    /// Runs only active op `index`.
    ///
    /// # Errors
    /// [`SuperNetError::PathMismatch`] if `index` is not an active op.
    pub fn forward_single(
        &self,
        x: Tensor<B, 4>,
        index: usize,
    ) -> Result<Tensor<B, 4>, SuperNetError> {
        self.forward_choice(x, EdgeChoice::Single(index))
    }

    /// Runs the edge as `choice` says ([`EdgeChoice::mix`] over the active ops).
    ///
    /// # Errors
    /// [`SuperNetError::PathMismatch`] naming the active ops if the choice does not fit.
    pub fn forward_choice(
        &self,
        x: Tensor<B, 4>,
        choice: EdgeChoice<'_>,
    ) -> Result<Tensor<B, 4>, SuperNetError> {
        let out = choice
            .mix(self.ops.len(), |i| {
                (self.kinds[i] != OpKind::None).then(|| self.run(i, x.clone()))
            })
            .map_err(|e| {
                SuperNetError::PathMismatch(format!(
                    "{e} ({})",
                    self.kinds
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        Ok(out.unwrap_or_else(|| self.zeros(&x)))
    }

    /// Whether `choice` makes this edge output zeros (it picks `none`, or weighs only
    /// `none` ops); a choice that does not fit the edge is not zero (running it reports
    /// the mismatch).
    pub fn is_zero(&self, choice: EdgeChoice<'_>) -> bool {
        let none = |i: usize| self.kinds.get(i) == Some(&OpKind::None);
        match choice {
            EdgeChoice::Single(i) => none(i),
            EdgeChoice::Weighted(w) => {
                w.len() == self.kinds.len()
                    && w.iter().enumerate().all(|(i, &wi)| wi == 0.0 || none(i))
            }
        }
    }

    fn zeros(&self, x: &Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        Tensor::zeros(
            [n, c, h.div_ceil(self.stride), w.div_ceil(self.stride)],
            &x.device(),
        )
    }
}
